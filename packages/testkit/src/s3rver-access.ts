/** How each kind of client reaches a running s3rver: our storage layer, the AWS SDK, a child process. */
import type { RunningS3rver } from "./s3rver.js";

type S3rverAddress = Pick<RunningS3rver, "endpoint" | "region" | "accessKeyId" | "secretAccessKey">;

const credentialsOf = (s3: S3rverAddress) => ({
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
});

/** Storage options for `resolveFileSystem`, `uploadEnv`'s `fsArgs` or `localizeContainer`'s `storage`. */
export const s3StorageOptions = (s3: S3rverAddress) => ({
  s3: { endpoint: s3.endpoint, region: s3.region, credentials: credentialsOf(s3) },
});

/** The configuration of an independent `new S3Client(…)` (path-style addressing, which s3rver needs). */
export const s3ClientConfig = (s3: S3rverAddress) => ({
  endpoint: s3.endpoint,
  region: s3.region,
  credentials: credentialsOf(s3),
  forcePathStyle: true,
});

/** The AWS variables that point a child process (the CLI, an AWS SDK) at the server. */
export const s3Environment = (s3: S3rverAddress): Record<string, string> => ({
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  AWS_ACCESS_KEY_ID: s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  AWS_REGION: s3.region,
});
