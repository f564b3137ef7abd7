import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  type ByteRange,
  checkByteRange,
  type FileInfo,
  StorageError,
  type StorageErrorCode,
} from "@cluster-pack/fs";
import { bucketNotFoundDetail, toStorageError } from "./errors.js";
import { locationOf, pathOf, type S3Location } from "./s3-location.js";
import type { S3Settings } from "./s3-options.js";

// The S3 requests the file system operations are made of, each turning the SDK's failures into StorageErrors.

/** What every operation of one S3 file system shares. */
export interface S3Context {
  client: S3Client;
  settings: S3Settings;
  /** The URI a user would write for a `bucket/key` path (`s3://…` or `s3a://…`). */
  toUri: (path: string) => string;
}

const nameOf = ({ bucket, key }: S3Location) => (key ? key.slice(key.lastIndexOf("/") + 1) : bucket);
export const errorName = (error: unknown) => (error as { name?: unknown } | undefined)?.name;

export const locate = (context: S3Context, path: string) => locationOf(path, context.toUri);
export const uriOf = (context: S3Context, location: S3Location) => context.toUri(pathOf(location));

export const fail = (
  context: S3Context,
  location: S3Location,
  code: StorageErrorCode,
  detail: string,
  cause?: unknown,
) => new StorageError(code, detail, { uri: uriOf(context, location), cause });

export const failure = (context: S3Context, location: S3Location, error: unknown) =>
  toStorageError(error, {
    uri: uriOf(context, location),
    bucket: location.bucket,
    endpointLabel: context.settings.endpointLabel,
  });

/** Runs one SDK call; its failure becomes a StorageError about `location`. */
export async function call<T>(
  context: S3Context,
  location: S3Location,
  request: () => Promise<T>,
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw failure(context, location, error);
  }
}

export const fileInfo = (
  location: S3Location,
  size: number | undefined,
  modifiedAt: Date | undefined,
): FileInfo => ({
  path: pathOf(location),
  name: nameOf(location),
  type: "file",
  size: size ?? 0,
  ...(modifiedAt && { modifiedAt }),
});

export const directoryInfo = (location: S3Location): FileInfo => ({
  path: pathOf(location),
  name: nameOf(location),
  type: "directory",
  size: 0,
});

export async function headBucket(context: S3Context, location: S3Location): Promise<void> {
  try {
    await context.client.send(new HeadBucketCommand({ Bucket: location.bucket }));
  } catch (error) {
    const mapped = failure(context, location, error);
    // HEAD answers carry no error code: a 404 here can only mean the bucket.
    throw mapped.code === "NOT_FOUND"
      ? fail(context, location, "NOT_FOUND", bucketNotFoundDetail(location.bucket), error)
      : mapped;
  }
}

/** The object's metadata, or undefined when there is none (or no bucket: a 404 HEAD cannot tell which). */
export async function headObject(context: S3Context, location: S3Location) {
  try {
    return await context.client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
  } catch (error) {
    const mapped = failure(context, location, error);
    if (mapped.code === "NOT_FOUND") return undefined;
    throw mapped;
  }
}

export const listObjects = (
  context: S3Context,
  location: S3Location,
  prefix: string,
  page: { delimiter?: boolean; token?: string; maxKeys?: number },
) =>
  call(context, location, () =>
    context.client.send(
      new ListObjectsV2Command({
        Bucket: location.bucket,
        Prefix: prefix,
        ...(page.delimiter && { Delimiter: "/" }),
        ...(page.token && { ContinuationToken: page.token }),
        ...(page.maxKeys && { MaxKeys: page.maxKeys }),
      }),
    ),
  );

/** Whether anything (a marker or an object) lies under `key/`. Throws NOT_FOUND for a missing bucket. */
export const isDirectory = async (context: S3Context, location: S3Location) =>
  ((await listObjects(context, location, `${location.key}/`, { maxKeys: 1 })).Contents ?? []).length > 0;

/** The error for a path with no object: a bucket, a directory, or nothing (or no bucket, which the listing says). */
export async function missing(
  context: S3Context,
  location: S3Location,
  directoryDetail = "is a directory, not a file",
): Promise<never> {
  if (!location.key) throw fail(context, location, "INVALID_ARGUMENT", "is a bucket, not a file");
  if (await isDirectory(context, location))
    throw fail(context, location, "INVALID_ARGUMENT", directoryDetail);
  throw fail(context, location, "NOT_FOUND", "does not exist");
}

