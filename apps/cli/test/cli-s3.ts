// An S3 server on loopback for the CLI's tests: its buckets, a client of the test's own (independent of the CLI's,
// to put objects and read back what the CLI stored) and the environment that points the CLI at the server.
import { S3Client } from "@aws-sdk/client-s3";
import { type RunningS3rver, s3ClientConfig, s3Environment, startS3rver } from "@cluster-pack/testkit";
import { baseEnv } from "./cli-process.js";

export interface CliS3 {
  server: RunningS3rver;
  client: S3Client;
  /** {@link baseEnv} with this server's endpoint and credentials, plus `extra`. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Closes the client and stops the server. */
  stop(): Promise<void>;
}

export async function startCliS3(buckets: readonly string[] = ["team"]): Promise<CliS3> {
  const server = await startS3rver({ buckets });
  const client = new S3Client(s3ClientConfig(server));
  return {
    server,
    client,
    env: (extra = {}) => baseEnv({ ...s3Environment(server), ...extra }),
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}
