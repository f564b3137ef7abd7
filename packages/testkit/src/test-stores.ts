// The three kinds of store every store-level behaviour is tested on: a local directory, S3 (s3rver) and HDFS (the
// WebHDFS test server), each giving a fresh directory and how a library call or a child process reaches it.

import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { startS3rver } from "./s3rver.js";
import { s3Environment, s3StorageOptions } from "./s3rver-access.js";
import { startWebHdfsServer } from "./webhdfs-server.js";

export interface RunningTestStore {
  /** A directory URI in the store, not created yet: `<tmp>/envs`, `s3://team/envs`, `webhdfs://…/user/bob/envs`. */
  directory: string;
  /** The storage options of a library call (`fsArgs`). */
  fsArgs: Record<string, unknown>;
  /** The variables that point a child process (the CLI) at the store. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TestStore {
  name: string;
  /** Starts the store's server, if it has one; local directories go under `root`. */
  start(root: string): Promise<RunningTestStore>;
}

export const testStores: readonly TestStore[] = [
  {
    name: "a local directory",
    start: async (root) => ({
      directory: join(await mkdtemp(join(root, "store-")), "envs"),
      fsArgs: {},
      env: {},
      stop: async () => undefined,
    }),
  },
  {
    name: "S3 (s3rver)",
    async start() {
      const s3 = await startS3rver({ buckets: ["team"] });
      return {
        directory: "s3://team/envs",
        fsArgs: s3StorageOptions(s3),
        env: s3Environment(s3),
        stop: () => s3.stop(),
      };
    },
  },
  {
    name: "HDFS (WebHDFS server)",
    async start() {
      const hdfs = await startWebHdfsServer({
        directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
      });
      return {
        directory: `webhdfs://${new URL(hdfs.namenodeUrl).host}/user/bob/envs`,
        fsArgs: { hdfs: { user: "bob" } },
        env: { HADOOP_USER_NAME: "bob" },
        stop: () => hdfs.stop(),
      };
    },
  },
];
