import { appendFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { type ArchiveDestination, type BufferEntry, writeZip } from "@cluster-pack/archive";
import { PackerError } from "./errors.js";

/**
 * A zipapp is `[shebang][environment zip][launcher zip]`. Python (zipimport, zipfile) and unzip read a file's last
 * zip, found from its end: the launcher, holding `__main__.py` and a copy of `PEX-INFO`, is small enough never to
 * need ZIP64, which zipimport reads only from Python 3.13 on, and zipimport parses only its two entries at each
 * start. The bootstrap opens the environment zip, which ends where the launcher's first entry begins, with zipfile
 * (which reads ZIP64 on every Python) when it extracts.
 */

/** Offsets from here on would need ZIP64 (APPNOTE 4.4.1.4). */
const MAX_32 = 0xffffffff;

export interface LauncherOptions {
  level: number;
  sourceDateEpoch?: number;
}

/**
 * The launcher zip, to be written at byte `at` of the file. Its offsets count from the start of the file, as the
 * environment zip's do, so every zip tool sees an ordinary zip behind a prefix. From 4 GiB on, where that would need
 * ZIP64, they count from the launcher's own start: zipimport and zipfile take the prefix into account themselves,
 * and unzip still lists it, warning of "extra bytes at beginning".
 */
export async function launcherZip(
  entries: readonly BufferEntry[],
  at: number,
  options: LauncherOptions,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const memory = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await writeZip(entries, memory, {
    level: options.level,
    ...(options.sourceDateEpoch !== undefined && { sourceDateEpoch: options.sourceDateEpoch }),
  });
  const zip = Buffer.concat(chunks);
  return at + zip.length < MAX_32 ? rebase(zip, at) : zip;
}

/**
 * Adds `by` to every local header offset of a small zip written from byte 0 (no ZIP64, no comment: the launcher),
 * and to its central directory's: what `zip -A` does to a zip behind a prefix.
 */
function rebase(zip: Buffer, by: number): Buffer {
  const end = zip.length - 22; // APPNOTE 4.3.16
  const count = zip.readUInt16LE(end + 10);
  const directory = zip.readUInt32LE(end + 16);
  let cursor = directory;
  for (let i = 0; i < count; i++) {
    // 4.3.12: offset of the local header at 42; name, extra field and comment lengths at 28, 30 and 32.
    zip.writeUInt32LE(zip.readUInt32LE(cursor + 42) + by, cursor + 42);
    cursor +=
      46 + zip.readUInt16LE(cursor + 28) + zip.readUInt16LE(cursor + 30) + zip.readUInt16LE(cursor + 32);
  }
  zip.writeUInt32LE(directory + by, end + 16);
  return zip;
}

/** Appends bytes after what a writer left at `destination`: sequentially, the way a stream goes on. */
export async function appendTo(
  destination: ArchiveDestination,
  bytes: Uint8Array,
  label: string,
): Promise<void> {
  try {
    if (typeof destination === "string") await appendFile(destination, bytes);
    else
      await new Promise<void>((resolve, reject) => {
        destination.write(bytes, (error) => (error ? reject(error) : resolve()));
      });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PackerError("IO", `cannot write: ${message}`, { location: label, cause: error });
  }
}
