/** Stable codes: callers branch on these, never on messages. */
export type PackerErrorCode =
  /** An option is wrong (an uninstalled requirement, a bad compression level, an unknown inherit_path). */
  | "INVALID_ARGUMENT"
  /** A file a distribution's RECORD lists is missing or unreadable. */
  | "MISSING_FILE"
  /** Writing the archive failed. */
  | "IO"
  /**
   * The environment cannot be made to run from another path: a binary prefix placeholder with no room for the
   * destination, an interpreter that finds its shared library by a path that cannot be rewritten.
   */
  | "UNRELOCATABLE";

/** The one error type of this package; the message is one line naming the path it concerns. */
export class PackerError extends Error {
  override readonly name = "PackerError";
  readonly code: PackerErrorCode;
  readonly path: string | undefined;
  readonly detail: string;

  constructor(code: PackerErrorCode, detail: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path ? `${options.path}: ${detail}` : detail, { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.detail = detail;
  }
}

export function isPackerError(error: unknown, code?: PackerErrorCode): error is PackerError {
  return error instanceof PackerError && (code === undefined || error.code === code);
}
