import { randomBytes } from "node:crypto";
import { describeFileSystem } from "@cluster-pack/fs/testing";
import { type RunningS3rver, startS3rver } from "@cluster-pack/testkit";
import { afterAll, beforeAll } from "vitest";

const bucket = "conformance";
let s3rver: RunningS3rver;

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [bucket] });
});

afterAll(async () => {
  await s3rver?.stop();
});

const uniquePrefix = () => `run-${randomBytes(4).toString("hex")}`;

describeFileSystem("s3:// on s3rver, endpoint and credentials in options.s3", async () => ({
  baseUri: `s3://${bucket}/${uniquePrefix()}`,
  options: {
    s3: {
      endpoint: s3rver.endpoint,
      credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
    },
  },
}));

const environmentNames = [
  "AWS_ENDPOINT_URL_S3",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_REGION",
] as const;

// As a Spark user's shell has it: nothing in options, the endpoint and keys in the environment, no region.
describeFileSystem("s3a:// on s3rver, endpoint and credentials from AWS_* variables", async () => {
  const saved = environmentNames.map((name) => [name, process.env[name]] as const);
  process.env.AWS_ENDPOINT_URL_S3 = s3rver.endpoint;
  process.env.AWS_ACCESS_KEY_ID = s3rver.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3rver.secretAccessKey;
  delete process.env.AWS_REGION;
  return {
    baseUri: `s3a://${bucket}/${uniquePrefix()}`,
    cleanup: async () => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
});
