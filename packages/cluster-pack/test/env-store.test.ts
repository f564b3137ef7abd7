import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type FileSystem, resolveFileSystem, type StorageOptions } from "@cluster-pack/fs";
import { createShippableVenv, execute, testStores, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isShippingError,
  listEnvs,
  locateEnv,
  pruneEnvs,
  removeEnv,
  type StoredEnv,
  uploadEnv,
  uploadZip,
} from "../src/index.js";

let root: string;
let venv: Venv;
/** Prebuilt archives of every format, small: the store only cares about names, bytes and metadata. */
const prebuilt: Record<string, string> = {};

/** A venv-like (or, with conda-meta/, conda-like) tree with `bin/python` at its root, as `tar` or `zip` writes it. */
async function environmentArchive(name: string, conda: boolean) {
  const tree = await mkdtemp(join(root, "tree-"));
  await mkdir(join(tree, "bin"));
  await writeFile(join(tree, "bin", "python"), "#!/bin/sh\n", { mode: 0o755 });
  if (conda) {
    await mkdir(join(tree, "conda-meta"));
    await writeFile(join(tree, "conda-meta", "history"), "");
  }
  const file = join(root, name);
  if (name.endsWith(".zip"))
    await execute("zip", ["-qr", file, "bin", ...(conda ? ["conda-meta"] : [])], { cwd: tree });
  else await execute("tar", ["czf", file, "-C", tree, "."]);
  return file;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-env-store-"));
  ({ venv } = await createShippableVenv(join(root, "shippable")));
  prebuilt["venv.tar.gz"] = await environmentArchive("venv.tar.gz", false);
  prebuilt["other.tgz"] = await environmentArchive("other.tgz", false);
  prebuilt["conda.zip"] = await environmentArchive("conda.zip", true);
  prebuilt["layout.pex.zip"] = join(root, "layout.pex.zip");
  await writeFile(prebuilt["layout.pex.zip"], "not checked: the name says the packer");
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const names = (envs: readonly StoredEnv[]) => envs.map((env) => env.packagePath.split("/").at(-1)).sort();

describe.each(testStores)("reading a store back on $name", (store) => {
  let directory: string;
  let fsArgs: StorageOptions;
  let stop: () => Promise<void>;
  let fs: FileSystem;
  let base: string;

  beforeAll(async () => {
    ({ directory, fsArgs, stop } = await store.start(root));
    await uploadEnv({ python: venv.python, packagePath: `${directory}/env.pex`, fsArgs });
    for (const [name, file] of Object.entries(prebuilt))
      await uploadZip(file, `${directory}/${name}`, { fsArgs });
    const resolved = await resolveFileSystem(directory, fsArgs);
    fs = resolved.fs;
    base = resolved.path;
    // An archive someone copied in by hand: no metadata, so never trusted and the first to prune.
    await fs.put(prebuilt["other.tgz"] ?? "", `${base}/stray.tgz`);
  }, 180_000);

  afterAll(async () => {
    await fs?.close?.();
    await stop?.();
  });

  it("lists every format it writes, with metadata, and the editable code beside the archive", async () => {
    const listing = await listEnvs(directory, { fsArgs });
    expect(names(listing.envs)).toEqual([
      "conda.zip",
      "env.pex",
      "layout.pex.zip",
      "other.tgz",
      "stray.tgz",
      "venv.tar.gz",
    ]);
    const byName: Record<string, StoredEnv> = Object.fromEntries(
      listing.envs.map((env) => [env.packagePath.split("/").at(-1), env]),
    );
    expect(byName["env.pex"]).toMatchObject({ format: "pex", metadata: { format: "pex" } });
    expect(byName["env.pex"]?.editable.map((zip) => zip.name)).toEqual(["devpkg"]);
    expect(byName["conda.zip"]).toMatchObject({ format: "zip", metadata: { format: "conda" } });
    expect(byName["other.tgz"]).toMatchObject({ format: "tar.gz", metadata: { format: "venv" } });
    expect(byName["layout.pex.zip"]).toMatchObject({ format: "pex.zip", metadata: { format: "pex.zip" } });
    expect(byName["stray.tgz"]?.metadata).toBeUndefined();
    for (const env of listing.envs) expect(env.size).toBeGreaterThan(0);
  });

  it("locates an archive with its metadata and editable zips, as upload wrote them", async () => {
    const located = await locateEnv(`${directory}/env.pex`, { fsArgs });
    expect(located.packagePath).toMatch(/\/envs\/env\.pex$/);
    expect(located.metadata?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(located.editable).toEqual([
      { name: "devpkg", uri: expect.stringMatching(/env_editable\/devpkg\.zip$/) },
    ]);
    expect(located.editableIndex).toMatch(/env_editable\/editable_packages_index$/);
    const missing = locateEnv(`${directory}/none.pex`, { fsArgs });
    await expect(missing).rejects.toSatisfy((error) => isShippingError(error, "NOT_FOUND"));
    await expect(missing).rejects.toThrow(/none\.pex: no archive there$/);
  });

  it("removes an archive with its metadata and editable directory, and nothing else", async () => {
    const removed = await removeEnv(`${directory}/env.pex`, { fsArgs });
    expect(removed.removed.map((uri) => uri.split("/envs/")[1])).toEqual([
      "env.json",
      "env.pex",
      "env_editable",
    ]);
    for (const path of ["env.pex", "env.json", "env_editable"])
      expect(await fs.exists(`${base}/${path}`)).toBe(false);
    expect(names((await listEnvs(directory, { fsArgs })).envs)).not.toContain("env.pex");
    expect(await fs.exists(`${base}/venv.tar.json`)).toBe(true);
    await expect(removeEnv(`${directory}/env.pex`, { fsArgs })).rejects.toSatisfy((error) =>
      isShippingError(error, "NOT_FOUND"),
    );
  });

  it("prunes to the newest archives, a dry run first, the archive without metadata going first", async () => {
    const before = names((await listEnvs(directory, { fsArgs })).envs);
    // Everything was published just now: only the archive without metadata is older than an hour.
    const young = await pruneEnvs(directory, { olderThan: "1h", fsArgs });
    expect(names(young.removed)).toEqual(["stray.tgz"]);

    const dryRun = await pruneEnvs(directory, { keep: 2, fsArgs });
    expect(dryRun.dryRun).toBe(true);
    expect(dryRun.removed).toHaveLength(before.length - 2);
    expect(names(dryRun.removed)).toContain("stray.tgz");
    expect(names((await listEnvs(directory, { fsArgs })).envs)).toEqual(before);

    // The newest two by their metadata's publication time.
    const newest = dryRun.kept.map((env) => env.metadata?.created ?? "");
    for (const removed of dryRun.removed)
      for (const kept of newest) expect((removed.metadata?.created ?? "") <= kept).toBe(true);

    // What a killed upload left: removed by a real prune once older than an hour (two hours from now here).
    const leftover = `${base}/.env.pex.0123456789ab.uploading`;
    await fs.put(Readable.from([Buffer.from("partial")]), leftover);
    expect(dryRun.leftovers).toEqual([]);
    const twoHoursLater = new Date(Date.now() + 2 * 3_600_000);
    const done = await pruneEnvs(directory, { keep: 2, dryRun: false, fsArgs, now: twoHoursLater });
    expect(done.leftovers).toContain(fs.toUri(leftover));
    expect(await fs.exists(leftover)).toBe(false);
    expect(names(done.removed)).toEqual(names(dryRun.removed));
    expect(names((await listEnvs(directory, { fsArgs })).envs)).toEqual(names(dryRun.kept));
    for (const env of done.removed)
      expect(await fs.exists(env.metadataPath.replace(/^.*\/envs\//, `${base}/`))).toBe(false);
  });

  it("refuses a prune that says nothing to keep, and a duration it cannot read", async () => {
    await expect(pruneEnvs(directory, { fsArgs })).rejects.toSatisfy((error) =>
      isShippingError(error, "INVALID_ARGUMENT"),
    );
    await expect(pruneEnvs(directory, { olderThan: "soon", fsArgs })).rejects.toThrow(/not a duration/);
  });
});

describe("locateEnv offline", () => {
  it("describes an archive on a store it never contacts, with the editable zips the environment ships", async () => {
    // Nothing listens on port 1: any request would fail.
    const packagePath = "webhdfs://127.0.0.1:1/user/bob/envs/team.pex";
    const located = await locateEnv(packagePath, { offline: true, python: venv.python });
    expect(located).toEqual({
      packagePath,
      format: "pex",
      metadataPath: "webhdfs://127.0.0.1:1/user/bob/envs/team.json",
      editable: [{ name: "devpkg", uri: "webhdfs://127.0.0.1:1/user/bob/envs/team_editable/devpkg.zip" }],
      editableIndex: "webhdfs://127.0.0.1:1/user/bob/envs/team_editable/editable_packages_index",
    });
  });

  it("refuses a name that is not an archive, before anything else", async () => {
    await expect(locateEnv("/envs/env.whl", { offline: true })).rejects.toSatisfy((error) =>
      isShippingError(error, "INVALID_ARGUMENT"),
    );
  });
});
