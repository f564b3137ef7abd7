/**
 * A compression worker: reads a batch of files synchronously (faster than fs.promises for small files), computes
 * their CRC-32 and deflates them, and sends back one transferable buffer holding every file's data in order.
 * Running N of these spreads both reading and compressing over the cores; measured 2.4× faster per core than
 * fflate's pure-JS deflate at level 1 on site-packages, so node:zlib it is.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import type { CompressedFile, CompressionResult, CompressionTask } from "./compression-task.js";
import { crc32 } from "./crc32.js";

let scratch = Buffer.allocUnsafeSlow(1 << 20);
/** The file being read, named in the error a failure sends back. */
let currentPath = "";

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

function store(task: CompressionTask): CompressionResult {
  const total = task.files.reduce((sum, file) => sum + file.size, 0);
  const data = Buffer.allocUnsafeSlow(total);
  const files: CompressedFile[] = [];
  let offset = 0;
  for (const file of task.files) {
    const slice = data.subarray(offset, offset + file.size);
    readExactly(file.path, file.size, slice);
    files.push({ crc: crc32(slice), method: 0, compressedSize: file.size });
    offset += file.size;
  }
  return { id: task.id, data: data.buffer, files };
}

function deflate(task: CompressionTask): CompressionResult {
  const parts: Uint8Array[] = [];
  const files: CompressedFile[] = [];
  for (const file of task.files) {
    if (scratch.length < file.size) scratch = Buffer.allocUnsafeSlow(file.size);
    const content = scratch.subarray(0, file.size);
    readExactly(file.path, file.size, content);
    if (file.size === 0) {
      files.push({ crc: 0, method: 0, compressedSize: 0 });
      continue;
    }
    // gzip rather than raw deflate: same deflate stream, and zlib's (SIMD) CRC-32 comes free in the trailer
    // (RFC 1952 §2.3: a fixed 10-byte header from Node — no name, mtime 0 — then the stream, CRC32, ISIZE).
    const gzip = gzipSync(content, { level: task.level });
    const crc = gzip.readUInt32LE(gzip.length - 8);
    const raw = gzip.subarray(10, gzip.length - 8);
    if (raw.length < file.size) {
      parts.push(raw);
      files.push({ crc, method: 8, compressedSize: raw.length });
    } else {
      // Incompressible (wheels, .so already compressed): storing is smaller and as fast to read.
      parts.push(Buffer.from(content));
      files.push({ crc, method: 0, compressedSize: file.size });
    }
  }
  const data = Buffer.allocUnsafeSlow(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return { id: task.id, data: data.buffer, files };
}

parentPort?.on("message", (task: CompressionTask) => {
  let result: CompressionResult;
  try {
    result = task.level === 0 ? store(task) : deflate(task);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    parentPort?.postMessage({
      id: task.id,
      error: { message, path: currentPath },
    } satisfies CompressionResult);
    return;
  }
  if ("data" in result) parentPort?.postMessage(result, [result.data]);
});
