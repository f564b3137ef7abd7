import { Readable } from "node:stream";
import {
  type BucketLocationConstraint,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  type FileInfo,
  type FileSystem,
  isStorageError,
  StorageError,
  type StorageErrorCode,
  writeFileAtomically,
} from "@cluster-pack/fs";
import { bucketNotFoundDetail, toStorageError } from "./errors.js";
import { locationOf, pathOf, type S3Location } from "./s3-location.js";
import { type S3FileSystemOptions, s3Settings } from "./s3-options.js";
import { uploadObject } from "./s3-upload.js";

/** The largest object one CopyObject request may copy. */
const maxCopySize = 5 * 1024 ** 3;

const nameOf = ({ bucket, key }: S3Location) => (key ? key.slice(key.lastIndexOf("/") + 1) : bucket);
const byName = (a: FileInfo, b: FileInfo) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const errorName = (error: unknown) => (error as { name?: unknown } | undefined)?.name;

/** `x-amz-copy-source` is a URL path: every key segment percent-encoded, the slashes kept. */
const copySourceOf = ({ bucket, key }: S3Location) =>
  `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;

/**
 * S3 and S3-compatible stores as a FileSystem. Paths are `bucket/key`; a key prefix ending in `/` is a directory,
 * which exists while objects lie under it or a zero-byte `prefix/` marker does (mkdir writes them; ls hides them).
 * Uploads are atomic: an object appears only complete.
 */
export function s3FileSystem(options: S3FileSystemOptions = {}): FileSystem {
  const settings = s3Settings(options);
  const client = new S3Client(settings.clientConfig);
  const scheme = options.scheme ?? "s3";
  const toUri = (path: string) => `${scheme}://${path.replace(/^\/+/, "")}`;
  const locate = (path: string) => locationOf(path, toUri);
  const uriOf = (location: S3Location) => toUri(pathOf(location));

  const fail = (location: S3Location, code: StorageErrorCode, detail: string, cause?: unknown) =>
    new StorageError(code, detail, { uri: uriOf(location), cause });
  const failure = (location: S3Location, error: unknown) =>
    toStorageError(error, {
      uri: uriOf(location),
      bucket: location.bucket,
      endpointLabel: settings.endpointLabel,
    });
  /** Runs one SDK call; its failure becomes a StorageError about `location`. */
  const call = async <T>(location: S3Location, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw failure(location, error);
    }
  };

  const fileInfo = (
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
  const directoryInfo = (location: S3Location): FileInfo => ({
    path: pathOf(location),
    name: nameOf(location),
    type: "directory",
    size: 0,
  });

  const headBucket = async (location: S3Location) => {
    try {
      await client.send(new HeadBucketCommand({ Bucket: location.bucket }));
    } catch (error) {
      const mapped = failure(location, error);
      // HEAD answers carry no error code: a 404 here can only mean the bucket.
      throw mapped.code === "NOT_FOUND"
        ? fail(location, "NOT_FOUND", bucketNotFoundDetail(location.bucket), error)
        : mapped;
    }
  };

  /** The object's metadata, or undefined when there is none (or no bucket: a 404 HEAD cannot tell which). */
  const headObject = async (location: S3Location) => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
    } catch (error) {
      const mapped = failure(location, error);
      if (mapped.code === "NOT_FOUND") return undefined;
      throw mapped;
    }
  };

  const list = (
    location: S3Location,
    prefix: string,
    page: { delimiter?: boolean; token?: string; maxKeys?: number },
  ) =>
    call(location, () =>
      client.send(
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
  const isDirectory = async (location: S3Location) =>
    ((await list(location, `${location.key}/`, { maxKeys: 1 })).Contents ?? []).length > 0;

  /** The error for a path with no object: a bucket, a directory, or nothing (or no bucket, which the listing says). */
  const missing = async (
    location: S3Location,
    directoryDetail = "is a directory, not a file",
  ): Promise<never> => {
    if (!location.key) throw fail(location, "INVALID_ARGUMENT", "is a bucket, not a file");
    if (await isDirectory(location)) throw fail(location, "INVALID_ARGUMENT", directoryDetail);
    throw fail(location, "NOT_FOUND", "does not exist");
  };

  const getObject = async (location: S3Location, range?: string, signal?: AbortSignal) => {
    if (!location.key) return missing(location);
    try {
      const object = await client.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...(range && { Range: range }) }),
        signal ? { abortSignal: signal } : {},
      );
      return { body: object.Body as Readable, size: object.ContentLength };
    } catch (error) {
      // A range that starts at or past the end reads nothing, as it does from a local file.
      if (errorName(error) === "InvalidRange") return { body: Readable.from([]), size: 0 };
      const mapped = failure(location, error);
      if (mapped.code === "NOT_FOUND" && errorName(error) !== "NoSuchBucket") return missing(location);
      throw mapped;
    }
  };

  const deleteObject = (location: S3Location, key = location.key) =>
    call(location, () => client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: key })));

  /** Deletes up to 1,000 keys in one request; S3 reports failures per key, in a successful answer. */
  const deleteObjects = async (location: S3Location, keys: string[]) => {
    const result = await call(location, () =>
      client.send(
        new DeleteObjectsCommand({
          Bucket: location.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
    const [first] = result.Errors ?? [];
    if (first) {
      const failed = { bucket: location.bucket, key: first.Key ?? location.key };
      throw failure(failed, { name: first.Code, message: `${first.Code}: ${first.Message}` });
    }
  };

  const createBucket = async (location: S3Location) => {
    try {
      await headBucket(location);
      return;
    } catch (error) {
      if (!isStorageError(error, "NOT_FOUND")) throw error;
    }
    const region = await client.config.region();
    try {
      await client.send(
        new CreateBucketCommand({
          Bucket: location.bucket,
          // us-east-1 is the one region that must not be named.
          ...(region !== "us-east-1" && {
            CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
          }),
        }),
      );
    } catch (error) {
      // Created meanwhile (a concurrent run); a bucket of another account is then refused by the HEAD.
      if (errorName(error) === "BucketAlreadyOwnedByYou" || errorName(error) === "BucketAlreadyExists") {
        return headBucket(location);
      }
      throw failure(location, error);
    }
  };

  const fs: FileSystem = {
    scheme,
    toUri,

    async stat(path) {
      const location = locate(path);
      if (!location.key) {
        await headBucket(location);
        return directoryInfo(location);
      }
      const object = await headObject(location);
      if (object) return fileInfo(location, object.ContentLength, object.LastModified);
      if (await isDirectory(location)) return directoryInfo(location);
      throw fail(location, "NOT_FOUND", "does not exist");
    },

    async exists(path) {
      try {
        await fs.stat(path);
        return true;
      } catch (error) {
        if (isStorageError(error, "NOT_FOUND")) return false;
        throw error;
      }
    },

    async ls(path) {
      const location = locate(path);
      if (location.key) {
        const object = await headObject(location);
        if (object) return [fileInfo(location, object.ContentLength, object.LastModified)];
      }
      const prefix = location.key ? `${location.key}/` : "";
      // Keyed by type and name: a store may repeat a common prefix on two pages.
      const entries = new Map<string, FileInfo>();
      let found = false;
      let token: string | undefined;
      do {
        const page = await list(location, prefix, { delimiter: true, ...(token && { token }) });
        for (const object of page.Contents ?? []) {
          found = true;
          const key = object.Key ?? prefix;
          // The directory's own marker is not a child.
          if (key === prefix) continue;
          entries.set(
            `f:${key}`,
            fileInfo({ bucket: location.bucket, key }, object.Size, object.LastModified),
          );
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
      if (!found && location.key) throw fail(location, "NOT_FOUND", "does not exist");
      return [...entries.values()].sort(byName);
    },

    async mkdir(path) {
      const location = locate(path);
      if (!location.key) return createBucket(location);
      if (await headObject(location)) {
        throw fail(location, "ALREADY_EXISTS", "a file already exists at this path");
      }
      // A marker at every level, as `mkdir -p` makes every level: removing the deepest leaves its parents.
      const segments = location.key.split("/");
      const markers = segments.map((_, index) => `${segments.slice(0, index + 1).join("/")}/`);
      await call(location, () =>
        Promise.all(
          markers.map((Key) =>
            client.send(new PutObjectCommand({ Bucket: location.bucket, Key, Body: new Uint8Array(0) })),
          ),
        ),
      );
    },

    async put(source, remotePath, putOptions = {}) {
      const location = locate(remotePath);
      if (!location.key) {
        throw fail(location, "INVALID_ARGUMENT", "give a key after the bucket (s3://bucket/key)");
      }
      const refuseExisting = putOptions.overwrite === false;
      if (refuseExisting && (await headObject(location))) {
        throw fail(location, "ALREADY_EXISTS", "already exists (overwrite is off)");
      }
      try {
        await uploadObject(client, location, source, settings, putOptions);
      } catch (error) {
        // The object appeared between the HEAD and the upload's If-None-Match.
        if (
          refuseExisting &&
          ["PreconditionFailed", "ConditionalRequestConflict"].includes(String(errorName(error)))
        ) {
          throw fail(location, "ALREADY_EXISTS", "already exists (overwrite is off)", error);
        }
        throw failure(location, error);
      }
    },

    async get(remotePath, localPath, getOptions = {}) {
      const location = locate(remotePath);
      const { body, size } = await getObject(location, undefined, getOptions.signal);
      // A connection lost mid-body is about the S3 URI, not the local file being written.
      async function* remoteBytes() {
        try {
          yield* body;
        } catch (error) {
          throw failure(location, error);
        }
      }
      try {
        await writeFileAtomically(localPath, remoteBytes(), {
          ...(getOptions.onProgress && { onProgress: getOptions.onProgress }),
          ...(size !== undefined && { totalBytes: size }),
          ...(getOptions.signal && { signal: getOptions.signal }),
        });
      } finally {
        // Frees the connection when the local write failed before reading the whole body.
        body.destroy();
      }
    },

    async open(path, openOptions = {}) {
      const location = locate(path);
      const { offset = 0, length } = openOptions;
      const isCount = (value: number) => Number.isSafeInteger(value) && value >= 0;
      if (!isCount(offset) || (length !== undefined && !isCount(length))) {
        throw fail(
          location,
          "INVALID_ARGUMENT",
          `offset and length must be integers ≥ 0 (got ${offset}, ${length})`,
        );
      }
      if (length === 0) {
        if (!(location.key && (await headObject(location)))) await missing(location);
        return Readable.from([]);
      }
      const range =
        offset === 0 && length === undefined
          ? undefined
          : `bytes=${offset}-${length === undefined ? "" : offset + length - 1}`;
      return (await getObject(location, range)).body;
    },

    async rm(path, rmOptions = {}) {
      const location = locate(path);
      if (!location.key) {
        throw fail(location, "INVALID_ARGUMENT", "is a bucket; cluster-pack does not delete buckets");
      }
      if (await headObject(location)) {
        await deleteObject(location);
        return;
      }

      const prefix = `${location.key}/`;
      if (!rmOptions.recursive) {
        const page = await list(location, prefix, { delimiter: true, maxKeys: 2 });
        const markers = (page.Contents ?? []).filter((object) => object.Key === prefix);
        const children = (page.Contents ?? []).length - markers.length + (page.CommonPrefixes ?? []).length;
        if (children > 0) {
          throw fail(location, "INVALID_ARGUMENT", "directory is not empty (use the recursive option)");
        }
        if (markers.length === 0) throw fail(location, "NOT_FOUND", "does not exist");
        await deleteObject(location, prefix);
        return;
      }

      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await list(location, prefix, token ? { token } : {});
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
        if (keys.length > 0) await deleteObjects(location, keys);
        deleted += keys.length;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      if (deleted === 0) throw fail(location, "NOT_FOUND", "does not exist");
    },

    async rename(from, to, renameOptions = {}) {
      const source = locate(from);
      const target = locate(to);
      if (!target.key) {
        throw fail(target, "INVALID_ARGUMENT", "give a key after the bucket (s3://bucket/key)");
      }
      const object = source.key ? await headObject(source) : undefined;
      if (!object) return missing(source, "is a directory; S3 can only rename files");
      if (pathOf(source) === pathOf(target)) return;
      if (!renameOptions.overwrite && (await headObject(target))) {
        throw fail(target, "ALREADY_EXISTS", "already exists (pass overwrite to replace it)");
      }
      if ((object.ContentLength ?? 0) > maxCopySize) {
        throw fail(
          source,
          "INVALID_ARGUMENT",
          "is larger than 5 GiB, the most S3 copies at once: put it at its final path",
        );
      }
      await call(target, () =>
        client.send(
          new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: copySourceOf(source) }),
        ),
      );
      await deleteObject(source);
    },

    async close() {
      client.destroy();
    },
  };
  return fs;
}
