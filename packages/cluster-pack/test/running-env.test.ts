// A job launched from inside a job: the façade, called from a container laid out as YARN lays it out (testkit's
// localizer) for each shipped layout, re-ships the environment the job runs in, never the host's interpreter.
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTar, listZip } from "@cluster-pack/archive";
import {
  type ContainerFiles,
  createShippableVenv,
  createVenv,
  execute,
  importBoth,
  type LocalizedContainer,
  localizeContainer,
  machinePython,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isShippingError, locateEnv, type UploadedEnv, uploadEnv } from "../src/index.js";
import { detectRunningEnv, runningEnvToShip } from "../src/running-env.js";

let root: string;
let venv: Venv;
let store: string;
const containers: LocalizedContainer[] = [];
const originalCwd = process.cwd();

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

/** The environment of a YARN container: no venv, no Hadoop configuration, the job's own store and user. */
function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    C_PACK_USER: "job",
    CLUSTER_PACK_STORE: join(root, "job-store"),
  };
  for (const name of ["VIRTUAL_ENV", "CONDA_PREFIX", "HADOOP_CONF_DIR", "HADOOP_HOME", "PEX", "PYTHONPATH"])
    delete env[name];
  return { ...env, ...extra };
}

/** The files YARN localizes for an uploaded environment: the environment under `name`, the editable code, its index. */
function containerFiles(uploaded: UploadedEnv, name: string, type: "file" | "archive"): ContainerFiles {
  const files: ContainerFiles = { [name]: { source: uploaded.packagePath, type } };
  for (const editable of uploaded.editable)
    files[`${editable.name}.zip`] = { source: editable.uri, type: "archive" };
  if (uploaded.editableIndex)
    files.editable_packages_index = { source: uploaded.editableIndex, type: "file" };
  return files;
}

async function container(files: ContainerFiles): Promise<string> {
  const localized = await localizeContainer(files);
  containers.push(localized);
  return localized.directory;
}

/** File entries of a zip, by name with their CRC: equal when two zips hold the same files. */
async function zipFiles(zip: string) {
  const files = (await listZip(zip)).entries
    .filter((entry) => entry.kind === "file")
    .map((entry) => `${entry.name} ${entry.crc32}`)
    .sort();
  expect(files.some((file) => /(^|\/)(purepkg|devpkg)\/__init__\.py /.test(file))).toBe(true);
  return files;
}

async function tarFiles(tar: string) {
  const files = (await listTar(tar))
    .filter((entry) => entry.kind !== "directory")
    .map((entry) => `${entry.name} ${entry.kind} ${entry.size}`)
    .sort();
  expect(files.some((file) => file.includes("/site-packages/purepkg/__init__.py "))).toBe(true);
  return files;
}

/** The re-uploaded editable zip holds the files the job was started with. */
async function expectSameEditableCode(reshipped: UploadedEnv, original: UploadedEnv) {
  expect(reshipped.editable.map((editable) => editable.name)).toEqual(["devpkg"]);
  const [again] = reshipped.editable;
  const [first] = original.editable;
  if (!again || !first) throw new Error("no editable zip");
  expect(again.uri).toBe(join(reshipped.packagePath, "..", `${reshipped.envName}_editable`, "devpkg.zip"));
  expect(await zipFiles(again.uri)).toEqual(await zipFiles(first.uri));
  expect(reshipped.editableIndex).toBeDefined();
  expect(await readFile(reshipped.editableIndex ?? "", "utf8")).toBe("devpkg\n");
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-running-env-"));
  store = join(root, "store");
  ({ venv } = await createShippableVenv(root));
}, 180_000);

afterEach(() => {
  process.chdir(originalCwd);
});

