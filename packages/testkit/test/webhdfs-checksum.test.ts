import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startWebHdfsServer, type WebHdfsServer } from "../src/webhdfs-server.js";

const MiB = 1024 * 1024;
let server: WebHdfsServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** CRC-32C bit by bit (no table), to check the server against a second, plainer implementation. */
function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();

/** HDFS's MD5-of-MD5-of-CRC32C of `content`, written out step by step from Hadoop's description. */
function expectedChecksum(content: Buffer, blockSize: number, bytesPerCrc = 512) {
  const blockMd5s: Buffer[] = [];
  for (let start = 0; start < content.length; start += blockSize) {
    const block = content.subarray(start, start + blockSize);
    const crcs: Buffer[] = [];
    for (let at = 0; at < block.length; at += bytesPerCrc) {
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(bitwiseCrc32c(block.subarray(at, at + bytesPerCrc)));
      crcs.push(crc);
    }
    blockMd5s.push(md5(Buffer.concat(crcs)));
  }
  // MD5Hash.digest(DataOutputBuffer.getData()): the whole backing array, 32 bytes doubling, zero-filled.
  let capacity = 32;
  while (capacity < blockMd5s.length * 16) capacity *= 2;
  const buffer = Buffer.alloc(capacity);
  Buffer.concat(blockMd5s).copy(buffer);
  const crcPerBlock = blockMd5s.length > 1 ? blockSize / bytesPerCrc : 0;
  const head = Buffer.alloc(12);
  head.writeInt32BE(bytesPerCrc, 0);
  head.writeBigInt64BE(BigInt(crcPerBlock), 4);
  return {
    algorithm: `MD5-of-${crcPerBlock}MD5-of-${bytesPerCrc}CRC32C`,
    bytes: Buffer.concat([head, md5(buffer)]).toString("hex"),
    length: 28,
  };
}

async function store(webhdfs: WebHdfsServer, path: string, content: Buffer): Promise<void> {
  const created = await fetch(`${webhdfs.namenodeUrl}/webhdfs/v1${path}?op=CREATE&user.name=hdfs`, {
    method: "PUT",
    redirect: "manual",
  });
  const location = created.headers.get("location") as string;
  const written = await fetch(location, { method: "PUT", body: content });
  expect(written.status).toBe(201);
}

async function checksumOf(webhdfs: WebHdfsServer, path: string) {
  const asked = await fetch(`${webhdfs.namenodeUrl}/webhdfs/v1${path}?op=GETFILECHECKSUM&user.name=hdfs`, {
    redirect: "manual",
  });
  expect(asked.status).toBe(307);
  const location = new URL(asked.headers.get("location") as string);
  expect(location.origin).toBe(webhdfs.datanodeUrl);
  const answer = await fetch(location);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { FileChecksum: unknown }).FileChecksum;
}

const renameUrl = (webhdfs: WebHdfsServer, from: string, to: string, options?: string) =>
  `${webhdfs.namenodeUrl}/webhdfs/v1${from}?op=RENAME&destination=${to}&user.name=hdfs${options ? `&renameoptions=${options}` : ""}`;

describe("GETFILECHECKSUM of the test WebHDFS server", () => {
  it("the bitwise CRC-32C of the check matches the standard check value", () => {
    expect(bitwiseCrc32c(Buffer.from("123456789")).toString(16)).toBe("e3069283");
  });

  it("redirects to the datanode, which answers MD5-of-0MD5-of-512CRC32C for a one-block file", async () => {
    server = await startWebHdfsServer();
    const content = randomBytes(100_000);
    await store(server, "/tmp/one-block", content);
    expect(await checksumOf(server, "/tmp/one-block")).toEqual(expectedChecksum(content, 128 * MiB));
  });

  it("counts the CRCs of the first block in crcPerBlock for a file of several blocks", async () => {
    server = await startWebHdfsServer({ blockSize: MiB });
    const content = randomBytes(3.5 * MiB);
    await store(server, "/tmp/blocks", content);
    const checksum = await checksumOf(server, "/tmp/blocks");
    expect(checksum).toEqual(expectedChecksum(content, MiB));
    expect(checksum).toMatchObject({ algorithm: "MD5-of-2048MD5-of-512CRC32C" });
    const status = server.namespace.getFileStatus("hdfs", "/tmp/blocks");
    expect(status.blockSize).toBe(MiB);
  });

  it("answers HDFS's fixed checksum for an empty file", async () => {
    server = await startWebHdfsServer();
    await store(server, "/tmp/empty", Buffer.alloc(0));
    expect(await checksumOf(server, "/tmp/empty")).toEqual({
      algorithm: "MD5-of-0MD5-of-0CRC32",
      bytes: "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51",
      length: 28,
    });
  });

  it("names the CRC32 type when the cluster keeps CRC32 checksums", async () => {
    server = await startWebHdfsServer({ checksumType: "CRC32" });
    await store(server, "/tmp/gzip-crc", randomBytes(1000));
    expect(await checksumOf(server, "/tmp/gzip-crc")).toMatchObject({ algorithm: "MD5-of-0MD5-of-512CRC32" });
  });
});

describe("RENAME with renameoptions on the test WebHDFS server", () => {
  it("replaces an existing file with OVERWRITE and answers an empty 200", async () => {
    server = await startWebHdfsServer();
    await store(server, "/tmp/target", Buffer.from("old"));
    await store(server, "/tmp/source", Buffer.from("new"));
    const answer = await fetch(renameUrl(server, "/tmp/source", "/tmp/target", "OVERWRITE"), {
      method: "PUT",
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe("");
    expect(server.namespace.getFileStatus("hdfs", "/tmp/target").length).toBe(3);
    expect(server.namespace.listStatus("hdfs", "/tmp").statuses.map((s) => s.pathSuffix)).toEqual(["target"]);
  });

  it("refuses an existing destination with NONE as FileAlreadyExistsException, and answers false without options", async () => {
    server = await startWebHdfsServer();
    await store(server, "/tmp/target", Buffer.from("old"));
    await store(server, "/tmp/source", Buffer.from("new"));
    const refused = await fetch(renameUrl(server, "/tmp/source", "/tmp/target", "NONE"), { method: "PUT" });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      RemoteException: {
        exception: "FileAlreadyExistsException",
        message: "rename destination /tmp/target already exists",
      },
    });
    const plain = await fetch(renameUrl(server, "/tmp/source", "/tmp/target"), { method: "PUT" });
    expect(await plain.json()).toEqual({ boolean: false });
  });

  it("ignores renameoptions as HttpFS, whose RENAME takes only a destination", async () => {
    server = await startWebHdfsServer({ httpfs: true });
    const write = (path: string, content: string) =>
      fetch(`${server?.namenodeUrl}/webhdfs/v1${path}?op=CREATE&data=true&user.name=hdfs`, {
        method: "PUT",
        headers: { "Content-Type": "application/octet-stream" },
        body: content,
      });
    await write("/tmp/target", "old");
    await write("/tmp/source", "newer");
    const answer = await fetch(renameUrl(server, "/tmp/source", "/tmp/target", "OVERWRITE"), {
      method: "PUT",
    });
    expect(await answer.json()).toEqual({ boolean: false });
    expect(server.namespace.getFileStatus("hdfs", "/tmp/target").length).toBe(3);
  });

  it("refuses a missing source with FileNotFoundException", async () => {
    server = await startWebHdfsServer();
    const answer = await fetch(renameUrl(server, "/tmp/nothing", "/tmp/target", "OVERWRITE"), {
      method: "PUT",
    });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ RemoteException: { exception: "FileNotFoundException" } });
  });
});
