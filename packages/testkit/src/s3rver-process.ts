/**
 * The s3rver child process that `startS3rver` forks (with `--openssl-legacy-provider`: s3rver 3.7 encrypts
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider, so every truncated
 * listing fails with a 500 in a normal Node 20 process).
 * argv[2]: JSON `{ directory, buckets }`. Sends `{ port }` once listening, then answers queries by `id`.
 */
import { once } from "node:events";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import S3rver from "s3rver";

export interface S3rverProcessConfig {
  directory: string;
  buckets: readonly string[];
}

export type S3rverQuestion = { query: "requests" } | { query: "unfinishedUploads"; bucket: string };

export type S3rverQuery = S3rverQuestion & { id: number };

export interface S3rverAnswer {
  id: number;
  result: unknown;
}

const xmlHead = '<?xml version="1.0" encoding="UTF-8"?>\n';
const s3Error = (code: string, message: string, extra = "") =>
  `${xmlHead}<Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`;
const noSuchUpload = s3Error("NoSuchUpload", "The specified upload does not exist.");
const preconditionFailed = s3Error(
  "PreconditionFailed",
  "At least one of the pre-conditions you specified did not hold",
  "<Condition>If-None-Match</Condition>",
);
const noSuchBucket = s3Error("NoSuchBucket", "The specified bucket does not exist");

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);

/** The bucket and key of a path-style URL (`/bucket/key…`), percent-decoded. */
const objectOf = (url: URL) => {
  const [bucket = "", ...keySegments] = url.pathname.slice(1).split("/").map(decodeURIComponent);
  return { bucket, key: keySegments.join("/") };
};

/** Reads a request's body to its end, so that a client still sending it sees the answer, not a broken pipe. */
async function drained(request: IncomingMessage): Promise<void> {
  request.resume();
  if (!request.readableEnded) await once(request, "end");
}

/** PutObject and CompleteMultipartUpload with `If-None-Match: *`: writes that must not replace an object. */
const isCreateIfAbsent = (method: string, url: URL, request: IncomingMessage) =>
  request.headers["if-none-match"] === "*" &&
  ((method === "PUT" && !url.searchParams.has("uploadId") && !request.headers["x-amz-copy-source"]) ||
    (method === "POST" && url.searchParams.has("uploadId")));

