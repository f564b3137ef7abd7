import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCondaStylePrefix,
  createShippableVenv,
  execute,
  installCondaPackage,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArchiveMetadata,
  defaultPackagePathFor,
  isShippingError,
  packEnv,
  type UploadEnvOptions,
  uploadEnv,
  uploadZip,
} from "../src/index.js";

let root: string;
let store: string;
let venv: Venv;
let conda: Venv;
let wheels: string;

/** Unpacks a stored archive as YARN would (into a directory named after its link, `environment`). */
async function unpackStored(archive: string, name: string) {
  const environment = join(root, "nodes", name, "environment");
  await mkdir(environment, { recursive: true });
  await run("tar", ["-xzf", archive, "-C", environment]);
  return environment;
}

const metadataOf = async (path: string) => JSON.parse(await readFile(path, "utf8")) as ArchiveMetadata;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-facade-env-archives-"));
  store = join(root, "store");
  ({ venv, wheels } = await createShippableVenv(root, {
    extraWheels: [{ name: "unwanted", version: "1.0", files: { "unwanted/__init__.py": "" } }],
  }));
  conda = await createCondaStylePrefix(join(root, "conda", "envs", "analytics"), [], undefined, {
    recordPython: true,
  });
  await pipInstall(conda, ["purepkg"], [join(wheels, "purepkg")]);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("uploadEnv with venv archives", () => {
  it("packs a venv as a venv archive when the path ends in .tar.gz, with the editable zips beside it", async () => {
    const packagePath = join(store, "envs", "env.tar.gz");
    const result = await uploadEnv({ python: venv.python, packagePath });
    expect(result).toMatchObject({ packagePath, packer: "venv", uploaded: true, source: "environment" });
    expect(result.editable).toMatchObject([
      { name: "devpkg", uri: join(store, "envs", "env_editable", "devpkg.zip") },
    ]);
    const metadata = await metadataOf(join(store, "envs", "env.tar.json"));
    expect(metadata).toMatchObject({ format: "venv", size: result.metadata.size });
    expect(metadata.with_python).toBeUndefined();

    const environment = await unpackStored(packagePath, "venv");
    const outcome = await execute(
      join(environment, "bin", "python"),
      ["-c", "import purepkg, devpkg; print(purepkg.VALUE, devpkg.STATE)"],
      { env: { ...process.env, PYTHONPATH: result.editable[0]?.uri ?? "" } },
    );
    expect(outcome).toMatchObject({ code: 0, stdout: "wheel dev\n" });
  }, 60_000);

  it("reuses the stored archive, and packs again when the interpreter is to ship with it, recording it", async () => {
    const packagePath = join(store, "envs", "env.tar.gz");
    expect((await uploadEnv({ python: venv.python, packagePath })).uploaded).toBe(false);
    const withPython = await uploadEnv({
      python: venv.python,
      packagePath,
      packer: "venv",
      withPython: true,
    });
    expect(withPython.uploaded).toBe(true);
    const metadata = await metadataOf(join(store, "envs", "env.tar.json"));
    expect(metadata).toMatchObject({
      format: "venv",
      with_python: true,
      interpreter: {
        version: metadata.python_version,
        implementation: "cpython",
        platform: expect.stringMatching(/^linux-/),
        glibc: expect.stringMatching(/^\d+\.\d+$/),
      },
    });
    expect((await uploadEnv({ python: venv.python, packagePath, withPython: true })).uploaded).toBe(false);
  }, 120_000);

  it("leaves ignored packages' files out of the archive", async () => {
    const packed = await packEnv({
      python: venv.python,
      output: join(root, "pack", "lean.tgz"),
      ignoredPackages: ["unwanted"],
    });
    expect(packed).toMatchObject({ packer: "venv", format: "tar.gz", source: "environment" });
    expect(packed.requirements).not.toContain("unwanted==1.0");
    const names = (await run("tar", ["-tzf", packed.output])).split("\n");
    expect(names.some((name) => name.includes("purepkg/"))).toBe(true);
    expect(names.filter((name) => name.includes("unwanted"))).toEqual([]);
  }, 60_000);

  it("names the default path <store>/user/<user>/envs/<venv>_<hash>.tar.gz, or .zip for the zip format", async () => {
    const defaultStore = join(root, "default-store");
    const env: NodeJS.ProcessEnv = { ...process.env, C_PACK_USER: "alice", CLUSTER_PACK_STORE: defaultStore };
    delete env.HADOOP_CONF_DIR;
    delete env.PEX;
    const result = await uploadEnv({ python: venv.python, packer: "venv", format: "zip", env });
    expect(result.packagePath).toBe(join(defaultStore, "user", "alice", "envs", `${result.envName}.zip`));
    expect(result.envName).toMatch(/^venv_[0-9a-f]{7}$/);
  }, 60_000);
});

