import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, type Stats, type WriteStream } from "node:fs";
import { chmod, type FileHandle, link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { checkByteRange } from "./byte-range.js";
import { fromSystemError, StorageError } from "./errors.js";
import type { OpenOptions, ProgressCallback, PutSource, StoredChecksum } from "./file-system.js";

/** A pass-through stream that reports the bytes flowing through it. */
export function progressTap(onProgress: ProgressCallback | undefined, totalBytes?: number): Transform {
  let transferredBytes = 0;
  const report = () =>
    onProgress?.(totalBytes === undefined ? { transferredBytes } : { transferredBytes, totalBytes });
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      transferredBytes += chunk.length;
      report();
      callback(null, chunk);
    },
    flush(callback) {
      // An empty source still reports once, so callers always see completion.
      if (transferredBytes === 0) report();
      callback();
    },
  });
}

export interface OpenedSource {
  stream: Readable;
  /** Known size in bytes (always for a local file). */
  size: number | undefined;
  /** Permission bits of a local source file, to carry executables over. */
  mode: number | undefined;
}

/**
 * Opens a local regular file and hands it to `use` with its stats. The handle is closed again when anything here
 * fails, `use` included: only a stream that `use` returns may own it.
 */
async function withOpenedFile<T>(
  path: string,
  notAFileDetail: string,
  use: (handle: FileHandle, info: Stats) => T | Promise<T>,
): Promise<T> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw fromSystemError(error, path);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new StorageError("INVALID_ARGUMENT", notAFileDetail, { uri: path });
    return await use(handle, info);
  } catch (error) {
    // The failure that got here is the one to report, not a failure to close.
    await handle.close().catch(() => undefined);
    throw fromSystemError(error, path);
  }
}

/** Opens what `put` was given: a local path is streamed from disk, a stream is used as is. */
export async function openPutSource(source: PutSource, size?: number): Promise<OpenedSource> {
  if (typeof source !== "string") {
    const stream = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
    return { stream, size, mode: undefined };
  }
  return withOpenedFile(source, "is not a regular file", (handle, info) => ({
    stream: handle.createReadStream(),
    size: info.size,
    mode: info.mode & 0o777,
  }));
}

/**
 * Opens a local file, or a byte range of it (see `checkByteRange`), as a stream, failing early (before the first
 * read) with a StorageError.
 */
export async function openLocalFile(path: string, range: OpenOptions = {}): Promise<Readable> {
  // A malformed range is refused before the file is touched, as in every adapter.
  checkByteRange(range, path);
  return withOpenedFile(path, "is a directory, not a file", async (handle, info) => {
    const { offset, length } = checkByteRange(range, path, info.size);
    if (length === 0) {
      // createReadStream cannot read zero bytes: its `end` is inclusive.
      await handle.close();
      return Readable.from([]);
    }
    // Without a length the stream reads to the end as it finds it, not as the stat saw it.
    const end = range.length === undefined ? undefined : offset + length - 1;
    return handle.createReadStream(end === undefined ? { start: offset } : { start: offset, end });
  });
}

export interface AtomicWriteOptions {
  onProgress?: ProgressCallback;
  totalBytes?: number;
  /** Permission bits of the final file (default: 0o666 minus umask). */
  mode?: number;
  /** Replace an existing file (default true). */
  overwrite?: boolean;
  signal?: AbortSignal;
  /** Where the bytes come from (a remote URI): a failure of the source is reported against it. */
  sourceUri?: string;
  /** Runs after the bytes are on disk, before the rename (see `PutOptions.beforeCommit`). */
  beforeCommit?: () => Promise<void>;
  /**
   * Re-reads the written file before the rename and compares its sha256 with that of the bytes received: what
   * the disk (or an NFS server) holds is what was sent, or the write fails and the previous file stays.
   */
  verify?: boolean;
}

/** A pass-through stream that hashes the bytes flowing through it. */
function hashTap(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

/** Hex sha256 of a local file, streamed. */
export async function sha256OfLocalFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Marks a failure of the source stream, so that it is not blamed on the local target. */
class SourceFailure extends Error {}
/** Marks a failure of the caller's `beforeCommit`, which is reported as it was thrown. */
class CommitHookFailure extends Error {}

async function* rethrowingAsSourceFailure(source: AsyncIterable<Uint8Array>) {
  try {
    yield* source;
  } catch (error) {
    throw new SourceFailure("source failed", { cause: error });
  }
}

/**
 * Writes a stream to a local file so that the final path only ever holds a complete file: the bytes go to a
 * temporary file in the same directory, which is fsynced and then renamed (or hard-linked, to refuse an
 * existing target atomically). A failure removes the temporary file and leaves any previous file untouched.
 */
export async function writeFileAtomically(
  target: string,
  source: Readable | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<StoredChecksum | undefined> {
  const directory = dirname(target);
  await mkdir(directory, { recursive: true }).catch((error: unknown) => {
    throw fromSystemError(error, directory);
  });
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new StorageError("INVALID_ARGUMENT", "is a directory; give the path of a file", { uri: target });
  }
  if (existing && options.overwrite === false) {
    throw new StorageError("ALREADY_EXISTS", "already exists (overwrite is off)", { uri: target });
  }
  const temporary = join(directory, `.${basename(target)}.${randomBytes(6).toString("hex")}.partial`);
  let sink: WriteStream | undefined;
  try {
    // `flush` fsyncs before close (Node >= 20.10), so the rename below never publishes unwritten blocks.
    sink = createWriteStream(temporary, { flags: "wx", mode: options.mode ?? 0o666, flush: true });
    const sent = createHash("sha256");
    const stages = [
      rethrowingAsSourceFailure(source),
      progressTap(options.onProgress, options.totalBytes),
      hashTap(sent),
      sink,
    ] as const;
    await (options.signal ? pipeline(...stages, { signal: options.signal }) : pipeline(...stages));
    // The creation mode is filtered by the umask; an explicit mode (an executable archive) must survive it.
    if (options.mode !== undefined) await chmod(temporary, options.mode);
    let verified: StoredChecksum | undefined;
    if (options.verify) {
      const expected = sent.digest("hex");
      const stored = await sha256OfLocalFile(temporary);
      if (stored !== expected)
        throw new StorageError(
          "TRANSIENT",
          "the written file differs from the bytes sent (sha256 mismatch)",
          {
            uri: target,
          },
        );
      verified = { algorithm: "sha256", value: stored };
    }
    if (options.beforeCommit) {
      try {
        await options.beforeCommit();
      } catch (error) {
        throw new CommitHookFailure("beforeCommit failed", { cause: error });
      }
    }
    if (options.overwrite === false) {
      await link(temporary, target);
      await unlink(temporary);
    } else {
      await rename(temporary, target);
    }
    await syncDirectory(directory);
    return verified;
  } catch (error) {
    // A stream destroyed while still opening its file creates it on the way to closing: remove it after that.
    if (sink && !sink.closed) await once(sink, "close").catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    if (error instanceof CommitHookFailure) throw error.cause;
    if (error instanceof SourceFailure) throw fromSystemError(error.cause, options.sourceUri ?? target);
    throw fromSystemError(error, target);
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems (and all of Windows) refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}
