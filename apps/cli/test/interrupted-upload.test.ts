import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { buildWheel, pipInstall, type Venv } from "@cluster-pack/testkit";
import type { UploadedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, runCli } from "./cli-process.js";
import { type CliS3, startCliS3 } from "./cli-s3.js";
import { createFixtureVenv } from "./fixture-env.js";

let root: string;
let venv: Venv;
let s3: CliS3;
const packagePath = "s3://team/envs/crash/env.pex";

async function getObject(key: string): Promise<Buffer> {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: "team", Key: key }));
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** The archive and the metadata beside it, checked against each other. */
async function storedPair() {
  const archive = await getObject("envs/crash/env.pex");
  const metadata = JSON.parse((await getObject("envs/crash/env.json")).toString()) as {
    sha256: string;
    size: number;
    package_installed: string[];
  };
  return { archive, metadata, sha256: createHash("sha256").update(archive).digest("hex") };
}

/** Starts an upload and SIGKILLs it as soon as it reports sending the archive. */
function uploadAndKillMidway(): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [cliPath, "--verbose", "upload", "--python", venv.python, "--package-path", packagePath],
      { env: s3.env(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      if (!killed && /^uploading /m.test(stderr)) {
        killed = child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (_code, signal) => resolve({ killed: signal === "SIGKILL", stderr }));
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-crash-"));
  [venv, s3] = await Promise.all([createFixtureVenv(root), startCliS3()]);
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("an upload killed midway (SIGKILL)", () => {
  it("leaves the previous archive and metadata in place and consistent; the rerun completes", async () => {
    const first = await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"], {
      env: s3.env(),
    });
    expect(first.code).toBe(0);
    const before = await storedPair();
    expect(before.sha256).toBe(before.metadata.sha256);

    // A package big enough (≈ 40 MB, incompressible) that the new archive takes a while to upload.
    const wheels = join(root, "big-wheels");
    await buildWheel(
      {
        name: "bigpkg",
        version: "1.0",
        files: {
          "bigpkg/__init__.py": "",
          "bigpkg/blob.py": `DATA = "${randomBytes(30 * 1024 * 1024).toString("base64")}"\n`,
        },
      },
      wheels,
    );
    await pipInstall(venv, ["bigpkg"], [wheels]);

    const interrupted = await uploadAndKillMidway();
    expect(interrupted.killed).toBe(true);

    const after = await storedPair();
    expect(after.sha256).toBe(before.sha256);
    expect(after.metadata).toEqual(before.metadata);
    expect(after.metadata.size).toBe(after.archive.length);
    expect(after.metadata.package_installed.some((r) => r.startsWith("bigpkg"))).toBe(false);
    // Nothing half-written under the final names.
    const listing = await s3.client.send(new ListObjectsV2Command({ Bucket: "team", Prefix: "envs/crash/" }));
    const visible = (listing.Contents ?? [])
      .map((object) => object.Key ?? "")
      .filter((key) => !key.endsWith("/") && !key.split("/").pop()?.startsWith("."));
    expect(visible.sort()).toEqual([
      "envs/crash/env.json",
      "envs/crash/env.pex",
      "envs/crash/env_editable/devpkg.zip",
      "envs/crash/env_editable/editable_packages_index",
    ]);

    const rerun = await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"], {
      env: s3.env(),
    });
    expect(rerun.stderr).toBe("");
    expect((JSON.parse(rerun.stdout) as UploadedEnv).uploaded).toBe(true);
    const final = await storedPair();
    expect(final.sha256).toBe(final.metadata.sha256);
    expect(final.metadata.package_installed).toContain("bigpkg==1.0");
  }, 180_000);
});
