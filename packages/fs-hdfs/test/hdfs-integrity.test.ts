import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { FileSystem } from "@cluster-pack/fs";
import {
  type FaultProxy,
  startFaultProxy,
  startWebHdfsServer,
  type WebHdfsServer,
  type WebHdfsServerOptions,
} from "@cluster-pack/testkit";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { hdfsFileSystem } from "../src/index.js";
import { caught } from "./support.js";

const MiB = 1024 * 1024;
const TARGET = "/data/env.pex";

let server: WebHdfsServer;
let proxy: FaultProxy;
let lines: string[];

afterEach(async () => {
  await proxy.close();
  await server.stop();
});

/** A WebHDFS server behind a fault proxy (namenode and datanode both), and a file system on the proxy. */
async function cluster(options: WebHdfsServerOptions = {}): Promise<FileSystem> {
  server = await startWebHdfsServer({
    directories: [{ path: "/data", owner: "alice", permission: 0o755 }],
    ...options,
  });
  proxy = await startFaultProxy({ target: server.namenodeUrl });
  lines = [];
  return hdfsFileSystem({ namenodes: [proxy.url], user: "alice", log: (line) => lines.push(line) });
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const onDatanode = (url: URL) => url.origin === server.datanodeUrl;
const isOp = (op: string) => (url: URL) => url.searchParams.get("op")?.toUpperCase() === op;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What the namenode holds under /data, asked directly rather than through the adapter or the proxy. */
const namesInData = () =>
  server.namespace
    .listStatus("hdfs", "/data")
    .statuses.map((status) => status.pathSuffix)
    .sort();

/** The server's own GETFILECHECKSUM of a path, asked without the proxy. */
async function storedChecksum(path: string): Promise<{ algorithm: string; bytes: string }> {
  const answer = await fetch(`${server.namenodeUrl}/webhdfs/v1${path}?op=GETFILECHECKSUM&user.name=hdfs`);
  return ((await answer.json()) as { FileChecksum: { algorithm: string; bytes: string } }).FileChecksum;
}

async function localFile(content: Buffer): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "hdfs-integrity-"));
  onTestFinished(() => rm(directory, { recursive: true, force: true }));
  const file = join(directory, "env.pex");
  await writeFile(file, content);
  return file;
}

describe("a put checks the stored bytes before the target changes", () => {
  it("verifies a 3.5 MiB file of four 1 MiB blocks with HDFS's MD5-of-MD5-of-CRC32C", async () => {
    const fs = await cluster({ blockSize: MiB });
    const content = randomBytes(3.5 * MiB);
    const result = await fs.put(Readable.from([content]), TARGET);

    const stored = await storedChecksum(TARGET);
    expect(stored.algorithm).toBe("MD5-of-2048MD5-of-512CRC32C");
    expect(result).toEqual({ verified: { algorithm: stored.algorithm, value: stored.bytes.slice(24) } });
    expect((await fs.stat(TARGET)).size).toBe(content.length);
  });

  it("verifies a one-block file and an empty file by the names HDFS gives their checksums", async () => {
    const fs = await cluster();
    const small = await fs.put(Readable.from([randomBytes(70_000)]), TARGET);
    expect(small).toMatchObject({ verified: { algorithm: "MD5-of-0MD5-of-512CRC32C" } });
    const empty = await fs.put(Readable.from([]), "/data/empty");
    expect(empty).toEqual({
      verified: { algorithm: "MD5-of-0MD5-of-0CRC32", value: "70bc8f4b72a86921468bf8e8441dce51" },
    });
  });

  it("reads the file back and compares SHA-256 when the cluster keeps CRC32 rather than CRC32C", async () => {
    const fs = await cluster({ checksumType: "CRC32" });
    const content = randomBytes(300_000);
    const result = await fs.put(Readable.from([content]), TARGET);
    expect(result).toEqual({ verified: { algorithm: "sha256", value: sha256(content) } });
  });

  it("fails TRANSIENT when a bit flips on the way to the datanode, keeping the previous file and no temporary", async () => {
    const fs = await cluster({ blockSize: MiB });
    const first = randomBytes(MiB);
    await fs.put(Readable.from([first]), TARGET);
    proxy.addFault({
      method: "PUT",
      url: (url) => isOp("CREATE")(url) && onDatanode(url),
      action: { kind: "flip", atByte: 1_500_000 },
    });

    const error = await caught(fs.put(Readable.from([randomBytes(2.5 * MiB)]), TARGET));
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toMatch(
      /^webhdfs:\/\/.*\/data\/env\.pex: the stored bytes differ from those sent \(checksum MD5-of-2048MD5-of-512CRC32C: [0-9a-f]{32} stored, [0-9a-f]{32} sent\): nothing was replaced$/,
    );
    expect(namesInData()).toEqual(["env.pex"]);
    expect(sha256(await readAll(await fs.open(TARGET)))).toBe(sha256(first));
  });

  it("sends a local file again after a bit flipped on the way, and the put succeeds", async () => {
    const fs = await cluster();
    const content = randomBytes(MiB);
    proxy.addFault({
      method: "PUT",
      url: (url) => isOp("CREATE")(url) && onDatanode(url),
      action: { kind: "flip", atByte: 4096 },
    });

    const result = await fs.put(await localFile(content), TARGET);
    expect(result).toMatchObject({ verified: { algorithm: "MD5-of-0MD5-of-512CRC32C" } });
    expect(sha256(await readAll(await fs.open(TARGET)))).toBe(sha256(content));
    expect(lines).toEqual([
      expect.stringMatching(
        /^retrying the upload of webhdfs:\/\/.*\/data\/env\.pex \(attempt 2 of 5\): .*the stored bytes differ/,
      ),
    ]);
    expect(namesInData()).toEqual(["env.pex"]);
  });

  it("fails when the bytes read back differ from those sent on a CRC32 cluster", async () => {
    const fs = await cluster({ checksumType: "CRC32" });
    proxy.addFault({
      method: "GET",
      url: (url) => isOp("OPEN")(url) && onDatanode(url),
      action: { kind: "flipAnswer", atByte: 10 },
    });
    const error = await caught(fs.put(Readable.from([randomBytes(10_000)]), TARGET));
    expect(error.code).toBe("TRANSIENT");
    expect(error.detail).toMatch(
      /^the stored bytes differ from those sent \(sha256 read back: [0-9a-f]{64} stored, [0-9a-f]{64} sent\): nothing was replaced$/,
    );
    expect(namesInData()).toEqual([]);
  });
});

