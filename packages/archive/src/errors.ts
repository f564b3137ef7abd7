import { ClusterPackError } from "@cluster-pack/errors";

/** Stable codes: callers branch on these, never on messages. */
export type ArchiveErrorCode =
  /** The caller asked for something impossible: a bad entry name, a duplicate, a level out of range. */
  | "INVALID_ARGUMENT"
  /** An archive being read is damaged or is not an archive of the expected format. */
  | "CORRUPT"
  /** An entry would land or point outside the directory the archive is extracted into (`riskyEntries`). */
  | "UNSAFE"
  /** Reading a source or writing the destination failed (missing file, file changed while packing, disk full). */
  | "IO"
  /** A valid archive uses a feature this package does not read (encryption, multi-disk, an unknown method). */
  | "UNSUPPORTED";

export interface ArchiveErrorOptions {
  /** The archive (or source file) concerned, shown first in the message. */
  archive?: string;
  /** The entry concerned, shown after the archive. */
  entry?: string;
  /** The underlying error (a Node system error, a zlib error). */
  cause?: unknown;
}

/**
 * The one error type of this package. The message is one line a user can act on:
 * `env.pex: entry "numpy/__init__.py": CRC-32 mismatch (expected 0x1c291ca3, got 0x8f3a2e10)`; its `location` is
 * the archive (or source file), followed by the entry when there is one.
 */
export class ArchiveError extends ClusterPackError<ArchiveErrorCode> {
  override readonly name = "ArchiveError";
  readonly entry: string | undefined;

  constructor(code: ArchiveErrorCode, detail: string, options: ArchiveErrorOptions = {}) {
    const entry = options.entry === undefined ? undefined : `entry "${options.entry}"`;
    super(code, entry ? `${entry}: ${detail}` : detail, { location: options.archive, cause: options.cause });
    this.entry = options.entry;
  }
}

export function isArchiveError(error: unknown, code?: ArchiveErrorCode): error is ArchiveError {
  return error instanceof ArchiveError && (code === undefined || error.code === code);
}

/** Wraps a failure of a source read or destination write as an `IO` error, keeping ours unchanged. */
export function toArchiveError(error: unknown, options: ArchiveErrorOptions): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ArchiveError("IO", message, { ...options, cause: error });
}
