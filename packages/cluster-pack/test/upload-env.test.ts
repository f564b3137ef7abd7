import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { resolveFileSystem } from "@cluster-pack/fs";
import {
  buildWheel,
  createShippableVenv,
  createVenv,
  execute,
  importBoth,
  machinePython,
  pipInstall,
  type RunningS3rver,
  s3ClientConfig,
  s3StorageOptions,
  startS3rver,
  startWebHdfsServer,
  type Venv,
  type WebHdfsServer,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArchiveMetadata,
  isShippingError,
  type ProgressEvent,
  packEnv,
  type UploadedEnv,
  uploadEnv,
} from "../src/index.js";

let root: string;
let venv: Venv;
let wheels: string;
let pexRoot: string;

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

/** Runs the archive with a real Python, the editable zip on PYTHONPATH, as a Spark executor would. */
function runArchive(archive: string, pythonPath: string, code: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PEX_ROOT: pexRoot, PYTHONPATH: pythonPath };
  delete env.VIRTUAL_ENV;
  return execute(machinePython, [archive, "-c", code], { env });
}

async function expectRunsBoth(archive: string, editableZip: string) {
  const outcome = await runArchive(archive, editableZip, importBoth);
  expect(outcome.stderr).toBe("");
  expect(outcome.stdout.trim()).toBe("wheel dev");
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-facade-"));
  pexRoot = join(root, "pex-root");
  wheels = join(root, "wheels");
  // extrapkg is built beside testkit's wheels but not installed: tests install it to change an environment.
  const [shippable] = await Promise.all([
    createShippableVenv(root),
    buildWheel(
      { name: "extrapkg", version: "2.0", files: { "extrapkg/__init__.py": "X = 2\n" } },
      join(wheels, "extrapkg"),
    ),
  ]);
  venv = shippable.venv;
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("uploadEnv on the local store", () => {
  let store: string;
  let first: UploadedEnv;
  const events: ProgressEvent[] = [];

  beforeAll(async () => {
    store = join(root, "store");
    first = await uploadEnv({
      python: venv.python,
      packagePath: join(store, "envs", "env.pex"),
      onProgress: (event) => events.push(event),
    });
  }, 60_000);

  it("uploads an archive and the editable zip that a real Python runs and imports from", async () => {
    expect(first).toMatchObject({
      packagePath: join(store, "envs", "env.pex"),
      uploaded: true,
      packer: "pex",
    });
    expect(first.editable.map((e) => e.name)).toEqual(["devpkg"]);
    const download = join(root, "local-download");
    await mkdir(download, { recursive: true });
    const { fs } = await resolveFileSystem(store);
    await fs.get(join(store, "envs", "env.pex"), join(download, "env.pex"));
    await fs.get(first.editable[0]?.uri ?? "", join(download, "devpkg.zip"));
    await expectRunsBoth(join(download, "env.pex"), join(download, "devpkg.zip"));
    // Streamed into the store, the zipapp is still executable there (`./env.pex`).
    expect((await stat(join(store, "envs", "env.pex"))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(store, "envs", "env_editable", "editable_packages_index"), "utf8")).toBe(
      "devpkg\n",
    );
  });

  it("writes metadata with cluster-pack's keys that describes the archive beside it", async () => {
    const metadata = JSON.parse(await readFile(join(store, "envs", "env.json"), "utf8")) as ArchiveMetadata;
    expect(metadata.package_installed).toContain("purepkg==1.0");
    expect(metadata.package_installed.some((r) => r.startsWith("devpkg"))).toBe(false);
    expect(metadata.python_version).toMatch(/^3\.\d+\.\d+$/);
    expect(metadata.platform).toMatch(/^Linux-/);
    expect(metadata).toMatchObject({
      format: "pex",
      size: (await stat(join(store, "envs", "env.pex"))).size,
    });
    expect(metadata.sha256).toBe(await sha256(join(store, "envs", "env.pex")));
    expect(metadata.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports inspect, pack and upload progress", () => {
    const phases = new Set(events.map((e) => e.phase));
    expect([...phases]).toEqual(["inspect", "pack", "upload"]);
    const last = events.filter((e) => e.phase === "upload" && e.target?.endsWith("env.pex")).at(-1);
    expect(last?.transferredBytes).toBe(last?.totalBytes);
  });

  it("skips packing and uploading an unchanged env, then packs again after a pip install", async () => {
    const archive = join(store, "envs", "env.pex");
    const before = await stat(archive);
    const events: ProgressEvent[] = [];
    const second = await uploadEnv({
      python: venv.python,
      packagePath: archive,
      onProgress: (e) => events.push(e),
    });
    expect(second.uploaded).toBe(false);
    expect(events.some((e) => e.phase === "pack")).toBe(false);
    const after = await stat(archive);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    // The editable code still ships on every call.
    expect(second.editable.map((e) => e.name)).toEqual(["devpkg"]);

    const other = await createVenv(machinePython, join(root, "venv-changing"));
    await pipInstall(other, ["purepkg"], [join(wheels, "purepkg")]);
    const otherPath = join(store, "envs", "changing.pex");
    expect((await uploadEnv({ python: other.python, packagePath: otherPath })).uploaded).toBe(true);
    expect((await uploadEnv({ python: other.python, packagePath: otherPath })).uploaded).toBe(false);
    await pipInstall(other, ["extrapkg"], [join(wheels, "extrapkg")]);
    const third = await uploadEnv({ python: other.python, packagePath: otherPath });
    expect(third.uploaded).toBe(true);
    expect(third.metadata.package_installed).toContain("extrapkg==2.0");
  }, 60_000);

  it("re-uploads an unchanged env with forceUpload", async () => {
    const archive = join(store, "envs", "env.pex");
    const before = await stat(archive);
    const forced = await uploadEnv({ python: venv.python, packagePath: archive, forceUpload: true });
    expect(forced.uploaded).toBe(true);
    expect((await stat(archive)).ino).not.toBe(before.ino);
  }, 60_000);

  it("refuses a package path with the wrong extension for the packer, in one line", async () => {
    const refused = uploadEnv({ python: venv.python, packagePath: join(store, "envs", "env.tar.bz2") });
    await expect(refused).rejects.toSatisfy((error) => isShippingError(error, "INVALID_ARGUMENT"));
    await expect(refused).rejects.toThrow(/env\.tar\.bz2: wrong extension for the pex packer: .*\.pex$/);
    await expect(
      uploadEnv({ python: venv.python, packer: "pex.zip", packagePath: join(store, "envs", "env.pex") }),
    ).rejects.toThrow(/must end in \.pex\.zip/);
  });

  it("defaults to <store>/user/<C_PACK_USER>/envs/<venv>_<sha1[:7]>.pex.zip for the unpack layout", async () => {
    const defaultStore = join(root, "default-store");
    const env: NodeJS.ProcessEnv = { ...process.env, C_PACK_USER: "alice", CLUSTER_PACK_STORE: defaultStore };
    delete env.HADOOP_CONF_DIR;
    delete env.PEX;
    const result = await uploadEnv({ python: venv.python, packer: "pex.zip", env });
    expect(result.envName).toMatch(/^venv_[0-9a-f]{7}$/);
    expect(result.packagePath).toBe(join(defaultStore, "user", "alice", "envs", `${result.envName}.pex.zip`));
    // cluster-pack's with_suffix(".json") drops only the last suffix.
    expect(
      (await stat(join(defaultStore, "user", "alice", "envs", `${result.envName}.pex.json`))).isFile(),
    ).toBe(true);
  }, 60_000);
});

describe("packEnv", () => {
  it("packs only the selected packages, and builds a staging env for additional ones", async () => {
    const only = await packEnv({
      python: venv.python,
      output: join(root, "pack", "only.pex"),
      onlyPackages: ["purepkg"],
    });
    expect(only).toMatchObject({ requirements: ["purepkg==1.0"], source: "environment" });
    const staged = await packEnv({
      python: venv.python,
      output: join(root, "pack", "staged.pex"),
      onlyPackages: ["purepkg", "extrapkg"],
      additionalPackages: { extrapkg: "2.0" },
      noIndex: true,
      findLinks: [join(wheels, "extrapkg"), join(wheels, "purepkg")],
    });
    expect(staged.source).toBe("staging");
    const outcome = await runArchive(staged.output, "", "import extrapkg, purepkg; print(extrapkg.X)");
    expect(outcome.stdout.trim()).toBe("2");
  }, 90_000);
});

describe("uploadEnv on S3 (s3rver)", () => {
  let s3: RunningS3rver;
  let fsArgs: ReturnType<typeof s3StorageOptions>;
  let client: S3Client;

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ["envs"] });
    fsArgs = s3StorageOptions(s3);
    client = new S3Client(s3ClientConfig(s3));
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  async function download(key: string, file: string) {
    const answer = await client.send(new GetObjectCommand({ Bucket: "envs", Key: key }));
    await writeFile(
      file,
      await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  }

  it("uploads an env that a second S3 client downloads and Python runs, and skips it the second time", async () => {
    const first = await uploadEnv({ python: venv.python, packagePath: "s3://envs/team/env.pex", fsArgs });
    expect(first).toMatchObject({ packagePath: "s3://envs/team/env.pex", uploaded: true });
    expect(first.editable).toMatchObject([{ name: "devpkg", uri: "s3://envs/team/env_editable/devpkg.zip" }]);
    const directory = join(root, "s3-download");
    await mkdir(directory, { recursive: true });
    await download("team/env.pex", join(directory, "env.pex"));
    await download("team/env_editable/devpkg.zip", join(directory, "devpkg.zip"));
    await expectRunsBoth(join(directory, "env.pex"), join(directory, "devpkg.zip"));

    const before = (await s3.requests()).length;
    const second = await uploadEnv({ python: venv.python, packagePath: "s3://envs/team/env.pex", fsArgs });
    expect(second.uploaded).toBe(false);
    const requests = (await s3.requests()).slice(before);
    // Only the editable code is sent again: the archive is not read or written, the metadata only read.
    const touching = (pattern: RegExp) =>
      requests.filter((r) => pattern.test(r.url.pathname)).map((r) => `${r.method} ${r.url.pathname}`);
    expect(touching(/env\.pex/)).toEqual([]);
    expect(touching(/env\.json/)).toEqual(["GET /envs/team/env.json"]);
  }, 90_000);
});

describe("uploadEnv on HDFS (WebHDFS server)", () => {
  let hdfs: WebHdfsServer;
  let base: string;

  beforeAll(async () => {
    hdfs = await startWebHdfsServer({
      directories: [{ path: "/user/bob", owner: "bob", permission: 0o755 }],
    });
    base = `webhdfs://${new URL(hdfs.namenodeUrl).host}/user/bob/envs`;
  });

  afterAll(async () => {
    await hdfs?.stop();
  });

  it("uploads an env that the adapter downloads again and Python runs", async () => {
    const result = await uploadEnv({
      python: venv.python,
      packagePath: `${base}/env.pex`,
      fsArgs: { hdfs: { user: "bob" } },
    });
    expect(result.uploaded).toBe(true);
    const directory = join(root, "hdfs-download");
    await mkdir(directory, { recursive: true });
    const { fs, path } = await resolveFileSystem(`${base}/env.pex`, { hdfs: { user: "bob" } });
    await fs.get(path, join(directory, "env.pex"));
    await fs.get(`${path.replace(/env\.pex$/, "")}env_editable/devpkg.zip`, join(directory, "devpkg.zip"));
    await expectRunsBoth(join(directory, "env.pex"), join(directory, "devpkg.zip"));
    await fs.close?.();
  }, 90_000);

  it("leaves the previous archive and metadata pair untouched when the upload is refused midway", async () => {
    const other = await createVenv(machinePython, join(root, "venv-refused"));
    await pipInstall(other, ["purepkg"], [join(wheels, "purepkg")]);
    const packagePath = `${base}/refused.pex`;
    await uploadEnv({ python: other.python, packagePath, fsArgs: { hdfs: { user: "bob" } } });
    await pipInstall(other, ["extrapkg"], [join(wheels, "extrapkg")]);
    // mallory may read bob's directory (755) but not write to it: the metadata read succeeds, the put fails.
    const refused = uploadEnv({ python: other.python, packagePath, fsArgs: { hdfs: { user: "mallory" } } });
    await expect(refused).rejects.toSatisfy((error) => isShippingError(error, "UPLOAD_FAILED"));
    await expect(refused).rejects.toThrow(
      /^webhdfs:\/\/.*refused\.pex: taking the path for this upload failed: Permission denied[^\n]+$/,
    );

    const { fs, path } = await resolveFileSystem(packagePath, { hdfs: { user: "bob" } });
    const directory = await mkdtemp(join(root, "hdfs-check-"));
    await fs.get(path, join(directory, "refused.pex"));
    await fs.get(path.replace(/\.pex$/, ".json"), join(directory, "refused.json"));
    const metadata = JSON.parse(await readFile(join(directory, "refused.json"), "utf8")) as ArchiveMetadata;
    expect(metadata.sha256).toBe(await sha256(join(directory, "refused.pex")));
    expect(metadata.package_installed).not.toContain("extrapkg==2.0");
    expect((await fs.ls(path.replace(/\/refused\.pex$/, ""))).map((f) => f.name).sort()).toEqual(
      ["env.json", "env.pex", "env_editable", "refused.json", "refused.pex"].sort(),
    );
    await fs.close?.();
  }, 90_000);
});
