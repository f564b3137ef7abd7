import { ClusterPackError, type ClusterPackErrorOptions } from "@cluster-pack/errors";
import type { VerifyReport } from "./verify-report.js";

/** Stable codes: callers branch on these, never on messages. */
export type VerifyErrorCode =
  /** Not something `verify` can run: an unknown name, an unreadable or damaged archive, a bad option. */
  | "INVALID_ARGUMENT"
  /** There is no archive at the path given. */
  | "NOT_FOUND"
  /** No Python to run the archive with: the one named (or the one a venv archive links to) is not on this machine. */
  | "NO_INTERPRETER"
  /** An entry would be written outside the directory the archive is unpacked into: nothing of it is run. */
  | "UNSAFE_ARCHIVE"
  /** Unpacking the archive into the work directory failed (disk full, permissions). */
  | "IO"
  /** The archive was checked and does not work (`report` says why): what refuses to ship it throws this. */
  | "BROKEN_ENVIRONMENT";

/**
 * The one error type of this package, for input `verify` cannot check. An archive that was checked and found
 * broken is not an error: it is a report whose `ok` is false.
 */
export class VerifyError extends ClusterPackError<VerifyErrorCode> {
  override readonly name = "VerifyError";
  /** With `BROKEN_ENVIRONMENT`: the whole report, for callers that show more than the message's summary. */
  readonly report: VerifyReport | undefined;

  constructor(
    code: VerifyErrorCode,
    detail: string,
    options: ClusterPackErrorOptions & { report?: VerifyReport } = {},
  ) {
    super(code, detail, options);
    this.report = options.report;
  }
}

export function isVerifyError(error: unknown, code?: VerifyErrorCode): error is VerifyError {
  return error instanceof VerifyError && (code === undefined || error.code === code);
}
