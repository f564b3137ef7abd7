import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTar } from "@cluster-pack/archive";
import { type Interpreter, probeInterpreter } from "@cluster-pack/python-env";
import {
  buildWheel,
  compileC,
  createCondaStylePrefix,
  installCondaPackage,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPackerError, packConda } from "../src/index.js";
import { execute } from "./clean-env.js";

let root: string;
let env: Venv;
let interpreter: Interpreter;
let archive: string;

/** conda-build's binary placeholder: 255 bytes, so that any install path up to that length fits. */
const BINARY_PLACEHOLDER =
  `/home/conda/feedstock_root/build_artifacts/demo_1700000000000/_h_env_${"placehold_".repeat(25)}`.slice(
    0,
    255,
  );
/** conda's placeholder for text files (split so that this file never holds it whole). */
const TEXT_PLACEHOLDER = `/opt/anaconda1anaconda2${"anaconda3"}`;

const showPrefix = `#include <stdio.h>
static const char data_path[] = "${BINARY_PLACEHOLDER}/share/demo/data.txt";
int main(void) {
  FILE *file = fopen(data_path, "r");
  if (!file) { perror(data_path); return 1; }
  char text[64] = {0};
  fread(text, 1, sizeof text - 1, file);
  printf("%s %s", data_path, text);
  return 0;
}
`;
const demoTool = `#!${TEXT_PLACEHOLDER}/bin/python
import pathlib, sys
conf = (pathlib.Path(sys.prefix) / "etc" / "demo.conf").read_text().strip()
print(conf, pathlib.Path(conf.split("=", 1)[1]).read_text().strip())
`;

async function unpack(into: string, file = archive) {
  await mkdir(into, { recursive: true });
  await run("tar", ["-xzf", file, "-C", into]);
  return into;
}

/** Regular files (links are not followed) whose bytes contain `text`, relative to `directory`. */
async function filesContaining(directory: string, text: string, base = directory): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(directory)) {
    const path = join(directory, name);
    const stats = await lstat(path);
    if (stats.isDirectory()) found.push(...(await filesContaining(path, text, base)));
    else if (stats.isFile() && (await readFile(path)).includes(text)) found.push(path.slice(base.length + 1));
  }
  return found;
}

