/** Stable codes: callers (the CLI) branch on these, never on messages. */
export type ClusterPackErrorCode =
  /** Bad options: a wrong extension for the packer, an unsupported archive name, a conflicting option. */
  | "INVALID_ARGUMENT"
  /** An editable install cannot be shipped (its project or source is gone). */
  | "EDITABLE_PROBLEM"
  /** The uploaded archive does not match the packed one (size or sha256). */
  | "VERIFICATION_FAILED"
  /** Storing the archive, its metadata or an editable zip failed. */
  | "UPLOAD_FAILED"
  /** Downloading a prebuilt archive (`uploadZip` from http(s), `C_PACK_ENV_FALLBACK_PATH`) failed. */
  | "DOWNLOAD_FAILED";

export interface ClusterPackErrorOptions {
  /** The file or URI the error is about; shown first in the message. */
  where?: string;
  cause?: unknown;
}

/**
 * The façade's own failures. Errors of the layers below (`StorageError`, `PythonEnvError`, `PackerError`,
 * `EditableError`) pass through unchanged, or become the `cause` of an `UPLOAD_FAILED` that says which step
 * failed. The message is one line: `<where>: <what happened>`.
 */
export class ClusterPackError extends Error {
  override readonly name = "ClusterPackError";
  readonly code: ClusterPackErrorCode;
  readonly where: string | undefined;
  readonly detail: string;

  constructor(code: ClusterPackErrorCode, detail: string, options: ClusterPackErrorOptions = {}) {
    super(options.where ? `${options.where}: ${detail}` : detail, { cause: options.cause });
    this.code = code;
    this.where = options.where;
    this.detail = detail;
  }
}

export function isClusterPackError(error: unknown, code?: ClusterPackErrorCode): error is ClusterPackError {
  return error instanceof ClusterPackError && (code === undefined || error.code === code);
}

/** The first line of an error's message, for wrapping a lower layer's error into one line. */
export function firstLineOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]?.trim() || "failed";
}
