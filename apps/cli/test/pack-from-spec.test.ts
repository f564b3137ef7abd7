import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildWheel,
  createVenv,
  execute,
  machinePython,
  type PackageIndex,
  retagWheel,
  run,
  startPackageIndex,
  type Venv,
} from "@cluster-pack/testkit";
import type { PackedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";

let root: string;
/** A venv with nothing installed but pip: the environment the user packs from. */
let empty: Venv;
/** Wheels as built here (py3-none-any) and re-tagged copies for a cp312 manylinux target. */
let wheels: string;
let wheels312: string;
let index: PackageIndex;
let requirements: string;
let sequence = 0;
const fresh = (name: string) => join(root, `${name}-${++sequence}`);

/** The CLI with the empty venv active and a wheel cache of the test's own. */
const env = (extra: NodeJS.ProcessEnv = {}) =>
  baseEnv({ VIRTUAL_ENV: empty.prefix, XDG_CACHE_HOME: join(root, "cache"), C_PACK_PYPI_URL: "", ...extra });

async function pack(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<PackedEnv> {
  const outcome = await runCli(["pack", ...args, "--json"], { env: env(extra) });
  expect(outcome.stderr).toBe("");
  expect(outcome.code).toBe(0);
  return JSON.parse(outcome.stdout) as PackedEnv;
}

/** Runs an archive with this machine's Python in a clean process, as a node would. */
const runArchive = (archive: string, args: readonly string[], extra: NodeJS.ProcessEnv = {}) =>
  execute(machinePython, [archive, ...args], {
    env: baseEnv({ PEX_ROOT: fresh("pex-root"), ...extra }),
  });

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-spec-"));
  wheels = join(root, "wheels");
  wheels312 = join(root, "wheels312");
  await mkdir(wheels312, { recursive: true });
  const built = await Promise.all([
    buildWheel(
      {
        name: "specpkg",
        version: "1.0",
        files: {
          "specpkg/__init__.py": "from specdep import DEP\nVALUE = 'spec ' + DEP\n",
          "specpkg/cli.py": "import sys\ndef main():\n    print('tool', *sys.argv[1:])\n",
        },
        requires: ["specdep"],
        consoleScripts: { "spec-tool": "specpkg.cli:main" },
      },
      join(wheels, "a"),
    ),
    buildWheel(
      { name: "specdep", version: "2.0", files: { "specdep/__init__.py": "DEP = 'dep'\n" } },
      join(wheels, "b"),
    ),
  ]);
  await Promise.all(built.map((wheel) => run("cp", [wheel, wheels])));
  await Promise.all(built.map((wheel) => retagWheel(wheel, "cp312-cp312-manylinux2014_x86_64", wheels312)));
  empty = await createVenv(machinePython, join(root, "empty"));
  requirements = join(root, "r.txt");
  await writeFile(requirements, "specpkg\n");
  index = await startPackageIndex(wheels312);
}, 90_000);

