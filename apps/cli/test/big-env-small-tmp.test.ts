import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  createVenv,
  machinePython,
  type RunningS3rver,
  s3ClientConfig,
  s3Environment,
  startS3rver,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const payloadFiles = 4;
const payloadFileBytes = 40 * MiB;

let root: string;
let smallTmp: string;
let venv: Venv;
let s3: RunningS3rver;
let client: S3Client;

/** Installs `bulky`, 160 MiB of random bytes (nothing for deflate to gain), straight into site-packages. */
async function installBulkyDistribution(sitePackages: string): Promise<void> {
  const records: string[] = [];
  const write = async (relative: string, data: Buffer) => {
    await mkdir(join(sitePackages, relative, ".."), { recursive: true });
    await writeFile(join(sitePackages, relative), data);
    const digest = createHash("sha256").update(data).digest("base64url");
    records.push(`${relative},sha256=${digest},${data.length}`);
  };
  await write("bulky/__init__.py", Buffer.from("SIZE = 'big'\n"));
  for (let index = 0; index < payloadFiles; index++) {
    await write(`bulky/weights-${index}.bin`, randomBytes(payloadFileBytes));
  }
  await write(
    "bulky-1.0.dist-info/METADATA",
    Buffer.from("Metadata-Version: 2.1\nName: bulky\nVersion: 1.0\n"),
  );
  await write("bulky-1.0.dist-info/top_level.txt", Buffer.from("bulky\n"));
  records.push("bulky-1.0.dist-info/RECORD,,");
  await writeFile(join(sitePackages, "bulky-1.0.dist-info/RECORD"), `${records.join("\n")}\n`);
}

async function getObject(key: string): Promise<Buffer> {
  const object = await client.send(new GetObjectCommand({ Bucket: "team", Key: key }));
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-big-env-"));
  smallTmp = join(root, "tmp");
  await mkdir(smallTmp);
  // A 32 MB tmpfs: a fifth of the archive, as on gateways with a small /tmp. The machines that run the tests are root.
  await run("mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", smallTmp]);
  [venv, s3] = await Promise.all([
    createVenv(machinePython, join(root, "venv")),
    startS3rver({ buckets: ["team"] }),
  ]);
  await installBulkyDistribution(venv.sitePackages);
  client = new S3Client(s3ClientConfig(s3));
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  await run("umount", [smallTmp]).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe("upload of an environment larger than the temporary directory", () => {
  it("streams a 160 MiB environment to S3 with TMPDIR on a 32 MB tmpfs, straight to the final key", async () => {
    const result = await runCli(
      ["upload", "--python", venv.python, "--package-path", "s3://team/envs/big/env.pex", "--json"],
      { env: baseEnv({ ...s3Environment(s3), TMPDIR: smallTmp }) },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const archive = await getObject("envs/big/env.pex");
    const metadata = JSON.parse((await getObject("envs/big/env.json")).toString()) as {
      sha256: string;
      size: number;
    };
    expect(archive.length).toBeGreaterThan(payloadFiles * payloadFileBytes);
    expect(metadata).toMatchObject({
      size: archive.length,
      sha256: createHash("sha256").update(archive).digest("hex"),
    });
    const requests = await s3.requests();
    expect(requests.filter((request) => request.copySource !== undefined)).toEqual([]);
    const archiveWrites = requests.filter(
      (request) => request.method === "PUT" && request.url.pathname === "/team/envs/big/env.pex",
    );
    expect(archiveWrites.length).toBeGreaterThan(1); // the parts of one multipart upload
    expect(await readdir(smallTmp)).toEqual([]);
  }, 300_000);
});
