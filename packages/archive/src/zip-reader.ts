import { createReadStream } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { createInflateRaw, inflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.js";
import { explainRisk, type RiskyEntry, riskyEntries } from "./entry-safety.js";
import { ArchiveError, toArchiveError } from "./errors.js";
import {
  CENTRAL_FILE_HEADER,
  END_OF_CENTRAL_DIRECTORY,
  LOCAL_FILE_HEADER,
  MAX_16,
  MAX_32,
  ZIP64_END_LOCATOR,
  ZIP64_END_OF_CENTRAL_DIRECTORY,
  ZIP64_EXTRA_TAG,
} from "./zip-format.js";

export interface ZipEntryInfo {
  name: string;
  kind: "file" | "directory" | "symlink";
  /** st_mode from the external attributes when made on unix (file type + permissions), else 0. */
  mode: number;
  /** 0 stored, 8 deflated (APPNOTE 4.4.5). */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Position of the local header in the file (any prefix included). */
  offset: number;
}

export interface ZipListing {
  entries: ZipEntryInfo[];
  /** Bytes before the first local header (a shebang). */
  prefixBytes: number;
  /** Whether the archive has ZIP64 end records. */
  zip64: boolean;
  /**
   * A second zip appended right after this one's end record, which ends the file: a zipapp's launcher
   * (`@cluster-pack/packers`). Tools that find a zip from the end of the file (unzip, Python's zipfile and zipimport)
   * see only that one; the listing is of the zip before it, the archive's content.
   */
  appended?: ZipListing;
}

const corrupt = (archive: string, detail: string, entry?: string) =>
  new ArchiveError("CORRUPT", detail, entry === undefined ? { archive } : { archive, entry });

/**
 * The central directory of a zip file, in stored order. Offsets are reported from the start of the file, whether
 * the writer counted them from there (as we and `zip -A` do) or from the end of a prefix (as Python's zipapp does).
 * When the file's last zip starts right where a complete zip ends (a zipapp: environment, then launcher), the
 * listing is of that first zip, with the last one as `appended`.
 */
export async function listZip(path: string): Promise<ZipListing> {
  const file = await openArchive(path);
  try {
    return await readListing(file, path);
  } finally {
    await file.close();
  }
}

/**
 * Streams every entry, inflating as needed, and checks its CRC-32 and size; throws CORRUPT at the first bad entry,
 * or first for an entry whose extraction would reach outside the extraction directory (see `riskyZipEntries`).
 * Inflating an entry stops as soon as more than its declared size comes out. Counts the entries of an appended zip
 * too: every byte of the file is checked.
 */
export async function verifyZip(path: string): Promise<{ entries: number; contentBytes: number }> {
  const file = await openArchive(path);
  try {
    const listing = await readListing(file, path);
    const entries = [...listing.entries, ...(listing.appended?.entries ?? [])];
    const [risky] = await riskyEntriesOf(file, path, entries);
    if (risky)
      throw new ArchiveError("UNSAFE", explainRisk(risky.reason), { archive: path, entry: risky.name });
    let contentBytes = 0;
    for (const entry of entries.sort((a, b) => a.offset - b.offset)) {
      await verifyEntry(file, path, entry);
      contentBytes += entry.size;
    }
    return { entries: entries.length, contentBytes };
  } finally {
    await file.close();
  }
}

/**
 * The entries of a zip (and of a zip appended to it) whose extraction would write or point outside the extraction
 * directory: absolute paths, `..` components, symlinks resolving outside (followed through the archive's other
 * symlinks) and entries beneath a symlink. Reads only the directory and the symlinks' targets.
 */
export async function riskyZipEntries(path: string): Promise<RiskyEntry[]> {
  const file = await openArchive(path);
  try {
    const listing = await readListing(file, path);
    return await riskyEntriesOf(file, path, [...listing.entries, ...(listing.appended?.entries ?? [])]);
  } finally {
    await file.close();
  }
}

/** Longest symlink target read (PATH_MAX on Linux); a longer one is reported as damage. */
const MAX_LINK_TARGET = 4096;

async function riskyEntriesOf(
  file: FileHandle,
  path: string,
  entries: ZipEntryInfo[],
): Promise<RiskyEntry[]> {
  const shapes = [];
  for (const entry of entries) {
    if (entry.kind !== "symlink") {
      shapes.push(entry);
      continue;
    }
    if (entry.size > MAX_LINK_TARGET)
      throw corrupt(path, `symlink target of ${entry.size} bytes (at most ${MAX_LINK_TARGET})`, entry.name);
    const target = await readWholeEntry(file, path, entry);
    shapes.push({ ...entry, target: target.toString("utf8") });
  }
  return riskyEntries(shapes);
}

/** The file's last zip, or the zip it is appended to (see ZipListing's `appended`). */
async function readListing(file: FileHandle, path: string): Promise<ZipListing> {
  const last = await readDirectory(file, path, (await file.stat()).size);
  // The last zip's first byte is where its first local header (or its directory) starts: `prefixBytes`.
  const start = last.prefixBytes;
  if (start < 22) return last;
  const before = await readAt(file, start - 22, 22);
  if (before.readUInt32LE(0) !== END_OF_CENTRAL_DIRECTORY || before.readUInt16LE(20) !== 0) return last;
  return { ...(await readDirectory(file, path, start)), appended: last };
}

async function openArchive(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (error) {
    throw toArchiveError(error, { archive: path });
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The zip whose end record ends at `fileSize`: the file's end, or where an appended zip begins. */
async function readDirectory(file: FileHandle, path: string, fileSize: number): Promise<ZipListing> {
  // 4.3.16: the end record is 22 bytes plus a comment of at most 65,535 bytes, so it lies in the last 65,557.
  const tailStart = Math.max(0, fileSize - (22 + MAX_16));
  const tail = await readAt(file, tailStart, fileSize - tailStart);
  let at = tail.length - 22;
  while (
    at >= 0 &&
    !(
      tail.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY &&
      at + 22 + tail.readUInt16LE(at + 20) === tail.length
    )
  )
    at--;
  if (at < 0) throw corrupt(path, "not a zip file (no end of central directory record)");
  const endPosition = tailStart + at;
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  let recordPosition = endPosition;
  let zip64 = false;
  if (endPosition >= 20) {
    const locator = await readAt(file, endPosition - 20, 20);
    if (locator.readUInt32LE(0) === ZIP64_END_LOCATOR) {
      // 4.3.14: the ZIP64 end record sits just before its locator (we do not write extensible data).
      recordPosition = endPosition - 20 - 56;
      const record = await readAt(file, recordPosition, 56);
      if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_END_OF_CENTRAL_DIRECTORY) {
        throw corrupt(path, "ZIP64 end of central directory record not found where its locator points");
      }
      count = Number(record.readBigUInt64LE(32));
      size = Number(record.readBigUInt64LE(40));
      offset = Number(record.readBigUInt64LE(48));
      zip64 = true;
    }
  }
  // Offsets relative to the end of a prefix are shifted by the prefix length (what Python's zipfile calls concat).
  const shift = recordPosition - size - offset;
  if (shift < 0) throw corrupt(path, "central directory extends past its end record");
  const directory = await readAt(file, offset + shift, size);
  const entries: ZipEntryInfo[] = [];
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    if (cursor + 46 > directory.length || directory.readUInt32LE(cursor) !== CENTRAL_FILE_HEADER) {
      throw corrupt(path, `central directory entry ${i + 1} of ${count} is damaged`);
    }
    const madeOnUnix = directory.readUInt8(cursor + 5) === 3;
    const nameLength = directory.readUInt16LE(cursor + 28);
    const extraLength = directory.readUInt16LE(cursor + 30);
    const commentLength = directory.readUInt16LE(cursor + 32);
    const name = directory.toString("utf8", cursor + 46, cursor + 46 + nameLength);
    let entrySize = directory.readUInt32LE(cursor + 24);
    let compressedSize = directory.readUInt32LE(cursor + 20);
    let localOffset = directory.readUInt32LE(cursor + 42);
    const extra = directory.subarray(cursor + 46 + nameLength, cursor + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length; e += 4 + extra.readUInt16LE(e + 2)) {
      if (extra.readUInt16LE(e) !== ZIP64_EXTRA_TAG) continue;
      // 4.5.3: only the fields whose 32-bit value is 0xFFFFFFFF are present, in this order.
      let field = e + 4;
      const next = () => {
        const value = Number(extra.readBigUInt64LE(field));
        field += 8;
        return value;
      };
      if (entrySize === MAX_32) entrySize = next();
      if (compressedSize === MAX_32) compressedSize = next();
      if (localOffset === MAX_32) localOffset = next();
    }
    const mode = madeOnUnix ? directory.readUInt32LE(cursor + 38) >>> 16 : 0;
    const type = mode & 0o170000;
    const kind =
      type === 0o120000 ? "symlink" : type === 0o040000 || name.endsWith("/") ? "directory" : "file";
    entries.push({
      name,
      kind,
      mode,
      method: directory.readUInt16LE(cursor + 10),
      crc32: directory.readUInt32LE(cursor + 16),
      compressedSize,
      size: entrySize,
      offset: localOffset + shift,
    });
    cursor += 46 + nameLength + extraLength + commentLength;
  }
  const prefixBytes = entries.reduce((lowest, entry) => Math.min(lowest, entry.offset), offset + shift);
  return { entries, prefixBytes, zip64 };
}

/** Up to this size an entry is read and inflated in one call; larger ones are streamed. */
const WHOLE_ENTRY_LIMIT = 8 << 20;

/** Where an entry's data starts, after its local header; refuses what this package does not read. */
async function dataStart(file: FileHandle, path: string, entry: ZipEntryInfo): Promise<number> {
  const header = await readAt(file, entry.offset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_FILE_HEADER) {
    throw corrupt(path, "local file header not found at its central directory offset", entry.name);
  }
  if (header.readUInt16LE(6) & 1)
    throw new ArchiveError("UNSUPPORTED", "encrypted entry", { archive: path, entry: entry.name });
  if (entry.method !== 0 && entry.method !== 8) {
    throw new ArchiveError("UNSUPPORTED", `compression method ${entry.method}`, {
      archive: path,
      entry: entry.name,
    });
  }
  return entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

const pastDeclared = (path: string, entry: ZipEntryInfo) =>
  corrupt(path, `inflates past its declared size of ${entry.size} bytes`, entry.name);

/** A small entry's content, inflated no further than one byte past its declared size. */
async function readWholeEntry(file: FileHandle, path: string, entry: ZipEntryInfo): Promise<Buffer> {
  const stored = await readAt(file, await dataStart(file, path, entry), entry.compressedSize);
  let content: Buffer;
  try {
    content = entry.method === 8 ? inflateRawSync(stored, { maxOutputLength: entry.size + 1 }) : stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw pastDeclared(path, entry);
    throw corrupt(path, `cannot inflate: ${(error as Error).message}`, entry.name);
  }
  if (content.length > entry.size) throw pastDeclared(path, entry);
  return content;
}

async function verifyEntry(file: FileHandle, path: string, entry: ZipEntryInfo): Promise<void> {
  for await (const _ of entryContent(file, path, entry)) {
    // Read only to be checked.
  }
}

/** One entry of an archive as it is read: what it is, and for a file or a symlink, its bytes. */
export interface ArchiveMember {
  /** The name as stored (`./` prefixes and all: `riskyEntries` and the readers' callers normalise). */
  name: string;
  kind: "file" | "directory" | "symlink" | "hardlink" | "other";
  /** Permission bits (0 when the writer recorded none). */
  mode: number;
  /** Bytes of content (a symlink's: its target's length). */
  size: number;
  /** A symlink's target, or a hard link's (a path from the archive's root). */
  linkTarget?: string;
  /**
   * The content, once, as it is inflated: checked against the declared size (inflating stops past it) and, for a
   * zip, the CRC-32 when the last piece has been read. A member nobody reads is skipped.
   */
  content: () => AsyncIterable<Buffer>;
}

/** Called for each member in stored order; the next member is read once its promise settles. */
export type MemberVisitor = (member: ArchiveMember) => Promise<void>;

/**
 * Every entry of a zip in stored order, with its content (of a zipapp: the environment's zip, not the launcher
 * appended to it, which repeats two of its entries). Symlinks come with their target read.
 */
export async function readZipMembers(path: string, visit: MemberVisitor): Promise<void> {
  const file = await openArchive(path);
  try {
    const { entries } = await readListing(file, path);
    for (const entry of [...entries].sort((a, b) => a.offset - b.offset)) {
      const base = { name: entry.name, kind: entry.kind, mode: entry.mode & 0o7777, size: entry.size };
      if (entry.kind === "symlink") {
        if (entry.size > MAX_LINK_TARGET)
          throw corrupt(
            path,
            `symlink target of ${entry.size} bytes (at most ${MAX_LINK_TARGET})`,
            entry.name,
          );
        const target = await readWholeEntry(file, path, entry);
        await visit({ ...base, linkTarget: target.toString("utf8"), content: () => once(target) });
      } else await visit({ ...base, content: () => entryContent(file, path, entry) });
    }
  } finally {
    await file.close();
  }
}

async function* once(bytes: Buffer): AsyncIterable<Buffer> {
  yield bytes;
}

/** An entry's content as it inflates, checked as `verifyEntry` checks it. */
async function* entryContent(file: FileHandle, path: string, entry: ZipEntryInfo): AsyncIterable<Buffer> {
  let crc = 0;
  let size = 0;
  if (Math.max(entry.compressedSize, entry.size) <= WHOLE_ENTRY_LIMIT) {
    const content = await readWholeEntry(file, path, entry);
    crc = crc32(content);
    size = content.length;
    if (size > 0) yield content;
  } else {
    const start = await dataStart(file, path, entry);
    // Its own descriptor: destroying the stream early (a reader that stops) must not close the listing's.
    const raw = createReadStream(path, { start, end: start + entry.compressedSize - 1 });
    const source = entry.method === 8 ? raw.pipe(createInflateRaw()) : raw;
    // `pipe` does not pass a read error on: the inflater would wait for bytes that never come.
    raw.once("error", (error) => source.destroy(error));
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > entry.size) throw pastDeclared(path, entry);
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (error) {
      if (error instanceof ArchiveError) throw error;
      throw corrupt(path, `cannot inflate: ${(error as Error).message}`, entry.name);
    } finally {
      source.destroy();
    }
  }
  const hex = (value: number) => `0x${value.toString(16).padStart(8, "0")}`;
  if (crc !== entry.crc32)
    throw corrupt(path, `CRC-32 mismatch (expected ${hex(entry.crc32)}, got ${hex(crc)})`, entry.name);
  if (size !== entry.size)
    throw corrupt(path, `size mismatch (expected ${entry.size}, got ${size})`, entry.name);
}
