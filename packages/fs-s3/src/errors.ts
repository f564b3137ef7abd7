import { firstLine } from "@cluster-pack/errors";
import { errnoOf, fromSystemError, isAbort, StorageError } from "@cluster-pack/fs";

/** The store holds other bytes than were sent: its ETag is not the MD5 computed from them. */
export class ChecksumMismatch extends Error {}

/** What a message about a failed S3 call needs to name. */
export interface S3ErrorContext {
  /** The URI the call concerned (`s3://bucket/key`). */
  uri: string;
  bucket: string;
  /** `the S3 endpoint http://…` for a custom endpoint, `AWS S3` otherwise. */
  endpointLabel: string;
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const credentialsHint = "options.s3.credentials, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE";

const accessDetails: Readonly<Record<string, (context: S3ErrorContext) => string>> = {
  InvalidAccessKeyId: ({ endpointLabel }) =>
    `the access key ID is not known to ${endpointLabel} (check ${credentialsHint})`,
  SignatureDoesNotMatch: () =>
    `the secret access key does not match the access key ID (check ${credentialsHint})`,
  ExpiredToken: () => "the session token has expired (refresh the credentials or AWS_SESSION_TOKEN)",
  InvalidToken: () => "the session token is not valid (refresh the credentials or AWS_SESSION_TOKEN)",
  CredentialsProviderError: () => `no AWS credentials found (set ${credentialsHint})`,
};

const accessDenied = ({ endpointLabel }: S3ErrorContext) =>
  `access denied by ${endpointLabel} (check ${credentialsHint}, and the bucket policy)`;

const notFoundNames = new Set(["NoSuchKey", "NotFound", "NoSuchUpload"]);
const lostConnection = new Set(["ECONNRESET", "EPIPE"]);
const throttlingNames = new Set([
  "SlowDown",
  "ServiceUnavailable",
  "InternalError",
  "RequestTimeout",
  "Throttling",
]);

export const invalidBucketDetail = (bucket: string) =>
  `"${bucket}" is not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`;

export const bucketNotFoundDetail = (bucket: string) =>
  `bucket "${bucket}" does not exist: create it first or check the name`;

/** The idle time after which the SDK's socket timeout gave up on a request, from its message. */
const stalledAfterMs = (message: string) => message.match(/after (\d+) ms of inactivity/)?.[1];

/** Turns an error from the AWS SDK (a service error, a socket error, a credentials error) into a StorageError. */
export function toStorageError(error: unknown, context: S3ErrorContext): StorageError {
  if (error instanceof StorageError) return error;
  if (error instanceof ChecksumMismatch)
    return new StorageError("TRANSIENT", error.message, { uri: context.uri });
  const { name = "", message = "", $metadata } = (error ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode;
  const failure = (code: StorageError["code"], detail: string) =>
    new StorageError(code, detail, { uri: context.uri, cause: error });

  if (name === "NoSuchBucket") return failure("NOT_FOUND", bucketNotFoundDetail(context.bucket));
  if (name === "InvalidBucketName") return failure("INVALID_ARGUMENT", invalidBucketDetail(context.bucket));
  if (isAbort(error)) return failure("ABORTED", "cancelled");
  const access = accessDetails[name];
  if (access) return failure("PERMISSION_DENIED", access(context));
  if (notFoundNames.has(name) || status === 404) return failure("NOT_FOUND", "does not exist");
  if (name === "AccessDenied" || status === 403) return failure("PERMISSION_DENIED", accessDenied(context));
  // Before TimeoutError: the SDK names a reset or broken connection (ECONNRESET, EPIPE) a TimeoutError too.
  const errno = errnoOf(error);
  if (errno) {
    const reason = fromSystemError(error, context.uri).detail;
    const what = lostConnection.has(errno) ? "lost the connection to" : "cannot reach";
    return failure("TRANSIENT", `${what} ${context.endpointLabel} (${reason})`);
  }
  const stalledMs = name === "TimeoutError" ? stalledAfterMs(message) : undefined;
  if (stalledMs !== undefined) {
    const seconds = Number(stalledMs) / 1000;
    return failure("TRANSIENT", `no answer from ${context.endpointLabel} for ${seconds} s (stalled)`);
  }
  if (name === "TimeoutError") {
    return failure("TRANSIENT", `cannot reach ${context.endpointLabel} (timed out)`);
  }
  if (throttlingNames.has(name) || (status !== undefined && status >= 500)) {
    const what = status === undefined ? name : `HTTP ${status} ${name}`;
    return failure(
      "TRANSIENT",
      `${context.endpointLabel} is unavailable or overloaded (${what}); try again later`,
    );
  }
  if (status !== undefined) {
    // HEAD responses carry no body, so the SDK only knows the status ("UnknownError").
    const reason = message && message !== "UnknownError" ? `: ${firstLine(message)}` : "";
    return failure("UNKNOWN", `${name} (HTTP ${status})${reason}`);
  }
  return failure("UNKNOWN", firstLine(message || String(error)));
}
