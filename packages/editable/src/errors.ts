import { ClusterPackError, type ClusterPackErrorOptions } from "@cluster-pack/errors";

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
  /**
   * An `.egg-link` install whose project directory is unknown. python-env reports empty egg-links and egg-links
   * without an `.egg-info` among its own problems, so only a hand-made distribution can give this.
   */
  | "BROKEN_EGG_LINK"
  /** A `.pth`, finder or project file exists but cannot be read. */
  | "UNREADABLE"
  /** A caller passed something that cannot be zipped or written. */
  | "INVALID_ARGUMENT";

export interface EditableErrorOptions extends ClusterPackErrorOptions {
  /** The normalised name of the distribution concerned. */
  distribution?: string;
}

/**
 * The one error type of this package, for user-caused problems: its message is a single line naming the path
 * (its `location`), the distribution and what to do, e.g.
 * `/home/me/mypkg: project directory of mypkg 1.0 (editable) no longer exists (…); reinstall it with
 * pip install -e <project> or remove it with pip uninstall mypkg`.
 */
export class EditableError extends ClusterPackError<EditableErrorCode> {
  override readonly name = "EditableError";
  readonly distribution: string | undefined;

  constructor(code: EditableErrorCode, detail: string, options: EditableErrorOptions = {}) {
    const { distribution, ...rest } = options;
    super(code, detail, rest);
    this.distribution = distribution;
  }
}

export function isEditableError(error: unknown, code?: EditableErrorCode): error is EditableError {
  return error instanceof EditableError && (code === undefined || error.code === code);
}
