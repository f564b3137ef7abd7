/**
 * The s3rver child process that `startS3rver` forks (with `--openssl-legacy-provider`: s3rver 3.7 encrypts
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider, so every truncated
 * listing fails with a 500 in a normal Node 20 process).
 * argv[2]: JSON `{ directory, buckets }`. Sends `{ port }` once listening, then answers queries by `id`.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
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

const noSuchUpload =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
  "<Message>The specified upload does not exist.</Message></Error>";

async function main() {
  const { directory, buckets } = JSON.parse(process.argv[2] ?? "{}") as S3rverProcessConfig;
  const s3rver = new S3rver({ silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  await s3rver.configureBuckets();
  const uploadsDirectory = (bucket: string) => s3rver.store.getResourcePath(bucket, undefined, "uploads");

  // s3rver answers AbortMultipartUpload with 405 MethodNotAllowed, which would hide whether a client cleans
  // up after a failed upload; this does what S3 does: drop the upload and its parts.
  const abortMultipartUpload = async (url: URL, response: ServerResponse) => {
    const [bucket = "", ...keySegments] = url.pathname.slice(1).split("/").map(decodeURIComponent);
    const uploadId = url.searchParams.get("uploadId") ?? "";
    const uploadDirectory = join(uploadsDirectory(bucket), uploadId);
    const key = /^[0-9a-f]+$/.test(uploadId)
      ? await readFile(join(uploadDirectory, "key"), "utf8").catch(() => undefined)
      : undefined;
    if (key === undefined || key !== keySegments.join("/")) {
      response.writeHead(404, { "content-type": "application/xml" }).end(noSuchUpload);
      return;
    }
    await rm(uploadDirectory, { recursive: true, force: true });
    response.writeHead(204).end();
  };

  const requests: { method: string; url: string; copySource?: string }[] = [];
  const handle = s3rver.callback();
  const server = createServer((request, response) => {
    const method = request.method ?? "GET";
    const url = request.url ?? "/";
    const copySource = request.headers["x-amz-copy-source"];
    requests.push({ method, url, ...(typeof copySource === "string" && { copySource }) });
    if (method === "DELETE" && new URL(url, "http://s3rver").searchParams.has("uploadId")) {
      abortMultipartUpload(new URL(url, "http://s3rver"), response).catch((error: unknown) =>
        response.destroy(error as Error),
      );
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
