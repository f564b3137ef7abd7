import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { metadataPathOf } from "@cluster-pack/env-usage";
import { type FileSystem, resolveFileSystem } from "@cluster-pack/fs";
import {
  type FaultProxy,
  type RunningS3rver,
  type RunningTestStore,
  s3StorageOptions,
  startFaultProxy,
  startS3rver,
  startWebHdfsServer,
  testStores,
  type WebHdfsServer,
} from "@cluster-pack/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveMetadata, readArchiveMetadata } from "../src/archive-metadata.js";
import { publishArchive, sha256OfFile, type WrittenArchive } from "../src/publish.js";

const MiB = 1024 * 1024;

const metadataOf = (fingerprint: string) => ({
  package_installed: [],
  platform: "linux_x86_64",
  python_version: "3.11.2",
  fingerprint,
  format: "pex" as const,
  tool: "test",
});

/** Writes `chunks` into the destination as a packer does: waiting for room when the upload lags behind. */
async function writeChunks(destination: Writable, chunks: Iterable<Buffer>): Promise<WrittenArchive> {
  const hash = createHash("sha256");
  let size = 0;
  for (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
    if (!destination.write(chunk)) await once(destination, "drain");
  }
  return { sha256: hash.digest("hex"), size };
}

function* randomChunks(count: number, size = MiB): Generator<Buffer> {
  for (let index = 0; index < count; index++) yield randomBytes(size);
}

