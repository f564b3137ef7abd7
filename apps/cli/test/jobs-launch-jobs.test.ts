// Jobs that launch jobs: the CLI, run from inside a shipped environment's own Python in a container laid out as
// YARN lays it out, re-ships that environment (and the editable code the job was started with), and `config`
// names what it re-shipped.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ContainerFiles,
  execute,
  type LocalizedContainer,
  localizeContainer,
  machinePython,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import type { UploadedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, cliPath, runCli } from "./cli-process.js";
import { createFixtureVenv } from "./fixture-env.js";

let root: string;
let venv: Venv;
let jobStore: string;
const containers: LocalizedContainer[] = [];

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

/** The files of a zip or tar(.gz), each with what tells two copies apart, read by Python's own zipfile and tarfile. */
const LIST_ARCHIVE = `import json, sys, tarfile, zipfile
path = sys.argv[1]
if zipfile.is_zipfile(path):
    files = ["%s %d" % (i.filename, i.CRC) for i in zipfile.ZipFile(path).infolist() if not i.is_dir()]
else:
    files = ["%s %s %d" % (m.name, m.type.decode(), m.size) for m in tarfile.open(path) if not m.isdir()]
print(json.dumps(sorted(files)))`;

const filesOf = async (archive: string) =>
  JSON.parse(await run(machinePython, ["-c", LIST_ARCHIVE, archive])) as string[];

/** A YARN container's environment: no venv, the job's user and store. */
const jobEnv = () =>
  baseEnv({ C_PACK_USER: "job", CLUSTER_PACK_STORE: jobStore, PEX_ROOT: join(root, "pex-root") });

/** Ships an environment from the launching machine, as a developer does. */
async function uploadFromHost(packagePath: string): Promise<UploadedEnv> {
  const outcome = await runCli(["upload", "--json", "--python", venv.python, "--package-path", packagePath]);
  expect(outcome.stderr).toBe("");
  return JSON.parse(outcome.stdout) as UploadedEnv;
}

/** Lays out the container YARN would: the environment under `name`, each editable zip unpacked, the index. */
async function container(uploaded: UploadedEnv, name: string, type: "file" | "archive"): Promise<string> {
  const files: ContainerFiles = { [name]: { source: uploaded.packagePath, type } };
  for (const editable of uploaded.editable)
    files[`${editable.name}.zip`] = { source: editable.uri, type: "archive" };
  if (uploaded.editableIndex)
    files.editable_packages_index = { source: uploaded.editableIndex, type: "file" };
  const localized = await localizeContainer(files);
  containers.push(localized);
  return localized.directory;
}

/**
 * Runs the CLI from inside the job: `python` (the archive's interpreter command, from the working directory) runs
 * code that starts `node cli.js <args>`, as a driver launching another job does.
 */
async function cliInsideJob(directory: string, python: readonly string[], args: readonly string[]) {
  const code = `import subprocess, sys; sys.exit(subprocess.call(${JSON.stringify([process.execPath, cliPath, ...args])}))`;
  const [command = "", ...rest] = python;
  const outcome = await execute(command, [...rest, "-c", code], { cwd: directory, env: jobEnv() });
  expect(outcome.stderr).toBe("");
  expect(outcome.code).toBe(0);
  return outcome.stdout;
}

/** The re-uploaded editable code is the job's: same files, the index beside it, and `config spark` ships both. */
async function expectEditableCodeReshipped(reshipped: UploadedEnv, original: UploadedEnv) {
  expect(reshipped.editable.map((editable) => editable.name)).toEqual(["devpkg"]);
  expect(await filesOf(reshipped.editable[0]?.uri ?? "")).toEqual(
    await filesOf(original.editable[0]?.uri ?? ""),
  );
  expect(await readFile(reshipped.editableIndex ?? "", "utf8")).toBe("devpkg\n");
}

