import {
  ClusterPackError,
  type ClusterPackErrorOptions,
  firstLine,
  isClusterPackError,
} from "@cluster-pack/errors";

/** Stable codes: callers branch on these, never on messages. */
export type StorageErrorCode =
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "TRANSIENT"
  | "INVALID_ARGUMENT"
  | "ABORTED"
  | "UNKNOWN";

export interface StorageErrorOptions extends Omit<ClusterPackErrorOptions, "location"> {
  /** The URI the failed operation concerned, shown first in the message. */
  uri?: string | undefined;
}

/**
 * The one error type every adapter throws. The message is a single line a user can act on:
 * `s3://bucket/envs/x.pex: bucket "bucket" does not exist`; the URI is the error's `location`.
 */
export class StorageError extends ClusterPackError<StorageErrorCode> {
  override readonly name = "StorageError";

  constructor(code: StorageErrorCode, detail: string, options: StorageErrorOptions = {}) {
    const { uri, ...rest } = options;
    super(code, detail, { ...rest, location: uri });
  }

  /** Whether retrying the same operation later may succeed. */
  get retryable(): boolean {
    return this.code === "TRANSIENT";
  }
}

export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  // By brand and name, not instanceof: a plugin bundling its own copy of this package throws its copy's class.
  return isClusterPackError(error, code) && error.name === "StorageError";
}

const errnoCodes: Record<string, StorageErrorCode> = {
  ENOENT: "NOT_FOUND",
  ENOTDIR: "NOT_FOUND",
  EEXIST: "ALREADY_EXISTS",
  ENOTEMPTY: "INVALID_ARGUMENT",
  EISDIR: "INVALID_ARGUMENT",
  EINVAL: "INVALID_ARGUMENT",
  EACCES: "PERMISSION_DENIED",
  EPERM: "PERMISSION_DENIED",
  EROFS: "PERMISSION_DENIED",
  EBUSY: "TRANSIENT",
  EAGAIN: "TRANSIENT",
  EMFILE: "TRANSIENT",
  ENFILE: "TRANSIENT",
  ECONNREFUSED: "TRANSIENT",
  ECONNRESET: "TRANSIENT",
  ETIMEDOUT: "TRANSIENT",
  EHOSTUNREACH: "TRANSIENT",
  ENETUNREACH: "TRANSIENT",
  EAI_AGAIN: "TRANSIENT",
  ENOTFOUND: "TRANSIENT",
  EPIPE: "TRANSIENT",
  UND_ERR_CONNECT_TIMEOUT: "TRANSIENT",
  UND_ERR_SOCKET: "TRANSIENT",
};

const errnoDetails: Record<string, string> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a parent of this path is not a directory",
  EEXIST: "already exists",
  ENOTEMPTY: "directory is not empty (use the recursive option)",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed temporarily",
};

/**
 * The `code` of a Node system error (`ENOENT`, `ECONNREFUSED`…) or of an undici socket error
 * (`UND_ERR_CONNECT_TIMEOUT`, which fetch wraps as its `cause`), looking through `cause` chains.
 */
export function errnoOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z_]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an error is the cancellation of an operation through an AbortSignal. */
export function isAbort(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === "AbortError" || code === "ABORT_ERR";
}

/** Turns a Node system error (file system or socket) into a StorageError about `uri`. */
export function fromSystemError(error: unknown, uri: string): StorageError {
  if (error instanceof StorageError) return error;
  if (isAbort(error)) return new StorageError("ABORTED", "cancelled", { uri, cause: error });
  const errno = errnoOf(error);
  if (errno) {
    const detail = errnoDetails[errno] ?? `${errno}: ${(error as Error).message}`;
    return new StorageError(errnoCodes[errno] ?? "UNKNOWN", detail, { uri, cause: error });
  }
  // Messages are one line: the rest of a multi-line backend message stays in `cause`.
  return new StorageError("UNKNOWN", firstLine(error), { uri, cause: error });
}
