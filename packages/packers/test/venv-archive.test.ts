import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { listTar, listZip } from "@cluster-pack/archive";
import { type Interpreter, probeInterpreter } from "@cluster-pack/python-env";
import {
  createShippableVenv,
  debianPython,
  machinePython,
  pythonFacts,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPackerError, packVenv, type ShippedPython } from "../src/index.js";
import { execute } from "./clean-env.js";

let root: string;
let venv: Venv;
let interpreter: Interpreter;
let project: string;

// The interpreter the venv is made from (createShippableVenv's default), which withPython ships: its version names
// bin/python3.X, and it has a libpython to ship only when it loads one (pyenv's does, Debian's does not).
const base = await pythonFacts(machinePython);
const libpython = base.sharedLibrary;
/** `<environment>/lib/python3.X/site-packages`, as the venv's own interpreter reported it. */
const sitePackagesIn = (environment: string) => join(environment, relative(venv.prefix, venv.sitePackages));

const cli = `import sys
def main():
    print("purecli", " ".join(sys.argv[1:]))
`;
const importAll =
  "import sys, purepkg, cextpkg._speedups as s; print(sys.prefix, purepkg.__file__, s.answer())";

async function unpack(archive: string, into: string) {
  await mkdir(into, { recursive: true });
  if (archive.endsWith(".zip")) await run("unzip", ["-q", archive, "-d", into]);
  else await run("tar", ["-xzf", archive, "-C", into]);
  return into;
}

