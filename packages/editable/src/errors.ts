/** Stable codes: callers branch on these, never on messages. */
export type EditableErrorCode =
  /** The project directory an editable install points at no longer exists. */
  | "MISSING_PROJECT"
  /** A path entry, mapped directory or listed top-level name is gone from an existing project. */
  | "MISSING_SOURCE"
  /** A finder maps a dotted name to a directory that does not end with that name's path. */
  | "UNSUPPORTED_LAYOUT"
  /** A setuptools `__editable__…_finder.py` module has no readable `MAPPING`. */
  | "UNPARSABLE_FINDER"
  /** An `.egg-link` file is empty, or its project has no `.egg-info`. */
  | "BROKEN_EGG_LINK"
  /** A site-packages directory or metadata file exists but cannot be read. */
  | "UNREADABLE"
  /** A caller passed something that cannot be zipped or written. */
  | "INVALID_ARGUMENT";

export interface EditableErrorOptions {
  /** The normalised name of the distribution concerned, shown first in the message. */
  distribution?: string;
  /** The file or directory the problem is about. */
  path?: string;
  cause?: unknown;
}

/**
 * The one error type of this package, for user-caused problems: its message is a single line naming the
 * distribution, the path and what to do, e.g.
 * `mypkg 1.0 (editable): project directory /home/me/mypkg no longer exists; reinstall it or pip uninstall mypkg`.
 */
export class EditableError extends Error {
  override readonly name = "EditableError";
  readonly code: EditableErrorCode;
  readonly distribution: string | undefined;
  readonly path: string | undefined;

  constructor(code: EditableErrorCode, message: string, options: EditableErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.distribution = options.distribution;
    this.path = options.path;
  }
}

export function isEditableError(error: unknown, code?: EditableErrorCode): error is EditableError {
  return error instanceof EditableError && (code === undefined || error.code === code);
}
