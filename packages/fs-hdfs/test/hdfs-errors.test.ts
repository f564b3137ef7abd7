import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { resolveFileSystem, StorageError } from "@cluster-pack/fs";
import { startWebHdfsServer, type WebHdfsServer, writeHadoopConfDir } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type HdfsFileSystemOptions, hdfsFileSystem } from "../src/index.js";
import { caught, closedPort, setEnvironment, uniqueDirectory } from "./support.js";

const text = (value: string) => Readable.from([Buffer.from(value)]);

describe("errors from the namenode", () => {
  let server: WebHdfsServer;
  const fsAs = (user: string, options: HdfsFileSystemOptions = {}) =>
    hdfsFileSystem({ namenodes: [server.namenodeUrl], user, ...options });
  const uriOf = (path: string) => `webhdfs://${server.namenodeAddress}${path}`;

  beforeAll(async () => {
    server = await startWebHdfsServer({
      directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
      proxyUsers: ["oozie"],
    });
  });
  afterAll(() => server.stop());

  it("reports a write into another user's 0755 directory as PERMISSION_DENIED with Hadoop's reason", async () => {
    const error = await caught(fsAs("alice").put(text("x"), "/user/bob/envs/env.pex"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toBe(
      `${uriOf("/user/bob/envs/env.pex")}: Permission denied: user=alice, access=WRITE, inode="/user/bob":bob:supergroup:drwxr-xr-x`,
    );
    const upload = await caught(fsAs("alice").put(text("x"), "/user/bob/env.pex"));
    expect(upload).toMatchObject({ code: "PERMISSION_DENIED", location: uriOf("/user/bob/env.pex") });
    expect(await fsAs("bob").ls("/user/bob")).toEqual([]);
  });

  it("refuses doAs for a user who may not impersonate", async () => {
    const error = await caught(fsAs("alice", { doAs: "bob" }).put(text("x"), "/user/bob/env.pex"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.detail).toBe("User: alice is not allowed to impersonate bob");
  });

  it("writes into the other user's directory with doAs from a proxy user", async () => {
    await fsAs("oozie", { doAs: "bob" }).put(text("x"), "/user/bob/by-proxy.pex");
    expect(server.namespace.getFileStatus("hdfs", "/user/bob/by-proxy.pex").owner).toBe("bob");
  });

  it("refuses to replace a file when overwrite is false, leaving it and no temporary file", async () => {
    const directory = uniqueDirectory("guarded");
    const fs = fsAs("alice");
    await fs.put(text("first"), `${directory}/env.pex`);
    const error = await caught(fs.put(text("second"), `${directory}/env.pex`, { overwrite: false }));
    expect(error).toMatchObject({ code: "ALREADY_EXISTS", location: uriOf(`${directory}/env.pex`) });
    expect((await fs.ls(directory)).map((entry) => [entry.name, entry.size])).toEqual([["env.pex", 5]]);
  });

  it("removes the temporary file when the upload source fails", async () => {
    const directory = uniqueDirectory("broken-source");
    async function* failing() {
      yield Buffer.alloc(64 * 1024, 1);
      throw new Error("disk read failed");
    }
    const error = await caught(fsAs("alice").put(failing(), `${directory}/env.pex`));
    expect(error.message).toBe(
      `${uriOf(`${directory}/env.pex`)}: reading the data to upload failed: disk read failed`,
    );
    expect(await fsAs("alice").ls(directory)).toEqual([]);
  });

  it("keeps the StorageError of a source stream read from another store", async () => {
    const broken = new StorageError("TRANSIENT", "connection reset", { uri: "s3://bucket/env.pex" });
    async function* copied() {
      yield Buffer.from("partial");
      throw broken;
    }
    expect(await caught(fsAs("alice").put(copied(), `${uniqueDirectory("copy")}/env.pex`))).toBe(broken);
  });

  it("stops an upload when its signal aborts, leaving no temporary file", async () => {
    const directory = uniqueDirectory("aborted");
    const controller = new AbortController();
    async function* slow() {
      yield Buffer.alloc(64 * 1024, 1);
      controller.abort();
      // The source stalls for good: only the abort can end the upload.
      await new Promise(() => undefined);
    }
    const error = await caught(
      fsAs("alice").put(slow(), `${directory}/env.pex`, { signal: controller.signal }),
    );
    expect(error).toMatchObject({ code: "ABORTED", location: uriOf(`${directory}/env.pex`) });
    expect(await fsAs("alice").ls(directory)).toEqual([]);
  });

  it("reports a missing file as NOT_FOUND in Hadoop's words", async () => {
    const error = await caught(fsAs("alice").open("/tmp/absent/env.pex"));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe(`${uriOf("/tmp/absent/env.pex")}: File does not exist: /tmp/absent/env.pex`);
  });

  it("treats a directory given as a file as INVALID_ARGUMENT", async () => {
    const fs = fsAs("alice");
    expect((await caught(fs.open("/tmp"))).code).toBe("INVALID_ARGUMENT");
    expect((await caught(fs.put(text("x"), "/tmp"))).code).toBe("INVALID_ARGUMENT");
  });

  it("explains a rename onto an existing file or into its own subtree", async () => {
    const directory = uniqueDirectory("renames");
    const fs = fsAs("alice");
    await fs.put(text("a"), `${directory}/a`);
    await fs.put(text("b"), `${directory}/b`);
    expect(await caught(fs.rename(`${directory}/a`, `${directory}/b`))).toMatchObject({
      code: "ALREADY_EXISTS",
      location: uriOf(`${directory}/b`),
    });
    expect((await caught(fs.rename(directory, `${directory}/inner`))).code).toBe("INVALID_ARGUMENT");
    expect((await caught(fs.rename(`${directory}/missing`, `${directory}/c`))).code).toBe("NOT_FOUND");
  });
});

describe("errors on secured clusters", () => {
  let server: WebHdfsServer;
  beforeAll(async () => {
    server = await startWebHdfsServer({ delegationTokens: { "token-ivan-7": "ivan" } });
  });
  afterAll(() => server.stop());

  it("turns a refused delegation token into PERMISSION_DENIED without printing the token", async () => {
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], delegationToken: "forged-token-xyz" });
    const error = await caught(fs.stat("/tmp"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).not.toContain("forged-token-xyz");
    expect(JSON.stringify(error.cause)).not.toContain("forged-token-xyz");
  });

  it("says what to pass when the cluster demands authentication (HTTP 401)", async () => {
    const fs = hdfsFileSystem({ namenodes: [server.namenodeUrl], user: "ivan" });
    const error = await caught(fs.stat("/tmp"));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.detail).toContain("requires authentication (HTTP 401): pass a delegation token");
  });
});