afterAll(async () => {
  await index?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("pack --requirements for a target platform", () => {
  it("packs wheels for manylinux2014 x86_64 / 3.11 from an empty venv into an env.pex that imports them here", async () => {
    const output = join(fresh("out"), "env.pex");
    const temporary = fresh("tmp");
    await mkdir(temporary, { recursive: true });
    const packed = await pack(
      [
        ...["--requirements", requirements, "--platform", "manylinux2014_x86_64", "--python-version", "3.11"],
        ...["--find-links", wheels, "--no-index", "-o", output],
      ],
      { TMPDIR: temporary },
    );
    // The staging site-packages and pip's report are gone once the archive is written.
    expect(await readdir(temporary)).toEqual([]);
    expect(packed.requirements.sort()).toEqual(["specdep==2.0", "specpkg==1.0"]);
    expect(packed.cacheKey.target).toEqual({
      platforms: ["manylinux2014_x86_64"],
      python_version: "3.11",
      implementation: "cp",
    });
    expect(Object.keys(packed.cacheKey.wheels ?? {}).sort()).toEqual([
      "specdep-2.0-py3-none-any.whl",
      "specpkg-1.0-py3-none-any.whl",
    ]);
    const ran = await runArchive(output, ["-c", "import specpkg; print(specpkg.VALUE)"]);
    expect(ran).toMatchObject({ code: 0, stdout: "spec dep\n" });
    // The empty venv stayed empty: the packages came from the wheels only.
    const inVenv = await execute(empty.python, ["-c", "import specpkg"], { env: baseEnv() });
    expect(inVenv.code).not.toBe(0);
  });

  it("resolves from the loopback index for Python 3.12 (not this machine's) and the archive says so", async () => {
    const output = join(fresh("out"), "env.pex");
    const packed = await pack([
      ...["--requirements", requirements, "--platform", "manylinux2014_x86_64", "--python-version", "3.12"],
      ...["--index-url", index.url, "-o", output],
    ]);
    expect(Object.keys(packed.cacheKey.wheels ?? {}).sort()).toEqual([
      "specdep-2.0-cp312-cp312-manylinux2014_x86_64.whl",
      "specpkg-1.0-cp312-cp312-manylinux2014_x86_64.whl",
    ]);
    expect(packed.cacheKey.python_version).toBe("3.12");
    // The shebang names the target's Python; the bootstrap runs under this machine's 3.11 for pure-Python wheels.
    expect((await readFile(output, "latin1")).split("\n")[0]).toBe("#!/usr/bin/env python3.12");
    const ran = await runArchive(output, ["-c", "import specpkg; print(specpkg.VALUE)"]);
    expect(ran).toMatchObject({ code: 0, stdout: "spec dep\n" });
  });

  it("writes a lock with --lock-out that --lock replays offline into a byte-identical archive", async () => {
    const lock = join(fresh("lock"), "env.lock.json");
    const first = join(fresh("out"), "env.pex");
    const target = ["--platform", "manylinux2014_x86_64", "--python-version", "3.12"];
    const cache = { XDG_CACHE_HOME: fresh("cache") };
    const ownIndex = await startPackageIndex(wheels312);
    try {
      await pack(
        [
          "--requirements",
          requirements,
          ...target,
          "--index-url",
          ownIndex.url,
          "--lock-out",
          lock,
          "-o",
          first,
        ],
        cache,
      );
    } finally {
      await ownIndex.stop();
    }
    const written = JSON.parse(await readFile(lock, "utf8"));
    expect(written).toMatchObject({
      lockVersion: 1,
      target: { platforms: ["manylinux2014_x86_64"], pythonVersion: "3.12", implementation: "cp" },
    });
    expect(written.wheels).toHaveLength(2);
    for (const wheel of written.wheels) {
      expect(wheel.url.startsWith(ownIndex.url.replace("/simple/", "/files/"))).toBe(true);
      expect(wheel.sha256).toBe(await sha256(join(wheels312, wheel.file)));
    }
    // The index is stopped: the replay can only succeed from the wheel cache.
    const second = join(fresh("out"), "env.pex");
    await pack(["--lock", lock, "--no-index", "-o", second], cache);
    expect(await sha256(second)).toBe(await sha256(first));
    expect(await readFile(second)).toEqual(await readFile(first));
    // Without the cache, the recorded URLs are needed: with the index stopped the replay fails, naming the wheel.
    const offline = await runCli(
      ["pack", "--lock", lock, "--no-index", "-o", join(fresh("out"), "env.pex")],
      {
        env: env({ XDG_CACHE_HOME: fresh("empty-cache") }),
      },
    );
    expect(offline.code).not.toBe(0);
    expect(offline.stderr).toMatch(/download failed/);
  });

  it("takes the requirements and the target from [tool.cluster-pack], paths relative to pyproject.toml", async () => {
    const project = fresh("project");
    await mkdir(join(project, "sub"), { recursive: true });
    await writeFile(join(project, "requirements.txt"), "specpkg\n");
    await writeFile(
      join(project, "pyproject.toml"),
      [
        "[tool.cluster-pack]",
        'requirements = "requirements.txt"',
        'platforms = ["manylinux2014_x86_64"]',
        'python-version = "3.12"',
        `index-url = ${JSON.stringify(index.url)}`,
        "",
      ].join("\n"),
    );
    const outcome = await runCli(["pack", "-o", "env.pex", "--json"], {
      env: env(),
      cwd: join(project, "sub"),
    });
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    const packed = JSON.parse(outcome.stdout) as PackedEnv;
    expect(packed.cacheKey.target).toEqual({
      platforms: ["manylinux2014_x86_64"],
      python_version: "3.12",
      implementation: "cp",
    });
    expect(packed.requirements.sort()).toEqual(["specdep==2.0", "specpkg==1.0"]);
  });

  it("runs a console script of a packed wheel with PEX_SCRIPT", async () => {
    const output = join(fresh("out"), "env.pex");
    await pack(["--requirements", requirements, "--find-links", wheels, "--no-index", "-o", output]);
    const ran = await runArchive(output, ["one", "two"], { PEX_SCRIPT: "spec-tool" });
    expect(ran).toMatchObject({ code: 0, stdout: "tool one two\n" });
  });
});

describe("upload --requirements", () => {
  it("records the target and wheels in the metadata and does not upload an unchanged set again", async () => {
    const packagePath = join(fresh("store"), "envs", "spec.pex");
    const args = [
      ...[
        "upload",
        "--requirements",
        requirements,
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.12",
      ],
      ...["--index-url", index.url, "--package-path", packagePath, "--json"],
    ];
    const first = await runCli(args, { env: env() });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(first.stdout)).toMatchObject({ uploaded: true, packer: "pex" });
    const metadata = JSON.parse(await readFile(packagePath.replace(/\.pex$/, ".json"), "utf8"));
    expect(metadata).toMatchObject({
      python_version: "3.12",
      platform: "manylinux2014_x86_64",
      target: { platforms: ["manylinux2014_x86_64"], python_version: "3.12", implementation: "cp" },
      wheels: {
        "specdep-2.0-cp312-cp312-manylinux2014_x86_64.whl": await sha256(
          join(wheels312, "specdep-2.0-cp312-cp312-manylinux2014_x86_64.whl"),
        ),
        "specpkg-1.0-cp312-cp312-manylinux2014_x86_64.whl": await sha256(
          join(wheels312, "specpkg-1.0-cp312-cp312-manylinux2014_x86_64.whl"),
        ),
      },
    });
    const second = await runCli(args, { env: env() });
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(second.stdout)).toMatchObject({ uploaded: false });
    const ran = await runArchive(packagePath, ["-c", "import specpkg; print(specpkg.VALUE)"]);
    expect(ran).toMatchObject({ code: 0, stdout: "spec dep\n" });
  });
});

