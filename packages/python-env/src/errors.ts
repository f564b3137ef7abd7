import { ClusterPackError } from "@cluster-pack/errors";

/** Stable codes: callers branch on these, never on messages. */
export type PythonEnvErrorCode =
  /** The path is missing, not executable, or runs but does not answer like a Python 3.9+. */
  | "NOT_A_PYTHON"
  /** A site-packages directory (or a distribution's metadata) cannot be read. */
  | "UNREADABLE_ENVIRONMENT"
  /** A distribution's metadata is missing or malformed (raised only in strict listing). */
  | "BROKEN_DISTRIBUTION"
  /** An option or input file is wrong (unknown additional wheel, malformed environment.yml…). */
  | "INVALID_ARGUMENT"
  /** A tool needed to build a staging environment is not installed. */
  | "MISSING_TOOL"
  /** Building the staging environment failed (pip, uv or conda said why). */
  | "RESOLUTION_FAILED";

/**
 * The one error type of this package. The message is one line naming the path it concerns (its `location`):
 * `/opt/venv/bin/python: not a Python interpreter (it printed "hello" instead of the probe's answer)`.
 */
export class PythonEnvError extends ClusterPackError<PythonEnvErrorCode> {
  override readonly name = "PythonEnvError";
}

export function isPythonEnvError(error: unknown, code?: PythonEnvErrorCode): error is PythonEnvError {
  return error instanceof PythonEnvError && (code === undefined || error.code === code);
}
