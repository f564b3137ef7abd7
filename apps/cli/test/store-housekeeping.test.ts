import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execute, testStores, type Venv } from "@cluster-pack/testkit";
import type { EnvListing, PruneResult, RemovedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";
import { createFixtureVenv } from "./fixture-env.js";

let root: string;
let venv: Venv;
let venvArchive: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-store-"));
  venv = await createFixtureVenv(root);
  // A prebuilt venv archive: what `upload-zip` takes (bin/python at its root).
  const tree = join(root, "tree");
  await mkdir(join(tree, "bin"), { recursive: true });
  await writeFile(join(tree, "bin", "python"), "#!/bin/sh\n", { mode: 0o755 });
  venvArchive = join(root, "prebuilt.tar.gz");
  await execute("tar", ["czf", venvArchive, "-C", tree, "."]);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the command and parses its one JSON object, which must come with exit code 0. */
async function json<T>(args: readonly string[], env: NodeJS.ProcessEnv): Promise<T> {
  const outcome = await runCli([...args, "--json"], { env });
  expect(outcome.stderr).toBe("");
  expect(outcome.code).toBe(0);
  return JSON.parse(outcome.stdout) as T;
}

const namesOf = (listing: EnvListing) => listing.envs.map((env) => env.packagePath.split("/").at(-1));

describe.each(testStores)("store housekeeping on $name", (store) => {
  let directory: string;
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const running = await store.start(root);
    ({ directory, stop } = running);
    env = baseEnv(running.env);
  });

  afterAll(async () => {
    await stop?.();
  });

  it("uploads prebuilt archives with upload-zip, the second time only if --force", async () => {
    for (const name of ["a.tar.gz", "b.tgz", "c.tar.gz"]) {
      const uploaded = await json<{ uploaded: boolean; packer: string }>(
        ["upload-zip", venvArchive, "--package-path", `${directory}/${name}`],
        env,
      );
      expect(uploaded).toMatchObject({ uploaded: true, packer: "venv" });
    }
    const again = ["upload-zip", venvArchive, "--package-path", `${directory}/a.tar.gz`];
    expect(await json<{ uploaded: boolean }>(again, env)).toMatchObject({ uploaded: false });
    expect(await json<{ uploaded: boolean }>([...again, "--force"], env)).toMatchObject({ uploaded: true });
    const listing = await json<EnvListing>(["ls", directory], env);
    expect(namesOf(listing)).toEqual(["a.tar.gz", "b.tgz", "c.tar.gz"]);
    for (const stored of listing.envs) expect(stored.metadata).toMatchObject({ format: "venv" });
  });

  it("prunes to the newest archive: a dry run that removes nothing, then --yes", async () => {
    const dryRun = await json<PruneResult>(["prune", directory, "--keep", "1"], env);
    expect(dryRun).toMatchObject({ dryRun: true });
    expect(dryRun.removed).toHaveLength(2);
    // `a.tar.gz` was uploaded last (--force): it is the one kept.
    expect(dryRun.kept.map((kept) => kept.packagePath.split("/").at(-1))).toEqual(["a.tar.gz"]);
    expect(namesOf(await json<EnvListing>(["ls", directory], env))).toHaveLength(3);

    const human = await runCli(["prune", directory, "--keep", "1"], { env });
    expect(human.stdout).toContain("would remove 2 of 3");
    expect(human.stdout).toContain("--yes");

    const pruned = await json<PruneResult>(["prune", directory, "--keep", "1", "--yes"], env);
    expect(pruned.dryRun).toBe(false);
    expect(namesOf(await json<EnvListing>(["ls", directory], env))).toEqual(["a.tar.gz"]);
  });

  it("removes an archive with its metadata (rm), and says so when there is none", async () => {
    const removed = await json<RemovedEnv>(["rm", `${directory}/a.tar.gz`], env);
    expect(removed.removed.map((uri) => uri.split("/").at(-1))).toEqual(["a.tar.json", "a.tar.gz"]);
    expect(namesOf(await json<EnvListing>(["ls", directory], env))).toEqual([]);
    const missing = await runCli(["rm", `${directory}/a.tar.gz`], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^error: .*a\.tar\.gz: no archive there$/),
      expect.stringMatching(/^hint: /),
    ]);
  });
});

describe("cluster-pack ls on metadata anyone could have written", () => {
  it("prints terminal escapes as text, never obeyed, and says which fields are malformed", async () => {
    const directory = await mkdtemp(join(root, "hostile-"));
    await writeFile(join(directory, "x.pex"), "zipapp");
    await writeFile(
      join(directory, "x.json"),
      JSON.stringify({ created: 5, python_version: "\u001b[2J3.11", format: "pex", package_installed: "a" }),
    );
    const outcome = await runCli(["ls", directory], { env: baseEnv() });
    expect(outcome.stderr).toBe(
      `warning: the metadata at ${directory}/x.json is malformed: "created" is not a string, "package_installed" is not a list of strings\n`,
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).not.toContain("\u001b");
    // The bad `created` gives way to the store's modification time; the bad package list to "?".
    expect(outcome.stdout).toMatch(
      /x\.pex +6 B +\d{4}-\d\d-\d\dT\S+ +python \\x1b\[2J3\.11 +\? packages +pex/,
    );
  });
});

describe("cluster-pack config --offline", () => {
  it("emits a Spark configuration for a store it cannot reach, with the environment's editable code", async () => {
    // Nothing listens on port 1: reading the store would fail.
    const packagePath = "webhdfs://127.0.0.1:1/user/bob/envs/team.pex";
    const outcome = await runCli(
      [
        "config",
        "spark",
        "--offline",
        "--python",
        venv.python,
        "--package-path",
        packagePath,
        "--format",
        "json",
      ],
      { env: baseEnv() },
    );
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    const { properties, environmentVariables } = JSON.parse(outcome.stdout);
    expect(properties).toMatchObject({
      "spark.yarn.dist.files": `${packagePath},webhdfs://127.0.0.1:1/user/bob/envs/team_editable/editable_packages_index`,
      "spark.submit.pyFiles": "webhdfs://127.0.0.1:1/user/bob/envs/team_editable/devpkg.zip",
    });
    expect(environmentVariables).toEqual({ PYSPARK_PYTHON: "./team.pex" });
  });

  it("refuses --offline with --upload in one line", async () => {
    const outcome = await runCli(["config", "spark", "--offline", "--upload"], { env: baseEnv() });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.split("\n")[0]).toBe("error: --offline and --upload exclude each other");
  });
});

describe("what the store commands refuse", () => {
  it.each([
    [["prune", "/tmp/envs"], 2, /^error: say what to keep/],
    [["prune", "/tmp/envs", "--older-than", "soon"], 2, /not a duration/],
    [["rm", "/tmp/envs/env.whl"], 2, /not an archive cluster-pack writes/],
    [["upload-zip", "/tmp/env.whl"], 2, /not an archive cluster-pack writes/],
  ])("cluster-pack %j", async (args, exitCode, message) => {
    const outcome = await runCli(args, { env: baseEnv() });
    expect(outcome.code).toBe(exitCode);
    const lines = outcome.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(/^hint: /);
  });
});
