import type { Readable } from "node:stream";
import { CopyObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  checkByteRange,
  type FileInfo,
  type FileSystem,
  type GetOptions,
  isStorageError,
  type OpenOptions,
  type PutOptions,
  type PutResult,
  type PutSource,
  type RenameOptions,
  type RmOptions,
  writeFileAtomically,
} from "@cluster-pack/fs";
import { pathOf, type S3Location } from "./s3-location.js";
import { type S3FileSystemOptions, type SharedStorageOptions, s3Settings } from "./s3-options.js";
import {
  call,
  deleteObject,
  deleteObjects,
  directoryInfo,
  emptyRange,
  errorName,
  fail,
  failure,
  fileInfo,
  getObject,
  headBucket,
  headObject,
  isDirectory,
  listObjects,
  locate,
  missing,
  removeIncompleteUploads,
  type S3Context,
  uriOf,
} from "./s3-requests.js";
import { boundRetries } from "./s3-retries.js";
import { AbandonedUpload, CommitHookFailure, uploadObject } from "./s3-upload.js";

// One function per FileSystem operation, each given the S3Context of its file system; s3FileSystem, at the end,
// assembles them.

/** The largest object one CopyObject request may copy. */
const maxCopySize = 5 * 1024 ** 3;

const byName = (a: FileInfo, b: FileInfo) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `x-amz-copy-source` is a URL path: every key segment percent-encoded, the slashes kept. */
const copySourceOf = ({ bucket, key }: S3Location) =>
  `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;

async function stat(context: S3Context, path: string): Promise<FileInfo> {
  const location = locate(context, path);
  if (!location.key) {
    await headBucket(context, location);
    return directoryInfo(location);
  }
  const object = await headObject(context, location);
  if (object) return fileInfo(location, object.ContentLength, object.LastModified);
  if (await isDirectory(context, location)) return directoryInfo(location);
  throw fail(context, location, "NOT_FOUND", "does not exist");
}

async function exists(context: S3Context, path: string): Promise<boolean> {
  try {
    await stat(context, path);
    return true;
  } catch (error) {
    if (isStorageError(error, "NOT_FOUND")) return false;
    throw error;
  }
}

async function ls(context: S3Context, path: string): Promise<FileInfo[]> {
  const location = locate(context, path);
  if (location.key) {
    const object = await headObject(context, location);
    if (object) return [fileInfo(location, object.ContentLength, object.LastModified)];
  }
  const prefix = location.key ? `${location.key}/` : "";
  // Keyed by type and name: a store may repeat a common prefix on two pages.
  const entries = new Map<string, FileInfo>();
  let found = false;
  let token: string | undefined;
  do {
    const page = await listObjects(context, location, prefix, { delimiter: true, ...(token && { token }) });
    for (const object of page.Contents ?? []) {
      found = true;
      const key = object.Key ?? prefix;
      // The directory's own marker is not a child.
      if (key === prefix) continue;
      entries.set(`f:${key}`, fileInfo({ bucket: location.bucket, key }, object.Size, object.LastModified));
    }
    for (const { Prefix: child } of page.CommonPrefixes ?? []) {
      found = true;
      const key = child?.slice(0, -1);
      if (key && key.length > prefix.length) {
        entries.set(`d:${key}`, directoryInfo({ bucket: location.bucket, key }));
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (!found && location.key) throw fail(context, location, "NOT_FOUND", "does not exist");
  return [...entries.values()].sort(byName);
}

async function mkdir(context: S3Context, path: string): Promise<void> {
  const location = locate(context, path);
  // A bucket is never created here: a mistyped name would become a new bucket (and a later cost) unnoticed.
  if (!location.key) return headBucket(context, location);
  if (await headObject(context, location)) {
    throw fail(context, location, "ALREADY_EXISTS", "a file already exists at this path");
  }
  // A marker at every level, as `mkdir -p` makes every level: removing the deepest leaves its parents.
  const segments = location.key.split("/");
  const markers = segments.map((_, index) => `${segments.slice(0, index + 1).join("/")}/`);
  await call(context, location, () =>
    Promise.all(
      markers.map((Key) =>
        context.client.send(new PutObjectCommand({ Bucket: location.bucket, Key, Body: new Uint8Array(0) })),
      ),
    ),
  );
}

async function put(
  context: S3Context,
  source: PutSource,
  remotePath: string,
  options: PutOptions = {},
): Promise<PutResult> {
  const location = locate(context, remotePath);
  if (!location.key) {
    throw fail(context, location, "INVALID_ARGUMENT", "give a key after the bucket (s3://bucket/key)");
  }
  const refuseExisting = options.overwrite === false;
  if (refuseExisting && (await headObject(context, location))) {
    throw fail(context, location, "ALREADY_EXISTS", "already exists (overwrite is off)");
  }
  try {
    const target = {
      client: context.client,
      location,
      uri: uriOf(context, location),
      settings: context.settings,
    };
    const verified = await uploadObject(target, source, options);
    return verified ? { verified } : {};
  } catch (thrown) {
    if (thrown instanceof CommitHookFailure) throw thrown.cause;
    const error = thrown instanceof AbandonedUpload ? thrown.cause : thrown;
    if (thrown instanceof AbandonedUpload) {
      const reason = failure(context, location, error);
      const abort = failure(context, location, thrown.abortFailure);
      throw fail(
        context,
        location,
        reason.code,
        `${reason.detail}; aborting multipart upload ${thrown.uploadId} failed too (${abort.detail}): its parts stay until the bucket's lifecycle rule removes them`,
        error,
      );
    }
    // The object appeared between the HEAD and the upload's If-None-Match.
    if (
      refuseExisting &&
      ["PreconditionFailed", "ConditionalRequestConflict"].includes(String(errorName(error)))
    ) {
      throw fail(context, location, "ALREADY_EXISTS", "already exists (overwrite is off)", error);
    }
    throw failure(context, location, error);
  }
}

