import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createDeflateRaw } from "node:zlib";
import {
  type ArchiveEntry,
  type BufferEntry,
  type ResolvedEntry,
  resolveEntries,
  unixMode,
} from "./archive-entry.js";
import { deflateBound, encodeBatch } from "./batch-encoder.js";
import { type ArchiveDestination, ByteSink } from "./byte-sink.js";
import { CompressionPool, defaultConcurrency } from "./compression-pool.js";
import type { BatchItem, BatchTask, EncodedEntry } from "./compression-task.js";
import { crc32 } from "./crc32.js";
import { ArchiveError, toArchiveError } from "./errors.js";
import { FileSink, type OutputCursor } from "./file-sink.js";
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
  /**
   * Entries written after all the others, made from the sha256 (hex) of every entry before them, by name
   * (directories excluded, symlinks by their target): an index such as `PEX-INFO` or a wheel's `RECORD`, without
   * a second read of the files.
   */
  closingEntries?: (sha256: ReadonlyMap<string, string>) => BufferEntry[];
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

/** Files up to this size are read and compressed whole by a worker in batches; larger ones are streamed (or, when
 * deflated and up to WORKER_DEFLATE_LIMIT, compressed whole by a worker in the streamed layout). */
const WHOLE_FILE_LIMIT = 8 << 20;
/** A worker task holds at most this many bytes or files, which bounds memory to a few tasks per worker. */
const BATCH_BYTES = 4 << 20;
const BATCH_ENTRIES = 512;
const TASKS_PER_WORKER = 3;
/**
 * Deflated files up to this size are compressed whole by a worker, laid out as if streamed (data descriptor), so
 * the few large libraries of an environment (25 MB BLAS builds) compress beside the batches rather than one after
 * another; larger ones stream through bounded memory.
 */
const WORKER_DEFLATE_LIMIT = 64 << 20;

type Batch = { kind: "batch"; entries: ResolvedEntry[]; dataDescriptor?: boolean };
type Step = Batch | { kind: "streamed"; entry: ResolvedEntry & { kind: "file" | "stream" } };
type Encoded = { entries: EncodedEntry[]; length: number; data?: ArrayBuffer };

const hasFiles = (batch: Batch) => batch.entries.some((entry) => entry.kind === "file");

