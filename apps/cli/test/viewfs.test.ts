// The CLI on a viewfs:// store: `upload-zip` and `ls` go through the mount table of core-site.xml to the WebHDFS
// test server, and every URI they print stays viewfs:// (Hadoop resolves it on the cluster's nodes).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execute, startWebHdfsServer, type WebHdfsServer } from "@cluster-pack/testkit";
import type { EnvListing } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";

describe("cluster-pack on viewfs://", () => {
  let server: WebHdfsServer;
  let root: string;
  let archive: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startWebHdfsServer();
    root = await mkdtemp(join(tmpdir(), "cp-cli-viewfs-"));
    const tree = join(root, "tree");
    await mkdir(join(tree, "bin"), { recursive: true });
    await writeFile(join(tree, "bin", "python"), "#!/bin/sh\n", { mode: 0o755 });
    archive = join(root, "prebuilt.tar.gz");
    await execute("tar", ["czf", archive, "-C", tree, "."]);
    // Found through HADOOP_HOME, as Hadoop's scripts find it.
    const hadoopHome = join(root, "hadoop");
    await mkdir(join(hadoopHome, "etc", "hadoop"), { recursive: true });
    await writeFile(
      join(hadoopHome, "etc", "hadoop", "core-site.xml"),
      `<configuration>
        <property><name>fs.defaultFS</name><value>viewfs://cluster</value></property>
        <property><name>fs.viewfs.mounttable.cluster.link./user</name>
          <value>webhdfs://${server.namenodeAddress}/tmp/cli-viewfs-${process.pid}</value></property>
      </configuration>`,
    );
    env = baseEnv({ HADOOP_HOME: hadoopHome, HADOOP_USER_NAME: "alice", C_PACK_USER: "alice" });
  });

  afterAll(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("uploads and lists through the mount table, printing viewfs:// URIs", async () => {
    const directory = "viewfs://cluster/user/alice/envs";
    const uploaded = await runCli(
      ["upload-zip", archive, "--package-path", `${directory}/team.tar.gz`, "--json"],
      { env },
    );
    expect(uploaded.stderr).toBe("");
    expect(JSON.parse(uploaded.stdout)).toMatchObject({
      uploaded: true,
      packagePath: `${directory}/team.tar.gz`,
    });
    const stored = server.namespace.getFileStatus(
      "alice",
      `/tmp/cli-viewfs-${process.pid}/alice/envs/team.tar.gz`,
    );
    expect(stored.type).toBe("FILE");

    const listing = await runCli(["ls", directory, "--json"], { env });
    expect(listing.code).toBe(0);
    const parsed = JSON.parse(listing.stdout) as EnvListing;
    expect(parsed.uri).toBe(directory);
    expect(parsed.envs.map((stored) => stored.packagePath)).toEqual([`${directory}/team.tar.gz`]);

    const human = await runCli(["ls", directory], { env });
    expect(human.code).toBe(0);
    expect(human.stdout.split("\n")[0]).toBe(directory);
    expect(human.stdout).toContain("team.tar.gz");
    expect(human.stdout).not.toMatch(/webhdfs:|127\.0\.0\.1/);
  });

  it("refuses a path outside every mount in one line", async () => {
    const outcome = await runCli(["ls", "viewfs://cluster/apps"], { env });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr.trim().split("\n")[0]).toContain(
      "viewfs://cluster/apps: no link of viewfs mount table cluster covers this path",
    );
  });
});
