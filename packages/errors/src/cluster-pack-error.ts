// One error contract for every package: a stable code, a one-line message, the URI or path it is about, a hint,
// and the backend's error as `cause`. The CLI maps this one type to an exit code and a printed line.

/** Marks our errors across copies of this package (a plugin built against another version, a bundle). */
const BRAND = Symbol.for("cluster-pack.error");

export interface ClusterPackErrorOptions {
  /** The URI or path the error is about; the message starts with it. */
  location?: string | undefined;
  /** What to do about it, in the library's words (no command-line flags): `install @cluster-pack/fs-s3`. */
  hint?: string | undefined;
  /** The underlying error, kept for `--debug` traces. */
  cause?: unknown;
}

/**
 * The base class of every error a user can cause or meet: `StorageError`, `ArchiveError`, `PythonEnvError`,
 * `EditableError`, `PackerError`, `EnvUsageError` and the façade's `ShippingError` extend it. `name` says the
 * family, `code` the case (callers branch on both, never on messages); the message is one line,
 * `<location>: <detail>`.
 */
export class ClusterPackError<Code extends string = string> extends Error {
  override readonly name: string = "ClusterPackError";
  readonly code: Code;
  /** The URI or path the error is about. */
  readonly location: string | undefined;
  /** The reason without the location prefix. */
  readonly detail: string;
  readonly hint: string | undefined;

  constructor(code: Code, detail: string, options: ClusterPackErrorOptions = {}) {
    const reason = firstLine(detail) || "failed";
    super(options.location ? `${options.location}: ${reason}` : reason, { cause: options.cause });
    this.code = code;
    this.location = options.location;
    this.detail = reason;
    this.hint = options.hint;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Whether `error` is one of ours (any family), optionally with this code. */
export function isClusterPackError(error: unknown, code?: string): error is ClusterPackError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true &&
    (code === undefined || (error as ClusterPackError).code === code)
  );
}

/**
 * The first non-blank line of a text or of an error's message, trimmed, and cut at `limit` characters when one is
 * given (a tool's output quoted in a message): how a multi-line message becomes part of a one-line message.
 */
export function firstLine(textOrError: unknown, limit = Number.POSITIVE_INFINITY): string {
  const text =
    typeof textOrError === "string"
      ? textOrError
      : textOrError instanceof Error
        ? textOrError.message
        : String(textOrError);
  const line =
    text
      .split(/\r?\n/)
      .map((part) => part.trim())
      .find((part) => part !== "") ?? "";
  return line.length > limit ? `${line.slice(0, limit)}…` : line;
}