/** Local header bytes of a batched entry: batched entries are far below 4 GiB, so only `forceZip64` adds the extra. */
const localHeaderLength = (entry: ResolvedEntry, zip64: boolean) =>
  30 + entry.nameBytes.length + (zip64 ? 20 : 0);

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
  const forceZip64 = options.forceZip64 ?? false;
  const digests = options.closingEntries ? new Map<string, string>() : undefined;
  const resolved = resolveEntries(entries, label);
  const steps = planSteps(resolved, level);
  const batches = steps.filter((step): step is Batch => step.kind === "batch");
  const withFiles = batches.filter(hasFiles).length;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? defaultConcurrency(), withFiles));
  const sinkOptions = options.fileMode === undefined ? {} : { mode: options.fileMode };
  const sink =
    typeof destination === "string"
      ? new FileSink(destination, label, sinkOptions)
      : new ByteSink(destination, label, sinkOptions);
  const pool = withFiles > 0 ? new CompressionPool(concurrency) : undefined;
  const writer = new ZipEntryWriter(sink, stamp, level, forceZip64, label, digests);
  const taskOf = (batch: Batch): Omit<BatchTask, "id"> => ({
    ...(batch.dataDescriptor ? { dataDescriptor: true } : {}),
    ...(digests ? { sha256: true } : {}),
    level,
    stamp,
    forceZip64,
    items: batch.entries.map((entry): BatchItem => {
      if (entry.kind === "file")
        return { kind: "file", name: entry.name, path: entry.path, size: entry.size };
      const content =
        entry.kind === "symlink"
          ? Buffer.from(entry.target)
          : entry.kind === "buffer"
            ? entry.data
            : Buffer.alloc(0);
      return { kind: "bytes", name: entry.name, content, compressible: entry.kind === "buffer" };
    }),
  });
  const failed = (batch: Batch) => (error: unknown) => {
    const failedPath = (error as { path?: string }).path;
    const entry = batch.entries.find(
      (candidate) => candidate.kind === "file" && candidate.path === failedPath,
    );
    throw toArchiveError(error, { archive: label, ...(entry ? { entry: entry.name } : {}) });
  };
  // Stored entries into a file: every offset is known before anything is read, so workers write their batches
  // in place (pwrite) while this thread streams the large files between them; only CRCs come back.
  const inPlace = sink instanceof FileSink && level === 0 && pool !== undefined;
  try {
    if (options.prefix !== undefined) {
      await sink.write(typeof options.prefix === "string" ? Buffer.from(options.prefix) : options.prefix);
    }
    // Tasks are submitted ahead of the write cursor (bounded unless written in place), so workers compress while
    // earlier entries are written; results are placed in entry order, which keeps the output deterministic.
    const pending = new Map<Batch, Promise<Encoded>>();
    const inPlaceDone: Promise<void>[] = [];
    const streamedInPlace: (() => Promise<void>)[] = [];
    let nextBatch = 0;
    const submit = () => {
      while (nextBatch < batches.length && (inPlace || pending.size < concurrency * TASKS_PER_WORKER)) {
        const batch = batches[nextBatch++] as Batch;
        if (!pool || !hasFiles(batch) || inPlace) continue;
        const task = pool.run(taskOf(batch));
        task.catch(() => undefined); // awaited in order below; avoids an unhandled rejection meanwhile
        pending.set(batch, task);
      }
    };
    for (const step of steps) {
      submit();
      if (step.kind === "streamed" && inPlace && sink instanceof FileSink) {
        // Stored, so its length is known: reserve its range and stream it once every batch is queued, so the
        // workers never wait for this thread to finish a large file.
        const zip64 = forceZip64 || step.entry.size >= MAX_32;
        const length = localHeaderLength(step.entry, zip64) + step.entry.size + (zip64 ? 24 : 16);
        const cursor = sink.cursor(sink.reserve(length));
        streamedInPlace.push(() => writer.writeStreamed(step.entry, cursor));
      } else if (step.kind === "streamed") {
        await writer.writeStreamed(step.entry);
      } else if (inPlace && hasFiles(step) && sink instanceof FileSink) {
        const length = step.entries.reduce(
          (sum, entry) => sum + localHeaderLength(entry, forceZip64) + entry.size,
          0,
        );
        const position = sink.reserve(length);
        const records = writer.place(step.entries, undefined, position);
        const task = pool.run({ ...taskOf(step), output: { fd: sink.fd, position } }).then((result) => {
          result.entries.forEach((encoded, i) => {
            (records[i] as ZipRecord).crc = encoded.crc;
          });
          writer.recordDigests(step.entries, result.entries);
        }, failed(step));
        task.catch(() => undefined);
        inPlaceDone.push(task);
      } else {
        const task = pending.get(step);
        pending.delete(step);
        const result = task ? await task.catch(failed(step)) : encodeOnThisThread(taskOf(step));
        const position = sink.position;
        await sink.write(result.data ? Buffer.from(result.data) : Buffer.alloc(0));
        writer.place(step.entries, result.entries, position, step.dataDescriptor);
        writer.recordDigests(step.entries, result.entries);
      }
    }
    for (const stream of streamedInPlace) await stream();
    await Promise.all(inPlaceDone);
    if (options.closingEntries && digests) {
      const closing = resolveEntries(options.closingEntries(digests), label);
      const names = new Set(resolved.map((entry) => entry.name));
      const clash = closing.find((entry) => names.has(entry.name));
      if (clash)
        throw new ArchiveError("INVALID_ARGUMENT", "duplicate entry name", {
          archive: label,
          entry: clash.name,
        });
      const batch: Batch = { kind: "batch", entries: closing };
      const result = encodeOnThisThread(taskOf(batch));
      const position = sink.position;
      await sink.write(result.data ? Buffer.from(result.data) : Buffer.alloc(0));
      writer.place(closing, result.entries, position);
      writer.recordDigests(closing, result.entries);
    }
    const zip64 = await writer.finish();
    await sink.close();
    return { entries: writer.records.length, bytes: sink.position, contentBytes: writer.contentBytes, zip64 };
  } catch (error) {
    // Workers first: one may be writing into the file in place, and its descriptor must outlive that write.
    await pool?.close();
    sink.abort();
    throw toArchiveError(error, { archive: label });
  } finally {
    await pool?.close();
  }
}

/** Batches without files (directories, symlinks, buffers) are small: not worth a round trip to a worker. */
function encodeOnThisThread(task: Omit<BatchTask, "id">): Encoded {
  const { entries, batch } = encodeBatch({ id: -1, ...task });
  return {
    entries,
    length: batch.length,
    data: batch.buffer.slice(batch.byteOffset, batch.byteOffset + batch.length) as ArrayBuffer,
  };
}

/**
 * Groups runs of entries into batches whose small files a worker reads and compresses; directories, symlinks and
 * buffers ride along in the batch. Large files and streams are streamed alone.
 */
