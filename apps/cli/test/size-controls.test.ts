import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listZip } from "@cluster-pack/archive";
import type { Venv } from "@cluster-pack/testkit";
import type { PackedEnv, UploadedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";
import { createFixtureVenv } from "./fixture-env.js";

let root: string;
let venv: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-size-"));
  venv = await createFixtureVenv(root);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The entries of a zip as Python's zipfile reads them: name and method (0 stored, 8 deflated). */
/** The entries of a zipapp's environment zip (zip tools see only the launcher zip after it). */
async function zipEntries(archive: string): Promise<{ name: string; method: number }[]> {
  return (await listZip(archive)).entries;
}

/** stderr is `error: …` naming the value, then one hint line. */
function expectOneError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[1]).toMatch(/^hint: /);
}

describe("--compression", () => {
  it.each([["upload"], ["pack", "--output", "env.pex"]])(
    "%s refuses a bad value in one line with exit code 2",
    async (...args) => {
      const outcome = await runCli([...args, "--python", venv.python, "--compression", "max"]);
      expect(outcome.code).toBe(2);
      expectOneError(outcome.stderr, /--compression "max" is not supported/);
      expect(outcome.stderr).toMatch(/hint: use store \(0\), fast \(1\), best \(9\) or a level from 0 to 9/);
    },
  );

  it("refuses store for a .tar.gz archive in one line with exit code 2", async () => {
    const outcome = await runCli([
      "pack",
      "--python",
      venv.python,
      "--packer",
      "venv",
      "--output",
      join(root, "env.tar.gz"),
      "--compression",
      "store",
    ]);
    expect(outcome.code).toBe(2);
    expectOneError(outcome.stderr, /store \(level 0\) applies to zip formats/);
  });

  it("takes compression from [tool.cluster-pack], naming the file when the value is bad", async () => {
    const project = join(root, "project");
    await mkdir(project, { recursive: true });
    await writeFile(join(project, "pyproject.toml"), "[tool.cluster-pack]\ncompression = 11\n");
    const outcome = await runCli(["pack", "--python", venv.python, "--output", "env.pex"], { cwd: project });
    expect(outcome.code).toBe(2);
    expectOneError(
      outcome.stderr,
      /pyproject\.toml: \[tool\.cluster-pack\] compression "11" is not supported/,
    );
  });
});

describe("pack and upload with --compression and --exclude", () => {
  it("pack stores the entries and leaves out what --exclude matches (repeated)", async () => {
    const output = join(root, "stored.pex");
    const outcome = await runCli([
      "pack",
      "--python",
      venv.python,
      "--output",
      output,
      "--compression",
      "store",
      "--exclude",
      "*/tests/*",
      "--exclude",
      "pip/*",
      "--json",
    ]);
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    const packed = JSON.parse(outcome.stdout) as PackedEnv;
    expect(packed.cacheKey).toMatchObject({ compression_level: 0, exclude: ["*/tests/*", "pip/*"] });
    const entries = await zipEntries(output);
    expect(entries.filter((entry) => entry.method !== 0)).toEqual([]);
    expect(entries.map((entry) => entry.name)).toContain(".deps/purepkg/__init__.py");
    expect(entries.filter((entry) => entry.name.startsWith(".deps/pip/"))).toEqual([]);
  });

  it("upload records them in the metadata, keeps the archive for the same options and packs again for others", async () => {
    const packagePath = join(root, "store", "env.pex");
    const upload = async (...options: string[]) => {
      const outcome = await runCli(
        ["upload", "--python", venv.python, "--package-path", packagePath, ...options, "--json"],
        { env: baseEnv() },
      );
      expect(outcome).toMatchObject({ code: 0, stderr: "" });
      return JSON.parse(outcome.stdout) as UploadedEnv;
    };
    const first = await upload("--compression", "best", "--exclude", "pip/*");
    expect(first).toMatchObject({ uploaded: true, metadata: { compression_level: 9, exclude: ["pip/*"] } });
    const entries = await zipEntries(packagePath);
    expect(entries.filter((entry) => entry.name.startsWith(".deps/pip/"))).toEqual([]);
    expect((await upload("--compression", "9", "--exclude", "pip/*")).uploaded).toBe(false);
    expect((await upload("--compression", "9")).uploaded).toBe(true);
  });
});
