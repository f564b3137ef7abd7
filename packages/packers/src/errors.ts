import { ClusterPackError } from "@cluster-pack/errors";

/** Stable codes: callers branch on these, never on messages. */
export type PackerErrorCode =
  /** An option is wrong (an uninstalled requirement, a bad compression level, an unknown inherit_path). */
  | "INVALID_ARGUMENT"
  /** A file of the environment (one its RECORD lists) is missing or unreadable, or a symlink of it dangles. */
  | "MISSING_FILE"
  /** Writing the archive failed. */
  | "IO"
  /**
   * The environment cannot be made to run from another path: a binary prefix placeholder with no room for the
   * destination, an interpreter that finds its shared library by a path that cannot be rewritten, a symlink that
   * points outside the environment.
   */
  | "UNRELOCATABLE";

/** The one error type of this package; the message is one line naming the path it concerns (its `location`). */
export class PackerError extends ClusterPackError<PackerErrorCode> {
  override readonly name = "PackerError";
}

export function isPackerError(error: unknown, code?: PackerErrorCode): error is PackerError {
  return error instanceof PackerError && (code === undefined || error.code === code);
}
