import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { isStorageError, type NetworkPolicy, StorageError } from "@cluster-pack/fs";
import {
  type FaultAction,
  type FaultProxy,
  type RunningS3rver,
  s3ClientConfig,
  startFaultProxy,
  startS3rver,
} from "@cluster-pack/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { s3FileSystem } from "../src/index.js";

// Faults between the adapter and s3rver, put there by the fault proxy: each is retried (and said so in the log)
// or ends the put in one line, within a bound, leaving neither a wrong object nor an unfinished upload.

const bucket = "faults";
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

/** The adapter through the proxy, with 5 MiB parts and its `--verbose` lines collected. */
function throughProxy(network: NetworkPolicy = {}) {
  const lines: string[] = [];
  const fs = s3FileSystem(
    {
      endpoint: proxy.url,
      credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
      partSize: 5 * MiB,
    },
    { network: { stallTimeoutMs: 5_000, ...network }, log: (line) => lines.push(line) },
  );
  opened.push(fs);
  return { fs, lines };
}

async function stored(key: string): Promise<Buffer> {
  const object = await observer.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.concat(await (object.Body as Readable).toArray());
}

const exists = (key: string) =>
  observer.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );

/** Uploads under `prefix` started and neither completed nor aborted, as the server lists them. */
const unfinishedUploads = async (prefix: string) =>
  (await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? [];

async function failureOf(operation: Promise<unknown>): Promise<StorageError> {
  const error = await operation.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect((error as StorageError).message).not.toContain("\n");
  return error as StorageError;
}

const uploadPart = { method: "PUT", url: (url: URL) => url.searchParams.has("partNumber") };
const putObject = { method: "PUT", url: (url: URL) => !url.searchParams.has("uploadId") };
const completeUpload = { method: "POST", url: (url: URL) => url.searchParams.has("uploadId") };
const abortUpload = { method: "DELETE", url: (url: URL) => url.searchParams.has("uploadId") };

/** The size of an object each request kind is about: a 3-part upload (5 + 5 + 2 MiB) or one PutObject. */
const requests = {
  UploadPart: { rule: uploadPart, size: 12 * MiB, nth: 2 },
  PutObject: { rule: putObject, size: MiB, nth: 1 },
  CompleteMultipartUpload: { rule: completeUpload, size: 12 * MiB, nth: 1 },
} as const;

describe("a single fault is retried, said in the log, and the put succeeds", () => {
  const cases: [keyof typeof requests, string, FaultAction][] = [
    ["UploadPart", "a 500", { kind: "status", status: 500 }],
    ["PutObject", "a 500", { kind: "status", status: 500 }],
    ["CompleteMultipartUpload", "a 500", { kind: "status", status: 500 }],
    ["UploadPart", "a reset mid-body", { kind: "reset", afterBytes: 64 * 1024 }],
    ["PutObject", "a reset before the body", { kind: "reset" }],
    // The whole request reaches s3rver, which completes the upload; only the answer is lost.
    ["CompleteMultipartUpload", "a lost answer", { kind: "reset", afterBytes: 1_000_000 }],
  ];
  it.each(cases)("%s: %s", async (request, _fault, action) => {
    const { fs, lines } = throughProxy();
    const { rule, size, nth } = requests[request];
    const fault = proxy.addFault({ ...rule, nth, action });
    const key = `retried/${request}-${action.kind}.pex`;
    const data = randomBytes(size);
    await fs.put(Readable.from([data]), `${bucket}/${key}`);
    expect(fault.fired).toBe(1);
    expect((await stored(key)).equals(data)).toBe(true);
    expect(lines.some((line) => line.startsWith(`retrying ${request} s3://${bucket}/${key}`))).toBe(true);
    expect(lines.join("\n")).not.toContain(s3rver.secretAccessKey);
    expect(await unfinishedUploads(key)).toEqual([]);
  });

  it("CompleteMultipartUpload created if absent, whose answer is lost: the retry finds its own object", async () => {
    const { fs } = throughProxy();
    proxy.addFault({ ...completeUpload, action: { kind: "reset", afterBytes: 1_000_000 } });
    const data = randomBytes(12 * MiB);
    await fs.put(Readable.from([data]), `${bucket}/lost-answer/created.pex`, { overwrite: false });
    expect((await stored("lost-answer/created.pex")).equals(data)).toBe(true);
  });
});

describe("a request that never answers", () => {
  it("is given up after the stall timeout and retried, and the upload succeeds", async () => {
    const { fs, lines } = throughProxy({ stallTimeoutMs: 1_500 });
    proxy.addFault({ ...uploadPart, nth: 2, action: { kind: "stall" } });
    const data = randomBytes(12 * MiB);
    const started = Date.now();
    await fs.put(Readable.from([data]), `${bucket}/stalled/retried.pex`);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await stored("stalled/retried.pex")).equals(data)).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(/^retrying UploadPart .* \(part 2\) .*for 1\.5 s \(stalled\)$/),
    );
  });

  it("with one attempt, fails in one line within the bound, and leaves no upload", async () => {
    const { fs } = throughProxy({ stallTimeoutMs: 1_500, maxAttempts: 1 });
    proxy.addFault({ ...uploadPart, nth: 2, action: { kind: "stall" } });
    const started = Date.now();
    const failure = await failureOf(
      fs.put(Readable.from([randomBytes(12 * MiB)]), `${bucket}/stalled/failed.pex`),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failure).toMatchObject({
      code: "TRANSIENT",
      message: `s3://${bucket}/stalled/failed.pex: no answer from the S3 endpoint ${proxy.url} for 1.5 s (stalled)`,
    });
    expect(await exists("stalled/failed.pex")).toBe(false);
    expect(await unfinishedUploads("stalled/")).toEqual([]);
  });
});

