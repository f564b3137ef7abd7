import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { type RiskyEntry, riskyEntries } from "./entry-safety.js";
import { ArchiveError, toArchiveError } from "./errors.js";

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

/** The entries of a tar or tar.gz (detected by the gzip magic bytes, RFC 1952 §2.3.1), in stored order. */
export async function listTar(path: string): Promise<TarEntryInfo[]> {
  let gzipped: boolean;
  try {
    const handle = await open(path, "r");
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    await handle.close();
    gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  } catch (error) {
    throw toArchiveError(error, { archive: path });
  }
  const entries: TarEntryInfo[] = [];
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const kind =
      header.type === "file" || header.type === "directory" || header.type === "symlink"
        ? header.type
        : header.type === "link"
          ? "hardlink"
          : "other";
    entries.push({
      name: header.name,
      kind,
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
  const entries = await listTar(path);
  return riskyEntries(
    entries.map((entry) => ({
      name: entry.name,
      kind: entry.kind,
      ...(entry.linkname !== undefined && { target: entry.linkname }),
    })),
  );
}
