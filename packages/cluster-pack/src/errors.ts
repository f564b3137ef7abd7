import { ClusterPackError, type ClusterPackErrorOptions } from "@cluster-pack/errors";

/** Stable codes: callers (the CLI) branch on these, never on messages. */
export type ShippingErrorCode =
  /** Bad options: a wrong extension for the packer, an unsupported archive name, a conflicting option. */
  | "INVALID_ARGUMENT"
  /** There is no archive at the path given (`locateEnv`, `removeEnv`). */
  | "NOT_FOUND"
  /** An editable install cannot be shipped (its project or source is gone). */
  | "EDITABLE_PROBLEM"
  /** The uploaded archive does not match the packed one (size or sha256). */
  | "VERIFICATION_FAILED"
  /** Storing the archive, its metadata or an editable zip failed. */
  | "UPLOAD_FAILED"
  /** Removing an archive, its metadata or its editable zips failed. */
  | "REMOVE_FAILED"
  /** Downloading a prebuilt archive (`uploadZip` from http(s), `C_PACK_ENV_FALLBACK_PATH`) failed. */
  | "DOWNLOAD_FAILED"
  /** Another upload to the same path held it too long, or took it over: nothing was published. */
  | "CONCURRENT_UPLOAD";

/**
 * The façade's own failures. Errors of the layers below (`StorageError`, `PythonEnvError`, `PackerError`,
 * `EditableError`) pass through unchanged, or become the `cause` of an `UPLOAD_FAILED` that says which step
 * failed. The message is one line: `<location>: <what happened>`.
 */
export class ShippingError extends ClusterPackError<ShippingErrorCode> {
  override readonly name = "ShippingError";
}

export type { ClusterPackErrorOptions as ShippingErrorOptions };

export function isShippingError(error: unknown, code?: ShippingErrorCode): error is ShippingError {
  return error instanceof ShippingError && (code === undefined || error.code === code);
}