async function get(
  context: S3Context,
  remotePath: string,
  localPath: string,
  options: GetOptions = {},
): Promise<void> {
  const location = locate(context, remotePath);
  const { body, size } = await getObject(context, location, { signal: options.signal });
  // A connection lost mid-body is about the S3 URI, not the local file being written.
  async function* remoteBytes() {
    try {
      yield* body;
    } catch (error) {
      throw failure(context, location, error);
    }
  }
  try {
    await writeFileAtomically(localPath, remoteBytes(), {
      ...(options.onProgress && { onProgress: options.onProgress }),
      ...(size !== undefined && { totalBytes: size }),
      ...(options.signal && { signal: options.signal }),
    });
  } finally {
    // Frees the connection when the local write failed before reading the whole body.
    body.destroy();
  }
}

async function open(context: S3Context, path: string, options: OpenOptions = {}): Promise<Readable> {
  const location = locate(context, path);
  const range = checkByteRange(options, uriOf(context, location));
  // S3 has no range of zero bytes.
  if (range.length === 0) return emptyRange(context, location, range);
  return (await getObject(context, location, { range })).body;
}

/** Removes an empty directory: its marker, which must exist and have nothing beside it. */
async function rmEmptyDirectory(context: S3Context, location: S3Location): Promise<void> {
  const prefix = `${location.key}/`;
  const page = await listObjects(context, location, prefix, { delimiter: true, maxKeys: 2 });
  const markers = (page.Contents ?? []).filter((object) => object.Key === prefix);
  const children = (page.Contents ?? []).length - markers.length + (page.CommonPrefixes ?? []).length;
  if (children > 0) {
    throw fail(context, location, "INVALID_ARGUMENT", "directory is not empty (use the recursive option)");
  }
  if (markers.length === 0) throw fail(context, location, "NOT_FOUND", "does not exist");
  await deleteObject(context, location, prefix);
}

/** Removes every object under `key/`, a listing page at a time. */
async function rmTree(context: S3Context, location: S3Location): Promise<void> {
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await listObjects(context, location, `${location.key}/`, token ? { token } : {});
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
    if (keys.length > 0) await deleteObjects(context, location, keys);
    deleted += keys.length;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (deleted === 0) throw fail(context, location, "NOT_FOUND", "does not exist");
}

async function rm(context: S3Context, path: string, options: RmOptions = {}): Promise<void> {
  const location = locate(context, path);
  if (!location.key) {
    throw fail(context, location, "INVALID_ARGUMENT", "is a bucket; cluster-pack does not delete buckets");
  }
  if (await headObject(context, location)) await deleteObject(context, location);
  else if (options.recursive) await rmTree(context, location);
  else await rmEmptyDirectory(context, location);
}

/** S3 has no rename: the object is copied to its new key, then deleted. */
async function rename(
  context: S3Context,
  from: string,
  to: string,
  options: RenameOptions = {},
): Promise<void> {
  const source = locate(context, from);
  const target = locate(context, to);
  if (!target.key) {
    throw fail(context, target, "INVALID_ARGUMENT", "give a key after the bucket (s3://bucket/key)");
  }
  const object = source.key ? await headObject(context, source) : undefined;
  if (!object) return missing(context, source, "is a directory; S3 can only rename files");
  if (pathOf(source) === pathOf(target)) return;
  if (!options.overwrite && (await headObject(context, target))) {
    throw fail(context, target, "ALREADY_EXISTS", "already exists (pass overwrite to replace it)");
  }
  if ((object.ContentLength ?? 0) > maxCopySize) {
    throw fail(
      context,
      source,
      "INVALID_ARGUMENT",
      "is larger than 5 GiB, the most S3 copies at once: put it at its final path",
    );
  }
  await call(context, target, () =>
    context.client.send(
      new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: copySourceOf(source) }),
    ),
  );
  await deleteObject(context, source);
}

/**
 * S3 and S3-compatible stores as a FileSystem. Paths are `bucket/key`; a key prefix ending in `/` is a directory,
 * which exists while objects lie under it or a zero-byte `prefix/` marker does (mkdir writes them; ls hides them).
 * Uploads are atomic: an object appears only complete.
 */
export function s3FileSystem(
  options: S3FileSystemOptions = {},
  shared: SharedStorageOptions = {},
): FileSystem {
  const settings = s3Settings(options, shared);
  const scheme = options.scheme ?? "s3";
  const toUri = (path: string) => `${scheme}://${path.replace(/^\/+/, "")}`;
  const client = new S3Client(settings.clientConfig);
  boundRetries(client, settings, toUri);
  const context: S3Context = { client, settings, toUri };
  return {
    scheme,
    supportsBeforeCommit: true,
    toUri: context.toUri,
    stat: (path) => stat(context, path),
    exists: (path) => exists(context, path),
    ls: (path) => ls(context, path),
    mkdir: (path) => mkdir(context, path),
    put: (source, remotePath, putOptions) => put(context, source, remotePath, putOptions),
    get: (remotePath, localPath, getOptions) => get(context, remotePath, localPath, getOptions),
    open: (path, openOptions) => open(context, path, openOptions),
    rm: (path, rmOptions) => rm(context, path, rmOptions),
    rename: (from, to, renameOptions) => rename(context, from, to, renameOptions),
    removeIncompleteUploads: (directory, startedBefore) =>
      removeIncompleteUploads(context, directory, startedBefore),
    close: async () => context.client.destroy(),
  };
}