describe("uploadEnv with conda archives", () => {
  it("packs a conda environment's .tar.gz as a conda archive that carries its interpreter", async () => {
    const packagePath = join(store, "envs", "analytics.tar.gz");
    const result = await uploadEnv({ python: conda.python, packagePath });
    expect(result).toMatchObject({ packer: "conda", uploaded: true });
    expect(await metadataOf(join(store, "envs", "analytics.tar.json"))).toMatchObject({
      format: "conda",
      with_python: true,
      interpreter: { implementation: "cpython" },
    });
    const environment = await unpackStored(packagePath, "conda");
    expect(await execute(join(environment, "bin", "conda-unpack"), [])).toMatchObject({ code: 0 });
    const outcome = await execute(join(environment, "bin", "python"), [
      "-c",
      "import sys, purepkg; print(sys.prefix)",
    ]);
    expect(outcome).toMatchObject({ code: 0, stdout: `${environment}\n` });
  }, 60_000);

  it("packs again when a conda package changes, though no Python distribution did", async () => {
    const packagePath = join(store, "envs", "analytics.tar.gz");
    expect((await uploadEnv({ python: conda.python, packagePath })).uploaded).toBe(false);
    await installCondaPackage(conda.prefix, {
      name: "libdemo",
      version: "2.0",
      build: "h0_0",
      files: { "lib/libdemo.txt": { content: "a native library stands here\n" } },
    });
    expect((await uploadEnv({ python: conda.python, packagePath })).uploaded).toBe(true);
  }, 60_000);

  it("names the default path after the conda environment", async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      C_PACK_USER: "bob",
      CLUSTER_PACK_STORE: join(root, "store-b"),
    };
    delete env.HADOOP_CONF_DIR;
    delete env.PEX;
    const result = await uploadEnv({
      python: conda.python,
      packer: "conda",
      env,
      destPrefix: "/opt/envs/analytics",
    });
    expect(result.packagePath).toMatch(/\/user\/bob\/envs\/analytics_[0-9a-f]{7}\.tar\.gz$/);
    expect(result.metadata).toMatchObject({ dest_prefix: "/opt/envs/analytics" });
  }, 60_000);
});

