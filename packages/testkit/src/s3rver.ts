import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { S3rverAnswer, S3rverProcessConfig, S3rverQuery, S3rverQuestion } from "./s3rver-process.js";

export interface S3rverOptions {
  /** Buckets that exist when the server starts. */
  buckets?: readonly string[];
}

export interface S3rverRequest {
  method: string;
  /** Full request URL (path-style: `/<bucket>/<key>?<query>`), still percent-encoded. */
  url: URL;
  /** The `x-amz-copy-source` header: set on CopyObject (and UploadPartCopy) requests only. */
  copySource?: string;
}

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>`; clients must use path-style addressing. */
  endpoint: string;
  region: string;
  /** s3rver's one account. It rejects other key IDs but does not verify SigV4 signatures (any secret passes). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps buckets and objects on disk. */
  directory: string;
  /** Every request received so far, in order: shows which S3 operations a client really used. */
  requests(): Promise<S3rverRequest[]>;
  /** Ids of the multipart uploads in `bucket` that were started and neither completed nor aborted. */
  unfinishedUploads(bucket: string): Promise<string[]>;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver (silent, its data in a fresh temporary directory) on 127.0.0.1 and an OS-chosen port, in a
 * child process of its own: see s3rver-process.ts for why. What S3 does and s3rver 3.7 does not is added there:
 * `If-None-Match: *` on PutObject and CompleteMultipartUpload (412, atomic per key), AbortMultipartUpload,
 * ListMultipartUploads, and NoSuchUpload for completing an upload that is gone.
 */
export async function startS3rver(options: S3rverOptions = {}): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), "cp-s3rver-"));
  const config: S3rverProcessConfig = { directory, buckets: options.buckets ?? [] };
  const child: ChildProcess = fork(
    fileURLToPath(new URL("./s3rver-process.js", import.meta.url)),
    [JSON.stringify(config)],
    {
      execArgv: ["--openssl-legacy-provider"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  const exited = new Promise<never>((_, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`s3rver exited (${signal ?? `code ${code}`})`)));
  });
  // Awaited by whoever asks the server something; unobserved, it must not become an unhandled rejection.
  exited.catch(() => undefined);

  const started = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("message", (message) => resolve((message as { port: number }).port));
  });
  const port = await Promise.race([started, exited]).catch(async (error: unknown) => {
    await rm(directory, { recursive: true, force: true });
    throw error;
  });

  let lastId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  child.on("message", (message) => {
    const { id, result } = message as S3rverAnswer;
    pending.get(id)?.(result);
    pending.delete(id);
  });
  const ask = <T>(query: S3rverQuestion): Promise<T> => {
    const id = ++lastId;
    const answer = new Promise<T>((resolve) => pending.set(id, resolve as (result: unknown) => void));
    child.send({ ...query, id } as S3rverQuery);
    return Promise.race([answer, exited]);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    region: "us-east-1",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    directory,
    async requests() {
      const logged = await ask<{ method: string; url: string; copySource?: string }[]>({ query: "requests" });
      return logged.map(({ method, url, copySource }) => ({
        method,
        url: new URL(url, endpoint),
        ...(copySource !== undefined && { copySource }),
      }));
    },
    unfinishedUploads: (bucket) => ask<string[]>({ query: "unfinishedUploads", bucket }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await exited.catch(() => undefined);
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