async function readStored(fs: FileSystem, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await fs.open(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The previous archive, byte for byte, with its metadata, and nothing else in its directory. */
async function expectPreviousIntact(fs: FileSystem, path: string, previous: ArchiveMetadata) {
  expect(
    createHash("sha256")
      .update(await readStored(fs, path))
      .digest("hex"),
  ).toBe(previous.sha256);
  expect(await readArchiveMetadata(fs, path)).toEqual(previous);
  const directory = path.slice(0, path.lastIndexOf("/"));
  expect((await fs.ls(directory)).map((entry) => entry.name)).toEqual(["env.json", "env.pex"]);
}

describe.each(testStores)("publishing an archive on $name", (store) => {
  let root: string;
  let running: RunningTestStore;
  const opened: FileSystem[] = [];
  const at = async (name: string) => {
    const resolved = await resolveFileSystem(`${running.directory}/${name}`, running.fsArgs);
    opened.push(resolved.fs);
    return resolved;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "cp-publication-"));
    running = await store.start(root);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(opened.map((fs) => fs.close?.()));
    await running?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("streams the packer's bytes to the final path and records their sha256 and size", async () => {
    const { fs, path } = await at("streamed/env.pex");
    const sent = [...randomChunks(20)];
    const metadata = await publishArchive({
      fs,
      path,
      archive: { write: (destination) => writeChunks(destination, sent) },
      metadata: metadataOf("streamed"),
    });

    const stored = await readStored(fs, path);
    expect(stored.equals(Buffer.concat(sent))).toBe(true);
    expect(metadata).toMatchObject({
      size: 20 * MiB,
      sha256: createHash("sha256").update(stored).digest("hex"),
    });
    expect(await readArchiveMetadata(fs, path)).toEqual(metadata);
    // How each store checked the stored bytes before they replaced anything.
    const checksum = metadata.checksum;
    if (store.name.startsWith("a local"))
      expect(checksum).toEqual({ algorithm: "sha256", value: metadata.sha256 });
    else if (store.name.startsWith("S3"))
      expect(checksum).toEqual({ algorithm: "md5", value: createHash("md5").update(stored).digest("hex") });
    else expect(checksum?.algorithm).toMatch(/^MD5-of-\d+MD5-of-512CRC32C$/);
    const { fs: directoryFs, path: directory } = await at("streamed");
    expect((await directoryFs.ls(directory)).map((entry) => entry.name)).toEqual(["env.json", "env.pex"]);
  }, 60_000);

  it("keeps the previous archive and metadata, and nothing else, when packing fails midway", async () => {
    const { fs, path } = await at("failed/env.pex");
    const previousFile = join(root, "previous.pex");
    await writeFile(previousFile, randomBytes(3 * MiB));
    const previous = await publishArchive({
      fs,
      path,
      archive: { file: previousFile, sha256: await sha256OfFile(previousFile) },
      metadata: metadataOf("previous"),
    });

    const broken = new Error("packing broke after 12 MiB");
    const publishing = publishArchive({
      fs,
      path,
      archive: {
        write: async (destination) => {
          await writeChunks(destination, randomChunks(12));
          throw broken;
        },
      },
      metadata: metadataOf("next"),
    });

    await expect(publishing).rejects.toBe(broken);
    await expectPreviousIntact(fs, path, previous);
  }, 60_000);
});

describe("publishing on S3", () => {
  let s3: RunningS3rver;
  let fs: FileSystem;

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ["envs"] });
    const options = s3StorageOptions(s3);
    // Big parts keep the > 5 GiB upload at about 80 requests.
    ({ fs } = await resolveFileSystem("s3://envs", {
      s3: { ...options.s3, partSize: 64 * MiB, queueSize: 2 },
    }));
  }, 60_000);

  afterAll(async () => {
    await fs?.close?.();
    await s3?.stop();
  });

  it("writes the archive to its final key only: no temporary key, no copy", async () => {
    const path = "envs/team/env.pex";
    for (const round of [1, 2]) {
      await publishArchive({
        fs,
        path,
        archive: { write: (destination) => writeChunks(destination, randomChunks(70)) },
        metadata: metadataOf(`round ${round}`),
      });
    }
    const writes = (await s3.requests()).filter((request) => ["PUT", "POST"].includes(request.method));
    expect(writes.filter((request) => request.copySource !== undefined)).toEqual([]);
    const keys = new Set(writes.map((request) => decodeURIComponent(request.url.pathname)));
    expect([...keys].sort()).toEqual(
      ["/envs/team/", `/${metadataPathOf(path)}`, "/envs/team/env.pex"].sort(),
    );
    // 70 MiB in 64 MiB parts: a multipart upload each round.
    expect(writes.filter((request) => request.url.searchParams.has("partNumber"))).toHaveLength(4);
  }, 120_000);

  it("publishes more than 5 GiB, the most one copy could move, without a copy", async () => {
    const path = "envs/huge/env.pex";
    const size = 5 * 1024 * MiB + MiB;
    const zeros = Buffer.alloc(8 * MiB);
    function* generated(): Generator<Buffer> {
      for (let left = size; left > 0; left -= zeros.length)
        yield zeros.subarray(0, Math.min(left, zeros.length));
    }
    const expected = createHash("sha256");
    for (const chunk of generated()) expected.update(chunk);

    const metadata = await publishArchive({
      fs,
      path,
      archive: { write: (destination) => writeChunks(destination, generated()) },
      metadata: metadataOf("huge"),
    });

    expect(metadata).toMatchObject({ size, sha256: expected.digest("hex") });
    expect(await fs.stat(path)).toMatchObject({ size });
    const requests = await s3.requests();
    expect(requests.filter((request) => request.copySource !== undefined)).toEqual([]);
    expect(await s3.unfinishedUploads("envs")).toEqual([]);
    await fs.rm(path);
  }, 600_000);
});

