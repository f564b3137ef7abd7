// The façade on a viewfs:// store: the URIs it reports stay viewfs:// (Hadoop resolves them on the nodes), while
// the bytes live on the WebHDFS test server behind the mount table.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { resolveFileSystem } from "@cluster-pack/fs";
import { startWebHdfsServer, type WebHdfsServer } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultStore, listEnvs, locateEnv } from "../src/index.js";

const siteXml = (properties: Record<string, string>) =>
  `<configuration>${Object.entries(properties)
    .map(([name, value]) => `<property><name>${name}</name><value>${value}</value></property>`)
    .join("")}</configuration>`;

describe("a viewfs:// store through the façade", () => {
  let server: WebHdfsServer;
  let root: string;
  let hadoopHome: string;
  const previous = {
    HADOOP_CONF_DIR: process.env.HADOOP_CONF_DIR,
    HADOOP_USER_NAME: process.env.HADOOP_USER_NAME,
  };

  beforeAll(async () => {
    server = await startWebHdfsServer();
    root = await mkdtemp(join(tmpdir(), "cp-viewfs-store-"));
    hadoopHome = join(root, "hadoop");
    const confDir = join(hadoopHome, "etc", "hadoop");
    await mkdir(confDir, { recursive: true });
    const base = `/tmp/viewfs-store-${process.pid}`;
    await writeFile(
      join(confDir, "core-site.xml"),
      siteXml({
        "fs.defaultFS": "viewfs://cluster",
        "fs.viewfs.mounttable.cluster.link./user": `webhdfs://${server.namenodeAddress}${base}`,
      }),
    );
    // The adapters read the process environment: the configuration is found through HADOOP_HOME alone.
    delete process.env.HADOOP_CONF_DIR;
    process.env.HADOOP_HOME = hadoopHome;
    process.env.HADOOP_USER_NAME = "alice";
    const { fs, path } = await resolveFileSystem("viewfs://cluster/user/alice/envs/team.pex");
    await fs.put(Readable.from([Buffer.from("pex bytes")]), path);
  });

  afterAll(async () => {
    delete process.env.HADOOP_HOME;
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("lists and locates archives under viewfs:// URIs", async () => {
    const listing = await listEnvs("viewfs://cluster/user/alice/envs");
    expect(listing.uri).toBe("viewfs://cluster/user/alice/envs");
    expect(listing.envs.map((env) => [env.packagePath, env.metadataPath])).toEqual([
      ["viewfs://cluster/user/alice/envs/team.pex", "viewfs://cluster/user/alice/envs/team.json"],
    ]);
    const located = await locateEnv("viewfs://cluster/user/alice/envs/team.pex");
    expect(located.packagePath).toBe("viewfs://cluster/user/alice/envs/team.pex");
  });

  it("takes the default store from $HADOOP_HOME/etc/hadoop when HADOOP_CONF_DIR is unset", async () => {
    expect(await defaultStore({ HADOOP_HOME: hadoopHome })).toBe("viewfs://cluster");
    const listing = await listEnvs(`${await defaultStore({ HADOOP_HOME: hadoopHome })}/user/alice/envs`);
    expect(listing.envs.map((env) => env.packagePath)).toEqual(["viewfs://cluster/user/alice/envs/team.pex"]);
  });
});