/** What a job sees: the interpreter, a conda script, a conda binary, a pip console script. */
async function expectRunsAt(environment: string) {
  const python = await execute(join(environment, "bin", "python"), [
    "-c",
    "import sys, purepkg; print(sys.prefix)",
  ]);
  expect(python).toMatchObject({ code: 0, stdout: `${environment}\n` });
  const tool = await execute(join(environment, "bin", "demo-tool"), []);
  expect(tool).toMatchObject({ code: 0, stdout: `data=${environment}/share/demo/data.txt demo data\n` });
  const binary = await execute(join(environment, "bin", "show-prefix"), []);
  expect(binary).toMatchObject({ code: 0, stdout: `${environment}/share/demo/data.txt demo data\n` });
  const script = await execute(join(environment, "bin", "purecli"), ["x"]);
  expect(script).toMatchObject({ code: 0, stdout: "purecli x\n" });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-conda-archive-"));
  env = await createCondaStylePrefix(join(root, "miniconda", "envs", "work"), [], undefined, {
    recordPython: true,
  });
  await installCondaPackage(env.prefix, {
    name: "demo",
    version: "1.0",
    build: "h0_0",
    files: {
      "bin/show-prefix": {
        content: await readFile(await compileC(showPrefix, join(root, "build", "show-prefix"))),
        placeholder: BINARY_PLACEHOLDER,
        fileMode: "binary",
        mode: 0o755,
      },
      "bin/demo-tool": { content: demoTool, placeholder: TEXT_PLACEHOLDER, mode: 0o755 },
      "etc/demo.conf": {
        content: `data=${TEXT_PLACEHOLDER}/share/demo/data.txt\n`,
        placeholder: TEXT_PLACEHOLDER,
      },
      "share/demo/data.txt": { content: "demo data\n" },
    },
  });
  await installCondaPackage(env.prefix, {
    name: "clobbered-conda",
    version: "1.0",
    build: "py_0",
    files: { "lib/python3.11/site-packages/clobbered/__init__.py": { content: 'ORIGIN = "conda"\n' } },
  });
  // conda's own activate, which the archive replaces with its relocatable one: left out, not "gone".
  await installCondaPackage(env.prefix, {
    name: "conda",
    version: "23.1.0",
    build: "py311_0",
    files: { "bin/activate": { content: "#!/bin/sh\n_CONDA_ROOT=/somewhere\n" } },
  });
  await installCondaPackage(env.prefix, {
    name: "gone",
    version: "1.0",
    build: "0",
    files: { "share/gone/readme.txt": { content: "uninstalled by hand\n" } },
  });
  await rm(join(env.prefix, "share", "gone", "readme.txt"));
  const wheels = join(root, "wheels");
  await Promise.all([
    buildWheel(
      {
        name: "purepkg",
        version: "1.0",
        files: {
          "purepkg/__init__.py": "",
          "purepkg/cli.py": "import sys\ndef main():\n    print('purecli', *sys.argv[1:])\n",
        },
        consoleScripts: { purecli: "purepkg.cli:main" },
      },
      join(wheels, "purepkg"),
    ),
    buildWheel(
      { name: "clobbered", version: "2.0", files: { "clobbered/__init__.py": 'ORIGIN = "pip"\n' } },
      join(wheels, "clobbered"),
    ),
  ]);
  await pipInstall(env, ["purepkg", "clobbered"], [join(wheels, "purepkg"), join(wheels, "clobbered")]);
  // Not conda's: written in the environment by some tool, naming its path.
  await writeFile(join(env.prefix, "etc", "user.cfg"), `cache=${env.prefix}/var/cache\n`);
  interpreter = await probeInterpreter(env.python);
  archive = join(root, "env.tar.gz");
  await packConda({ interpreter, output: archive });
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("a conda archive", () => {
  it("holds conda's placeholders, not this machine's path", async () => {
    const packed = await unpack(join(root, "inspected"));
    expect(await filesContaining(packed, env.prefix)).toEqual([]);
    expect(await filesContaining(packed, BINARY_PLACEHOLDER)).toEqual([
      "bin/show-prefix",
      "conda-meta/demo-1.0-h0_0.json",
      "share/cluster-pack/prefix-records.json",
    ]);
    const records = JSON.parse(
      await readFile(join(packed, "share", "cluster-pack", "prefix-records.json"), "utf8"),
    );
    // demo-tool named the prefix only in its shebang, which now finds python beside it: nothing left to unpack.
    expect(records.records).toEqual([
      ["bin/show-prefix", BINARY_PLACEHOLDER, "binary"],
      ["etc/demo.conf", TEXT_PLACEHOLDER, "text"],
      ["etc/user.cfg", TEXT_PLACEHOLDER, "text"],
    ]);
  });

  for (const [where, location] of [
    [
      "a longer",
      () => join(root, "unpacked", "a-directory-name-much-longer-than-the-original-one", "environment"),
    ],
    ["a shorter", () => join(root, "e")],
  ] as const) {
    it(`runs its Python, scripts and binaries at ${where} path after conda-unpack, and no file names the old path`, async () => {
      const environment = await unpack(location());
      const unpacked = await execute(join(environment, "bin", "conda-unpack"), []);
      expect(unpacked).toMatchObject({ code: 0, stderr: "" });
      await rename(env.prefix, `${env.prefix}.away`);
      try {
        await expectRunsAt(environment);
      } finally {
        await rename(`${env.prefix}.away`, env.prefix);
      }
      expect(await readFile(join(environment, "etc", "user.cfg"), "utf8")).toBe(
        `cache=${environment}/var/cache\n`,
      );
      expect(await filesContaining(environment, env.prefix)).toEqual([]);
      expect((await readFile(join(environment, "bin", "show-prefix"))).includes(BINARY_PLACEHOLDER)).toBe(
        false,
      );
    });
  }

  it("sources a relocatable activate that sets CONDA_PREFIX to where it was unpacked", async () => {
    const environment = join(root, "e");
    const outcome = await execute("bash", [
      "-c",
      `source ${environment}/bin/activate && echo "$CONDA_PREFIX" && command -v python && deactivate && echo "\${CONDA_PREFIX:-none}"`,
    ]);
    expect(outcome.stdout).toBe(`${environment}\n${environment}/bin/python\nnone\n`);
  });

  it("leaves an outer conda environment's hooks alone and restores its variables on deactivate", async () => {
    const environment = join(root, "e");
    const outer = join(root, "outer-conda");
    const marker = join(root, "outer-deactivated");
    await mkdir(join(outer, "etc", "conda", "deactivate.d"), { recursive: true });
    await writeFile(join(outer, "etc", "conda", "deactivate.d", "mark.sh"), `touch ${marker}\n`);
    const outcome = await execute("bash", [
      "-c",
      `export CONDA_PREFIX=${outer} CONDA_DEFAULT_ENV=outer && source ${environment}/bin/activate && echo "$CONDA_PREFIX $CONDA_DEFAULT_ENV" && deactivate && echo "$CONDA_PREFIX $CONDA_DEFAULT_ENV"`,
    ]);
    expect(outcome.stdout).toBe(`${environment} e\n${outer} outer\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it("runs its Python and pip's console scripts without the unpack step, as a Spark executor would", async () => {
    const environment = await unpack(join(root, "no-unpack", "environment"));
    const python = await execute(join(environment, "bin", "python"), [
      "-c",
      "import purepkg, clobbered; print(clobbered.ORIGIN)",
    ]);
    expect(python).toMatchObject({ code: 0, stdout: "pip\n" });
    expect(await execute(join(environment, "bin", "purecli"), ["y"])).toMatchObject({
      code: 0,
      stdout: "purecli y\n",
    });
  });

  it("makes conda-unpack a no-op the second time and follows the environment when it moves", async () => {
    const first = await unpack(join(root, "moving", "first"));
    expect((await execute(join(first, "bin", "conda-unpack"), [])).code).toBe(0);
    expect(await execute(join(first, "bin", "conda-unpack"), [])).toMatchObject({ code: 0, stderr: "" });
    const second = join(root, "moving", "second-place");
    await rename(first, second);
    expect((await execute(join(second, "bin", "conda-unpack"), [])).code).toBe(0);
    await expectRunsAt(second);
    // Bytecode Python wrote while running at the first place keeps that path for tracebacks; nothing else may.
    const stale = await filesContaining(second, first);
    expect(stale.filter((path) => !path.endsWith(".pyc"))).toEqual([]);
  });

  it("lets concurrent conda-unpack runs share one unpacked archive", async () => {
    const environment = await unpack(join(root, "shared", "environment"));
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => execute(join(environment, "bin", "conda-unpack"), [])),
    );
    expect(runs.map((outcome) => outcome.code)).toEqual([0, 0, 0, 0]);
    await expectRunsAt(environment);
  });

  it("refuses to unpack where a binary placeholder has no room, in one line, changing nothing", async () => {
    let deep = join(root, "deep");
    while (deep.length <= 260) deep = join(deep, "a-long-directory-name");
    const environment = await unpack(join(deep, "environment"));
    const before = await readFile(join(environment, "bin", "show-prefix"));
    const outcome = await execute(join(environment, "bin", "conda-unpack"), []);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe(
      `conda-unpack: ${environment} is ${environment.length} bytes long, but binary files such as bin/show-prefix have room for a path of 255 bytes: unpack the environment at a shorter path, or pack it with --dest-prefix\n`,
    );
    expect(await readFile(join(environment, "bin", "show-prefix"))).toEqual(before);
    expect(existsSync(join(environment, "share", "cluster-pack", "unpacked-prefix"))).toBe(false);
  });

  /**
   * Runs conda-unpack unable to write a file over 1 KiB (EFBIG, not a signal): it stops at the first binary. No
   * bytecode: Python would leave .pyc files cut at that size.
   */
  const unpackWithoutRoom = (environment: string) =>
    execute("bash", [
      "-c",
      'trap "" XFSZ; ulimit -f 1; PYTHONDONTWRITEBYTECODE=1 exec "$0"',
      join(environment, "bin", "conda-unpack"),
    ]);

  it("leaves no temporary file in the environment when it cannot write one, and the next run finishes", async () => {
    const environment = await unpack(join(root, "no-space", "environment"));
    const stopped = await unpackWithoutRoom(environment);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("File too large");
    expect(await filesContaining(environment, "")).not.toContainEqual(expect.stringMatching(/conda-unpack-/));
    expect(await execute(join(environment, "bin", "conda-unpack"), [])).toMatchObject({
      code: 0,
      stderr: "",
    });
    await expectRunsAt(environment);
  });

  it("finishes a run stopped midway without rewriting twice, where the old path is a prefix of the new", async () => {
    const first = await unpack(join(root, "stopped", "env"));
    expect((await execute(join(first, "bin", "conda-unpack"), [])).code).toBe(0);
    const moved = `${first}2`;
    await rename(first, moved);
    // A crash midway: the last recorded file cannot be opened, after the binary and etc/demo.conf were rewritten.
    const userConfig = join(moved, "etc", "user.cfg");
    const saved = await readFile(userConfig);
    await rm(userConfig);
    await mkdir(userConfig);
    expect((await execute(join(moved, "bin", "conda-unpack"), [])).code).toBe(1);
    await rm(userConfig, { recursive: true });
    await writeFile(userConfig, saved);
    expect(await execute(join(moved, "bin", "conda-unpack"), [])).toMatchObject({ code: 0, stderr: "" });
    expect(await filesContaining(moved, `${moved}2`)).toEqual([]);
    await expectRunsAt(moved);
  });

  it("packs the same environment into byte-identical archives", async () => {
    const again = await packConda({ interpreter, output: join(root, "again.tar.gz") });
    const once = await packConda({ interpreter, output: join(root, "once.tar.gz") });
    expect(again.sha256).toBe(once.sha256);
  });

  it("reports files pip clobbered over conda's and conda files that are gone, not those it replaces", async () => {
    const packed = await packConda({ interpreter, output: join(root, "report.tar.gz") });
    expect(packed.clobbered).toEqual([
      {
        path: "lib/python3.11/site-packages/clobbered/__init__.py",
        condaPackage: "clobbered-conda",
        distribution: "clobbered",
      },
    ]);
    expect(packed.missing).toEqual([{ path: "share/gone/readme.txt", condaPackage: "gone" }]);
    expect(packed.warnings).toEqual([
      "lib/python3.11/site-packages/clobbered/__init__.py: installed by conda (clobbered-conda) and overwritten by pip (clobbered); the archive has pip's version",
      "gone: 1 file(s) conda installed are gone (pip uninstalled or replaced them?), e.g. share/gone/readme.txt; check with conda list",
    ]);
  });
});

describe("files a conda archive cannot relocate", () => {
  it("reports a binary file outside conda's records that names the environment's path", async () => {
    const blob = join(env.prefix, "share", "blob.bin");
    await writeFile(
      blob,
      Buffer.concat([Buffer.from([0, 0xff, 0xfe]), Buffer.from(env.prefix), Buffer.from([0])]),
    );
    try {
      const packed = await packConda({ interpreter, output: join(root, "blob.tar.gz") });
      expect(packed.warnings).toContain(
        `share/blob.bin: a binary file naming the environment's path (${env.prefix}), which cannot be relocated`,
      );
    } finally {
      await rm(blob);
    }
  });
});

