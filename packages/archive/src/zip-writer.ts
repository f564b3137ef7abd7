import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createDeflateRaw, deflateRawSync } from "node:zlib";
import { type ArchiveEntry, type ResolvedEntry, resolveEntries, unixMode } from "./archive-entry.js";
import { type ArchiveDestination, ByteSink } from "./byte-sink.js";
import { CompressionPool, defaultConcurrency } from "./compression-pool.js";
import { crc32 } from "./crc32.js";
import { ArchiveError, toArchiveError } from "./errors.js";
import { dosDateTime, resolveEpochSeconds } from "./timestamp.js";
import {
  centralFileHeader,
  type DosStamp,
  dataDescriptor,
  endOfCentralDirectory,
  FLAG_DATA_DESCRIPTOR,
  FLAG_UTF8,
  localFileHeader,
  MAX_32,
  type ZipRecord,
} from "./zip-format.js";

export interface ZipOptions {
  /** 0 stores; 1 (fastest) to 9 (smallest) deflate. Default 6, zlib's and Python zipfile's default. */
  level?: number;
  /** Bytes written before the zip: a `#!/usr/bin/env python3.11\n` shebang or a shell preamble. */
  prefix?: string | Uint8Array;
  /** Seconds since 1970 stamped on every entry; default `SOURCE_DATE_EPOCH`, else 1980-01-01 00:00 UTC. */
  sourceDateEpoch?: number;
  /** Compression workers; default one per core. */
  concurrency?: number;
  /** Writes ZIP64 records for every entry and the end of the directory even when nothing needs them. */
  forceZip64?: boolean;
  /** Permissions of the file created when the destination is a path (e.g. 0o755 for a zipapp). */
  fileMode?: number;
  /** How the archive is named in error messages; default the destination path, or "zip archive". */
  label?: string;
}

export interface ZipSummary {
  /** Entries written. */
  entries: number;
  /** Bytes written, prefix included. */
  bytes: number;
  /** Sum of the entries' uncompressed sizes. */
  contentBytes: number;
  /** Whether the archive needed (or was forced to use) ZIP64 end records. */
  zip64: boolean;
}

/** Files up to this size are read and compressed whole by a worker; larger ones are streamed. */
const WHOLE_FILE_LIMIT = 8 << 20;
/** A worker task holds at most this many bytes or files, which bounds memory to a few tasks per worker. */
const BATCH_BYTES = 4 << 20;
const BATCH_ENTRIES = 512;
const TASKS_PER_WORKER = 3;

type Batch = { kind: "batch"; entries: ResolvedEntry[] };
type Step = Batch | { kind: "streamed"; entry: ResolvedEntry & { kind: "file" | "stream" } };
type FileResult = { crc: number; method: 0 | 8; compressedSize: number };

const filesOf = (batch: Batch) =>
  batch.entries.filter((entry): entry is ResolvedEntry & { kind: "file" } => entry.kind === "file");

/**
 * Writes a zip archive of `entries` to `destination`, streaming: the archive is never held in memory. Entries are
 * sorted by name and stamped with one fixed time, with their unix modes, symlinks stored as links; equal inputs
 * give byte-identical archives. Small files are read and compressed by worker threads in parallel; ZIP64 records
 * appear exactly when a size, an offset or the entry count needs them (or `forceZip64`).
 */