describe("options a packer cannot honour", () => {
  const cases: [what: string, options: UploadEnvOptions, message: RegExp][] = [
    [
      "withPython for a pex",
      { packer: "pex", withPython: true, packagePath: join("/tmp", "x", "env.pex") },
      /withPython ships the interpreter inside venv archives.*use the venv packer/,
    ],
    [
      "destPrefix for a venv archive",
      { packer: "venv", destPrefix: "/opt/env" },
      /for conda archives, not the venv packer/,
    ],
    [
      "ignored packages for a conda archive",
      { packer: "conda", ignoredPackages: ["purepkg"] },
      /conda archive ships the conda environment as installed/,
    ],
    [
      "a .pex name for the venv packer",
      { packer: "venv", packagePath: "/tmp/x/env.pex" },
      /wrong extension for the venv packer: the archive name must end in \.tar\.gz, \.tgz or \.zip$/,
    ],
    [
      "the zip format for a .tar.gz name",
      { packagePath: "/tmp/x/env.tar.gz", format: "zip" },
      /a zip archive's name must end in \.zip$/,
    ],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what} in one line, before packing`, async () => {
      const python = options.packer === "conda" ? conda.python : venv.python;
      const refused = uploadEnv({ python, packagePath: join(store, "refused.tar.gz"), ...options });
      await expect(refused).rejects.toSatisfy((error) => isShippingError(error, "INVALID_ARGUMENT"));
      await expect(refused).rejects.toThrow(message);
    });
  }
});

describe("defaultPackagePathFor", () => {
  const env: NodeJS.ProcessEnv = { C_PACK_USER: "carol", CLUSTER_PACK_STORE: "/stores/team" };

  it.each<[string, Parameters<typeof defaultPackagePathFor>[1], RegExp]>([
    ["a conda archive after the conda environment", { packer: "conda" }, /^analytics_[0-9a-f]{7}\.tar\.gz$/],
    ["a zip after the conda environment", { packer: "conda", format: "zip" }, /^analytics_[0-9a-f]{7}\.zip$/],
    ["a pex of a conda environment `default`, as cluster-pack does", {}, /^default\.pex$/],
  ])("names %s", async (_, options, name) => {
    const path = await defaultPackagePathFor({ kind: "conda", prefix: conda.prefix }, { ...options, env });
    expect(path.startsWith("/stores/team/user/carol/envs/")).toBe(true);
    expect(path.split("/").at(-1)).toMatch(name);
  });

  it("refuses a packer and a format that do not go together", async () => {
    const refused = defaultPackagePathFor(
      { kind: "venv", prefix: venv.prefix },
      { packer: "pex", format: "zip" },
    );
    await expect(refused).rejects.toSatisfy((error) => isShippingError(error, "INVALID_ARGUMENT"));
  });
});

describe("uploadZip with prebuilt venv and conda archives", () => {
  it("uploads a venv archive with its metadata, and skips it when the store holds the same bytes", async () => {
    const file = join(root, "prebuilt", "team-venv.tar.gz");
    await packEnv({ python: venv.python, output: file });
    const packagePath = join(store, "prebuilt", "team.tar.gz");
    const result = await uploadZip(file, packagePath);
    expect(result).toMatchObject({ packagePath, envName: "team-venv", packer: "venv", uploaded: true });
    expect(await metadataOf(join(store, "prebuilt", "team.tar.json"))).toMatchObject({ format: "venv" });
    expect((await uploadZip(file, packagePath)).uploaded).toBe(false);
  }, 60_000);

  it("recognizes a conda archive by its conda-meta/ and stores a zip at the default path", async () => {
    const file = join(root, "prebuilt", "analytics.zip");
    await packEnv({ python: conda.python, output: file });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      C_PACK_USER: "dan",
      CLUSTER_PACK_STORE: join(root, "zips"),
    };
    delete env.HADOOP_CONF_DIR;
    const result = await uploadZip(file, undefined, { env });
    expect(result).toMatchObject({
      packagePath: join(root, "zips", "user", "dan", "envs", "analytics.zip"),
      packer: "conda",
      uploaded: true,
    });
  }, 60_000);

  it.each<[string, string, RegExp]>([
    [
      "an archive without bin/python at its root",
      "docs.tar.gz",
      /docs\.tar\.gz: not a venv or conda archive/,
    ],
    ["a file of another format", "env.tar.bz2", /not an archive cluster-pack writes/],
  ])("refuses %s in one line", async (_, name, message) => {
    const directory = join(root, "not-envs", "docs");
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, "README"), "not an environment\n");
    const file = join(root, "not-envs", name);
    await run("tar", ["-czf", file, "-C", directory, "."]);
    const refused = uploadZip(file, join(store, "refused", "docs.tar.gz"));
    await expect(refused).rejects.toSatisfy((error) => isShippingError(error, "INVALID_ARGUMENT"));
    await expect(refused).rejects.toThrow(message);
  });

  it("refuses a destination whose extension is not the archive's", async () => {
    const refused = uploadZip(
      join(root, "prebuilt", "team-venv.tar.gz"),
      join(store, "prebuilt", "team.zip"),
    );
    await expect(refused).rejects.toThrow(/a tar\.gz archive's name must end in \.tar\.gz or \.tgz$/);
  });
});
