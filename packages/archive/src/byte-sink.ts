import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { ArchiveError } from "./errors.js";

/** Where an archive goes: a file path (created or truncated) or any Writable (an upload stream, stdout). */
export type ArchiveDestination = string | Writable;

/**
 * A Writable with a byte counter (ZIP offsets are positions in the output) and backpressure: `write` resolves once
 * the destination can take more, so memory stays bounded by what is in flight, never by the archive.
 */
export class ByteSink {
  position = 0;
  private failure: Error | undefined;
  private readonly stream: Writable;
  private readonly ownsStream: boolean;

  constructor(
    destination: ArchiveDestination,
    private readonly label: string,
    options: { mode?: number } = {},
  ) {
    this.ownsStream = typeof destination === "string";
    this.stream =
      typeof destination === "string"
        ? // A deep buffer: writes of several MB each should queue, not wait for the disk one by one.
          createWriteStream(destination, {
            highWaterMark: 16 << 20,
            ...(options.mode === undefined ? {} : { mode: options.mode }),
          })
        : destination;
    this.stream.on("error", (error) => {
      this.failure ??= error;
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    this.position += chunk.length;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.stream.off("error", onError);
          resolve();
        };
        const onError = (error: Error) => {
          this.stream.off("drain", onDrain);
          reject(this.wrap(error));
        };
        this.stream.once("drain", onDrain);
        this.stream.once("error", onError);
      });
    }
  }

  /** Ends the stream when this sink opened it (a file), and waits until every byte is flushed. */
  async close(): Promise<void> {
    this.check();
    if (!this.ownsStream) return;
    this.stream.end();
    try {
      await finished(this.stream);
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Closes a file this sink opened after a failure, without masking the original error. */
  abort(): void {
    if (this.ownsStream) this.stream.destroy();
  }

  private check(): void {
    if (this.failure) throw this.wrap(this.failure);
  }

  private wrap(error: unknown): ArchiveError {
    const message = error instanceof Error ? error.message : String(error);
    return new ArchiveError("IO", `cannot write: ${message}`, { archive: this.label, cause: error });
  }
}