export async function writeZip(
  entries: Iterable<ArchiveEntry>,
  destination: ArchiveDestination,
  options: ZipOptions = {},
): Promise<ZipSummary> {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ArchiveError(
      "INVALID_ARGUMENT",
      `compression level must be an integer from 0 to 9, got ${level}`,
    );
  }
  const label = options.label ?? (typeof destination === "string" ? destination : "zip archive");
  const stamp = dosDateTime(resolveEpochSeconds(options.sourceDateEpoch));
  const resolved = resolveEntries(entries, label);
  const steps = planSteps(resolved);
  const batches = steps.filter((step): step is Batch => step.kind === "batch");
  const withFiles = batches.filter((batch) => filesOf(batch).length > 0).length;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? defaultConcurrency(), withFiles));
  const pool = withFiles > 0 ? new CompressionPool(concurrency) : undefined;
  const sink = new ByteSink(
    destination,
    label,
    options.fileMode === undefined ? {} : { mode: options.fileMode },
  );
  const writer = new ZipEntryWriter(sink, stamp, level, options.forceZip64 ?? false, label);
  try {
    if (options.prefix !== undefined) {
      await sink.write(typeof options.prefix === "string" ? Buffer.from(options.prefix) : options.prefix);
    }
    // Tasks are submitted ahead of the write cursor (bounded), so workers compress while earlier entries are
    // written; results are consumed in entry order, which keeps the output deterministic.
    type Pending = Promise<{ files: FileResult[]; data: ArrayBuffer }>;
    const pending = new Map<Batch, Pending>();
    let nextBatch = 0;
    const submit = () => {
      while (nextBatch < batches.length && pending.size < concurrency * TASKS_PER_WORKER) {
        const batch = batches[nextBatch++] as Batch;
        const files = filesOf(batch).map((entry) => ({ path: entry.path, size: entry.size }));
        const task =
          pool && files.length > 0
            ? pool.run(level, files)
            : Promise.resolve({ files: [], data: new ArrayBuffer(0) });
        task.catch(() => undefined); // awaited in order below; avoids an unhandled rejection meanwhile
        pending.set(batch, task);
      }
    };
    for (const step of steps) {
      submit();
      if (step.kind === "batch") {
        const task = pending.get(step) as Pending;
        const result = await task.catch((error: unknown) => {
          const failedPath = (error as { path?: string }).path;
          const entry = filesOf(step).find((candidate) => candidate.path === failedPath);
          throw toArchiveError(error, { archive: label, ...(entry ? { entry: entry.name } : {}) });
        });
        pending.delete(step);
        await writer.writeBatch(step.entries, result.files, Buffer.from(result.data));
      } else {
        await writer.writeStreamed(step.entry);
      }
    }
    const zip64 = await writer.finish();
    await sink.close();
    return { entries: resolved.length, bytes: sink.position, contentBytes: writer.contentBytes, zip64 };
  } catch (error) {
    sink.abort();
    throw toArchiveError(error, { archive: label });
  } finally {
    await pool?.close();
  }
}

/**
 * Groups runs of entries into batches whose small files a worker reads and compresses; directories, symlinks and
 * buffers ride along in the batch (the main thread encodes them). Large files and streams are streamed alone.
 */
function planSteps(entries: ResolvedEntry[]): Step[] {
  const steps: Step[] = [];
  let batch: Batch | undefined;
  let batchBytes = 0;
  for (const entry of entries) {
    const streamed = entry.kind === "stream" || (entry.kind === "file" && entry.size > WHOLE_FILE_LIMIT);
    if (streamed) {
      batch = undefined;
      steps.push({ kind: "streamed", entry });
      continue;
    }
    if (!batch || batchBytes + entry.size > BATCH_BYTES || batch.entries.length >= BATCH_ENTRIES) {
      batch = { kind: "batch", entries: [] };
      batchBytes = 0;
      steps.push(batch);
    }
    batch.entries.push(entry);
    batchBytes += entry.size;
  }
  return steps;
}

/** zlib's deflateBound(): the largest raw deflate output for `size` input bytes. */
const deflateBound = (size: number) => size + Math.floor(size / 4096) + Math.floor(size / 16384) + 13;