async function main() {
  const { directory, buckets } = JSON.parse(process.argv[2] ?? "{}") as S3rverProcessConfig;
  const s3rver = new S3rver({ silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  await s3rver.configureBuckets();
  const uploadsDirectory = (bucket: string) => s3rver.store.getResourcePath(bucket, undefined, "uploads");

  /** The directory of the upload that `?uploadId=` names, if it exists and is an upload of the URL's key. */
  const uploadDirectoryOf = async (url: URL) => {
    const { bucket, key: requestedKey } = objectOf(url);
    const uploadId = url.searchParams.get("uploadId") ?? "";
    const uploadDirectory = join(uploadsDirectory(bucket), uploadId);
    const key = /^[0-9a-f]+$/.test(uploadId)
      ? await readFile(join(uploadDirectory, "key"), "utf8").catch(() => undefined)
      : undefined;
    return key === requestedKey ? uploadDirectory : undefined;
  };
  const answerNoSuchUpload = async (request: IncomingMessage, response: ServerResponse) => {
    await drained(request);
    response.writeHead(404, { "content-type": "application/xml" }).end(noSuchUpload);
  };

  // s3rver answers AbortMultipartUpload with 405 MethodNotAllowed, which would hide whether a client cleans
  // up after a failed upload; this does what S3 does: drop the upload and its parts.
  const abortMultipartUpload = async (url: URL, request: IncomingMessage, response: ServerResponse) => {
    const uploadDirectory = await uploadDirectoryOf(url);
    if (!uploadDirectory) return answerNoSuchUpload(request, response);
    await rm(uploadDirectory, { recursive: true, force: true });
    response.writeHead(204).end();
  };

  // s3rver fails a CompleteMultipartUpload of an upload that is gone (completed, aborted) with a 500; S3 answers
  // NoSuchUpload, which is how a client whose first completion lost its answer learns that it succeeded.
  const completeMultipartUpload = async (url: URL, request: IncomingMessage, response: ServerResponse) => {
    if (!(await uploadDirectoryOf(url))) return answerNoSuchUpload(request, response);
    if (isCreateIfAbsent("POST", url, request)) createIfAbsent(url, request, response);
    else handle(request, response);
  };

  // s3rver answers ListMultipartUploads with 501 NotImplemented; this lists what S3 would (no paging: a test
  // bucket holds few uploads), so that a test can ask the server itself whether a client left uploads behind.
  const listMultipartUploads = async (url: URL, response: ServerResponse) => {
    const { bucket } = objectOf(url);
    const prefix = url.searchParams.get("prefix") ?? "";
    if (!(await stat(s3rver.store.getBucketPath(bucket)).catch(() => undefined))) {
      response.writeHead(404, { "content-type": "application/xml" }).end(noSuchBucket);
      return;
    }
    const ids = await readdir(uploadsDirectory(bucket)).catch(() => []);
    const uploads = await Promise.all(
      ids.map(async (id) => {
        const directory = join(uploadsDirectory(bucket), id);
        const key = await readFile(join(directory, "key"), "utf8").catch(() => undefined);
        const started = await stat(directory).catch(() => undefined);
        return key === undefined || !started ? [] : [{ id, key, initiated: started.birthtime }];
      }),
    );
    const listed = uploads
      .flat()
      .filter(({ key }) => key.startsWith(prefix))
      .sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key < b.key ? -1 : 1))
      .map(
        ({ id, key, initiated }) =>
          `<Upload><Key>${escapeXml(key)}</Key><UploadId>${id}</UploadId>` +
          `<Initiated>${initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
      );
    response
      .writeHead(200, { "content-type": "application/xml" })
      .end(
        `${xmlHead}<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
          `<Bucket>${escapeXml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
          `<Prefix>${escapeXml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
          `${listed.join("")}</ListMultipartUploadsResult>`,
      );
  };

  // s3rver ignores If-None-Match on writes. As S3 does, a create-if-absent write fails with 412 when the key
  // holds an object, and such writes to one key take turns, so that of two racing creates exactly one wins.
  const turns = new Map<string, Promise<void>>();
  const createIfAbsent = (url: URL, request: IncomingMessage, response: ServerResponse) => {
    const { bucket, key } = objectOf(url);
    const turn = `${bucket}/${key}`;
    const write = async () => {
      if (await s3rver.store.existsObject(bucket, key)) {
        await drained(request);
        response.writeHead(412, { "content-type": "application/xml" }).end(preconditionFailed);
        return;
      }
      handle(request, response);
      if (!response.writableFinished) await once(response, "close");
    };
    const previous = turns.get(turn) ?? Promise.resolve();
    const current = previous.then(write).catch((error: unknown) => {
      response.destroy(error as Error);
    });
    turns.set(turn, current);
    current.finally(() => {
      if (turns.get(turn) === current) turns.delete(turn);
    });
  };

  const requests: { method: string; url: string; copySource?: string }[] = [];
  const handle = s3rver.callback();
  const server = createServer((request, response) => {
    const method = request.method ?? "GET";
    const url = request.url ?? "/";
    const copySource = request.headers["x-amz-copy-source"];
    requests.push({ method, url, ...(typeof copySource === "string" && { copySource }) });
    const parsed = new URL(url, "http://s3rver");
    const failed = (error: unknown) => response.destroy(error as Error);
    if (method === "DELETE" && parsed.searchParams.has("uploadId")) {
      abortMultipartUpload(parsed, request, response).catch(failed);
    } else if (method === "POST" && parsed.searchParams.has("uploadId")) {
      completeMultipartUpload(parsed, request, response).catch(failed);
    } else if (method === "GET" && parsed.searchParams.has("uploads") && !objectOf(parsed).key) {
      listMultipartUploads(parsed, response).catch(failed);
    } else if (isCreateIfAbsent(method, parsed, request)) {
      createIfAbsent(parsed, request, response);
    } else {
      handle(request, response);
    }
  });

  process.on("message", async (message: S3rverQuery) => {
    const result =
      message.query === "requests"
        ? requests
        : await readdir(uploadsDirectory(message.bucket)).catch(() => []);
    process.send?.({ id: message.id, result } satisfies S3rverAnswer);
  });
  // The parent is gone (or stopped us): nothing else would ever end this process.
  process.on("disconnect", () => process.exit(0));

  server.listen(0, "127.0.0.1", () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