/** Runs the original venv's files out of reach while `action` runs, so nothing can silently use them. */
async function withVenvMoved<T>(action: () => Promise<T>): Promise<T> {
  await rename(venv.prefix, `${venv.prefix}.away`);
  try {
    return await action();
  } finally {
    await rename(`${venv.prefix}.away`, venv.prefix);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-venv-archive-"));
  ({ venv, project } = await createShippableVenv(root, {
    wheelFiles: { "purepkg/cli.py": cli },
    consoleScripts: { purecli: "purepkg.cli:main" },
    extraWheels: [
      {
        name: "cextpkg",
        version: "1.0",
        files: { "cextpkg/__init__.py": "" },
        cExtension: { package: "cextpkg", name: "_speedups" },
      },
    ],
  }));
  interpreter = await probeInterpreter(venv.python);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("a venv archive unpacked at another path", () => {
  for (const format of ["tar.gz", "zip"] as const) {
    it(`runs bin/python with the wheels' packages and a console script (${format})`, async () => {
      const archive = join(root, `env.${format}`);
      const packed = await packVenv({ interpreter, output: archive });
      expect(packed).toMatchObject({ format, output: archive, warnings: [] });
      const environment = await unpack(archive, join(root, `elsewhere-${format}`, "environment"));
      const [imported, script] = await withVenvMoved(() =>
        Promise.all([
          execute(join(environment, "bin", "python"), ["-c", importAll]),
          execute(join(environment, "bin", "purecli"), ["a", "b"]),
        ]),
      );
      expect(imported.stderr).toBe("");
      expect(imported.stdout.trim()).toBe(
        `${environment} ${join(sitePackagesIn(environment), "purepkg", "__init__.py")} 42`,
      );
      expect(script).toMatchObject({ code: 0, stdout: "purecli a b\n" });
    });
  }

  it("keeps no symlink in a zip, as Hadoop's unzip would not restore them", async () => {
    const { entries } = await listZip(join(root, "env.zip"));
    expect(entries.filter((entry) => entry.kind === "symlink")).toEqual([]);
    expect(entries.map((entry) => entry.name)).not.toContain("lib64/");
  });

  it("refuses a dangling symlink by default, naming it in one line", async () => {
    const link = join(venv.prefix, "share-dangling");
    const target = join(venv.prefix, "nowhere");
    await symlink(target, link);
    try {
      await expect(packVenv({ interpreter, output: join(root, "dangling.zip") })).rejects.toMatchObject({
        code: "MISSING_FILE",
        message: `${link}: a symlink to ${target}, which does not exist: remove it, or restore what it points at`,
      });
    } finally {
      await rm(link);
    }
  });

  it("leaves a dangling symlink out of a zip, with a warning naming it, when told to skip unsafe links", async () => {
    const link = join(venv.prefix, "share-dangling");
    const target = join(venv.prefix, "nowhere");
    await symlink(target, link);
    try {
      const output = join(root, "dangling-skipped.zip");
      const packed = await packVenv({ interpreter, output, unsafeLinks: "skip" });
      expect(packed.warnings).toEqual([
        `share-dangling: a symlink to ${target}, which does not exist; left out`,
      ]);
      const { entries } = await listZip(output);
      expect(entries.map((entry) => entry.name)).not.toContain("share-dangling");
    } finally {
      await rm(link);
    }
  });

  it("sources a relocatable activate that puts the unpacked bin first on PATH", async () => {
    const environment = join(root, "elsewhere-tar.gz", "environment");
    const outcome = await execute("bash", [
      "-c",
      `source ${environment}/bin/activate && command -v python && echo "$VIRTUAL_ENV" && purecli x && deactivate && echo "\${VIRTUAL_ENV:-none}"`,
    ]);
    expect(outcome.stdout.split("\n")).toEqual([
      join(environment, "bin", "python"),
      environment,
      "purecli x",
      "none",
      "",
    ]);
  });

  it("leaves out bytecode and the activation scripts that name the venv's path", async () => {
    const names = (await listTar(join(root, "env.tar.gz"))).map((entry) => entry.name);
    expect(names.filter((name) => /__pycache__|\.pyc$/.test(name))).toEqual([]);
    expect(names.filter((name) => /^bin\/(activate\.|Activate)/.test(name))).toEqual([]);
    const config = await readFile(join(root, "elsewhere-tar.gz", "environment", "pyvenv.cfg"), "utf8");
    expect(config).not.toContain(venv.prefix);
  });

  it("packs the same venv into byte-identical archives", async () => {
    const again = await packVenv({ interpreter, output: join(root, "again.tar.gz") });
    const first = await packVenv({ interpreter, output: join(root, "first.tar.gz") });
    expect(again.sha256).toBe(first.sha256);
    const zipAgain = await packVenv({ interpreter, output: join(root, "again.zip") });
    const zipFirst = await packVenv({ interpreter, output: join(root, "first.zip") });
    expect(zipAgain.sha256).toBe(zipFirst.sha256);
  });
});

describe("editable installs in a venv archive", () => {
  it("leaves them out by default, so nothing in the archive points at the project directory", async () => {
    const archive = join(root, "no-editable.tar.gz");
    const packed = await packVenv({ interpreter, output: archive });
    expect(packed.editables).toEqual([{ name: "devpkg", baked: false }]);
    const names = (await listTar(archive)).map((entry) => entry.name);
    expect(names.filter((name) => /devpkg|__editable__/.test(name))).toEqual([]);
  });

  it("bakes them in as installed code that runs without the project directory", async () => {
    const archive = join(root, "with-editable.tar.gz");
    const packed = await packVenv({ interpreter, output: archive, includeEditable: true });
    expect(packed.editables).toEqual([{ name: "devpkg", baked: true }]);
    const environment = await unpack(archive, join(root, "baked", "environment"));
    await rename(project, `${project}.away`);
    try {
      const outcome = await execute(join(environment, "bin", "python"), [
        "-c",
        "import devpkg, importlib.metadata as m; print(devpkg.STATE, devpkg.__file__, m.version('devpkg'))",
      ]);
      expect(outcome.stderr).toBe("");
      expect(outcome.stdout.trim()).toBe(
        `dev ${join(sitePackagesIn(environment), "devpkg", "__init__.py")} 0.1`,
      );
    } finally {
      await rename(`${project}.away`, project);
    }
    const site = sitePackagesIn(environment);
    const record = await readFile(join(site, "devpkg-0.1.dist-info", "RECORD"), "utf8");
    expect(record).toContain("devpkg/__init__.py,,");
    expect(record).not.toContain("__editable__");
    expect(existsSync(join(site, "devpkg-0.1.dist-info", "direct_url.json"))).toBe(false);
  });
});

// The proof that a shipped interpreter needs nothing of the build machine's Python: its installation is hidden
// under an empty tmpfs in a private mount namespace, for the one command only (other processes still see it).
const buildInterpreterHome = () => realpathSync(interpreter.basePrefix);
const canHideDirectories = spawnSync("unshare", ["--mount", "true"]).status === 0;

/** Runs `command` with PATH=/usr/bin:/bin and nothing else in its environment, the build interpreter hidden. */
function runWithoutBuildPython(command: string, args: readonly string[]) {
  return execute("unshare", [
    "--mount",
    "sh",
    "-c",
    'mount -t tmpfs tmpfs "$1" && shift && exec env -i PATH=/usr/bin:/bin "$@"',
    "sh",
    buildInterpreterHome(),
    command,
    ...args,
  ]);
}

describe("a venv archive that ships its interpreter (withPython)", () => {
  let environment: string;
  let python: ShippedPython | undefined;
  let sha256: string;

  beforeAll(async () => {
    const archive = join(root, "with-python.tar.gz");
    ({ python, sha256 } = await packVenv({ interpreter, output: archive, withPython: true }));
    environment = await unpack(archive, join(root, "bare-node", "environment"));
  }, 120_000);

  it("records the interpreter it ships: version, platform and the shared library it loads", () => {
    expect(python).toEqual({
      version: interpreter.version,
      implementation: "cpython",
      platform: `linux-${interpreter.target.machine}`,
      glibc: interpreter.target.glibcVersion,
      libraries: libpython ? [libpython] : [],
    });
  });

  it.skipIf(!canHideDirectories)(
    "runs with PATH=/usr/bin:/bin while the build interpreter's installation is hidden",
    async () => {
      const code =
        "import sys, ssl, purepkg, cextpkg._speedups as s; print(sys.prefix == sys.base_prefix, sys.prefix, s.answer())";
      const imported = await runWithoutBuildPython(join(environment, "bin", "python"), ["-c", code]);
      expect(imported).toMatchObject({ code: 0, stdout: `True ${environment} 42\n` });
      const script = await runWithoutBuildPython(join(environment, "bin", "purecli"), ["z"]);
      expect(script).toMatchObject({ code: 0, stdout: "purecli z\n" });
      expect((await runWithoutBuildPython("ls", [buildInterpreterHome()])).stdout).toBe("");
    },
  );

  it("loads no file of the build interpreter's installation", async () => {
    const outcome = await execute(join(environment, "bin", "python"), [
      "-c",
      "import ssl, sqlite3, ctypes, cextpkg._speedups; print(open('/proc/self/maps').read())",
    ]);
    expect(outcome.code).toBe(0);
    const mapped = new Set(
      outcome.stdout
        .split("\n")
        .map((line) => line.split(/\s+/)[5] ?? "")
        .filter((path) => path.startsWith("/")),
    );
    expect([...mapped].filter((path) => path.startsWith(`${buildInterpreterHome()}/`))).toEqual([]);
    const libpythons = [...mapped].filter((path) => basename(path).startsWith("libpython"));
    expect(libpythons).toEqual(libpython ? [join(environment, "lib", libpython)] : []);
  });

  it("packs into byte-identical archives, interpreter included", async () => {
    const again = await packVenv({
      interpreter,
      output: join(root, "with-python-again.tar.gz"),
      withPython: true,
    });
    expect(again.sha256).toBe(sha256);
  });

  // A binary without libpython has no library of its installation to find.
  it.skipIf(!libpython)("finds its shared library through a RUNPATH relative to the binary", async () => {
    const dynamic = await run("readelf", ["-d", join(environment, "bin", base.versionedName)]);
    expect(dynamic).toMatch(/\(RUNPATH\)\s+Library runpath: \[\$ORIGIN\/\.\.\/lib\]/);
  });
});

describe("a zip that ships its interpreter (withPython)", () => {
  it("copies the patched binary to bin/python and bin/python3, which run with the build interpreter hidden", async () => {
    const archive = join(root, "with-python.zip");
    await packVenv({ interpreter, output: archive, withPython: true });
    const environment = await unpack(archive, join(root, "bare-node-zip", "environment"));
    // Patched to find the shipped libpython beside it; a binary without one is shipped as it is.
    for (const name of ["python", "python3", base.versionedName]) {
      const dynamic = await run("readelf", ["-d", join(environment, "bin", name)]);
      if (libpython) expect(dynamic).toMatch(/\(RUNPATH\)\s+Library runpath: \[\$ORIGIN\/\.\.\/lib\]/);
      else expect(dynamic).not.toMatch(/RUNPATH|RPATH/);
    }
    const code =
      "import purepkg, cextpkg._speedups as s; print(s.answer()); print(open('/proc/self/maps').read())";
    const outcome = canHideDirectories
      ? await runWithoutBuildPython(join(environment, "bin", "python"), ["-c", code])
      : await execute(join(environment, "bin", "python"), ["-c", code]);
    expect(outcome).toMatchObject({ code: 0, stdout: expect.stringMatching(/^42\n/) });
    const mapped = outcome.stdout.split("\n").map((line) => line.split(/\s+/)[5] ?? "");
    expect(mapped.filter((path) => path.startsWith(`${buildInterpreterHome()}/`))).toEqual([]);
    expect([...new Set(mapped.filter((path) => basename(path).startsWith("libpython")))]).toEqual(
      libpython ? [join(environment, "lib", libpython)] : [],
    );
  }, 120_000);

  it("imports site-packages through Debian's dist-packages, which the zip holds as a copy", async () => {
    const { venv: debianVenv } = await createShippableVenv(join(root, "debian"), { python: debianPython });
    const archive = join(root, "debian-with-python.zip");
    await packVenv({
      interpreter: await probeInterpreter(debianVenv.python),
      output: archive,
      withPython: true,
    });
    const environment = await unpack(archive, join(root, "debian-node", "environment"));
    const outcome = await execute(join(environment, "bin", "python3"), [
      "-c",
      "import sys, purepkg; print(purepkg.VALUE, sys.prefix, purepkg.__file__.startswith(sys.prefix + '/'))",
    ]);
    expect(outcome).toMatchObject({ code: 0, stdout: `wheel ${environment} True\n` });
  }, 180_000);
});

describe("bad input", () => {
  it("refuses a Python that is not a venv, naming it and what to do", async () => {
    const system = await probeInterpreter(debianPython);
    const error = await packVenv({ interpreter: system, output: join(root, "system.tar.gz") }).catch(
      (e) => e,
    );
    expect(isPackerError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toBe(
      `${(await pythonFacts(debianPython)).prefix}: not a virtual environment: the venv packer ships a venv made with python -m venv (or use the pex packer)`,
    );
    expect(existsSync(join(root, "system.tar.gz"))).toBe(false);
  });

  it("refuses a zip named .pex.zip, the unpack layout's name, saying what to do", async () => {
    const output = join(root, "env.pex.zip");
    const error = await packVenv({ interpreter, output, format: "zip" }).catch((e) => e);
    expect(isPackerError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toBe(
      `${output}: a name ending in .pex.zip is the unpack layout's: give the zip archive another name, or use the pex.zip packer`,
    );
    expect(existsSync(output)).toBe(false);
  });

  it("refuses an output that is neither .tar.gz nor .zip before writing anything", async () => {
    const output = join(root, "env.rar");
    const error = await packVenv({ interpreter, output }).catch((e) => e);
    expect(isPackerError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(error.message).toBe(
      `${output}: a venv or conda archive must be named .tar.gz, .tgz or .zip (or given a format)`,
    );
    expect(existsSync(output)).toBe(false);
  });
});
