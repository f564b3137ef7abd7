import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import { errnoOf, StorageError, type StorageErrorCode } from "@cluster-pack/fs";

/** A WebHDFS error answer, `{"RemoteException": {exception, javaClassName, message}}`, with its HTTP status. */
export class RemoteException extends Error {
  override readonly name = "RemoteException";
  readonly status: number;
  /** Short class name (`FileNotFoundException`). */
  readonly exception: string;
  readonly javaClassName: string;

  constructor(status: number, exception: string, javaClassName: string, message: string) {
    super(message);
    this.status = status;
    this.exception = exception;
    this.javaClassName = javaClassName;
  }
}

/** Where a failure happened, for messages; `redact` removes secrets (the delegation token) from server text. */
export interface ErrorContext {
  uri: string;
  /** `namenode http://nn:9870`, `datanode http://dn:9864`. */
  server: string;
  redact: (text: string) => string;
}

const codeByException: Readonly<Record<string, StorageErrorCode>> = {
  FileNotFoundException: "NOT_FOUND",
  FileAlreadyExistsException: "ALREADY_EXISTS",
  AccessControlException: "PERMISSION_DENIED",
  AuthorizationException: "PERMISSION_DENIED",
  SecurityException: "PERMISSION_DENIED",
  InvalidToken: "PERMISSION_DENIED",
  StandbyException: "TRANSIENT",
  RetriableException: "TRANSIENT",
  SafeModeException: "TRANSIENT",
  IllegalArgumentException: "INVALID_ARGUMENT",
  HadoopIllegalArgumentException: "INVALID_ARGUMENT",
  InvalidPathException: "INVALID_ARGUMENT",
  UnsupportedOperationException: "INVALID_ARGUMENT",
  PathIsNotEmptyDirectoryException: "INVALID_ARGUMENT",
  ParentNotDirectoryException: "INVALID_ARGUMENT",
};

/** Reads a RemoteException out of an error body; undefined when the body is not one (a proxy's HTML page). */
export function parseRemoteException(
  status: number,
  body: string,
  redact: ErrorContext["redact"],
): RemoteException | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const remote = (parsed as { RemoteException?: Record<string, unknown> } | null)?.RemoteException;
  if (typeof remote !== "object" || remote === null) return undefined;
  const javaClassName = typeof remote.javaClassName === "string" ? remote.javaClassName : "";
  // Some releases put the full class name in `exception`; the short name is what we branch on.
  const exception =
    String(remote.exception ?? javaClassName)
      .split(/[.$]/)
      .at(-1) ?? "";
  return new RemoteException(status, exception, javaClassName, redact(String(remote.message ?? "")));
}

export function fromRemoteException(remote: RemoteException, context: ErrorContext): StorageError {
  let code = codeByException[remote.exception] ?? codeByStatus(remote.status);
  // OPEN of a directory is a FileNotFoundException in HDFS; for the caller it is a wrong argument, not a missing file.
  if (remote.exception === "FileNotFoundException" && remote.message.startsWith("Path is not a file")) {
    code = "INVALID_ARGUMENT";
  }
  // Server text reaches a terminal: control characters are shown, not obeyed.
  const detail =
    sanitizeLine(firstLine(remote.message)) ||
    `${sanitizeLine(remote.exception)} from ${context.server} (HTTP ${remote.status})`;
  return new StorageError(code, detail, { uri: context.uri, cause: remote });
}

function codeByStatus(status: number): StorageErrorCode {
  if (status === 401) return "PERMISSION_DENIED";
  if (status === 404) return "NOT_FOUND";
  if (status === 400) return "INVALID_ARGUMENT";
  if (status >= 500) return "TRANSIENT";
  return "UNKNOWN";
}

/** An error status without a RemoteException body: a gateway, a security filter, or not WebHDFS at all. */
export function fromHttpStatus(status: number, body: string, context: ErrorContext): StorageError {
  const { server, uri } = context;
  const excerpt = sanitizeLine(
    firstLine(
      context
        .redact(body)
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " "),
    ),
  ).slice(0, 200);
  const suffix = excerpt ? `: ${excerpt}` : "";
  const cause = new Error(`HTTP ${status}${suffix}`);
  const fail = (code: StorageErrorCode, detail: string) => new StorageError(code, detail, { uri, cause });
  if (status === 401) {
    return fail(
      "PERMISSION_DENIED",
      `${server} requires authentication (HTTP 401): pass a delegation token (hdfs.delegationToken), or turn Kerberos on (hdfs.kerberos, or hadoop.security.authentication=kerberos in core-site.xml)`,
    );
  }
  if (status === 403) return fail("PERMISSION_DENIED", `${server} refused the request (HTTP 403)${suffix}`);
  if (status === 404) {
    return fail(
      "INVALID_ARGUMENT",
      `${server} serves no WebHDFS API (HTTP 404): check the namenode HTTP address and dfs.webhdfs.enabled`,
    );
  }
  if (status === 400) return fail("INVALID_ARGUMENT", `${server} rejected the request (HTTP 400)${suffix}`);
  if (status >= 500) return fail("TRANSIENT", `${server} failed (HTTP ${status})${suffix}`);
  return fail("UNKNOWN", `unexpected HTTP ${status} from ${server}${suffix}`);
}

const connectionReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed",
};

/** Failures that happen before a request reaches the server, so another namenode may be tried safely. */
export function isUnreachable(error: unknown): boolean {
  const code = errnoOf(error);
  return (
    code === "ECONNREFUSED" ||
    code === "ENOTFOUND" ||
    code === "EAI_AGAIN" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH" ||
    code === "UND_ERR_CONNECT_TIMEOUT"
  );
}

export function connectionReasonOf(error: unknown): string {
  const code = errnoOf(error);
  if (code) return connectionReasons[code] ?? code;
  // fetch wraps the reason in causes ("fetch failed" ← "bad port"): the innermost one says what happened.
  let innermost = error;
  while (innermost instanceof Error && innermost.cause !== undefined) innermost = innermost.cause;
  return firstLine(innermost instanceof Error ? innermost.message : String(innermost));
}

/** A request that failed below HTTP: the server is unreachable or the connection broke. */
export function fromTransportError(error: unknown, context: ErrorContext): StorageError {
  if (error instanceof StorageError) return error;
  const verb = isUnreachable(error) ? "cannot reach" : "lost the connection to";
  return new StorageError("TRANSIENT", `${verb} ${context.server} (${connectionReasonOf(error)})`, {
    uri: context.uri,
    cause: error,
  });
}
