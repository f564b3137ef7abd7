import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { type RiskyEntry, riskyEntries } from "./entry-safety.js";
import { ArchiveError, toArchiveError } from "./errors.js";
import type { MemberVisitor } from "./zip-reader.js";

export interface TarEntryInfo {
  name: string;
  kind: "file" | "directory" | "symlink" | "hardlink" | "other";
  /** Permission bits. */
  mode: number;
  size: number;
  /** Seconds since 1970. */
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Symlink target, or a hard link's (a path from the archive's root). */
  linkname?: string;
}

/** Whether a file starts with gzip's magic bytes (RFC 1952 §2.3.1): a tar.gz rather than a tar. */
async function isGzipped(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "r");
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    await handle.close();
    return magic[0] === 0x1f && magic[1] === 0x8b;
  } catch (error) {
    throw toArchiveError(error, { archive: path });
  }
}

const kindOf = (type: string | null | undefined): TarEntryInfo["kind"] =>
  type === "file" || type === "directory" || type === "symlink"
    ? type
    : type === "link"
      ? "hardlink"
      : "other";

/** The entries of a tar or tar.gz (detected by the gzip magic bytes), in stored order. */
export async function listTar(path: string): Promise<TarEntryInfo[]> {
  const gzipped = await isGzipped(path);
  const entries: TarEntryInfo[] = [];
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    entries.push({
      name: header.name,
      kind: kindOf(header.type),
      mode: header.mode ?? 0,
      size: header.size ?? 0,
      mtime: Math.floor((header.mtime?.getTime() ?? 0) / 1000),
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      uname: header.uname ?? "",
      gname: header.gname ?? "",
      ...(header.linkname ? { linkname: header.linkname } : {}),
    });
    stream.on("end", next);
    stream.resume();
  });
  try {
    const source = createReadStream(path);
    if (gzipped) await pipeline(source, createGunzip(), extract);
    else await pipeline(source, extract);
  } catch (error) {
    throw new ArchiveError("CORRUPT", `not a readable tar: ${(error as Error).message}`, {
      archive: path,
      cause: error,
    });
  }
  return entries;
}

/**
 * The entries of a tar or tar.gz whose extraction would write or point outside the extraction directory: absolute
 * paths, `..` components (in a name or a hard link's target), symlinks resolving outside (followed through the
 * archive's other symlinks) and entries beneath a symlink.
 */
export async function riskyTarEntries(path: string): Promise<RiskyEntry[]> {
  return riskyOfTarListing(await listTar(path));
}

/** `riskyTarEntries` of a listing already read. */
export const riskyOfTarListing = (entries: readonly TarEntryInfo[]): RiskyEntry[] =>
  riskyEntries(
    entries.map((entry) => ({
      name: entry.name,
      kind: entry.kind,
      ...(entry.linkname !== undefined && { target: entry.linkname }),
    })),
  );

/**
 * Every entry of a tar or tar.gz in stored order, with its content (tar-stream checks each header's checksum and
 * reads pax and GNU long names). A member whose content the visitor leaves unread is skipped.
 */
export async function readTarMembers(path: string, visit: MemberVisitor): Promise<void> {
  const gzipped = await isGzipped(path);
  const extract = tar.extract();
  const source = createReadStream(path);
  const stream = gzipped ? source.pipe(createGunzip()) : source;
  // `pipe` passes no error on: a read or gunzip failure must end the walk, not leave it waiting.
  source.once("error", (error) => extract.destroy(error));
  if (stream !== source) stream.once("error", (error: Error) => extract.destroy(error));
  stream.pipe(extract);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      let read = false;
      await visit({
        name: header.name,
        kind: kindOf(header.type),
        mode: (header.mode ?? 0) & 0o7777,
        size: header.size ?? 0,
        ...(header.linkname ? { linkTarget: header.linkname } : {}),
        content: () => {
          read = true;
          return entry as AsyncIterable<Buffer>;
        },
      });
      if (!read) entry.resume();
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError("CORRUPT", `not a readable tar: ${(error as Error).message}`, {
      archive: path,
      cause: error,
    });
  } finally {
    stream.destroy();
  }
}