describe("a network fault in the middle of a streamed upload", () => {
  const stopping: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stopping.splice(0).reverse()) await stop();
  });

  /** Publishes a first archive, then a streamed 20 MiB one through the proxy, whose fault must stop it. */
  async function publishThroughFault(direct: FileSystem, proxied: FileSystem, path: string) {
    const previousFile = join(await mkdtemp(join(tmpdir(), "cp-fault-")), "previous.pex");
    stopping.push(() => rm(join(previousFile, ".."), { recursive: true, force: true }));
    await writeFile(previousFile, randomBytes(MiB));
    const previous = await publishArchive({
      fs: direct,
      path,
      archive: { file: previousFile, sha256: await sha256OfFile(previousFile) },
      metadata: metadataOf("previous"),
    });
    const failure = await publishArchive({
      fs: proxied,
      path,
      archive: { write: (destination) => writeChunks(destination, randomChunks(20)) },
      metadata: metadataOf("next"),
    }).catch((error: unknown) => error);
    return { previous, failure };
  }

  async function s3Behind(): Promise<{
    s3: RunningS3rver;
    proxy: FaultProxy;
    direct: FileSystem;
    proxied: FileSystem;
  }> {
    const s3 = await startS3rver({ buckets: ["envs"] });
    const proxy = await startFaultProxy({ target: s3.endpoint });
    // One attempt per request: the fault is not retried away.
    const options = { ...s3StorageOptions(s3).s3, partSize: 5 * MiB, maxAttempts: 1 };
    const { fs: direct } = await resolveFileSystem("s3://envs", { s3: options });
    const { fs: proxied } = await resolveFileSystem("s3://envs", { s3: { ...options, endpoint: proxy.url } });
    stopping.push(
      s3.stop,
      proxy.close,
      async () => direct.close?.(),
      async () => proxied.close?.(),
    );
    return { s3, proxy, direct, proxied };
  }

  const isPart = (number: number) => (url: URL) =>
    url.searchParams.get("partNumber") === String(number) && url.searchParams.has("uploadId");

  it("on S3 (part 3 reset), keeps the previous archive and metadata and leaves no parts", async () => {
    const { s3, proxy, direct, proxied } = await s3Behind();
    proxy.addFault({ method: "PUT", url: isPart(3), action: { kind: "reset", afterBytes: MiB } });
    const { previous, failure } = await publishThroughFault(direct, proxied, "envs/team/env.pex");

    expect(failure).toMatchObject({ code: "UPLOAD_FAILED" });
    expect((failure as Error).message).toMatch(
      /^s3:\/\/envs\/team\/env\.pex: uploading the archive failed: lost the connection/,
    );
    await expectPreviousIntact(direct, "envs/team/env.pex", previous);
    expect(await s3.unfinishedUploads("envs")).toEqual([]);
  }, 120_000);

  it("on S3, says so when the failed upload cannot be aborted either: its parts wait for the lifecycle rule", async () => {
    const { s3, proxy, direct, proxied } = await s3Behind();
    proxy.addFault({ method: "PUT", url: isPart(2), action: { kind: "status", status: 500 } });
    proxy.addFault({
      method: "DELETE",
      url: (url) => url.searchParams.has("uploadId"),
      action: { kind: "status", status: 503 },
    });
    const { previous, failure } = await publishThroughFault(direct, proxied, "envs/team/env.pex");

    expect((failure as Error).message).toMatch(
      /aborting multipart upload \S+ failed too \(.*\): its parts stay until the bucket's lifecycle rule removes them$/,
    );
    await expectPreviousIntact(direct, "envs/team/env.pex", previous);
    expect(await s3.unfinishedUploads("envs")).toHaveLength(1);
  }, 120_000);

  /** The stored archive, its metadata and the bytes sent agree, and the metadata says how the store checked them. */
  async function expectConsistentPair(fs: FileSystem, path: string, sent: WrittenArchive, algorithm: RegExp) {
    const stored = createHash("sha256")
      .update(await readStored(fs, path))
      .digest("hex");
    const metadata = await readArchiveMetadata(fs, path);
    expect(stored).toBe(sent.sha256);
    expect(metadata).toMatchObject({ sha256: sent.sha256, size: sent.size });
    expect(metadata?.checksum?.algorithm).toMatch(algorithm);
  }

  /** Publishes 12 MiB streamed; returns what was sent. */
  async function publishStreamed(fs: FileSystem, path: string) {
    let sent: WrittenArchive | undefined;
    await publishArchive({
      fs,
      path,
      archive: {
        write: async (destination) => {
          sent = await writeChunks(destination, randomChunks(12));
          return sent;
        },
      },
      metadata: metadataOf("flipped"),
    });
    if (!sent) throw new Error("nothing was written");
    return sent;
  }

  it("on S3, a bit flipped in a part or in the metadata is caught and sent again: the pair describes the bytes sent", async () => {
    const { s3, proxy, direct } = await s3Behind();
    // Retries on (the default policy), unlike `proxied`.
    const retrying = (
      await resolveFileSystem("s3://envs", {
        s3: { ...s3StorageOptions(s3).s3, endpoint: proxy.url, partSize: 5 * MiB },
      })
    ).fs;
    stopping.push(async () => retrying.close?.());
    proxy.addFault({ method: "PUT", url: isPart(2), action: { kind: "flip", atByte: 12_345 } });
    proxy.addFault({
      method: "PUT",
      url: (url) => url.pathname.endsWith("/env.json"),
      action: { kind: "flip", atByte: 10 },
    });
    const sent = await publishStreamed(retrying, "envs/team/env.pex");
    expect(proxy.requests.filter((request) => request.fault === "flip")).toHaveLength(2);
    // s3rver gives a multipart object the MD5 of its whole bytes as ETag (S3 gives the MD5 of the parts' MD5s).
    await expectConsistentPair(direct, "envs/team/env.pex", sent, /^md5$/);
  }, 120_000);

  it("on WebHDFS, a bit flipped on its way to the datanode fails the upload and keeps the previous pair", async () => {
    const server: WebHdfsServer = await startWebHdfsServer({
      directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
    });
    const proxy = await startFaultProxy({ target: server.namenodeUrl });
    const direct = (
      await resolveFileSystem(server.namenodeUrl.replace(/^http/, "webhdfs"), { hdfs: { user: "bob" } })
    ).fs;
    const proxied = (
      await resolveFileSystem(proxy.url.replace(/^http/, "webhdfs"), { hdfs: { user: "bob" } })
    ).fs;
    stopping.push(
      server.stop,
      proxy.close,
      async () => direct.close?.(),
      async () => proxied.close?.(),
    );
    const isDatanodeWrite = (name: string) => (url: URL) =>
      url.searchParams.get("op") === "CREATE" &&
      url.origin === server.datanodeUrl &&
      url.pathname.includes(name);
    proxy.addFault({
      method: "PUT",
      url: isDatanodeWrite("env.pex"),
      action: { kind: "flip", atByte: 3 * MiB },
    });
    const { previous, failure } = await publishThroughFault(direct, proxied, "/user/bob/envs/env.pex");
    expect(failure).toMatchObject({ code: "UPLOAD_FAILED" });
    expect((failure as Error).message).toMatch(
      /^webhdfs:\/\/\S+env\.pex: uploading the archive failed: [^\n]*differ/,
    );
    await expectPreviousIntact(direct, "/user/bob/envs/env.pex", previous);

    // The metadata is small and in memory: a flip there is caught and it is written again.
    proxy.addFault({ method: "PUT", url: isDatanodeWrite("env.json"), action: { kind: "flip", atByte: 20 } });
    const sent = await publishStreamed(proxied, "/user/bob/envs/env.pex");
    await expectConsistentPair(direct, "/user/bob/envs/env.pex", sent, /^MD5-of-\d+MD5-of-\d+CRC32C$/);
  }, 120_000);

  it("on WebHDFS (datanode connection reset after 5 MiB), keeps the previous archive and metadata, nothing beside", async () => {
    const server: WebHdfsServer = await startWebHdfsServer({
      directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
    });
    const proxy = await startFaultProxy({ target: server.namenodeUrl });
    const direct = (
      await resolveFileSystem(server.namenodeUrl.replace(/^http/, "webhdfs"), { hdfs: { user: "bob" } })
    ).fs;
    const proxied = (
      await resolveFileSystem(proxy.url.replace(/^http/, "webhdfs"), { hdfs: { user: "bob" } })
    ).fs;
    stopping.push(
      server.stop,
      proxy.close,
      async () => direct.close?.(),
      async () => proxied.close?.(),
    );
    proxy.addFault({
      method: "PUT",
      url: (url) => url.searchParams.get("op") === "CREATE" && url.origin === server.datanodeUrl,
      action: { kind: "reset", afterBytes: 5 * MiB },
    });
    const { previous, failure } = await publishThroughFault(direct, proxied, "/user/bob/envs/env.pex");

    expect(failure).toMatchObject({ code: "UPLOAD_FAILED" });
    expect((failure as Error).message).toContain("lost the connection to datanode");
    await expectPreviousIntact(direct, "/user/bob/envs/env.pex", previous);
  }, 120_000);
});
