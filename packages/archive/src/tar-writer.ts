import { createReadStream, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { type ArchiveEntry, type ResolvedEntry, resolveEntries } from "./archive-entry.js";
import { type ArchiveDestination, ByteSink } from "./byte-sink.js";
import { defaultConcurrency } from "./compression-pool.js";
import { ArchiveError, toArchiveError } from "./errors.js";
import { parallelGzip } from "./parallel-gzip.js";
import { resolveEpochSeconds } from "./timestamp.js";

export interface TarOptions {
  /** gzip the tar (`.tar.gz`). Default false. */
  gzip?: boolean;
  /** gzip level 1–9; default 6. */
  level?: number;
  /** Seconds since 1970 stamped on every entry; default `SOURCE_DATE_EPOCH`, else 1980-01-01 00:00 UTC. */
  sourceDateEpoch?: number;
  /** gzip members compressed at once; default one per core. */
  concurrency?: number;
  /** Permissions of the file created when the destination is a path. */
  fileMode?: number;
  /** How the archive is named in error messages; default the destination path, or "tar archive". */
  label?: string;
}

export interface TarSummary {
  entries: number;
  /** Bytes written (compressed size for .tar.gz). */
  bytes: number;
  contentBytes: number;
}

/** Files up to this size are read in one call (faster for the many small files of an environment). */
const WHOLE_FILE_LIMIT = 8 << 20;
/** How far the tar producer may run ahead of the writer, bounding memory. */
const MAX_AHEAD_BYTES = 32 << 20;

/**
 * Writes a tar (ustar, pax for long names, via tar-stream) or tar.gz of `entries`, streaming, with the zip writer's
 * guarantees: entries sorted by name, one fixed mtime, uid/gid 0, empty owner names, modes kept, symlinks as links.
 */
export async function writeTar(
  entries: Iterable<ArchiveEntry>,
  destination: ArchiveDestination,
  options: TarOptions = {},
): Promise<TarSummary> {
  const level = options.level ?? 6;
  if (options.gzip && (!Number.isInteger(level) || level < 1 || level > 9)) {
    throw new ArchiveError("INVALID_ARGUMENT", `gzip level must be an integer from 1 to 9, got ${level}`);
  }
  const label = options.label ?? (typeof destination === "string" ? destination : "tar archive");
  const mtime = new Date(resolveEpochSeconds(options.sourceDateEpoch) * 1000);
  const resolved = resolveEntries(entries, label);
  const sink = new ByteSink(
    destination,
    label,
    options.fileMode === undefined ? {} : { mode: options.fileMode },
  );
  const pack = tar.pack();
  let produced = 0;
  let consumed = 0;
  let wake: (() => void) | undefined;
  const consume = async () => {
    const counted = async function* () {
      for await (const chunk of pack as AsyncIterable<Uint8Array>) {
        consumed += chunk.length;
        wake?.();
        yield chunk;
      }
    };
    const output = options.gzip
      ? parallelGzip(counted(), level, options.concurrency ?? defaultConcurrency())
      : counted();
    for await (const chunk of output) await sink.write(chunk);
  };
  const writing = consume();
  writing.catch(() => undefined);
  let contentBytes = 0;
  try {
    for (const entry of resolved) {
      while (produced - consumed > MAX_AHEAD_BYTES) await new Promise<void>((resolve) => (wake = resolve));
      await addEntry(pack, entry, mtime, label);
      produced += entry.size + 512;
      contentBytes += entry.size;
    }
    pack.finalize();
    await writing;
    await sink.close();
  } catch (error) {
    pack.destroy();
    sink.abort();
    throw toArchiveError(error, { archive: label });
  }
  return { entries: resolved.length, bytes: sink.position, contentBytes };
}

function addEntry(pack: tar.Pack, entry: ResolvedEntry, mtime: Date, label: string): Promise<void> {
  const header: Parameters<tar.Pack["entry"]>[0] = {
    name: entry.name,
    mode: entry.permissions,
    mtime,
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    size: entry.kind === "directory" || entry.kind === "symlink" ? 0 : entry.size,
    type: entry.kind === "directory" ? "directory" : entry.kind === "symlink" ? "symlink" : "file",
    linkname: entry.kind === "symlink" ? entry.target : "",
    devmajor: 0,
    devminor: 0,
  };
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null) => {
      if (error) reject(toArchiveError(error, { archive: label, entry: entry.name }));
      else resolve();
    };
    if (entry.kind === "buffer") pack.entry(header, Buffer.from(entry.data), done);
    else if (entry.kind === "file" && entry.size <= WHOLE_FILE_LIMIT) {
      let data: Buffer;
      try {
        data = readFileSync(entry.path);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (data.length !== entry.size) {
        done(
          new Error(`declared ${entry.size} bytes but read ${data.length} (did it change while packing?)`),
        );
      } else pack.entry(header, data, done);
    } else if (entry.kind === "file" || entry.kind === "stream") {
      // tar-stream checks the streamed length against header.size and fails the entry if they differ.
      const sink = pack.entry(header, done);
      const source = entry.kind === "file" ? createReadStream(entry.path) : Readable.from(entry.open());
      source.on("error", (error: Error) => sink.destroy(error));
      source.pipe(sink);
    } else pack.entry(header, done);
  });
}