describe("failures that are not retried away", () => {
  it("reports a connection reset as a lost connection, not a timeout", async () => {
    const { fs } = throughProxy({ maxAttempts: 1 });
    proxy.addFault({ ...putObject, action: { kind: "reset", afterBytes: 1024 } });
    const failure = await failureOf(fs.put(Readable.from([randomBytes(MiB)]), `${bucket}/reset/once.pex`));
    expect(failure.code).toBe("TRANSIENT");
    expect(failure.message).toMatch(/lost the connection to the S3 endpoint/);
    expect(failure.message).not.toMatch(/timed out/);
  });

  it("stops retrying once the policy's time budget is spent, in one line", async () => {
    const { fs, lines } = throughProxy({ maxAttempts: 50, retryBudgetMs: 300 });
    proxy.addFault({ ...putObject, times: 50, action: { kind: "status", status: 503 } });
    const started = Date.now();
    const failure = await failureOf(fs.put(Readable.from([randomBytes(1024)]), `${bucket}/budget/spent.pex`));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(failure.code).toBe("TRANSIENT");
    expect(failure.message).toMatch(/HTTP 503 .*\(gave up retrying after 0\.3 s\)$/);
    expect(lines.length).toBeLessThan(10);
    expect(await exists("budget/spent.pex")).toBe(false);
  });

  it("reports the 500 that failed a part, and the 405 of the refused abort only after it", async () => {
    const { fs } = throughProxy({ maxAttempts: 1 });
    proxy.addFault({ ...uploadPart, nth: 1, times: 10, action: { kind: "status", status: 500 } });
    proxy.addFault({ ...abortUpload, action: { kind: "status", status: 405 } });
    const failure = await failureOf(
      fs.put(Readable.from([randomBytes(12 * MiB)]), `${bucket}/abort/refused.pex`),
    );
    expect(failure.code).toBe("TRANSIENT");
    expect(failure.message).toMatch(
      /^s3:\/\/faults\/abort\/refused\.pex: the S3 endpoint .* is unavailable or overloaded \(HTTP 500 [^)]*\); try again later; aborting multipart upload [0-9a-f]+ failed too \(.*405.*\)/,
    );
  });
});

describe("cancellation", () => {
  it("stops a multipart upload when the signal aborts, aborts the upload, and leaves nothing", async () => {
    const { fs } = throughProxy();
    // Part 3 waits, so the signal surely comes while the upload is in flight.
    proxy.addFault({ ...uploadPart, nth: 3, action: { kind: "delay", ms: 3_000 } });
    const controller = new AbortController();
    const put = fs.put(Readable.from([randomBytes(20 * MiB)]), `${bucket}/cancelled/env.pex`, {
      signal: controller.signal,
      onProgress: ({ transferredBytes }) => {
        if (transferredBytes >= 5 * MiB) controller.abort();
      },
    });
    const failure = await failureOf(put);
    expect(failure.code).toBe("ABORTED");
    expect(await unfinishedUploads("cancelled/")).toEqual([]);
    expect(await exists("cancelled/env.pex")).toBe(false);
  });
});

describe("creating if absent", () => {
  it.each([
    ["a small object", MiB],
    ["a multipart object", 12 * MiB],
  ])("lets exactly one of two racing puts of %s win; the other is ALREADY_EXISTS", async (_what, size) => {
    const { fs } = throughProxy();
    const key = `raced/${size}.pex`;
    const contents = [randomBytes(size), randomBytes(size)];
    const outcomes = await Promise.allSettled(
      contents.map((data) => fs.put(Readable.from([data]), `${bucket}/${key}`, { overwrite: false })),
    );
    const won = outcomes.findIndex((outcome) => outcome.status === "fulfilled");
    const lost = outcomes.filter((outcome) => outcome.status === "rejected");
    expect(won).toBeGreaterThanOrEqual(0);
    expect(lost).toHaveLength(1);
    expect(isStorageError(lost[0]?.reason, "ALREADY_EXISTS")).toBe(true);
    expect((await stored(key)).equals(contents[won] ?? Buffer.alloc(0))).toBe(true);
    expect(await unfinishedUploads(key)).toEqual([]);
  });
});
