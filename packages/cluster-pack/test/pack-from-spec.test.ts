import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWheel, createVenv, execute, machinePython, retagWheel } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackEnvOptions, packEnv } from "../src/index.js";

let root: string;
let wheels: string;
let python: string;
let cache: string;
let sequence = 0;
const fresh = (name: string) => join(root, `${name}-${++sequence}`);
const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

/** Work directories of this process's spec builds still in TMPDIR: none once packEnv returns or throws. */
const stagingLeft = async () =>
  (await readdir(tmpdir())).filter((name) => name.startsWith(`cluster-pack-${process.pid}-spec-`));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-facade-spec-"));
  wheels = join(root, "wheels");
  const built = await buildWheel(
    { name: "facadepkg", version: "3.0", files: { "facadepkg/__init__.py": "WHO = 'facade'\n" } },
    join(root, "built"),
  );
  await mkdir(wheels, { recursive: true });
  await retagWheel(built, "py3-none-macosx_11_0_arm64", wheels);
  await retagWheel(built, "py3-none-any", wheels);
  python = (await createVenv(machinePython, join(root, "venv"))).python;
  cache = join(root, "cache");
}, 90_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const base = (): Omit<PackEnvOptions, "output"> => ({
  python,
  findLinks: [wheels],
  noIndex: true,
  env: { ...process.env, XDG_CACHE_HOME: cache, C_PACK_PYPI_URL: "" },
});

describe("packEnv from a spec", () => {
  it("packs requirements for macOS arm64 and replays the lock into the same bytes, recording target and wheels", async () => {
    const lockOut = join(fresh("lock"), "env.lock.json");
    const first = await packEnv({
      ...base(),
      requirements: ["facadepkg==3.0"],
      target: { platforms: ["macosx_11_0_arm64"], pythonVersion: "3.11" },
      lockOut,
      output: join(fresh("out"), "env.pex"),
    });
    // The macOS-only build is preferred to the universal one, as pip ranks platform wheels first.
    const file = "facadepkg-3.0-py3-none-macosx_11_0_arm64.whl";
    expect(first).toMatchObject({ packer: "pex", source: "staging", requirements: ["facadepkg==3.0"] });
    expect(first.cacheKey).toMatchObject({
      platform: "macosx_11_0_arm64",
      python_version: "3.11",
      target: { platforms: ["macosx_11_0_arm64"], python_version: "3.11", implementation: "cp" },
      wheels: { [file]: await sha256(join(wheels, file)) },
    });
    expect(await stagingLeft()).toEqual([]);
    const replayed = await packEnv({ ...base(), lockFile: lockOut, output: join(fresh("out"), "env.pex") });
    expect(replayed.sha256).toBe(first.sha256);
    expect(replayed.cacheKey).toEqual(first.cacheKey);
    // Pure Python: it runs here although it was packed for a Mac.
    const ran = await execute(
      machinePython,
      [replayed.output, "-c", "import facadepkg; print(facadepkg.WHO)"],
      {
        env: { ...process.env, PEX_ROOT: fresh("pex-root") },
      },
    );
    expect(ran).toMatchObject({ code: 0, stdout: "facade\n" });
  });

  it("removes its staging when resolution fails", async () => {
    await expect(
      packEnv({ ...base(), requirements: ["missingpkg"], output: join(fresh("out"), "env.pex") }),
    ).rejects.toThrow(/no wheel of missingpkg found for the target/);
    expect(await stagingLeft()).toEqual([]);
  });

  it.each([
    [
      { requirements: ["facadepkg"], packer: "venv" as const },
      "packing from requirements or a lock writes pex or pex.zip archives: a venv archive needs the target's own interpreter",
    ],
    [
      { target: { platforms: ["manylinux2014_x86_64"] } },
      "a target platform needs requirements (or a lock) to resolve",
    ],
    [{ requirements: ["facadepkg"], lockFile: "x.lock" }, "requirements and a lock both say what to pack"],
    [{ lockFile: "x.lock", target: { pythonVersion: "3.12" } }, "a lock names its own target"],
    [{ requirements: ["facadepkg"], compile: true }, "compile makes bytecode with this interpreter"],
    [
      { requirements: ["facadepkg"], onlyPackages: ["x"] },
      "onlyPackages select packages of an installed environment",
    ],
  ])("refuses %j before resolving anything", async (options, message) => {
    const output = join(fresh("out"), "packer" in options ? "env.tar.gz" : "env.pex");
    await expect(packEnv({ ...base(), ...options, output })).rejects.toThrow(message);
    await expect(readFile(output)).rejects.toThrow();
    expect(await stagingLeft()).toEqual([]);
  });

  it("refuses a misfit wheel given by path, naming its tags", async () => {
    const r = join(fresh("spec"), "r.txt");
    await mkdir(join(r, ".."), { recursive: true });
    await writeFile(r, `${join(wheels, "facadepkg-3.0-py3-none-macosx_11_0_arm64.whl")}\n`);
    await expect(
      packEnv({
        ...base(),
        requirementsFile: r,
        target: { platforms: ["manylinux2014_x86_64"] },
        output: join(fresh("out"), "env.pex"),
      }),
    ).rejects.toThrow(
      /facadepkg-3\.0-py3-none-macosx_11_0_arm64\.whl does not fit the target \(tags py3-none-macosx_11_0_arm64: built for macosx_11_0_arm64, which linux x86_64 \(glibc 2\.17\) cannot load\)/,
    );
  });
});