describe("a conda archive packed for a known destination (destPrefix)", () => {
  it("runs at that path with no unpack step", async () => {
    const destination = join(root, "known", "destination");
    const output = join(root, "dest.tar.gz");
    const packed = await packConda({ interpreter, output, destPrefix: destination });
    expect(packed).toMatchObject({ prefixRecords: 0, destPrefix: destination });
    const names = (await listTar(output)).map((entry) => entry.name);
    expect(names).not.toContain("bin/conda-unpack");
    await unpack(destination, output);
    await expectRunsAt(destination);
    expect(await filesContaining(destination, env.prefix)).toEqual([]);
  });

  it("refuses a destination too long for a binary placeholder, writing nothing", async () => {
    const destination = `/opt/${"x".repeat(300)}`;
    const output = join(root, "too-long.tar.gz");
    const error = await packConda({ interpreter, output, destPrefix: destination }).catch((e) => e);
    expect(isPackerError(error, "UNRELOCATABLE")).toBe(true);
    expect(error.message).toBe(
      `${join(env.prefix, "bin", "show-prefix")}: the destination ${destination} is 305 bytes long, but bin/show-prefix has room for a path of 255 bytes: choose a shorter destination`,
    );
    expect(existsSync(output)).toBe(false);
  });
});

describe("bad input", () => {
  it("refuses a prefix that is not a conda environment", async () => {
    const error = await packConda({
      interpreter: { prefix: root, sitePackages: [] },
      output: join(root, "not-conda.tar.gz"),
    }).catch((e) => e);
    expect(isPackerError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toBe(
      `${root}: not a conda environment (no conda-meta/ directory): the conda packer ships environments made by conda, mamba or pixi`,
    );
  });
});
