import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { FileSystem, NetworkPolicy } from "@cluster-pack/fs";
import {
  type FaultProxy,
  startFaultProxy,
  startWebHdfsServer,
  type WebHdfsServer,
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

async function cluster(network: NetworkPolicy = {}): Promise<FileSystem> {
  server = await startWebHdfsServer({ directories: [{ path: "/data", owner: "alice", permission: 0o755 }] });
  proxy = await startFaultProxy({ target: server.namenodeUrl });
  lines = [];
  return hdfsFileSystem({ namenodes: [proxy.url], user: "alice", network, log: (line) => lines.push(line) });
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const onDatanode = (url: URL) => url.origin === server.datanodeUrl;
const isOp = (op: string) => (url: URL) => url.searchParams.get("op")?.toUpperCase() === op;
const onNamenode = (op: string) => (url: URL) => isOp(op)(url) && !onDatanode(url);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const namesInData = () =>
  server.namespace
    .listStatus("hdfs", "/data")
    .statuses.map((status) => status.pathSuffix)
    .sort();

async function scratch(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "hdfs-faults-"));
  onTestFinished(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

const remoteException = (exception: string, message: string) =>
  JSON.stringify({
    RemoteException: { exception, javaClassName: `org.apache.hadoop.${exception}`, message },
  });

describe("retries", () => {
  it("asks again after a 503 from the namenode, logging one retrying line", async () => {
    const fs = await cluster();
    proxy.addFault({
      method: "GET",
      url: onNamenode("GETFILESTATUS"),
      action: { kind: "status", status: 503 },
    });
    expect((await fs.stat("/data")).type).toBe("directory");
    expect(lines).toEqual([
      expect.stringMatching(/^retrying GETFILESTATUS webhdfs:\/\/.*\/data \(attempt 2 of 5\): .*HTTP 503/),
    ]);
  });

  it.each([
    ["RetriableException", "Namenode is in startup mode"],
    [
      "SafeModeException",
      "Cannot create directory /data/x. Name node is in safe mode. Safe mode will be turned off automatically once the thresholds have been reached.",
    ],
  ])("asks again after a %s", async (exception, message) => {
    const fs = await cluster();
    proxy.addFault({
      method: "PUT",
      url: onNamenode("MKDIRS"),
      action: {
        kind: "status",
        status: 403,
        body: remoteException(exception, message),
        headers: { "Content-Type": "application/json" },
      },
    });
    await fs.mkdir("/data/x");
    expect(lines).toHaveLength(1);
    expect((await fs.stat("/data/x")).type).toBe("directory");
  });

  it("does not ask again when safe mode was turned on by hand", async () => {
    const fs = await cluster();
    const manual =
      'Cannot create directory /data/x. Name node is in safe mode. It was turned on manually. Use "hdfs dfsadmin -safemode leave" to turn safe mode off.';
    proxy.addFault({
      method: "PUT",
      url: onNamenode("MKDIRS"),
      action: {
        kind: "status",
        status: 403,
        body: remoteException("SafeModeException", manual),
        headers: { "Content-Type": "application/json" },
      },
    });
    const error = await caught(fs.mkdir("/data/x"));
    expect(error.detail).toContain("It was turned on manually");
    expect(lines).toEqual([]);
  });

  it("replays a local file after the datanode connection reset mid-upload", async () => {
    const fs = await cluster();
    const content = randomBytes(3 * MiB);
    const file = join(await scratch(), "env.pex");
    await writeFile(file, content);
    proxy.addFault({
      method: "PUT",
      url: (url) => isOp("CREATE")(url) && onDatanode(url),
      action: { kind: "reset", afterBytes: MiB },
    });

    await fs.put(file, TARGET);
    expect(sha256(await readAll(await fs.open(TARGET)))).toBe(sha256(content));
    expect(lines).toEqual([
      expect.stringMatching(
        /^retrying the upload of .*\(attempt 2 of 5\): .*lost the connection to datanode/,
      ),
    ]);
    expect(namesInData()).toEqual(["env.pex"]);
  });
});

describe("a RENAME that fails", () => {
  it("is asked again after a 500 and the put succeeds, replacing the previous file", async () => {
    const fs = await cluster();
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    proxy.addFault({ method: "PUT", url: onNamenode("RENAME"), action: { kind: "status", status: 500 } });
    await fs.put(Readable.from([Buffer.from("second")]), TARGET);
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("second");
    expect(lines).toEqual([expect.stringMatching(/^retrying RENAME .*HTTP 500/)]);
    expect(namesInData()).toEqual(["env.pex"]);
  });

  it("without retries fails in one line, keeping the previous file and removing the temporary", async () => {
    const fs = await cluster({ maxAttempts: 1 });
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    proxy.addFault({ method: "PUT", url: onNamenode("RENAME"), action: { kind: "status", status: 500 } });
    const error = await caught(fs.put(Readable.from([Buffer.from("second")]), TARGET));
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toMatch(/^webhdfs:\/\/.*\/data\/env\.pex: namenode .* failed \(HTTP 500\)/);
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("first");
    expect(namesInData()).toEqual(["env.pex"]);
  });

  it("is not sent twice when its connection resets, since the namenode may have renamed already", async () => {
    const fs = await cluster();
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    proxy.addFault({ method: "PUT", url: onNamenode("RENAME"), action: { kind: "reset" } });
    const error = await caught(fs.put(Readable.from([Buffer.from("second")]), TARGET));
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toContain("lost the connection to namenode");
    expect(error.message).not.toContain("timed out");
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("first");
    expect(namesInData()).toEqual(["env.pex"]);
  });
});

describe("a RENAME whose answer is lost", () => {
  it("counts the put as done when the target turns out to hold the bytes sent", async () => {
    const fs = await cluster();
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    // The namenode gets the RENAME and acts on it; its answer never reaches the client.
    proxy.addFault({ method: "PUT", url: onNamenode("RENAME"), action: { kind: "reset", afterBytes: 1 } });
    const result = await fs.put(Readable.from([Buffer.from("second")]), TARGET);
    expect(result).toMatchObject({ verified: { algorithm: "MD5-of-0MD5-of-512CRC32C" } });
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("second");
    expect(lines).toEqual([
      expect.stringMatching(/^the answer to RENAME was lost, but .*\/data\/env\.pex holds the bytes sent$/),
    ]);
    expect(namesInData()).toEqual(["env.pex"]);
  });
});

describe("messages", () => {
  it("shows control characters of a server's message rather than sending them to the terminal", async () => {
    const fs = await cluster();
    proxy.addFault({
      method: "GET",
      url: onNamenode("GETFILESTATUS"),
      action: {
        kind: "status",
        status: 403,
        body: remoteException("AccessControlException", "Permission denied: \u001b[31mred\u001b[0m"),
        headers: { "Content-Type": "application/json" },
      },
    });
    const error = await caught(fs.stat("/data"));
    expect(error.detail).toBe("Permission denied: \\x1b[31mred\\x1b[0m");
  });
});

describe("HA failover", () => {
  it("moves to the second namenode when the first answers StandbyException, says so, and remembers it", async () => {
    server = await startWebHdfsServer({
      directories: [{ path: "/data", owner: "alice", permission: 0o755 }],
    });
    const standby = await startWebHdfsServer({ standby: true, shareNamespaceWith: server });
    onTestFinished(() => standby.stop());
    proxy = await startFaultProxy({ target: server.namenodeUrl });
    lines = [];
    const fs = hdfsFileSystem({
      namenodes: [standby.namenodeUrl, server.namenodeUrl],
      user: "alice",
      log: (line) => lines.push(line),
    });
    await fs.put(Readable.from([Buffer.from("replicated")]), TARGET);
    expect(lines).toEqual([
      `namenode ${standby.namenodeUrl} is unavailable (standby); trying namenode ${server.namenodeUrl}`,
    ]);
    expect(standby.requests).toHaveLength(1);
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("replicated");
  });
});

describe("bounded waits", () => {
  it("gives up on a stalled namenode request within the stall timeout, in one line", async () => {
    const fs = await cluster({ stallTimeoutMs: 1500, maxAttempts: 1 });
    proxy.addFault({ method: "GET", url: onNamenode("GETFILESTATUS"), action: { kind: "stall" } });
    const started = Date.now();
    const error = await caught(fs.stat("/data"));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toMatch(/: namenode http:\/\/127\.0\.0\.1:\d+: no answer for 1\.5 s \(stalled\)$/);
  });

  it("asks again after a stalled read and succeeds", async () => {
    const fs = await cluster({ stallTimeoutMs: 1500 });
    proxy.addFault({ method: "GET", url: onNamenode("GETFILESTATUS"), action: { kind: "stall" } });
    const started = Date.now();
    expect((await fs.stat("/data")).type).toBe("directory");
    expect(Date.now() - started).toBeLessThan(6000);
    expect(lines).toEqual([
      expect.stringMatching(/^retrying GETFILESTATUS .*no answer for 1\.5 s \(stalled\)/),
    ]);
  });

  it("ends a stalled upload to the datanode within the stall timeout", async () => {
    const fs = await cluster({ stallTimeoutMs: 1500 });
    await fs.put(Readable.from([Buffer.from("first")]), TARGET);
    proxy.addFault({
      method: "PUT",
      url: (url) => isOp("CREATE")(url) && onDatanode(url),
      action: { kind: "stall", afterBytes: 1000 },
    });
    const started = Date.now();
    const error = await caught(fs.put(Readable.from([randomBytes(MiB)]), TARGET));
    expect(Date.now() - started).toBeLessThan(6000);
    expect(error.message).toMatch(/datanode .*: no answer for 1\.5 s \(stalled\)$/);
    expect((await readAll(await fs.open(TARGET))).toString()).toBe("first");
    expect(namesInData()).toEqual(["env.pex"]);
  });
});

describe("reads cut short", () => {
  it("says how many bytes came when the datanode's answer to OPEN is truncated", async () => {
    const fs = await cluster();
    await fs.put(Readable.from([randomBytes(MiB)]), TARGET);
    proxy.addFault({
      method: "GET",
      url: (url) => isOp("OPEN")(url) && onDatanode(url),
      action: { kind: "truncate", afterBytes: 300_000 },
    });
    const stream = await fs.open(TARGET);
    const error = await caught(readAll(stream));
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toMatch(
      new RegExp(
        `/data/env\\.pex: datanode http://127\\.0\\.0\\.1:\\d+: the connection closed after \\d+ of ${MiB} bytes$`,
      ),
    );
  });

  it("leaves no partial download when get's answer is truncated, in one line", async () => {
    const fs = await cluster({ maxAttempts: 1 });
    await fs.put(Readable.from([randomBytes(MiB)]), TARGET);
    proxy.addFault({
      method: "GET",
      url: (url) => isOp("OPEN")(url) && onDatanode(url),
      action: { kind: "truncate", afterBytes: 300_000 },
    });
    const local = join(await scratch(), "env.pex");
    const error = await caught(fs.get(TARGET, local));
    expect(error.message).toMatch(new RegExp(`the connection closed after \\d+ of ${MiB} bytes$`));
    expect(error.message).not.toContain("aborted");
    await expect(readFile(local)).rejects.toThrow(/ENOENT/);
  });

  it("asks again when the answer breaks before the first byte reached the caller, and get succeeds", async () => {
    const fs = await cluster();
    const content = randomBytes(MiB);
    await fs.put(Readable.from([content]), TARGET);
    proxy.addFault({
      method: "GET",
      url: (url) => isOp("OPEN")(url) && onDatanode(url),
      action: { kind: "reset" },
    });
    const local = join(await scratch(), "env.pex");
    await fs.get(TARGET, local);
    expect(sha256(await readFile(local))).toBe(sha256(content));
    expect(lines).toEqual([expect.stringMatching(/^retrying OPEN .*lost the connection to datanode/)]);
  });

  it("says it lost the connection, not that it timed out, when a read resets", async () => {
    const fs = await cluster({ maxAttempts: 1 });
    await fs.put(Readable.from([randomBytes(1000)]), TARGET);
    proxy.addFault({
      method: "GET",
      url: (url) => isOp("OPEN")(url) && onDatanode(url),
      action: { kind: "reset" },
    });
    const error = await caught(fs.open(TARGET));
    expect(error.message).toMatch(/lost the connection to datanode .* \(connection reset\)$/);
  });
});