async function expectConfigNames(directory: string, python: readonly string[], reshipped: UploadedEnv) {
  const { properties } = JSON.parse(await cliInsideJob(directory, python, ["config", "spark", "--json"])) as {
    properties: Record<string, string>;
  };
  const shipped = [properties["spark.yarn.dist.files"], properties["spark.yarn.dist.archives"]].join(",");
  expect(shipped).toContain(reshipped.packagePath);
  // The index goes with the zips, so that a job started by this one can ship the same code again.
  expect(properties["spark.yarn.dist.files"]).toContain(reshipped.editableIndex);
  expect(properties["spark.submit.pyFiles"]).toContain(reshipped.editable[0]?.uri);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-jobs-"));
  jobStore = join(root, "job-store");
  venv = await createFixtureVenv(root);
}, 180_000);

afterAll(async () => {
  for (const localized of containers) await localized.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("cluster-pack upload inside a running job", () => {
  it("inside env.pex: uploads the very same zipapp and the job's editable code; config spark names them", async () => {
    const original = await uploadFromHost(join(root, "store", "myenv.pex"));
    const directory = await container(original, "myenv.pex", "file");
    const python = [machinePython, "myenv.pex"];

    const elsewhere = join(root, "elsewhere", "copy.pex");
    const given = JSON.parse(
      await cliInsideJob(directory, python, ["upload", "--json", "--package-path", elsewhere]),
    ) as UploadedEnv;
    expect(given).toMatchObject({ packagePath: elsewhere, envName: "myenv", uploaded: true });
    expect(await sha256(elsewhere)).toBe(await sha256(original.packagePath));
    await expectEditableCodeReshipped(given, original);

    const reshipped = JSON.parse(await cliInsideJob(directory, python, ["upload", "--json"])) as UploadedEnv;
    expect(reshipped.packagePath).toBe(join(jobStore, "user", "job", "envs", "myenv.pex"));
    expect(await sha256(reshipped.packagePath)).toBe(await sha256(original.packagePath));
    await expectEditableCodeReshipped(reshipped, original);
    await expectConfigNames(directory, python, reshipped);
  }, 120_000);

  it("inside env.pex.zip unpacked as pyenv/: zips it back (same files) and uploads it as pyenv.pex.zip", async () => {
    const original = await uploadFromHost(join(root, "store", "big.pex.zip"));
    const directory = await container(original, "pyenv", "archive");
    const python = [machinePython, "pyenv/__main__.py"];

    const reshipped = JSON.parse(await cliInsideJob(directory, python, ["upload", "--json"])) as UploadedEnv;
    expect(reshipped).toMatchObject({
      packagePath: join(jobStore, "user", "job", "envs", "pyenv.pex.zip"),
      envName: "pyenv",
      packer: "pex.zip",
    });
    const shippedFiles = await filesOf(original.packagePath);
    expect(shippedFiles.some((file) => file.startsWith(".deps/purepkg/__init__.py "))).toBe(true);
    expect(await filesOf(reshipped.packagePath)).toEqual(shippedFiles);
    await expectEditableCodeReshipped(reshipped, original);
    await expectConfigNames(directory, python, reshipped);
  }, 120_000);

  it("inside a venv archive unpacked as environment/: tars it back (same files) and uploads it as environment.tar.gz", async () => {
    const original = await uploadFromHost(join(root, "store", "venv.tar.gz"));
    const directory = await container(original, "environment", "archive");
    const python = ["environment/bin/python"];

    const reshipped = JSON.parse(await cliInsideJob(directory, python, ["upload", "--json"])) as UploadedEnv;
    expect(reshipped).toMatchObject({
      packagePath: join(jobStore, "user", "job", "envs", "environment.tar.gz"),
      envName: "environment",
      packer: "venv",
    });
    const shippedFiles = await filesOf(original.packagePath);
    expect(shippedFiles.some((file) => /\/site-packages\/purepkg\/__init__\.py 0 /.test(file))).toBe(true);
    expect(await filesOf(reshipped.packagePath)).toEqual(shippedFiles);
    await expectEditableCodeReshipped(reshipped, original);
    await expectConfigNames(directory, python, reshipped);

    // What the Python API runs there: --python with its sys.executable, this same environment.
    const executable = join(directory, "environment", "bin", "python");
    const given = JSON.parse(
      await cliInsideJob(directory, python, ["upload", "--json", "--python", executable]),
    ) as UploadedEnv;
    expect(given).toMatchObject({
      packagePath: reshipped.packagePath,
      envName: "environment",
      uploaded: false,
    });
    await expectEditableCodeReshipped(given, original);
  }, 120_000);
});