/**
 * What a range of zero bytes reads, or one that S3 refuses (416 InvalidRange) for starting at or past the end:
 * nothing, when the object exists and the range starts no further than its end.
 */
export async function emptyRange(
  context: S3Context,
  location: S3Location,
  range: ByteRange,
): Promise<Readable> {
  const object = location.key ? await headObject(context, location) : undefined;
  if (!object) return missing(context, location);
  checkByteRange(range, uriOf(context, location), object.ContentLength ?? 0);
  return Readable.from([]);
}

/** The total size a Content-Range answer states (`bytes 0-9/1234`), if any. */
const sizeOfContentRange = (contentRange: string | undefined) => {
  const size = contentRange?.match(/\/(\d+)$/)?.[1];
  return size === undefined ? undefined : Number(size);
};

/** The object's body and size: all of it, or the bytes of `range`. */
export async function getObject(
  context: S3Context,
  location: S3Location,
  options: { range?: ByteRange; signal?: AbortSignal | undefined },
) {
  if (!location.key) return missing(context, location);
  const { range, signal } = options;
  const rangeHeader =
    range && (range.offset > 0 || range.length !== undefined)
      ? `bytes=${range.offset}-${range.length === undefined ? "" : range.offset + range.length - 1}`
      : undefined;
  let object: GetObjectCommandOutput;
  try {
    object = await context.client.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(rangeHeader && { Range: rangeHeader }),
      }),
      signal ? { abortSignal: signal } : {},
    );
  } catch (error) {
    // S3 refuses a range that starts at or past the end, or any range of an empty object.
    if (range && errorName(error) === "InvalidRange") {
      return { body: await emptyRange(context, location, range), size: 0 };
    }
    const mapped = failure(context, location, error);
    if (mapped.code === "NOT_FOUND" && errorName(error) !== "NoSuchBucket") return missing(context, location);
    throw mapped;
  }
  const body = object.Body as Readable;
  const size = sizeOfContentRange(object.ContentRange);
  if (range && size !== undefined && range.offset >= size) {
    // s3rver answers a range of an empty object with 206 and `bytes 0-0/0` where S3 answers 416, and never sends
    // the byte it announces: the size it states decides.
    body.destroy();
    checkByteRange(range, uriOf(context, location), size);
    return { body: Readable.from([]), size: 0 };
  }
  return { body, size: object.ContentLength };
}

export const deleteObject = (context: S3Context, location: S3Location, key = location.key) =>
  call(context, location, () =>
    context.client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key })),
  );

/** Deletes up to 1,000 keys in one request; S3 reports failures per key, in a successful answer. */
export async function deleteObjects(context: S3Context, location: S3Location, keys: string[]): Promise<void> {
  const result = await call(context, location, () =>
    context.client.send(
      new DeleteObjectsCommand({
        Bucket: location.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    ),
  );
  const [first] = result.Errors ?? [];
  if (first) {
    const failed = { bucket: location.bucket, key: first.Key ?? location.key };
    throw failure(context, failed, { name: first.Code, message: `${first.Code}: ${first.Message}` });
  }
}

/**
 * Aborts the multipart uploads under a directory that were started before `startedBefore` and never completed
 * (a killed run's; S3 keeps and bills their parts until then). Returns a description of each.
 */
export async function removeIncompleteUploads(
  context: S3Context,
  directory: string,
  startedBefore: Date,
): Promise<string[]> {
  const location = locate(context, directory);
  const prefix = location.key ? `${location.key.replace(/\/+$/, "")}/` : "";
  const removed: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await call(context, location, () =>
      context.client.send(
        new ListMultipartUploadsCommand({
          Bucket: location.bucket,
          Prefix: prefix,
          ...(keyMarker && { KeyMarker: keyMarker }),
          ...(uploadIdMarker && { UploadIdMarker: uploadIdMarker }),
        }),
      ),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= startedBefore) continue;
      const target = { bucket: location.bucket, key: upload.Key };
      await call(context, target, () =>
        context.client.send(
          new AbortMultipartUploadCommand({
            Bucket: target.bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
        ),
      );
      removed.push(`${uriOf(context, target)} (upload started ${upload.Initiated.toISOString()})`);
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
  return removed;
}
