import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The built testkit: startS3rver forks its compiled child process (build it before running this test).
import { type RunningS3rver, startS3rver } from "../dist/index.js";

// s3rver accepts anonymous requests, so plain fetch speaks to it as an S3 client would.
const bucket = "spec";
let s3rver: RunningS3rver;

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [bucket] });
});

afterAll(async () => {
  await s3rver?.stop();
});

const objectUrl = (key: string, query = "") => `${s3rver.endpoint}/${bucket}/${key}${query}`;
const createIfAbsent = (key: string, body: string) =>
  fetch(objectUrl(key), { method: "PUT", body, headers: { "if-none-match": "*" } });
const read = async (key: string) => (await fetch(objectUrl(key))).text();

async function startUpload(key: string): Promise<string> {
  const answer = await (await fetch(objectUrl(key, "?uploads"), { method: "POST" })).text();
  return /<UploadId>([^<]+)<\/UploadId>/.exec(answer)?.[1] ?? "";
}

/** Uploads one part and completes the upload, `headers` on the completion. */
async function completeUpload(key: string, uploadId: string, headers: Record<string, string> = {}) {
  const part = await fetch(objectUrl(key, `?partNumber=1&uploadId=${uploadId}`), {
    method: "PUT",
    body: "part",
  });
  const etag = part.headers.get("etag") ?? "";
  const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
  return fetch(objectUrl(key, `?uploadId=${uploadId}`), { method: "POST", body, headers });
}

const listedUploadIds = async (query = "") => {
  const listing = await (await fetch(`${s3rver.endpoint}/${bucket}?uploads${query}`)).text();
  return [...listing.matchAll(/<UploadId>([^<]+)<\/UploadId>/g)].map((match) => match[1]);
};

describe("s3rver with the S3 features the testkit adds", () => {
  it("refuses a PutObject with If-None-Match: * over an existing key with 412 PreconditionFailed", async () => {
    expect((await createIfAbsent("once", "first")).status).toBe(200);
    const second = await createIfAbsent("once", "second");
    expect(second.status).toBe(412);
    expect(await second.text()).toContain("<Code>PreconditionFailed</Code>");
    expect(await read("once")).toBe("first");
  });

  it("lets exactly one of ten racing create-if-absent PutObjects to one key win", async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) => createIfAbsent("raced", `writer ${index}`)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(9);
    const winner = statuses.indexOf(200);
    expect(await read("raced")).toBe(`writer ${winner}`);
  });

  it("refuses a CompleteMultipartUpload with If-None-Match: * over an existing key, and completes one without", async () => {
    await createIfAbsent("multipart", "before");
    const uploadId = await startUpload("multipart");
    const refused = await completeUpload("multipart", uploadId, { "if-none-match": "*" });
    expect(refused.status).toBe(412);
    expect(await read("multipart")).toBe("before");
    const fresh = await startUpload("fresh-multipart");
    expect((await completeUpload("fresh-multipart", fresh, { "if-none-match": "*" })).status).toBe(200);
    expect(await read("fresh-multipart")).toBe("part");
  });

  it("lists unfinished multipart uploads, and forgets one once aborted", async () => {
    const uploadId = await startUpload("listed/archive.pex");
    expect(await listedUploadIds("&prefix=listed/")).toEqual([uploadId]);
    const aborted = await fetch(objectUrl("listed/archive.pex", `?uploadId=${uploadId}`), {
      method: "DELETE",
    });
    expect(aborted.status).toBe(204);
    expect(await listedUploadIds("&prefix=listed/")).toEqual([]);
    expect(await s3rver.unfinishedUploads(bucket)).not.toContain(uploadId);
  });

  it("answers a CompleteMultipartUpload of an upload already completed with NoSuchUpload", async () => {
    const uploadId = await startUpload("completed-twice");
    expect((await completeUpload("completed-twice", uploadId)).status).toBe(200);
    const again = await fetch(objectUrl("completed-twice", `?uploadId=${uploadId}`), {
      method: "POST",
      body: "<CompleteMultipartUpload></CompleteMultipartUpload>",
    });
    expect(again.status).toBe(404);
    expect(await again.text()).toContain("<Code>NoSuchUpload</Code>");
  });

  it("answers ListMultipartUploads of a missing bucket with NoSuchBucket", async () => {
    const answer = await fetch(`${s3rver.endpoint}/no-such-bucket?uploads`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).toContain("<Code>NoSuchBucket</Code>");
  });
});
