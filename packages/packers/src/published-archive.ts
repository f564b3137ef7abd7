import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { ArchiveDestination } from "@cluster-pack/archive";

/** What a packer's writing returned, and the sha256 of the bytes it wrote. */
export interface PublishedArchive<T> {
  written: T;
  /** Hex sha256 of the bytes written. */
  sha256: string;
}

/**
 * Forwards every chunk to `destination` with its backpressure, hashing it on the way, and never ends it: the
 * stream belongs to the caller (an upload), which may have more to do once the archive is written. When the
 * destination fails or closes first (the upload gave up), this stream fails too, so the packer stops.
 */
class HashingForwarder extends Writable {
  readonly hash = createHash("sha256");
  private readonly stop: (error?: Error) => void;

  constructor(private readonly destination: Writable) {
    super();
    this.stop = (error) => this.destroy(error ?? new Error("the upload stopped reading the archive"));
    destination.once("error", this.stop).once("close", this.stop);
    this.once("finish", () => destination.off("error", this.stop).off("close", this.stop));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    this.hash.update(chunk);
    if (this.destination.write(chunk)) callback();
    else this.destination.once("drain", () => callback());
  }
}

/**
 * Runs `write` and returns what it wrote with its sha256. For a path, `write` gets a temporary file beside it,
 * hashed and renamed into place: the archive appears complete or not at all, and the temporary file is removed
 * when anything fails. For a stream (an upload), `write` gets a stream that hashes on the way into it, so the
 * archive is read once: never kept locally, never read back.
 */
export async function publishArchive<T>(
  output: ArchiveDestination,
  write: (destination: ArchiveDestination) => Promise<T>,
): Promise<PublishedArchive<T>> {
  if (typeof output !== "string") {
    const forwarder = new HashingForwarder(output);
    const written = await write(forwarder);
    forwarder.end();
    await finished(forwarder);
    return { written, sha256: forwarder.hash.digest("hex") };
  }
  const temporary = `${output}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const written = await write(temporary);
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(temporary)) hash.update(chunk as Buffer);
    const sha256 = hash.digest("hex");
    await rename(temporary, output);
    return { written, sha256 };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
