import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { FileSystem } from "@cluster-pack/fs";
import {
  type FaultProxy,
  type FaultRule,
  startFaultProxy,
  startWebHdfsServer,
  type WebHdfsServer,
} from "@cluster-pack/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hdfsFileSystem } from "../src/index.js";
import { caught } from "./support.js";

const MiB = 1024 * 1024;
const TARGET = "/data/env.pex";

let server: WebHdfsServer;
let proxy: FaultProxy;
let fs: FileSystem;

beforeEach(async () => {
  server = await startWebHdfsServer({ directories: [{ path: "/data", owner: "alice", permission: 0o755 }] });
  // Every request, the datanode step included (its 307 Location is rewritten), goes through the proxy.
  proxy = await startFaultProxy({ target: server.namenodeUrl });
  fs = hdfsFileSystem({ namenodes: [proxy.url], user: "alice" });
});

afterEach(async () => {
  await fs.close?.();
  await proxy.close();
  await server.stop();
});

/** `mebibytes` MiB of random bytes, streamed one MiB at a time. */
async function* randomStream(mebibytes: number) {
  for (let i = 0; i < mebibytes; i++) yield randomBytes(MiB);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const isCreate = (url: URL) => url.searchParams.get("op")?.toUpperCase() === "CREATE";
/** The namenode redirects data to the datanode with its own RPC address in the URL. */
const onDatanode = (url: URL) => url.origin === server.datanodeUrl;

/** Puts the first version of the archive and returns its bytes. */
async function putFirstVersion(): Promise<Buffer> {
  const first = randomBytes(MiB);
  await fs.put(Readable.from([first]), TARGET);
  return first;
}

/** What the namenode itself holds under /data, asked directly rather than through the adapter or the proxy. */
const namesInData = () =>
  server.namespace
    .listStatus("hdfs", "/data")
    .statuses.map((status) => status.pathSuffix)
    .sort();

async function expectFirstVersionIntact(first: Buffer) {
  expect(namesInData()).toEqual(["env.pex"]);
  const stored = await readAll(await fs.open(TARGET));
  expect(stored.length).toBe(first.length);
  expect(sha256(stored)).toBe(sha256(first));
}

describe("a put that fails on the network", () => {
  it("rejects when the datanode connection resets mid-upload, keeping the previous file and no partial copy", async () => {
    const first = await putFirstVersion();
    server.clearRequests();
    const rule: FaultRule = {
      method: "PUT",
      url: (url) => isCreate(url) && onDatanode(url),
      action: { kind: "reset", afterBytes: 5 * MiB },
    };
    const fault = proxy.addFault(rule);

    const error = await caught(fs.put(randomStream(20), TARGET));
    expect(fault.fired).toBe(1);
    expect(error.message).toContain(TARGET);
    expect(error.code).toBe("TRANSIENT");
    expect(error.message).toMatch(/datanode .* \(connection reset\)/);

    // The datanode got part of the body, never all of it, in a temporary file beside the target...
    const reset = proxy.requests.find((request) => request.fault === "reset");
    expect(reset?.forwardedBytes).toBe(5 * MiB);
    const temporary = server.requests.find(
      (request) => request.role === "datanode" && request.op === "CREATE",
    )?.path;
    expect(temporary).toMatch(/^\/data\/\.env\.pex\.[0-9a-f]+\._COPYING_$/);
    expect(server.requests.filter((request) => request.role === "datanode")).toHaveLength(1);
    // ...which the adapter deleted once the upload failed.
    expect(server.requests).toContainEqual(
      expect.objectContaining({ role: "namenode", op: "DELETE", path: temporary }),
    );
    await expectFirstVersionIntact(first);
  });

  it("rejects with the status when the datanode answers CREATE with 503, keeping the previous file", async () => {
    const first = await putFirstVersion();
    proxy.addFault({
      method: "PUT",
      url: (url) => isCreate(url) && onDatanode(url),
      action: { kind: "status", status: 503 },
    });

    // A stream cannot be sent twice: the first failure is final.
    const error = await caught(fs.put(randomStream(20), TARGET));
    expect(error.message).toContain(TARGET);
    expect(error.message).toContain("503");
    await expectFirstVersionIntact(first);
  });

  it("asks the namenode again when it answers CREATE with 503, and the put succeeds", async () => {
    await putFirstVersion();
    const lines: string[] = [];
    const logged = hdfsFileSystem({ namenodes: [proxy.url], user: "alice", log: (line) => lines.push(line) });
    proxy.addFault({
      method: "PUT",
      url: (url) => isCreate(url) && !onDatanode(url),
      action: { kind: "status", status: 503 },
    });

    const second = randomBytes(2 * MiB);
    await logged.put(Readable.from([second]), TARGET);
    expect(sha256(await readAll(await fs.open(TARGET)))).toBe(sha256(second));
    expect(lines).toEqual([
      expect.stringMatching(/^retrying CREATE .*\/data\/\.env\.pex\..*\(attempt 2 of 5\).*503/),
    ]);
    expect(namesInData()).toEqual(["env.pex"]);
  });
});
