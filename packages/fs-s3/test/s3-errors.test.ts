import { createServer } from "node:net";
import { Readable } from "node:stream";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { type FileSystem, resolveFileSystem, StorageError, type StorageOptions } from "@cluster-pack/fs";
import { type RunningS3rver, startS3rver } from "@cluster-pack/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { toStorageError } from "../src/errors.js";

const bucket = "errors";
let s3rver: RunningS3rver;
const opened: FileSystem[] = [];

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [bucket] });
});

afterAll(async () => {
  await Promise.all(opened.map((fs) => fs.close?.()));
  await s3rver?.stop();
});

const s3rverOptions = (extra: Record<string, unknown> = {}): StorageOptions => ({
  s3: {
    endpoint: s3rver.endpoint,
    credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
    ...extra,
  },
});

const resolve = async (uri: string, options: StorageOptions = s3rverOptions()) => {
  const resolved = await resolveFileSystem(uri, options);
  opened.push(resolved.fs);
  return resolved;
};

async function caught(operation: () => Promise<unknown>): Promise<StorageError> {
  try {
    await operation();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).not.toContain("\n");
    return error as StorageError;
  }
  throw new Error("expected the operation to fail with a StorageError");
}

/** A port on 127.0.0.1 that nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

const someBytes = () => Readable.from([Buffer.from("env")]);

describe("errors a user can cause, each one line naming the URI", () => {
  it("names a bucket that does not exist, whatever the operation", async () => {
    const { fs, path } = await resolve("s3://no-such-bucket/envs/a.pex");
    const operations = [
      () => fs.stat(path),
      () => fs.ls(path),
      () => fs.open(path),
      () => fs.put(someBytes(), path),
      () => fs.rm(path),
      () => fs.mkdir(path),
    ];
    for (const operation of operations) {
      expect(await caught(operation)).toMatchObject({
        code: "NOT_FOUND",
        message:
          's3://no-such-bucket/envs/a.pex: bucket "no-such-bucket" does not exist: create it first or check the name',
      });
    }
    expect(await caught(() => fs.stat("no-such-bucket"))).toMatchObject({
      code: "NOT_FOUND",
      message:
        's3://no-such-bucket: bucket "no-such-bucket" does not exist: create it first or check the name',
    });
  });

  it("reports a missing key as NOT_FOUND, with the s3a:// the user wrote", async () => {
    const { fs, path } = await resolve(`s3a://${bucket}/absent/env.pex`);
    for (const operation of [
      () => fs.stat(path),
      () => fs.open(path),
      () => fs.rename(path, `${bucket}/x.pex`),
    ]) {
      expect(await caught(operation)).toMatchObject({
        code: "NOT_FOUND",
        message: `s3a://${bucket}/absent/env.pex: does not exist`,
      });
    }
  });

  it("refuses a directory where a file is needed", async () => {
    const { fs, path } = await resolve(`s3://${bucket}/dir/inner`);
    await fs.mkdir(path);
    const directory = `${bucket}/dir`;
    expect(await caught(() => fs.open(directory))).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: `s3://${bucket}/dir: is a directory, not a file`,
    });
    expect(await caught(() => fs.rename(directory, `${bucket}/moved`))).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: `s3://${bucket}/dir: is a directory; S3 can only rename files`,
    });
  });

  it("refuses an access key ID the store does not know, naming where credentials come from, never the secret", async () => {
    const secret = "wrong-secret-do-not-print";
    const { fs, path } = await resolve(
      `s3://${bucket}/envs/a.pex`,
      s3rverOptions({ credentials: { accessKeyId: "AKIAUNKNOWNKEY", secretAccessKey: secret } }),
    );
    const hint = "(check options.s3.credentials, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE";
    for (const operation of [() => fs.open(path), () => fs.put(someBytes(), path)]) {
      const error = await caught(operation);
      expect(error.code).toBe("PERMISSION_DENIED");
      expect(error.message).toBe(
        `s3://${bucket}/envs/a.pex: the access key ID is not known to the S3 endpoint ${s3rver.endpoint} ${hint})`,
      );
      expect(error.message).not.toContain(secret);
    }
    // stat and ls start with a HEAD, whose answer has no body to carry the error code: only "403" is known.
    for (const operation of [() => fs.stat(path), () => fs.ls(path)]) {
      expect(await caught(operation)).toMatchObject({
        code: "PERMISSION_DENIED",
        message: `s3://${bucket}/envs/a.pex: access denied by the S3 endpoint ${s3rver.endpoint} ${hint}, and the bucket policy)`,
      });
    }
  });

  it("reports an endpoint nobody listens on as TRANSIENT, naming the endpoint", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { fs, path } = await resolve(
      `s3://${bucket}/envs/a.pex`,
      s3rverOptions({ endpoint, maxAttempts: 1 }),
    );
    const error = await caught(() => fs.stat(path));
    expect(error).toMatchObject({
      code: "TRANSIENT",
      message: `s3://${bucket}/envs/a.pex: cannot reach the S3 endpoint ${endpoint} (connection refused)`,
    });
    expect(error.retryable).toBe(true);
  });

  it("never shows the user-info of an endpoint URL, whether it works or is not even a URL", async () => {
    const port = await closedPort();
    const { fs, path } = await resolve(
      `s3://${bucket}/envs/a.pex`,
      s3rverOptions({ endpoint: `http://admin:hunter2@127.0.0.1:${port}`, maxAttempts: 1 }),
    );
    const unreachable = await caught(() => fs.stat(path));
    expect(unreachable.message).toBe(
      `s3://${bucket}/envs/a.pex: cannot reach the S3 endpoint http://127.0.0.1:${port} (connection refused)`,
    );
    const malformed = await caught(() =>
      resolve(`s3://${bucket}/envs/a.pex`, s3rverOptions({ endpoint: "http//admin:hunter2@host" })),
    );
    expect(malformed).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(malformed.message).not.toContain("hunter2");
  });

  describe("without any credentials in the SDK chain", () => {
    const names = [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
      "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_CONFIG_FILE",
      "AWS_EC2_METADATA_DISABLED",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] as const;
    const saved = names.map((name) => [name, process.env[name]] as const);

    afterEach(() => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it("says that no credentials were found and where they are looked for", async () => {
      for (const name of names) delete process.env[name];
      // No profile files, and no instance metadata service: nothing beyond 127.0.0.1 is asked.
      process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/aws/credentials";
      process.env.AWS_CONFIG_FILE = "/nonexistent/aws/config";
      process.env.AWS_EC2_METADATA_DISABLED = "true";
      const { fs, path } = await resolve(`s3://${bucket}/envs/a.pex`, { s3: { endpoint: s3rver.endpoint } });
      expect(await caught(() => fs.stat(path))).toMatchObject({
        code: "PERMISSION_DENIED",
        message: `s3://${bucket}/envs/a.pex: no AWS credentials found (set options.s3.credentials, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)`,
      });
    });
  });

  it("rejects bad URLs and options before any request", async () => {
    const invalid = async (uri: string, options: StorageOptions = s3rverOptions()) =>
      caught(() => resolveFileSystem(uri, options));
    expect(await invalid("s3://ab/envs/a.pex")).toMatchObject({
      code: "INVALID_ARGUMENT",
      message:
        's3://ab/envs/a.pex: "ab" is not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)',
    });
    const withSecret = await invalid("s3://AKIAX:topsecret@bucket/envs/a.pex");
    expect(withSecret.code).toBe("INVALID_ARGUMENT");
    expect(withSecret.message).not.toContain("topsecret");
    expect(await invalid("s3://bucket:9000/a.pex")).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await invalid("s3://bucket/a?b")).toMatchObject({
      message: "s3://bucket/a: write ? and # in an S3 key as %3F and %23",
    });
    expect(await invalid("s3://bucket/a.pex", s3rverOptions({ partSize: 1024 * 1024 }))).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "options.s3.partSize must be an integer from 5242880 to 5368709120, not 1048576",
    });
  });
});

describe("mapping of the S3 errors s3rver cannot produce", () => {
  const context = { uri: "s3://bucket/env.pex", bucket: "bucket", endpointLabel: "AWS S3" };
  const serviceError = (name: string, httpStatusCode: number) =>
    new S3ServiceException({
      name,
      $fault: httpStatusCode >= 500 ? "server" : "client",
      $metadata: { httpStatusCode },
      message: name,
    });

  it.each([
    [
      "AccessDenied",
      403,
      "PERMISSION_DENIED",
      "access denied by AWS S3 (check options.s3.credentials, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and the bucket policy)",
    ],
    [
      "SignatureDoesNotMatch",
      403,
      "PERMISSION_DENIED",
      "the secret access key does not match the access key ID (check options.s3.credentials, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)",
    ],
    [
      "ExpiredToken",
      400,
      "PERMISSION_DENIED",
      "the session token has expired (refresh the credentials or AWS_SESSION_TOKEN)",
    ],
    [
      "InvalidBucketName",
      400,
      "INVALID_ARGUMENT",
      '"bucket" is not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)',
    ],
    [
      "SlowDown",
      503,
      "TRANSIENT",
      "AWS S3 is unavailable or overloaded (HTTP 503 SlowDown); try again later",
    ],
    [
      "InternalError",
      500,
      "TRANSIENT",
      "AWS S3 is unavailable or overloaded (HTTP 500 InternalError); try again later",
    ],
  ])("maps %s (HTTP %i) to %s", (name, status, code, detail) => {
    expect(toStorageError(serviceError(name, status), context)).toMatchObject({
      code,
      message: `s3://bucket/env.pex: ${detail}`,
    });
  });

  it("maps a DNS failure and a connect timeout to TRANSIENT, naming what could not be reached", () => {
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND s3.example.invalid"), { code: "ENOTFOUND" });
    expect(toStorageError(dns, context)).toMatchObject({
      code: "TRANSIENT",
      message: "s3://bucket/env.pex: cannot reach AWS S3 (host not found)",
    });
    const timeout = Object.assign(new Error("Socket timed out without establishing a connection"), {
      name: "TimeoutError",
    });
    expect(toStorageError(timeout, context)).toMatchObject({
      code: "TRANSIENT",
      message: "s3://bucket/env.pex: cannot reach AWS S3 (timed out)",
    });
  });
});