function planSteps(entries: ResolvedEntry[], level: number): Step[] {
  const steps: Step[] = [];
  let batch: Batch | undefined;
  let batchBytes = 0;
  for (const entry of entries) {
    if (
      level > 0 &&
      entry.kind === "file" &&
      entry.size > WHOLE_FILE_LIMIT &&
      entry.size <= WORKER_DEFLATE_LIMIT
    ) {
      batch = undefined;
      steps.push({ kind: "batch", entries: [entry], dataDescriptor: true });
      continue;
    }
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

class ZipEntryWriter {
  readonly records: ZipRecord[] = [];
  contentBytes = 0;

  constructor(
    private readonly sink: ByteSink | FileSink,
    private readonly stamp: DosStamp,
    private readonly level: number,
    private readonly forceZip64: boolean,
    private readonly label: string,
    private readonly digests: Map<string, string> | undefined,
  ) {}

  /** Keeps the content digests the workers computed, by entry name; directories have no content to digest. */
  recordDigests(entries: readonly ResolvedEntry[], encoded: readonly EncodedEntry[]): void {
    if (!this.digests) return;
    entries.forEach((entry, i) => {
      const sha256 = encoded[i]?.sha256;
      if (entry.kind !== "directory" && sha256) this.digests?.set(entry.name, sha256);
    });
  }

  private record(
    entry: ResolvedEntry,
    fields: Pick<ZipRecord, "method" | "crc" | "compressedSize">,
    offset = this.sink.position,
  ): ZipRecord {
    const nonAscii = entry.nameBytes.length !== entry.name.length;
    const zip64Local = this.forceZip64 || entry.size >= MAX_32 || fields.compressedSize >= MAX_32;
    return {
      nameBytes: entry.nameBytes,
      flags: nonAscii ? FLAG_UTF8 : 0,
      size: entry.size,
      offset,
      unixMode: unixMode(entry),
      zip64Local,
      method: fields.method,
      crc: fields.crc,
      compressedSize: fields.compressedSize,
    };
  }

  /**
   * Records a batch whose bytes (local headers and data, laid out by batch-encoder.ts) start at `position`. Without
   * `encoded` the entries are stored and their CRCs are filled in when the worker reports them.
   */
  place(
    entries: ResolvedEntry[],
    encoded: EncodedEntry[] | undefined,
    position: number,
    withDescriptor = false,
  ): ZipRecord[] {
    const records: ZipRecord[] = [];
    let offset = position;
    entries.forEach((entry, i) => {
      const fields = encoded?.[i] ?? { crc: 0, method: 0, compressedSize: entry.size };
      const record = this.record(entry, fields, offset);
      if (withDescriptor) {
        // As writeStreamed lays it out: ZIP64 decided from deflate's worst case, a descriptor after the data.
        record.zip64Local = this.forceZip64 || deflateBound(entry.size) >= MAX_32;
        record.flags |= FLAG_DATA_DESCRIPTOR;
        offset += record.zip64Local ? 24 : 16;
      }
      offset += localHeaderLength(entry, record.zip64Local) + fields.compressedSize;
      this.contentBytes += entry.size;
      this.records.push(record);
      records.push(record);
    });
    return records;
  }

  /**
   * Large files and streams: CRC and compressed size are only known at the end, so they follow the data in a data
   * descriptor (APPNOTE 4.3.9). ZIP64 is decided up front from the declared size and deflate's worst case.
   */
  async writeStreamed(
    entry: ResolvedEntry & { kind: "file" | "stream" },
    output: OutputCursor = this.sink,
  ): Promise<void> {
    const open =
      entry.kind === "file" ? () => createReadStream(entry.path, { highWaterMark: 1 << 20 }) : entry.open;
    const method: 0 | 8 = this.level > 0 && entry.size > 0 ? 8 : 0;
    const worstCase = method === 8 ? deflateBound(entry.size) : entry.size;
    const record: ZipRecord = {
      ...this.record(entry, { method, crc: 0, compressedSize: 0 }, output.position),
      zip64Local: this.forceZip64 || worstCase >= MAX_32,
    };
    record.flags |= FLAG_DATA_DESCRIPTOR;
    await output.write(localFileHeader(record, this.stamp));
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const hash = this.digests ? createHash("sha256") : undefined;
    const measure = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        hash?.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    const write = async (source: AsyncIterable<Uint8Array>) => {
      for await (const chunk of source) {
        compressedSize += chunk.length;
        await output.write(chunk);
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
    if (hash) this.digests?.set(entry.name, hash.digest("hex"));
    this.contentBytes += size;
    this.records.push(record);
    await output.write(dataDescriptor(record));
  }

  /** Writes the central directory (4.3.12) and the end records; returns whether ZIP64 end records were needed. */
  async finish(): Promise<boolean> {
    const offset = this.sink.position;
    // Large stored files may be written after the batches that follow them: offsets give back the entry order.
    this.records.sort((a, b) => a.offset - b.offset);
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