afterAll(async () => {
  for (const localized of containers) await localized.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("detectRunningEnv", () => {
  it("finds nothing on a developer's machine: no PEX, a PEX naming nothing, a venv of one's own named environment", async () => {
    const project = join(root, "project");
    await mkdir(project, { recursive: true });
    expect(await detectRunningEnv(jobEnv(), project)).toBeUndefined();
    expect(await detectRunningEnv(jobEnv({ PEX: join(project, "gone.pex") }), project)).toBeUndefined();
    await createVenv(machinePython, join(project, "environment"));
    expect(await detectRunningEnv(jobEnv(), project)).toBeUndefined();
  }, 60_000);
});

describe("inside a conda archive (unpacked as environment/)", () => {
  it("refuses to ship it again, in one line, unless another interpreter is given", async () => {
    const job = join(root, "conda-job");
    const environment = join(job, "environment");
    await mkdir(join(environment, "bin"), { recursive: true });
    await mkdir(join(environment, "conda-meta"));
    // What the conda packer writes, as far as detection looks: an interpreter and its relocatable activate.
    await writeFile(join(environment, "bin", "python"), "#!/bin/sh\n");
    await copyFile(
      new URL("../../packers/relocation/activate", import.meta.url),
      join(environment, "bin", "activate"),
    );
    expect(await detectRunningEnv(jobEnv(), job)).toMatchObject({ packer: "conda", path: environment });
    process.chdir(job);
    const refused = await uploadEnv({ env: jobEnv() }).catch((error: unknown) => error);
    expect(isShippingError(refused, "INVALID_ARGUMENT")).toBe(true);
    expect((refused as Error).message).toBe(
      `${environment}: this job runs in an unpacked conda archive, which cannot be shipped again from inside the job`,
    );
    expect(await runningEnvToShip(venv.python, jobEnv(), job)).toBeUndefined();
  });
});

describe("inside a zipapp (env.pex)", () => {
  let original: UploadedEnv;
  let directory: string;

  beforeAll(async () => {
    original = await uploadEnv({ python: venv.python, packagePath: join(store, "myenv.pex"), env: jobEnv() });
    directory = await container(containerFiles(original, "myenv.pex", "file"));
  }, 120_000);

  it("is detected from PEX, named after the zipapp", async () => {
    const pex = join(directory, "myenv.pex");
    expect(await detectRunningEnv(jobEnv({ PEX: pex }), "/")).toEqual({
      packer: "pex",
      path: pex,
      unpacked: false,
      format: "pex",
      envName: "myenv",
      workingDirectory: directory,
    });
  });

  it("re-uploads that very file and the editable code the job was started with", async () => {
    const env = jobEnv({ PEX: join(directory, "myenv.pex") });
    const reshipped = await uploadEnv({ env });
    expect(reshipped).toMatchObject({
      packagePath: join(root, "job-store", "user", "job", "envs", "myenv.pex"),
      envName: "myenv",
      packer: "pex",
      uploaded: true,
      source: "running",
    });
    expect(await sha256(reshipped.packagePath)).toBe(await sha256(original.packagePath));
    await expectSameEditableCode(reshipped, original);
    // Once there, the same bytes are not sent again; the editable code is, on every call.
    const again = await uploadEnv({ env });
    expect(again.uploaded).toBe(false);
    expect(again.editable).toHaveLength(1);
  }, 60_000);

  it("is what locateEnv finds without a package path, online and offline", async () => {
    const env = jobEnv({ PEX: join(directory, "myenv.pex") });
    const reshipped = await uploadEnv({ env });
    const located = await locateEnv(undefined, { env });
    expect(located.packagePath).toBe(reshipped.packagePath);
    expect(located.editable.map((editable) => editable.uri)).toEqual(reshipped.editable.map((e) => e.uri));
    const offline = await locateEnv(undefined, { env, offline: true });
    expect(offline.packagePath).toBe(reshipped.packagePath);
    expect(offline.editable.map((editable) => editable.name)).toEqual(["devpkg"]);
  }, 60_000);

  it("ships the given interpreter's environment when python is given", async () => {
    const env = jobEnv({ PEX: join(directory, "myenv.pex") });
    const shipped = await uploadEnv({ python: venv.python, env });
    expect(shipped.envName).toMatch(/^venv_[0-9a-f]{7}$/);
    expect(shipped.source).toBe("environment");
  }, 60_000);

  it("refuses, in one line, options that would change what is packed: the environment goes as it is", async () => {
    const pex = join(directory, "myenv.pex");
    const env = jobEnv({ PEX: pex });
    const refused = await uploadEnv({ env, onlyPackages: ["purepkg"], packer: "venv" }).catch(
      (error: unknown) => error,
    );
    expect(isShippingError(refused, "INVALID_ARGUMENT")).toBe(true);
    expect((refused as Error).message).toBe(
      `${pex}: this job runs in a shipped environment, which is uploaded as it is: onlyPackages, packer venv cannot apply`,
    );
    // Its own packer, named, is no change.
    expect((await uploadEnv({ env, packer: "pex" })).packagePath).toMatch(/\/myenv\.pex$/);
  }, 60_000);

  it("re-uploads a zip Spark localized as it is (spark.submit.pyFiles, in __pyfiles__/)", async () => {
    const driver = await mkdtemp(join(root, "spark-driver-"));
    await mkdir(join(driver, "__pyfiles__"));
    const [editable] = original.editable;
    if (!editable || !original.editableIndex) throw new Error("no editable code uploaded");
    await copyFile(editable.uri, join(driver, "__pyfiles__", "devpkg.zip"));
    await copyFile(original.editableIndex, join(driver, "editable_packages_index"));
    await copyFile(original.packagePath, join(driver, "myenv.pex"));
    const reshipped = await uploadEnv({ env: jobEnv({ PEX: join(driver, "myenv.pex") }) });
    expect(reshipped.editable).toMatchObject([{ name: "devpkg", sha256: editable.sha256 }]);
    expect(await sha256(reshipped.editable[0]?.uri ?? "")).toBe(editable.sha256);
  }, 60_000);

  it("refuses, in one line, an index naming code the job does not have", async () => {
    const lying = await mkdtemp(join(root, "lying-"));
    await writeFile(join(lying, "editable_packages_index"), "ghost\n");
    const pex = join(lying, "myenv.pex");
    await writeFile(pex, await readFile(original.packagePath));
    const refused = uploadEnv({ env: jobEnv({ PEX: pex }) });
    await expect(refused).rejects.toSatisfy((error) => isShippingError(error, "EDITABLE_PROBLEM"));
    await expect(refused).rejects.toThrow(/: editable package "ghost" is listed in editable_packages_index/);
  });
});

describe("inside the unpack layout (env.pex.zip unpacked as pyenv/)", () => {
  let original: UploadedEnv;
  let directory: string;

  beforeAll(async () => {
    original = await uploadEnv({
      python: venv.python,
      packagePath: join(store, "big.pex.zip"),
      env: jobEnv(),
    });
    directory = await container(containerFiles(original, "pyenv", "archive"));
  }, 120_000);

  it("zips the pyenv directory back, without the bytecode the job wrote, and uploads it with the editable code", async () => {
    const env = jobEnv({ PEX: join(directory, "pyenv") });
    // The job runs first: Python writes __pycache__ into the unpacked .deps/.
    const ran = await execute(machinePython, ["pyenv/__main__.py", "-c", importBoth], {
      cwd: directory,
      env: { ...env, PYTHONPATH: "devpkg.zip" },
    });
    expect(ran.stdout.trim()).toBe("wheel dev");
    expect(await detectRunningEnv(env, "/")).toMatchObject({
      packer: "pex.zip",
      unpacked: true,
      envName: "pyenv",
    });

    const reshipped = await uploadEnv({ env });
    expect(reshipped).toMatchObject({
      packagePath: join(root, "job-store", "user", "job", "envs", "pyenv.pex.zip"),
      envName: "pyenv",
      packer: "pex.zip",
      uploaded: true,
      metadata: { format: "pex.zip" },
    });
    expect(await zipFiles(reshipped.packagePath)).toEqual(await zipFiles(original.packagePath));
    await expectSameEditableCode(reshipped, original);
    // Zipped back deterministically: a second job's re-ship finds the same bytes stored.
    expect((await uploadEnv({ env })).uploaded).toBe(false);
    expect((await locateEnv(undefined, { env })).packagePath).toBe(reshipped.packagePath);
  }, 90_000);
});

describe("inside a venv archive (unpacked as environment/)", () => {
  let original: UploadedEnv;
  let directory: string;

  beforeAll(async () => {
    original = await uploadEnv({
      python: venv.python,
      packagePath: join(store, "venv.tar.gz"),
      env: jobEnv(),
    });
    directory = await container(containerFiles(original, "environment", "archive"));
  }, 120_000);

  it("is detected in the working directory by the archive's relocatable activate", async () => {
    expect(await detectRunningEnv(jobEnv(), directory)).toEqual({
      packer: "venv",
      path: join(directory, "environment"),
      unpacked: true,
      format: "tar.gz",
      envName: "environment",
      workingDirectory: directory,
    });
    // Another venv activated is the one meant.
    expect(await detectRunningEnv(jobEnv({ VIRTUAL_ENV: venv.prefix }), directory)).toBeUndefined();
  });

  it("tars the venv back, which runs where it is unpacked, and uploads it with the editable code", async () => {
    const env = jobEnv();
    const ran = await execute(join(directory, "environment", "bin", "python"), ["-c", importBoth], {
      cwd: directory,
      env: { ...env, PYTHONPATH: "devpkg.zip" },
    });
    expect(ran.stdout.trim()).toBe("wheel dev");
    process.chdir(directory);
    const reshipped = await uploadEnv({ env });
    expect(reshipped).toMatchObject({
      packagePath: join(root, "job-store", "user", "job", "envs", "environment.tar.gz"),
      envName: "environment",
      packer: "venv",
      uploaded: true,
    });
    expect(await tarFiles(reshipped.packagePath)).toEqual(await tarFiles(original.packagePath));
    await expectSameEditableCode(reshipped, original);
    // The Python API passes its sys.executable: the same environment, re-shipped the same way (same bytes stored).
    const given = await uploadEnv({ python: join(directory, "environment", "bin", "python"), env });
    expect(given).toMatchObject({ packagePath: reshipped.packagePath, uploaded: false });
    expect((await locateEnv(undefined, { env })).packagePath).toBe(reshipped.packagePath);

    const unpacked = join(await mkdtemp(join(root, "node-")), "environment");
    await mkdir(unpacked);
    await run("tar", ["-xzf", reshipped.packagePath, "-C", unpacked]);
    const again = await execute(
      join(unpacked, "bin", "python"),
      ["-c", "import purepkg; print(purepkg.VALUE)"],
      {
        env,
      },
    );
    expect(again.stdout.trim()).toBe("wheel");
  }, 90_000);
});
