import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { resolveFileSystem, StorageError } from "@cluster-pack/fs";
import { describeFileSystem } from "@cluster-pack/fs/testing";
import { startWebHdfsServer, type WebHdfsServer, writeHadoopConfDir } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { setEnvironment, uniqueDirectory } from "./support.js";

// viewfs:// over real parts: the WebHDFS test server behind a mount table written into core-site.xml, and a local
// directory behind another link. Every URI goes through resolveFileSystem, as users reach it.

async function caught(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect((error as StorageError).message).not.toContain("\n");
  return error as StorageError;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const text = (value: string) => Readable.from([Buffer.from(value)]);

/** The HDFS side of the mount table: the server, reached through hdfs-site.xml's rpc → http mapping. */
const NAMENODE = "hdfs://namenode.invalid:8020";

async function mountTableConfDir(server: WebHdfsServer, base: string, localDir: string) {
  return writeHadoopConfDir(
    {
      "fs.defaultFS": "viewfs://cluster",
      "fs.viewfs.mounttable.cluster.link./user": `${NAMENODE}${base}/homes`,
      "fs.viewfs.mounttable.cluster.link./data": `${NAMENODE}${base}/data`,
      "fs.viewfs.mounttable.cluster.link./projects/local": `file://${localDir}`,
      "fs.viewfs.mounttable.spill.link./user": `${NAMENODE}${base}/homes`,
      "fs.viewfs.mounttable.spill.linkFallback": `${NAMENODE}${base}/fallback`,
    },
    {
      "dfs.namenode.rpc-address": "namenode.invalid:8020",
      "dfs.namenode.http-address": server.namenodeAddress,
    },
  );
}

describe("viewfs:// through a mount table in core-site.xml", () => {
  let server: WebHdfsServer;
  let base: string;
  let localDir: string;
  let confDir: string;
  let restore: () => void;

  /** What the WebHDFS server itself holds at a path, read without viewfs. */
  const onServer = async (path: string) => {
    const { fs } = await resolveFileSystem(`webhdfs://${server.namenodeAddress}${path}`, {
      hdfs: { user: "alice" },
    });
    return readAll(await fs.open(path));
  };

  beforeAll(async () => {
    server = await startWebHdfsServer();
    base = uniqueDirectory("viewfs");
    localDir = await mkdtemp(join(tmpdir(), "cp-viewfs-local-"));
    confDir = await mountTableConfDir(server, base, localDir);
    restore = setEnvironment({ HADOOP_CONF_DIR: confDir, HADOOP_HOME: undefined, HADOOP_USER_NAME: "alice" });
  });

  afterAll(async () => {
    restore();
    await server.stop();
    await rm(confDir, { recursive: true, force: true });
    await rm(localDir, { recursive: true, force: true });
  });

  it("uploads, stats, lists and opens through viewfs://cluster/user/…, keeping viewfs:// URIs", async () => {
    const { fs, path } = await resolveFileSystem("viewfs://cluster/user/alice/envs/analytics.pex");
    onTestFinished(() => fs.close?.());
    expect(path).toBe("/user/alice/envs/analytics.pex");
    await fs.put(text("print('hi')"), path);

    expect(await onServer(`${base}/homes/alice/envs/analytics.pex`)).toBe("print('hi')");
    expect(await fs.stat(path)).toMatchObject({
      path,
      name: "analytics.pex",
      type: "file",
      size: 11,
    });
    const listed = await fs.ls("/user/alice/envs");
    expect(listed.map((info) => [info.path, info.type])).toEqual([
      ["/user/alice/envs/analytics.pex", "file"],
    ]);
    expect(listed.map((info) => fs.toUri(info.path))).toEqual([
      "viewfs://cluster/user/alice/envs/analytics.pex",
    ]);
    expect(await readAll(await fs.open(path, { offset: 6 }))).toBe("'hi')");
    expect(fs.scheme).toBe("viewfs");
    expect(fs.toUri(path)).toBe("viewfs://cluster/user/alice/envs/analytics.pex");

    const local = join(localDir, "..", `${join(localDir).split("/").pop()}-download`);
    onTestFinished(() => rm(local, { force: true }));
    await fs.get(path, local);
    expect(await readFile(local, "utf8")).toBe("print('hi')");
  });

  it("resolves hdfs:///… through the mount table when fs.defaultFS is viewfs://, and writes viewfs:// back", async () => {
    const { fs, path } = await resolveFileSystem("hdfs:///user/alice/default-fs.txt");
    onTestFinished(() => fs.close?.());
    await fs.put(text("via the default file system"), path);
    expect(await onServer(`${base}/homes/alice/default-fs.txt`)).toBe("via the default file system");
    expect(fs.toUri(path)).toBe("viewfs://cluster/user/alice/default-fs.txt");
    expect(await fs.exists(path)).toBe(true);
    expect((await fs.ls("/user/alice")).map((info) => info.name)).toContain("default-fs.txt");
  });

  it("sends paths no link covers to the table's linkFallback", async () => {
    const { fs, path } = await resolveFileSystem("viewfs://spill/apps/spark/conf.txt");
    onTestFinished(() => fs.close?.());
    await fs.put(text("fallback"), path);
    expect(await onServer(`${base}/fallback/apps/spark/conf.txt`)).toBe("fallback");
    expect(await readAll(await fs.open(path))).toBe("fallback");
    expect((await caught(fs.rm("/", { recursive: true }))).message).toBe(
      "viewfs://spill/: cannot remove the root of viewfs mount table spill",
    );
    expect(fs.toUri(path)).toBe("viewfs://spill/apps/spark/conf.txt");
    // The links still win over the fallback.
    const { fs: viaLink, path: linked } = await resolveFileSystem("viewfs://spill/user/alice/default-fs.txt");
    expect(await readAll(await viaLink.open(linked))).toBe("via the default file system");
  });

  it("serves a link to a local file:// directory", async () => {
    await writeFile(join(localDir, "notes.txt"), "local bytes");
    const { fs, path } = await resolveFileSystem("viewfs://cluster/projects/local/notes.txt");
    onTestFinished(() => fs.close?.());
    expect(await readAll(await fs.open(path))).toBe("local bytes");
    await fs.put(text("uploaded"), "/projects/local/sub/up.txt");
    expect(await readFile(join(localDir, "sub", "up.txt"), "utf8")).toBe("uploaded");
    const listed = await fs.ls("/projects/local");
    expect(listed.map((info) => [info.path, info.type])).toEqual([
      ["/projects/local/notes.txt", "file"],
      ["/projects/local/sub", "directory"],
    ]);
    expect(fs.toUri("/projects/local/sub/up.txt")).toBe("viewfs://cluster/projects/local/sub/up.txt");
    const missing = await caught(fs.stat("/projects/local/missing.txt"));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.location).toBe("viewfs://cluster/projects/local/missing.txt");
  });

  it("names viewfs:// URIs in errors from the target file system", async () => {
    const { fs } = await resolveFileSystem("viewfs://cluster/user/alice");
    const error = await caught(fs.stat("/user/alice/missing.pex"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toMatch(/^viewfs:\/\/cluster\/user\/alice\/missing\.pex: /);
  });

  it("refuses a path no link covers, in one line naming the URI and the mount table", async () => {
    const { fs, path } = await resolveFileSystem("viewfs://cluster/apps/x.pex");
    const error = await caught(fs.stat(path));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      "viewfs://cluster/apps/x.pex: no link of viewfs mount table cluster covers this path, and it has no linkFallback (fs.viewfs.mounttable.cluster.link.<path> in core-site.xml)",
    );
    expect((await caught(fs.put(text("x"), path))).code).toBe("INVALID_ARGUMENT");
    const unknown = await caught(resolveFileSystem("viewfs://nowhere/x"));
    expect(unknown.message).toBe(
      `viewfs://nowhere/x: ${confDir} defines no viewfs mount table nowhere (fs.viewfs.mounttable.nowhere.link.<path>)`,
    );
  });

  it("lists the inner directories of the table (above the mount points) as Hadoop does", async () => {
    const { fs } = await resolveFileSystem("viewfs://cluster/");
    expect((await fs.ls("/")).map((info) => [info.name, info.type])).toEqual([
      ["data", "directory"],
      ["projects", "directory"],
      ["user", "directory"],
    ]);
    expect(await fs.stat("/projects")).toMatchObject({ type: "directory", path: "/projects" });
    expect(await fs.exists("/projects")).toBe(true);
  });

  it("refuses a rename across two mount points, and removing a mount point", async () => {
    const { fs } = await resolveFileSystem("viewfs://cluster/");
    await fs.put(text("moving"), "/user/alice/move-me.txt");
    const error = await caught(fs.rename("/user/alice/move-me.txt", "/data/moved.txt"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      "viewfs://cluster/data/moved.txt: cannot rename across mount points of viewfs mount table cluster: viewfs://cluster/user/alice/move-me.txt is under /user, the target under /data",
    );
    expect(await fs.exists("/user/alice/move-me.txt")).toBe(true);
    // Within one mount point, a rename is the target's.
    await fs.rename("/user/alice/move-me.txt", "/user/bob/moved.txt");
    expect(await onServer(`${base}/homes/bob/moved.txt`)).toBe("moving");
    expect((await caught(fs.rm("/user", { recursive: true }))).message).toBe(
      "viewfs://cluster/user: cannot remove a mount point of viewfs mount table cluster",
    );
  });
});

describe("viewfs:// without a Hadoop configuration", () => {
  it("says where the mount table is looked for", async () => {
    onTestFinished(setEnvironment({ HADOOP_CONF_DIR: undefined, HADOOP_HOME: undefined }));
    const error = await caught(resolveFileSystem("viewfs://cluster/user/x"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      "viewfs://cluster/user/x: viewfs:// needs the mount table of core-site.xml, and no Hadoop configuration was found: set HADOOP_CONF_DIR (or HADOOP_HOME)",
    );
  });
});

describeFileSystem(
  "viewfs:// over WebHDFS",
  async () => {
    const server = await startWebHdfsServer();
    const confDir = await writeHadoopConfDir(
      { "fs.viewfs.mounttable.cluster.link./user": `webhdfs://${server.namenodeAddress}/tmp` },
      {},
    );
    const restore = setEnvironment({
      HADOOP_CONF_DIR: confDir,
      HADOOP_HOME: undefined,
      HADOOP_USER_NAME: "frank",
    });
    return {
      baseUri: `viewfs://cluster/user${uniqueDirectory("viewfs-conformance").slice("/tmp".length)}`,
      cleanup: async () => {
        restore();
        await server.stop();
        await rm(confDir, { recursive: true, force: true });
      },
    };
  },
  { largeFileBytes: 4 * 1024 * 1024 },
);
