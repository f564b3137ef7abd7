import { StorageError } from "@cluster-pack/fs";
import { invalidBucketDetail } from "./errors.js";

/** A path of the S3 path space (`bucket/key`) split in two; `key` is empty for the bucket itself. */
export interface S3Location {
  bucket: string;
  key: string;
}

// Accepts the legacy names (capitals, underscores) that old us-east-1 buckets still have; S3 rejects the rest.
const bucketNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;

export function pathOf({ bucket, key }: S3Location): string {
  return key ? `${bucket}/${key}` : bucket;
}

/** Splits `bucket/key` (leading and trailing slashes ignored: a directory and its marker are one path). */
export function locationOf(path: string, uriOf: (path: string) => string): S3Location {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  const slash = trimmed.indexOf("/");
  const bucket = slash === -1 ? trimmed : trimmed.slice(0, slash);
  if (!bucketNamePattern.test(bucket)) {
    const detail = bucket ? invalidBucketDetail(bucket) : "no bucket in the path (write s3://bucket/key)";
    throw new StorageError("INVALID_ARGUMENT", detail, { uri: uriOf(path) });
  }
  return { bucket, key: slash === -1 ? "" : trimmed.slice(slash + 1) };
}

/** The `bucket/key` path an `s3://` or `s3a://` URL names, with the key percent-decoded. */
export function pathOfUrl(url: URL): string {
  // Never echo user-info: it would be credentials pasted into the URL.
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  const invalid = (detail: string, cause?: unknown) =>
    new StorageError("INVALID_ARGUMENT", detail, { uri: shown, cause });
  if (url.username || url.password) {
    throw invalid(
      "credentials do not belong in an S3 URL (use AWS_PROFILE, the AWS_* variables or options.s3)",
    );
  }
  if (url.port) throw invalid("an S3 URL names a bucket, not a host:port (set the endpoint in options.s3)");
  if (url.search || url.hash) throw invalid("write ? and # in an S3 key as %3F and %23");
  let key: string;
  try {
    key = decodeURIComponent(url.pathname);
  } catch (cause) {
    throw invalid("the key holds an invalid %-escape", cause);
  }
  const path = `${url.hostname}${key}`;
  locationOf(path, () => shown);
  return path.replace(/\/+$/, "");
}
