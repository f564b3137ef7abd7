import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import {
  buildWheel,
  createCondaStylePrefix,
  execute,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import type { PackedEnv, UploadedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";
import { type CliS3, startCliS3 } from "./cli-s3.js";
import { createFixtureVenv } from "./fixture-env.js";

let root: string;
let venv: Venv;
let conda: Venv;
let s3: CliS3;

/** Downloads with a second, independent S3 client and unpacks as YARN does: into `<node>/environment`. */
async function downloadAndUnpack(key: string, node: string): Promise<string> {
  const answer = await s3.client.send(new GetObjectCommand({ Bucket: "team", Key: key }));
  const archive = join(root, node, key.split("/").at(-1) ?? "archive");
  const environment = join(root, node, "environment");
  await mkdir(environment, { recursive: true });
  await writeFile(
    archive,
    await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  await run("tar", ["-xzf", archive, "-C", environment]);
  return environment;
}

async function upload(args: readonly string[]): Promise<UploadedEnv> {
  const outcome = await runCli(["upload", ...args, "--json"], { env: s3.env() });
  expect(outcome).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(outcome.stdout) as UploadedEnv;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-env-archives-"));
  s3 = await startCliS3();
  venv = await createFixtureVenv(root);
  conda = await createCondaStylePrefix(join(root, "conda", "envs", "team"), [], undefined, {
    recordPython: true,
  });
  const wheels = join(root, "conda-wheels");
  await buildWheel(
    { name: "condapure", version: "1.0", files: { "condapure/__init__.py": 'WHERE = "conda"\n' } },
    wheels,
  );
  await pipInstall(conda, ["condapure"], [wheels]);
}, 180_000);

afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("cluster-pack upload --packer venv|conda to S3 (s3rver)", () => {
  it("uploads a venv archive with its interpreter that runs, unpacked elsewhere, with the editable zip", async () => {
    const result = await upload([
      "--python",
      venv.python,
      "--packer",
      "venv",
      "--with-python",
      "--package-path",
      "s3://team/envs/venv.tar.gz",
    ]);
    expect(result).toMatchObject({
      packagePath: "s3://team/envs/venv.tar.gz",
      packer: "venv",
      uploaded: true,
      metadata: { format: "venv", with_python: true },
    });
    expect(result.editable.map((zip) => zip.uri)).toEqual(["s3://team/envs/venv_editable/devpkg.zip"]);
    const environment = await downloadAndUnpack("envs/venv.tar.gz", "venv-node");
    const editableZip = join(root, "venv-node", "devpkg.zip");
    const zip = await s3.client.send(
      new GetObjectCommand({ Bucket: "team", Key: "envs/venv_editable/devpkg.zip" }),
    );
    await writeFile(
      editableZip,
      await (zip.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    const outcome = await execute(
      join(environment, "bin", "python"),
      [
        "-c",
        "import sys, purepkg, devpkg; print(sys.prefix == sys.base_prefix, purepkg.VALUE, devpkg.STATE)",
      ],
      {
        env: baseEnv({ PYTHONPATH: editableZip }),
      },
    );
    expect(outcome).toMatchObject({ code: 0, stdout: "True wheel dev\n" });
    expect(
      (
        await upload([
          "--python",
          venv.python,
          "--packer",
          "venv",
          "--with-python",
          "--package-path",
          "s3://team/envs/venv.tar.gz",
        ])
      ).uploaded,
    ).toBe(false);
  });

  it("uploads a conda archive whose Python runs after conda-unpack", async () => {
    const result = await upload([
      "--python",
      conda.python,
      "--packer",
      "conda",
      "--package-path",
      "s3://team/envs/conda.tar.gz",
    ]);
    expect(result).toMatchObject({
      packer: "conda",
      uploaded: true,
      metadata: { format: "conda", with_python: true },
    });
    const environment = await downloadAndUnpack("envs/conda.tar.gz", "conda-node");
    expect(await execute(join(environment, "bin", "conda-unpack"), [], { env: baseEnv() })).toMatchObject({
      code: 0,
    });
    const outcome = await execute(
      join(environment, "bin", "python"),
      ["-c", "import sys, condapure; print(sys.prefix, condapure.WHERE)"],
      {
        env: baseEnv(),
      },
    );
    expect(outcome).toMatchObject({ code: 0, stdout: `${environment} conda\n` });
  });

  it("tells Spark to unpack the archive as environment and run environment/bin/python", async () => {
    const outcome = await runCli(
      ["upload", "--python", venv.python, "--package-path", "s3://team/envs/venv.tar.gz", "--with-python"],
      {
        env: s3.env(),
      },
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain("spark.yarn.dist.archives=s3a://team/envs/venv.tar.gz#environment\n");
    expect(outcome.stdout).toContain("PYSPARK_PYTHON=environment/bin/python\n");
  });
});

describe("cluster-pack pack with venv and conda settings", () => {
  it("reads packer, format and with-python from [tool.cluster-pack]", async () => {
    const project = join(root, "project");
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, "pyproject.toml"),
      `[tool.cluster-pack]\npython = ${JSON.stringify(venv.python)}\npacker = "venv"\nformat = "zip"\nwith-python = true\n`,
    );
    const outcome = await runCli(["pack", "--output", "out/env.zip", "--json"], { cwd: project });
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    const packed = JSON.parse(outcome.stdout) as PackedEnv;
    expect(packed).toMatchObject({ packer: "venv", format: "zip", output: join(project, "out", "env.zip") });
    expect(packed.cacheKey.with_python).toBe(true);
    expect((await readFile(packed.output)).subarray(0, 2).toString("latin1")).toBe("PK");
  });

  it("refuses a relative --dest-prefix as a usage error", async () => {
    const outcome = await runCli([
      "pack",
      "--python",
      conda.python,
      "--output",
      join(root, "c.tar.gz"),
      "--dest-prefix",
      "envs/x",
    ]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.split("\n")[0]).toBe('error: --dest-prefix "envs/x" is not an absolute path');
  });

  it("refuses --dest-prefix for a venv archive in one line", async () => {
    const outcome = await runCli([
      "pack",
      "--python",
      venv.python,
      "--output",
      join(root, "v.tar.gz"),
      "--dest-prefix",
      "/opt/env",
    ]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.split("\n")[0]).toBe(
      "error: destPrefix is for conda archives, not the venv packer",
    );
  });
});

describe("cluster-pack config with a conda archive at the default path", () => {
  it("finds the archive upload --packer conda put there, named after the conda environment", async () => {
    const env = baseEnv({ CLUSTER_PACK_STORE: join(root, "default-store"), C_PACK_USER: "ann" });
    const uploaded = await runCli(["upload", "--python", conda.python, "--packer", "conda", "--quiet"], {
      env,
    });
    expect(uploaded).toMatchObject({ code: 0 });
    const packagePath = uploaded.stdout.trim();
    expect(packagePath).toMatch(/\/default-store\/user\/ann\/envs\/team_[0-9a-f]{7}\.tar\.gz$/);
    const outcome = await runCli(
      ["config", "yarn", "--python", conda.python, "--packer", "conda", "--module", "condapure", "--json"],
      { env },
    );
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    const spec = JSON.parse(outcome.stdout);
    expect(spec.services.job.files.environment).toMatchObject({ source: packagePath, type: "archive" });
  });
});