describe("pack --requirements refuses bad input in one line", () => {
  const refusal = async (args: readonly string[]) => {
    const outcome = await runCli(["pack", ...args], { env: env() });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stdout).toBe("");
    return outcome.stderr;
  };

  it("refuses a project that only has a source distribution", async () => {
    const sdists = fresh("sdists");
    await mkdir(sdists, { recursive: true });
    await writeFile(join(sdists, "onlysource-1.0.tar.gz"), "sdist");
    const r = join(sdists, "r.txt");
    await writeFile(r, "onlysource\n");
    const output = join(fresh("out"), "env.pex");
    const stderr = await refusal(["--requirements", r, "--find-links", sdists, "--no-index", "-o", output]);
    expect(stderr).toContain(
      "onlysource-1.0.tar.gz is a source distribution: build a wheel first (pip wheel …) and give it with --find-links",
    );
    expect(stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    await expect(readFile(output)).rejects.toThrow();
  });

  it("refuses wheels that do not fit the target, naming their files and tags", async () => {
    const stderr = await refusal([
      ...["--requirements", requirements, "--platform", "manylinux2014_x86_64", "--python-version", "3.11"],
      ...["--index-url", index.url, "-o", join(fresh("out"), "env.pex")],
    ]);
    expect(stderr).toMatch(
      /no wheel of specpkg fits the target \(platform manylinux2014_x86_64, Python 3\.11, implementation cp\): specpkg-1\.0-cp312-cp312-manylinux2014_x86_64\.whl does not fit the target \(tags cp312-cp312-manylinux2014_x86_64: built for Python cp312, not 3\.11\)/,
    );
  });

  it("refuses a missing lock file", async () => {
    const missing = join(root, "no-such.lock");
    const stderr = await refusal(["--lock", missing, "-o", join(fresh("out"), "env.pex")]);
    expect(stderr).toContain(`${missing}: lock file: no such file (write one with --lock-out)`);
  });

  it("refuses flags that cannot go together", async () => {
    const output = join(fresh("out"), "env.pex");
    expect(await refusal(["--lock", "x.lock", "--requirements", requirements, "-o", output])).toContain(
      "a requirements file and a lock both say what to pack",
    );
    expect(
      await refusal([
        "--requirements",
        requirements,
        "--platform",
        "manylinux2014_x86_64",
        "--packer",
        "venv",
        "-o",
        join(fresh("out"), "env.tar.gz"),
      ]),
    ).toContain("packing from requirements or a lock writes pex or pex.zip archives");
    expect(await refusal(["--platform", "manylinux2014_x86_64", "-o", output])).toContain(
      "a target platform needs requirements (or a lock) to resolve",
    );
  });
});