describe("replacing the target", () => {
  it("replaces the previous file with one RENAME with renameoptions=OVERWRITE, never deleting it first", async () => {
    const fs = await cluster();
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    server.clearRequests();
    await fs.put(Readable.from([Buffer.from("second")]), TARGET);

    const renames = server.requests.filter((request) => request.op === "RENAME");
    expect(renames.map((request) => request.params.renameoptions)).toEqual(["OVERWRITE"]);
    expect(server.requests.filter((request) => request.op === "DELETE")).toEqual([]);
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("second");
  });

  it("puts with overwrite off as an atomic create: a target that appeared meanwhile is kept, ALREADY_EXISTS", async () => {
    const fs = await cluster();
    const other = hdfsFileSystem({ namenodes: [server.namenodeUrl], user: "alice" });
    const error = await caught(
      fs.put(Readable.from([Buffer.from("mine")]), TARGET, {
        overwrite: false,
        // Another writer takes the name between our upload and our rename.
        beforeCommit: async () => {
          await other.put(Readable.from([Buffer.from("theirs")]), TARGET);
        },
      }),
    );
    expect(error).toMatchObject({ code: "ALREADY_EXISTS", detail: "already exists (overwrite is off)" });
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("theirs");
    expect(namesInData()).toEqual(["env.pex"]);
  });

  it("on HttpFS, which ignores renameoptions, deletes the target right before the rename and says so", async () => {
    server = await startWebHdfsServer({
      httpfs: true,
      directories: [{ path: "/data", owner: "alice", permission: 0o755 }],
    });
    proxy = await startFaultProxy({ target: server.namenodeUrl });
    const logged: string[] = [];
    const fs = hdfsFileSystem({
      namenodes: [server.namenodeUrl],
      user: "alice",
      httpfs: true,
      log: (line) => logged.push(line),
    });
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    const result = await fs.put(Readable.from([Buffer.from("second")]), TARGET);
    expect(result).toMatchObject({ verified: { algorithm: "MD5-of-0MD5-of-512CRC32C" } });
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("second");
    expect(logged).toEqual([
      expect.stringMatching(
        /ignored renameoptions=OVERWRITE \(HttpFS does\): deleting .*\/data\/env\.pex right before renaming$/,
      ),
    ]);
    expect(namesInData()).toEqual(["env.pex"]);
  });

  it("renames with overwrite off as an atomic create-if-absent", async () => {
    const fs = await cluster();
    await fs.put(Readable.from([Buffer.from("a")]), "/data/a");
    await fs.put(Readable.from([Buffer.from("b")]), "/data/b");
    const error = await caught(fs.rename("/data/a", "/data/b"));
    expect(error).toMatchObject({ code: "ALREADY_EXISTS" });
    await fs.rename("/data/a", "/data/b", { overwrite: true });
    expect((await readAll(await fs.open("/data/b"))).toString()).toBe("a");
    expect(namesInData()).toEqual(["b"]);
  });
});
