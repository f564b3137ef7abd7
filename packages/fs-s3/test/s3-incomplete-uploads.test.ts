import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { type RunningS3rver, s3ClientConfig, s3StorageOptions, startS3rver } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3FileSystem } from "../src/index.js";

const bucket = "leftovers";
let s3rver: RunningS3rver;
let client: S3Client;
let fs: ReturnType<typeof s3FileSystem>;

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [bucket] });
  client = new S3Client(s3ClientConfig(s3rver));
  fs = s3FileSystem(s3StorageOptions(s3rver).s3);
});

afterAll(async () => {
  await fs?.close?.();
  client?.destroy();
  await s3rver?.stop();
});

const unfinished = async () =>
  ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [])
    .map((upload) => upload.Key)
    .sort();

describe("removeIncompleteUploads", () => {
  it("aborts the unfinished multipart uploads of a directory started before the cut-off, and no others", async () => {
    for (const key of ["envs/env.pex", "envs/sub/deep.pex", "other/env.pex"])
      await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));

    expect(await fs.removeIncompleteUploads?.(`${bucket}/envs`, new Date(Date.now() - 3_600_000))).toEqual(
      [],
    );
    expect(await unfinished()).toEqual(["envs/env.pex", "envs/sub/deep.pex", "other/env.pex"]);

    const removed = await fs.removeIncompleteUploads?.(`${bucket}/envs`, new Date(Date.now() + 60_000));
    expect(removed?.map((line) => line.replace(/ \(upload started .*\)$/, "")).sort()).toEqual([
      `s3://${bucket}/envs/env.pex`,
      `s3://${bucket}/envs/sub/deep.pex`,
    ]);
    expect(await unfinished()).toEqual(["other/env.pex"]);
  });
});
