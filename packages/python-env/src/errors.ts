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
 * The one error type of this package. The message is one line naming the path it concerns:
 * `/opt/venv/bin/python: not a Python interpreter (it printed "hello" instead of the probe's answer)`.
 */
export class PythonEnvError extends Error {
  override readonly name = "PythonEnvError";
  readonly code: PythonEnvErrorCode;
  /** The interpreter, directory or file the error concerns. */
  readonly path: string | undefined;
  /** The reason without the path prefix. */
  readonly detail: string;

  constructor(code: PythonEnvErrorCode, detail: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path ? `${options.path}: ${detail}` : detail, { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.detail = detail;
  }
}

export function isPythonEnvError(error: unknown, code?: PythonEnvErrorCode): error is PythonEnvError {
  return error instanceof PythonEnvError && (code === undefined || error.code === code);
}

/** The first line of a tool's output, quoted and shortened, for a one-line message. */
export function firstLine(text: string, limit = 160): string {
  const line = text.trim().split("\n")[0]?.trim() ?? "";
  return line.length > limit ? `${line.slice(0, limit)}…` : line;
}
