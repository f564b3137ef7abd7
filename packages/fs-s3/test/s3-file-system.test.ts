import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type FileSystem, resolveFileSystem, StorageError, type TransferProgress } from "@cluster-pack/fs";
import { type RunningS3rver, type S3rverRequest, startS3rver } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3FileSystem } from "../src/index.js";

const MiB = 1024 * 1024;
const bucket = "transfers";
let s3rver: RunningS3rver;
let scratch: string;
/** A second client, independent of the adapter, to check what really is in the bucket. */
let observer: S3Client;
const opened: FileSystem[] = [];

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [bucket] });
  scratch = await mkdtemp(join(tmpdir(), "cp-fs-s3-"));
  observer = new S3Client({
    endpoint: s3rver.endpoint,
    region: s3rver.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
  });
});

afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close?.()));
  observer?.destroy();
  await s3rver?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const s3Options = (extra: Record<string, unknown> = {}) => ({
  s3: {
    endpoint: s3rver.endpoint,
    credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
    ...extra,
  },
});

const resolve = async (uri: string, extra: Record<string, unknown> = {}) => {
  const resolved = await resolveFileSystem(uri, s3Options(extra));
  opened.push(resolved.fs);
  return resolved;
};

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function objectBytes(key: string): Promise<Buffer> {
  const object = await observer.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

async function objectExists(key: string): Promise<boolean> {
  try {
    await observer.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

const requestsFor = async (key: string): Promise<S3rverRequest[]> =>
  (await s3rver.requests()).filter(
    (request) => decodeURIComponent(request.url.pathname) === `/${bucket}/${key}`,
  );

/** A multipart upload that failed after sending parts was aborted on the server and left nothing behind. */
async function expectAbortedMultipartUpload(key: string): Promise<void> {
  const requests = await requestsFor(key);
  expect(
    requests.some((request) => request.method === "PUT" && request.url.searchParams.has("partNumber")),
  ).toBe(true);
  expect(
    requests.some((request) => request.method === "DELETE" && request.url.searchParams.has("uploadId")),
  ).toBe(true);
  expect(await s3rver.unfinishedUploads(bucket)).toEqual([]);
  expect(await objectExists(key)).toBe(false);
}

describe("multipart uploads", () => {
  it("uploads 24 MiB in 5 MiB parts with monotonic progress, and another client reads the same bytes", async () => {
    const size = 24 * MiB;
    const data = randomBytes(size);
    const local = join(scratch, "big.bin");
    await writeFile(local, data);
    const { fs, path } = await resolve(`s3://${bucket}/multipart/big.bin`, {
      partSize: 5 * MiB,
      queueSize: 2,
    });

    const progress: TransferProgress[] = [];
    await fs.put(local, path, { onProgress: (event) => progress.push(event) });

    expect(progress.length).toBeGreaterThanOrEqual(5);
    const transferred = progress.map((event) => event.transferredBytes);
    expect(transferred).toEqual([...transferred].sort((a, b) => a - b));
    expect(progress.every((event) => event.totalBytes === size)).toBe(true);
    expect(progress.at(-1)).toEqual({ transferredBytes: size, totalBytes: size });

    expect(sha256(await objectBytes("multipart/big.bin"))).toBe(sha256(data));
    // s3rver's ETag of a multipart object is a plain MD5 (no "-5" suffix), so the requests prove the parts.
    const requests = await requestsFor("multipart/big.bin");
    const partNumbers = requests
      .filter((request) => request.method === "PUT" && request.url.searchParams.has("partNumber"))
      .map((request) => Number(request.url.searchParams.get("partNumber")));
    expect(partNumbers.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    const completions = requests.filter(
      (request) => request.method === "POST" && request.url.searchParams.has("uploadId"),
    );
    expect(completions).toHaveLength(1);
    expect(await s3rver.unfinishedUploads(bucket)).toEqual([]);
  }, 60_000);

  it("aborts the multipart upload when the source fails after some parts: no object, no parts left", async () => {
    async function* failingSource() {
      for (let part = 0; part < 3; part++) yield randomBytes(5 * MiB);
      throw new Error("read error on the source disk");
    }
    const { fs, path } = await resolve(`s3://${bucket}/multipart/failed.bin`, { partSize: 5 * MiB });

    const error = await fs.put(Readable.from(failingSource()), path).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toBe(
      `s3://${bucket}/multipart/failed.bin: read error on the source disk`,
    );
    await expectAbortedMultipartUpload("multipart/failed.bin");
  }, 60_000);

  it("stops when the signal aborts mid-upload, leaving no object and no parts", async () => {
    const controller = new AbortController();
    async function* longSource() {
      for (let mebibyte = 0; mebibyte < 40; mebibyte++) yield randomBytes(MiB);
    }
    const { fs, path } = await resolve(`s3://${bucket}/multipart/aborted.bin`, {
      partSize: 5 * MiB,
      queueSize: 1,
    });

    // The first progress event comes when part 1 is stored: abort there, with the upload under way.
    const error = await fs
      .put(Readable.from(longSource()), path, {
        signal: controller.signal,
        onProgress: () => controller.abort(),
      })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      code: "ABORTED",
      message: `s3://${bucket}/multipart/aborted.bin: cancelled`,
    });
    await expectAbortedMultipartUpload("multipart/aborted.bin");
  }, 60_000);
});

describe("downloads", () => {
  it("reports a connection lost mid-download as TRANSIENT about the S3 URI, leaving no local file", async () => {
    const doomed = await startS3rver({ buckets: [bucket] });
    try {
      const fs = s3FileSystem({
        endpoint: doomed.endpoint,
        credentials: { accessKeyId: doomed.accessKeyId, secretAccessKey: doomed.secretAccessKey },
        maxAttempts: 1,
      });
      opened.push(fs);
      await fs.put(Readable.from([randomBytes(48 * MiB)]), `${bucket}/big.bin`);
      const local = join(scratch, "dropped.bin");

      // The server dies at the first bytes received; at most its socket buffers' worth follows.
      let stopping: Promise<void> | undefined;
      const error = await fs
        .get(`${bucket}/big.bin`, local, { onProgress: () => (stopping ??= doomed.stop()) })
        .catch((caught: unknown) => caught);
      await stopping;

      expect(error).toMatchObject({
        code: "TRANSIENT",
        message: `s3://${bucket}/big.bin: lost the connection to the S3 endpoint ${doomed.endpoint} (connection reset)`,
      });
      expect((await readdir(scratch)).filter((name) => name.includes("dropped.bin"))).toEqual([]);
    } finally {
      await doomed.stop();
    }
  }, 60_000);
});

describe("directories and keys", () => {
  it("writes a hidden marker per mkdir level, so removing the deepest directory keeps its parents", async () => {
    const { fs, path } = await resolve(`s3://${bucket}/made/a/b`);
    await fs.mkdir(path);
    const markers = await observer.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "made/" }));
    expect(markers.Contents?.map((object) => [object.Key, object.Size])).toEqual([
      ["made/", 0],
      ["made/a/", 0],
      ["made/a/b/", 0],
    ]);
    expect((await fs.ls(`${bucket}/made`)).map((entry) => [entry.name, entry.type])).toEqual([
      ["a", "directory"],
    ]);
    expect(await fs.ls(path)).toEqual([]);

    await fs.rm(path);
    expect(await fs.exists(path)).toBe(false);
    expect(await fs.stat(`${bucket}/made/a`)).toMatchObject({ type: "directory", name: "a" });
  });

  it("puts a file without writing directory markers; its parents exist as prefixes", async () => {
    const { fs, path } = await resolve(`s3://${bucket}/plain/x/y/z.txt`);
    await fs.put(Readable.from([Buffer.from("z")]), path);
    const objects = await observer.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "plain/" }));
    expect(objects.Contents?.map((object) => object.Key)).toEqual(["plain/x/y/z.txt"]);
    expect(await fs.stat(`${bucket}/plain/x/y`)).toMatchObject({ type: "directory", size: 0 });
  });

  it("never creates a bucket: mkdir of a missing bucket, or of a directory in it, is NOT_FOUND naming the bucket", async () => {
    const { fs, path } = await resolve("s3://fresh-bucket/envs/x.pex");
    const detail = 'bucket "fresh-bucket" does not exist: create it first or check the name';
    await expect(fs.mkdir("fresh-bucket")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `s3://fresh-bucket: ${detail}`,
    });
    await expect(fs.mkdir(path)).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `s3://${path}: ${detail}`,
    });
    const { Buckets = [] } = await observer.send(new ListBucketsCommand({}));
    expect(Buckets.map((listed) => listed.Name)).not.toContain("fresh-bucket");
  });

  it("takes an existing bucket for a directory on mkdir, and stats it as one", async () => {
    const { fs } = await resolve(`s3://${bucket}/x.pex`);
    await fs.mkdir(bucket);
    expect(await fs.stat(bucket)).toEqual({ path: bucket, name: bucket, type: "directory", size: 0 });
  });

  it("decodes percent-encoded keys from the URL and shows s3a:// URIs as written", async () => {
    const { fs, path } = await resolve(`s3a://${bucket}/encoded/my%20env%2B1.pex`);
    expect(path).toBe(`${bucket}/encoded/my env+1.pex`);
    expect(fs.toUri(path)).toBe(`s3a://${bucket}/encoded/my env+1.pex`);
    await fs.put(Readable.from([Buffer.from("pex")]), path);
    expect((await objectBytes("encoded/my env+1.pex")).toString()).toBe("pex");
    expect(await fs.stat(path)).toMatchObject({ name: "my env+1.pex", type: "file", size: 3 });
  });

  it("reads nothing from a range that starts at the end of the file", async () => {
    const { fs, path } = await resolve(`s3://${bucket}/ranges/ten.txt`);
    await fs.put(Readable.from([Buffer.from("0123456789")]), path);
    const read = async (options: { offset?: number; length?: number }) => {
      const chunks: Buffer[] = [];
      for await (const chunk of await fs.open(path, options)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString();
    };
    expect(await read({ offset: 10 })).toBe("");
    expect(await read({ offset: 4, length: 0 })).toBe("");
    expect(await read({ offset: 8, length: 100 })).toBe("89");
  });
});

it("lists and removes a directory of more than one listing page (1,000 keys)", async () => {
  const keys = Array.from({ length: 1005 }, (_, index) => `paged/file-${String(index).padStart(4, "0")}.txt`);
  for (let start = 0; start < keys.length; start += 50) {
    await Promise.all(
      keys
        .slice(start, start + 50)
        .map((Key) => observer.send(new PutObjectCommand({ Bucket: bucket, Key, Body: "x" }))),
    );
  }
  const { fs, path } = await resolve(`s3://${bucket}/paged`);
  const listing = await fs.ls(path);
  expect(listing.map((entry) => entry.name)).toEqual(keys.map((key) => key.slice("paged/".length)));
  await fs.rm(path, { recursive: true });
  expect(await fs.exists(path)).toBe(false);
  const left = await observer.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "paged/" }));
  expect(left.KeyCount).toBe(0);
  const pagedRequests = (await s3rver.requests()).filter(
    (request) =>
      request.url.searchParams.get("prefix") === "paged/" &&
      request.url.searchParams.has("continuation-token"),
  );
  // One follow-up page for ls, one for the recursive rm.
  expect(pagedRequests.length).toBeGreaterThanOrEqual(2);
}, 60_000);
