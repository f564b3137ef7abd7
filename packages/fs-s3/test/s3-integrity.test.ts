import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { GetObjectCommand, ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { type NetworkPolicy, StorageError } from "@cluster-pack/fs";
import {
  type FaultProxy,
  type RunningS3rver,
  s3ClientConfig,
  startFaultProxy,
  startS3rver,
} from "@cluster-pack/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { s3FileSystem } from "../src/index.js";

// A bit flipped between the adapter and the store (the fault proxy sits in front of s3rver, which stores what
// it receives and answers its MD5 as ETag) must never end in a put that resolves with other bytes stored.

const bucket = "integrity";
const MiB = 1024 * 1024;
let s3rver: RunningS3rver;
let proxy: FaultProxy;
let observer: S3Client;
const opened: ReturnType<typeof s3FileSystem>[] = [];

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [bucket] });
  proxy = await startFaultProxy({ target: s3rver.endpoint });
  observer = new S3Client(s3ClientConfig(s3rver));
});

afterEach(() => {
  proxy.clearFaults();
});

afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close?.()));
  observer?.destroy();
  await proxy?.close();
  await s3rver?.stop();
});

/** The adapter through the proxy, with 5 MiB parts, quick retries, and its `--verbose` lines collected. */
function throughProxy(network: NetworkPolicy = {}) {
  const lines: string[] = [];
  const fs = s3FileSystem(
    {
      endpoint: proxy.url,
      credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
      partSize: 5 * MiB,
    },
    { network: { stallTimeoutMs: 10_000, ...network }, log: (line) => lines.push(line) },
  );
  opened.push(fs);
  return { fs, lines };
}

const md5Hex = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");

async function stored(key: string): Promise<Buffer> {
  const object = await observer.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (object.Body as Readable).toArray().then((chunks) => Buffer.concat(chunks)));
}

const unfinishedUploads = async () =>
  (await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];

const isPart = (url: URL) => url.searchParams.has("partNumber");
const isWholeObject = (url: URL) => !url.searchParams.has("uploadId");

describe("a bit flipped in transit", () => {
  it("in one part of a multipart upload: the part is sent again and the stored object is the bytes put", async () => {
    const { fs, lines } = throughProxy();
    const data = randomBytes(12 * MiB);
    const fault = proxy.addFault({
      method: "PUT",
      url: isPart,
      nth: 2,
      action: { kind: "flip", atByte: 4096 },
    });
    const result = await fs.put(Readable.from([data]), `${bucket}/multipart.pex`);
    expect(fault.fired).toBe(1);
    expect(result).toEqual({ verified: { algorithm: "md5", value: md5Hex(data) } });
    expect((await stored("multipart.pex")).equals(data)).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^retrying UploadPart s3:\/\/integrity\/multipart\.pex \(part 2\) \(attempt 2 of 5\): the stored part 2 differs from the bytes sent/,
      ),
    );
    expect(await unfinishedUploads()).toEqual([]);
  });

  it("in a single PutObject: the object is sent again and the stored object is the bytes put", async () => {
    const { fs, lines } = throughProxy();
    const data = randomBytes(MiB);
    const fault = proxy.addFault({
      method: "PUT",
      url: isWholeObject,
      action: { kind: "flip", atByte: 1000 },
    });
    const result = await fs.put(Readable.from([data]), `${bucket}/single.pex`);
    expect(fault.fired).toBe(1);
    expect(result).toEqual({ verified: { algorithm: "md5", value: md5Hex(data) } });
    expect((await stored("single.pex")).equals(data)).toBe(true);
    expect(
      lines.filter((line) => line.startsWith("retrying PutObject s3://integrity/single.pex")),
    ).toHaveLength(1);
  });

  it("in a metadata-sized put created if absent: the flipped object is replaced by the bytes put", async () => {
    const { fs } = throughProxy();
    const metadata = Buffer.from(
      JSON.stringify({ sha256: "ab".repeat(32), created: "2026-12-06T18:00:00Z" }),
    );
    const fault = proxy.addFault({ method: "PUT", url: isWholeObject, action: { kind: "flip", atByte: 12 } });
    const result = await fs.put(Readable.from([metadata]), `${bucket}/env.pex.json`, { overwrite: false });
    expect(fault.fired).toBe(1);
    expect(result).toEqual({ verified: { algorithm: "md5", value: md5Hex(metadata) } });
    expect((await stored("env.pex.json")).equals(metadata)).toBe(true);
  });

  it("in every attempt: the put fails TRANSIENT in one line after the policy's attempts, never resolves", async () => {
    const { fs, lines } = throughProxy({ maxAttempts: 2 });
    const data = randomBytes(12 * MiB);
    proxy.addFault({ method: "PUT", url: isPart, nth: 1, times: 100, action: { kind: "flip", atByte: 7 } });
    const failure = await fs.put(Readable.from([data]), `${bucket}/hopeless.pex`).catch((error) => error);
    expect(failure).toBeInstanceOf(StorageError);
    expect(failure).toMatchObject({ code: "TRANSIENT" });
    expect(failure.message).toMatch(
      /^s3:\/\/integrity\/hopeless\.pex: the stored part \d differs from the bytes sent \(ETag [0-9a-f]{32}, MD5 sent [0-9a-f]{32}\)$/,
    );
    expect(lines.length).toBeGreaterThan(0);
    await expect(
      observer.send(new GetObjectCommand({ Bucket: bucket, Key: "hopeless.pex" })),
    ).rejects.toThrow();
    expect(await unfinishedUploads()).toEqual([]);
  });
});
