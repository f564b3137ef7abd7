/**
 * Lays out a batch of small entries as they appear in the zip: each local header (APPNOTE 4.3.7) followed by the
 * entry's data, files read synchronously (faster than fs.promises for small files), CRC-32'd and deflated. Runs in
 * the workers, or on the writer's thread for batches without files.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { deflateRawSync, gzipSync } from "node:zlib";
import type { BatchItem, BatchTask, EncodedEntry } from "./compression-task.js";
import { crc32 } from "./crc32.js";
import {
  dataDescriptor,
  FLAG_DATA_DESCRIPTOR,
  FLAG_UTF8,
  localFileHeader,
  MAX_32,
  type ZipRecord,
} from "./zip-format.js";

/** Reused between batches when the batch is written here (stored entries): no per-batch allocation, no GC. */
let outputBuffer = Buffer.alloc(0);
let scratch = Buffer.alloc(0);
/** The file being read, named in the error a failure sends back ("" while writing the archive). */
export let currentPath = "";

function readExactly(path: string, size: number, into: Buffer): void {
  currentPath = path;
  const fd = openSync(path, "r");
  try {
    if (fstatSync(fd).size !== size) throw new Error("file changed size while packing");
    let done = 0;
    while (done < size) {
      const read = readSync(fd, into, done, size - done, null);
      if (read === 0) throw new Error("file shrank while packing");
      done += read;
    }
  } finally {
    closeSync(fd);
  }
}

/** The local header (APPNOTE 4.3.7) as the writer's central directory will describe it: same fields, same bytes. */
function header(name: string, size: number, fields: EncodedEntry, task: BatchTask): Buffer {
  const nameBytes = Buffer.from(name, "utf8");
  const record: ZipRecord = {
    nameBytes,
    flags: nameBytes.length !== name.length ? FLAG_UTF8 : 0,
    size,
    offset: 0, // not in the local header
    unixMode: 0, // not in the local header
    zip64Local: task.forceZip64, // batched entries are far below 4 GiB
    ...fields,
  };
  return localFileHeader(record, task.stamp);
}

const contentSize = (item: BatchItem) => (item.kind === "file" ? item.size : item.content.length);

/** Adds the content's sha256 to `fields` when the task asks for digests (header bytes are unaffected). */
function digest(task: BatchTask, fields: EncodedEntry, content: Uint8Array): EncodedEntry {
  if (task.sha256) fields.sha256 = createHash("sha256").update(content).digest("hex");
  return fields;
}

/** Stored entries: sizes are known up front, so files are read straight into their place in one buffer. */
function store(task: BatchTask): { entries: EncodedEntry[]; batch: Buffer } {
  const headerExtra = task.forceZip64 ? 20 : 0;
  let total = 0;
  for (const item of task.items) total += 30 + Buffer.byteLength(item.name) + headerExtra + contentSize(item);
  let batch: Buffer;
  if (task.output) {
    if (outputBuffer.length < total) outputBuffer = Buffer.allocUnsafeSlow(total);
    batch = outputBuffer.subarray(0, total);
  } else batch = Buffer.allocUnsafeSlow(total);
  const entries: EncodedEntry[] = [];
  let at = 0;
  for (const item of task.items) {
    const size = contentSize(item);
    const fields: EncodedEntry = { crc: 0, method: 0, compressedSize: size };
    const head = header(item.name, size, fields, task);
    const body = batch.subarray(at + head.length, at + head.length + size);
    if (item.kind === "file") readExactly(item.path, size, body);
    else body.set(item.content);
    fields.crc = crc32(body);
    head.writeUInt32LE(fields.crc, 14);
    batch.set(head, at);
    at += head.length + size;
    entries.push(digest(task, fields, body));
  }
  return { entries, batch };
}

