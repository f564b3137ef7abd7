import { closeSync, openSync, write } from "node:fs";
import { ArchiveError } from "./errors.js";

/** Where sequential writes go: the sink itself, or a cursor into a reserved range. */
export interface OutputCursor {
  position: number;
  write(chunk: Uint8Array): Promise<void>;
}

/** Bytes of writes in flight before `write` waits: deep enough that reading and writing overlap. */
const IN_FLIGHT_BYTES = 16 << 20;

/**
 * An archive file written by position (pwrite) rather than through a stream, so that workers can write whole
 * batches at offsets the writer assigned (`reserve`) while this thread writes the entries between them.
 * Same contract as ByteSink: `position` counts every byte, `write` applies backpressure, `close` flushes.
 */
export class FileSink {
  position = 0;
  readonly fd: number;
  private failure: Error | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private aborted = false;
  private closed = false;

  constructor(
    path: string,
    private readonly label: string,
    options: { mode?: number } = {},
  ) {
    try {
      this.fd = openSync(path, "w", options.mode);
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Leaves `length` bytes for someone else (a worker) to write, and returns where they start. */
  reserve(length: number): number {
    const at = this.position;
    this.position += length;
    return at;
  }

  async write(chunk: Uint8Array): Promise<void> {
    await this.writeFrom(this, chunk);
  }

  /** Writes from `position` on, through a range `reserve` returned, with the same backpressure as `write`. */
  cursor(position: number): OutputCursor {
    const cursor: OutputCursor = { position, write: (chunk) => this.writeFrom(cursor, chunk) };
    return cursor;
  }

  private async writeFrom(cursor: { position: number }, chunk: Uint8Array): Promise<void> {
    this.check();
    const at = cursor.position;
    cursor.position += chunk.length;
    this.inFlight += chunk.length;
    this.writeAt(chunk, 0, at);
    while (this.inFlight > IN_FLIGHT_BYTES) await new Promise<void>((resolve) => (this.drained = resolve));
    this.check();
  }

  /** Waits for every write, then closes the file. */
  async close(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.check();
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /**
   * Closes the file after a failure, without masking the original error. Writes still in flight finish first: a
   * descriptor closed under them could be reused by another open() and receive their bytes.
   */
  abort(): void {
    this.aborted = true;
    if (this.inFlight === 0) this.closeQuietly();
  }

  private closeQuietly(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // already failing: the first error is the one to report
    }
  }

  private writeAt(chunk: Uint8Array, offset: number, position: number): void {
    write(this.fd, chunk, offset, chunk.length - offset, position, (error, written) => {
      if (!error && offset + written < chunk.length) {
        this.writeAt(chunk, offset + written, position + written);
        return;
      }
      if (error) this.failure ??= error;
      this.inFlight -= chunk.length;
      if (this.aborted && this.inFlight === 0) this.closeQuietly();
      const drained = this.drained;
      this.drained = undefined;
      drained?.();
    });
  }

  private check(): void {
    if (this.failure) throw this.wrap(this.failure);
  }

  private wrap(error: unknown): ArchiveError {
    const message = error instanceof Error ? error.message : String(error);
    return new ArchiveError("IO", `cannot write: ${message}`, { archive: this.label, cause: error });
  }
}