describe("errors before any namenode answers", () => {
  it("reports an unreachable namenode as TRANSIENT in one line that names it", async () => {
    const port = await closedPort();
    const { fs, path } = await resolveFileSystem(`webhdfs://127.0.0.1:${port}/tmp/env.pex`, {
      network: { maxAttempts: 1 },
    });
    const error = await caught(fs.stat(path));
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toBe(
      `webhdfs://127.0.0.1:${port}/tmp/env.pex: cannot reach namenode http://127.0.0.1:${port} (connection refused)`,
    );
  });

  it("gives up on a namenode that does not answer within timeoutMs", async () => {
    const silent = await listen(createServer(() => undefined));
    const fs = hdfsFileSystem({
      namenodes: [silent.url],
      user: "alice",
      timeoutMs: 200,
      network: { maxAttempts: 1 },
    });
    const error = await caught(fs.stat("/tmp"));
    expect(error).toMatchObject({
      code: "TRANSIENT",
      detail: `namenode ${silent.url}: no answer for 0.2 s (stalled)`,
    });
  });

  it("tells a server without WebHDFS apart from a missing file", async () => {
    const web = await listen(
      createServer((_request, response) =>
        response.writeHead(404, { "Content-Type": "text/html" }).end("<h1>Nope</h1>"),
      ),
    );
    const error = await caught(hdfsFileSystem({ namenodes: [web.url], user: "alice" }).stat("/tmp"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.detail).toContain(`namenode ${web.url} serves no WebHDFS API (HTTP 404)`);
  });

  it("rejects hdfs:/// when no Hadoop configuration is found, saying what to set", async () => {
    onTestFinished(setEnvironment({ HADOOP_CONF_DIR: undefined, HADOOP_HOME: undefined }));
    const error = await caught(resolveFileSystem("hdfs:///user/alice/env.pex"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      "hdfs:///user/alice/env.pex: hdfs:/// means the default file system of the Hadoop configuration, and there is none (HADOOP_CONF_DIR, $HADOOP_HOME/etc/hadoop, /etc/hadoop/conf): set HADOOP_CONF_DIR to the directory of core-site.xml, or write hdfs://namenode:port/path",
    );
  });

  it("rejects hdfs:/// when HADOOP_CONF_DIR defines no fs.defaultFS", async () => {
    const confDir = await writeHadoopConfDir({ "hadoop.tmp.dir": "/tmp/hadoop" });
    onTestFinished(() => rm(confDir, { recursive: true, force: true }));
    onTestFinished(setEnvironment({ HADOOP_CONF_DIR: confDir }));
    const error = await caught(resolveFileSystem("hdfs:///user/alice/env.pex"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.detail).toContain(`HADOOP_CONF_DIR=${confDir} defines no fs.defaultFS`);
  });
});

async function listen(server: Server): Promise<{ url: string }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