function deflate(task: BatchTask): { entries: EncodedEntry[]; batch: Buffer } {
  const parts: Uint8Array[] = [];
  const entries: EncodedEntry[] = [];
  let total = 0;
  for (const item of task.items) {
    let fields: EncodedEntry;
    let body: Uint8Array;
    if (item.kind === "bytes") {
      body = item.content;
      fields = digest(task, { crc: crc32(body), method: 0, compressedSize: body.length }, body);
      if (item.compressible && body.length > 0) {
        const deflated = deflateRawSync(body, { level: task.level });
        if (deflated.length < body.length) {
          body = deflated;
          fields = { ...fields, method: 8, compressedSize: deflated.length };
        }
      }
    } else if (item.size === 0) {
      readExactly(item.path, 0, scratch);
      body = Buffer.alloc(0);
      fields = digest(task, { crc: 0, method: 0, compressedSize: 0 }, body);
    } else {
      if (scratch.length < item.size) scratch = Buffer.allocUnsafeSlow(item.size);
      const content = scratch.subarray(0, item.size);
      readExactly(item.path, item.size, content);
      // gzip rather than raw deflate: same deflate stream, and zlib's (SIMD) CRC-32 comes free in the trailer
      // (RFC 1952 §2.3: a fixed 10-byte header from Node — no name, mtime 0 — then the stream, CRC32, ISIZE).
      const gzip = gzipSync(content, { level: task.level, chunkSize: gzipChunk(content.length) });
      const crc = gzip.readUInt32LE(gzip.length - 8);
      const raw = gzip.subarray(10, gzip.length - 8);
      if (raw.length < item.size) {
        body = raw;
        fields = { crc, method: 8, compressedSize: raw.length };
      } else {
        // Incompressible (wheels, .so already compressed): storing is smaller and as fast to read.
        body = content;
        fields = { crc, method: 0, compressedSize: item.size };
      }
      digest(task, fields, content);
    }
    const head = header(item.name, contentSize(item), fields, task);
    // A stored body still lives in the reused scratch buffer: copy it before the next file is read there.
    parts.push(head, body.buffer === scratch.buffer ? Buffer.from(body) : body);
    total += head.length + body.length;
    entries.push(fields);
  }
  let batch: Buffer;
  if (task.output) {
    if (outputBuffer.length < total) outputBuffer = Buffer.allocUnsafeSlow(total);
    batch = outputBuffer.subarray(0, total);
  } else batch = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const part of parts) {
    batch.set(part, at);
    at += part.length;
  }
  return { entries, batch };
}

/** zlib's deflateBound(): the largest raw deflate output for `size` input bytes. */
export const deflateBound = (size: number) => size + Math.floor(size / 4096) + Math.floor(size / 16384) + 13;

/**
 * A large file as the writer's streamed path lays it out: header with deferred CRC and sizes, the deflate stream
 * (zlib's output does not depend on how its input was chunked), then the data descriptor.
 */
function deflateWithDescriptor(task: BatchTask): { entries: EncodedEntry[]; batch: Buffer } {
  const item = task.items[0];
  if (task.items.length !== 1 || item?.kind !== "file") throw new Error("expected one file");
  const content = Buffer.allocUnsafeSlow(item.size);
  readExactly(item.path, item.size, content);
  const gzip = gzipSync(content, { level: task.level, chunkSize: gzipChunk(content.length) });
  const nameBytes = Buffer.from(item.name, "utf8");
  const record: ZipRecord = {
    nameBytes,
    flags: (nameBytes.length !== item.name.length ? FLAG_UTF8 : 0) | FLAG_DATA_DESCRIPTOR,
    size: item.size,
    offset: 0,
    unixMode: 0,
    zip64Local: task.forceZip64 || deflateBound(item.size) >= MAX_32,
    method: 8,
    crc: gzip.readUInt32LE(gzip.length - 8),
    compressedSize: gzip.length - 18,
  };
  const head = localFileHeader(record, task.stamp);
  const descriptor = dataDescriptor(record);
  const batch = Buffer.allocUnsafeSlow(head.length + record.compressedSize + descriptor.length);
  batch.set(head, 0);
  batch.set(gzip.subarray(10, gzip.length - 8), head.length);
  batch.set(descriptor, head.length + record.compressedSize);
  const fields: EncodedEntry = { crc: record.crc, method: 8, compressedSize: record.compressedSize };
  return { entries: [digest(task, fields, content)], batch };
}

/**
 * gzip's output buffer sized for the worst case (deflateBound + 18 bytes of gzip framing), so zlib writes one
 * buffer instead of 16 KB chunks that Node then concatenates: the bytes are the same, the copies are not.
 */
const gzipChunk = (size: number) => Math.max(64, deflateBound(size) + 18);

/** The batch's bytes (headers and data, in entry order) and what the central directory needs of each entry. */
export function encodeBatch(task: BatchTask): { entries: EncodedEntry[]; batch: Buffer } {
  if (task.dataDescriptor) return deflateWithDescriptor(task);
  return task.level === 0 ? store(task) : deflate(task);
}

/** Forgets the file named in errors: what fails next is the archive's write, not a read. */
export function clearCurrentPath(): void {
  currentPath = "";
}