class ZipEntryWriter {
  readonly records: ZipRecord[] = [];
  contentBytes = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly stamp: DosStamp,
    private readonly level: number,
    private readonly forceZip64: boolean,
    private readonly label: string,
  ) {}

  private record(
    entry: ResolvedEntry,
    fields: Pick<ZipRecord, "method" | "crc" | "compressedSize">,
  ): ZipRecord {
    const nonAscii = entry.nameBytes.length !== entry.name.length;
    const zip64Local = this.forceZip64 || entry.size >= MAX_32 || fields.compressedSize >= MAX_32;
    return {
      nameBytes: entry.nameBytes,
      flags: nonAscii ? FLAG_UTF8 : 0,
      size: entry.size,
      offset: this.sink.position,
      unixMode: unixMode(entry),
      zip64Local,
      ...fields,
    };
  }

  /**
   * One corked write per batch (a few MB, written as one writev): no copying of the data into a new buffer. Files come
   * compressed from a worker (`results`, `data` in order); the other entries are small and encoded here.
   */
  async writeBatch(entries: ResolvedEntry[], results: FileResult[], data: Buffer): Promise<void> {
    const parts: Buffer[] = [];
    let position = this.sink.position;
    let fileIndex = 0;
    let dataOffset = 0;
    for (const entry of entries) {
      let body: Uint8Array;
      let fields: FileResult;
      if (entry.kind === "file") {
        fields = results[fileIndex++] as FileResult;
        body = data.subarray(dataOffset, dataOffset + fields.compressedSize);
        dataOffset += fields.compressedSize;
      } else {
        ({ body, fields } = this.encodeInline(entry));
      }
      const record = { ...this.record(entry, fields), offset: position };
      const header = localFileHeader(record, this.stamp);
      parts.push(header, body as Buffer);
      position += header.length + body.length;
      this.contentBytes += entry.size;
      this.records.push(record);
    }
    await this.sink.writeAll(parts);
  }

  /** Directories (empty), symlinks (the target, stored so readers see it verbatim) and in-memory buffers. */
  private encodeInline(entry: ResolvedEntry): { body: Uint8Array; fields: FileResult } {
    const content =
      entry.kind === "symlink"
        ? Buffer.from(entry.target)
        : entry.kind === "buffer"
          ? entry.data
          : Buffer.alloc(0);
    const crc = crc32(content);
    if (entry.kind === "buffer" && this.level > 0 && content.length > 0) {
      const deflated = deflateRawSync(content, { level: this.level });
      if (deflated.length < content.length) {
        return { body: deflated, fields: { crc, method: 8, compressedSize: deflated.length } };
      }
    }
    return { body: content, fields: { crc, method: 0, compressedSize: content.length } };
  }

  /**
   * Large files and streams: CRC and compressed size are only known at the end, so they follow the data in a data
   * descriptor (APPNOTE 4.3.9). ZIP64 is decided up front from the declared size and deflate's worst case.
   */
  async writeStreamed(entry: ResolvedEntry & { kind: "file" | "stream" }): Promise<void> {
    const open =
      entry.kind === "file" ? () => createReadStream(entry.path, { highWaterMark: 1 << 20 }) : entry.open;
    const method: 0 | 8 = this.level > 0 && entry.size > 0 ? 8 : 0;
    const worstCase = method === 8 ? deflateBound(entry.size) : entry.size;
    const record: ZipRecord = {
      ...this.record(entry, { method, crc: 0, compressedSize: 0 }),
      zip64Local: this.forceZip64 || worstCase >= MAX_32,
    };
    record.flags |= FLAG_DATA_DESCRIPTOR;
    await this.sink.write(localFileHeader(record, this.stamp));
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const measure = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        yield chunk;
      }
    };
    const sink = this.sink;
    const write = async (source: AsyncIterable<Uint8Array>) => {
      for await (const chunk of source) {
        compressedSize += chunk.length;
        await sink.write(chunk);
      }
    };
    try {
      if (method === 8) await pipeline(open(), measure, createDeflateRaw({ level: this.level }), write);
      else await pipeline(open(), measure, write);
    } catch (error) {
      throw toArchiveError(error, { archive: this.label, entry: entry.name });
    }
    if (size !== entry.size) {
      throw new ArchiveError(
        "IO",
        `declared ${entry.size} bytes but read ${size} (did it change while packing?)`,
        {
          archive: this.label,
          entry: entry.name,
        },
      );
    }
    Object.assign(record, { crc, compressedSize });
    this.contentBytes += size;
    this.records.push(record);
    await this.sink.write(dataDescriptor(record));
  }

  /** Writes the central directory (4.3.12) and the end records; returns whether ZIP64 end records were needed. */
  async finish(): Promise<boolean> {
    const offset = this.sink.position;
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    for (const record of this.records) {
      const header = centralFileHeader(record, this.stamp, this.forceZip64);
      chunk.push(header);
      chunkBytes += header.length;
      if (chunkBytes >= 1 << 20) {
        await this.sink.write(Buffer.concat(chunk));
        chunk = [];
        chunkBytes = 0;
      }
    }
    if (chunk.length > 0) await this.sink.write(Buffer.concat(chunk));
    const end = endOfCentralDirectory({
      entries: this.records.length,
      size: this.sink.position - offset,
      offset,
      position: this.sink.position,
      forceZip64: this.forceZip64,
    });
    await this.sink.write(end.bytes);
    return end.zip64;
  }
}
