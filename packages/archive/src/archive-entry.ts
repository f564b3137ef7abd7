import { lstatSync } from "node:fs";
import type { Readable } from "node:stream";
import { ArchiveError } from "./errors.js";

/** Fields every entry has. `name` is the path inside the archive, `/`-separated, relative. */
interface EntryBase {
  name: string;
  /** Permission bits (`0o755`); the file-type bits are added by the writer. Defaults below. */
  mode?: number;
}

/** A regular file read from disk when its turn comes. `size` and `mode` are taken from `lstat` when absent. */
export interface FileEntry extends EntryBase {
  kind: "file";
  path: string;
  size?: number;
}

/** Bytes already in memory (a generated `__main__.py`, `PEX-INFO`). Default mode 0o644. */
export interface BufferEntry extends EntryBase {
  kind: "buffer";
  data: Uint8Array;
}

/** Bytes produced on demand; `size` must be exact (tar headers and ZIP64 decisions need it up front). */
export interface StreamEntry extends EntryBase {
  kind: "stream";
  size: number;
  open: () => Readable | AsyncIterable<Uint8Array>;
}

/** A symbolic link, stored as a link (not followed). Default mode 0o777. */
export interface SymlinkEntry extends EntryBase {
  kind: "symlink";
  target: string;
}

/** A directory; its name gets a trailing `/` in the archive. Default mode 0o755. */
export interface DirectoryEntry extends EntryBase {
  kind: "directory";
}

/** One input of the zip and tar writers. Order does not matter: writers sort entries by name. */
export type ArchiveEntry = FileEntry | BufferEntry | StreamEntry | SymlinkEntry | DirectoryEntry;

/** An entry checked and completed: name normalised and encoded, size and full mode known. */
export type ResolvedEntry = (
  | (FileEntry & { size: number })
  | BufferEntry
  | StreamEntry
  | SymlinkEntry
  | DirectoryEntry
) & {
  /** The archive name as written (directories end with `/`). */
  name: string;
  nameBytes: Buffer;
  /** Permission bits only. */
  permissions: number;
  /** Bytes of content (0 for directories, the target's length for symlinks). */
  size: number;
};

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** `st_mode` as stored in ZIP external attributes and tar headers: file-type bits + permissions. */
export function unixMode(entry: ResolvedEntry): number {
  const type = entry.kind === "directory" ? S_IFDIR : entry.kind === "symlink" ? S_IFLNK : S_IFREG;
  return type | entry.permissions;
}

const defaultPermissions = { file: 0o644, buffer: 0o644, stream: 0o644, symlink: 0o777, directory: 0o755 };

/**
 * Validates, completes and sorts entries by the bytes of their UTF-8 names, so the archive does not depend on the
 * order entries were found in. Throws INVALID_ARGUMENT for unsafe or duplicate names.
 */
export function resolveEntries(entries: Iterable<ArchiveEntry>, archive: string): ResolvedEntry[] {
  const resolved: ResolvedEntry[] = [];
  for (const entry of entries) {
    const name = normaliseName(entry, archive);
    let size: number;
    let permissions = entry.mode;
    switch (entry.kind) {
      case "file": {
        if (entry.size === undefined || permissions === undefined) {
          const stats = statSource(entry.path, archive, name);
          size = entry.size ?? stats.size;
          permissions ??= stats.mode;
        } else size = entry.size;
        break;
      }
      case "buffer":
        size = entry.data.length;
        break;
      case "stream":
        size = entry.size;
        break;
      case "symlink":
        size = Buffer.byteLength(entry.target);
        break;
      case "directory":
        size = 0;
        break;
    }
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new ArchiveError("INVALID_ARGUMENT", `size must be a non-negative integer, got ${size}`, {
        archive,
        entry: name,
      });
    }
    permissions = (permissions ?? defaultPermissions[entry.kind]) & 0o7777;
    resolved.push({
      ...entry,
      name,
      nameBytes: Buffer.from(name, "utf8"),
      permissions,
      size,
    } as ResolvedEntry);
  }
  // UTF-16 code-unit order is UTF-8 byte order unless a name holds a surrogate (a character beyond U+FFFF): then
  // plain string comparison sorts the same, without a native Buffer.compare call per comparison (~3× faster).
  const astral = resolved.some((entry) => /[\ud800-\udfff]/.test(entry.name));
  resolved.sort(
    astral
      ? (a, b) => Buffer.compare(a.nameBytes, b.nameBytes)
      : (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  for (let i = 1; i < resolved.length; i++) {
    const name = (resolved[i] as ResolvedEntry).name;
    if (name === (resolved[i - 1] as ResolvedEntry).name) {
      throw new ArchiveError("INVALID_ARGUMENT", "duplicate entry name", { archive, entry: name });
    }
  }
  return resolved;
}

function statSource(path: string, archive: string, name: string): { size: number; mode: number } {
  try {
    const stats = lstatSync(path);
    if (!stats.isFile()) throw new Error(`${path} is not a regular file`);
    return { size: stats.size, mode: stats.mode };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ArchiveError("IO", detail, { archive, entry: name, cause: error });
  }
}

/** Relative, `/`-separated, no `.`/`..` segments: what zipimport, zipfile and tar all accept without surprises. */
function normaliseName(entry: ArchiveEntry, archive: string): string {
  const bare = entry.name.replace(/\/+$/, "");
  const segments = bare.split("/");
  const bad =
    bare === "" ||
    bare.includes("\\") ||
    bare.includes("\0") ||
    segments.some((segment) => segment === "" || segment === "." || segment === "..");
  if (bad) {
    throw new ArchiveError(
      "INVALID_ARGUMENT",
      "entry names must be relative paths without empty, . or .. parts",
      {
        archive,
        entry: entry.name,
      },
    );
  }
  const name = entry.kind === "directory" ? `${bare}/` : bare;
  if (Buffer.byteLength(name) > 0xffff) {
    // APPNOTE 4.4.10: the name length field is 2 bytes.
    throw new ArchiveError("INVALID_ARGUMENT", "entry name longer than 65,535 bytes", {
      archive,
      entry: name,
    });
  }
  return name;
}
