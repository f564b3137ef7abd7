import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildWheel,
  createVenv,
  debianPython,
  machinePython,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import type { VerifyReport } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-process.js";

let root: string;
let good: Venv;
let broken: Venv;

const extensionSource = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
int cpneeded_answer(void);
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(cpneeded_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "The answer."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};
PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
`;

/** A wheel whose extension links against `libcpneeded.so`, built here and never shipped with it. */
async function nativeWheel(): Promise<string> {
  const library = join(root, "native-lib");
  await mkdir(library, { recursive: true });
  await writeFile(join(library, "cpneeded.c"), "int cpneeded_answer(void) { return 42; }\n");
  await run("cc", ["-shared", "-fPIC", "-o", join(library, "libcpneeded.so"), join(library, "cpneeded.c")]);
  const project = join(root, "nativepkg");
  await mkdir(join(project, "nativepkg"), { recursive: true });
  await writeFile(join(project, "nativepkg", "__init__.py"), "from nativepkg._native import answer\n");
  await writeFile(join(project, "nativepkg", "_native.c"), extensionSource);
  await writeFile(
    join(project, "setup.py"),
    `from setuptools import setup, Extension\nsetup(name="nativepkg", version="1.0", packages=["nativepkg"], ext_modules=[Extension("nativepkg._native", ["nativepkg/_native.c"], libraries=["cpneeded"], library_dirs=[${JSON.stringify(library)}])])\n`,
  );
  const wheels = join(root, "wheels", "nativepkg");
  await run(debianPython, [
    "-m",
    "pip",
    "wheel",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "--quiet",
    "-w",
    wheels,
    project,
  ]);
  return wheels;
}

const pack = (venv: Venv, only: string, output: string) =>
  runCli(["pack", "--python", venv.python, "--only-packages", only, "--output", output, "--json"]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-verify-"));
  const wheel = async (name: string, files: Record<string, string>) => {
    const directory = join(root, "wheels", name);
    await buildWheel({ name, version: "1.0", files }, directory);
    return directory;
  };
  const [goodpkg, brokenpkg, nativepkg] = await Promise.all([
    wheel("goodpkg", { "goodpkg/__init__.py": "VALUE = 1\n" }),
    wheel("brokenpkg", { "brokenpkg/__init__.py": 'raise RuntimeError("broken on purpose")\n' }),
    nativeWheel(),
  ]);
  [good, broken] = await Promise.all([
    createVenv(machinePython, join(root, "good")),
    createVenv(machinePython, join(root, "broken")),
  ]);
  await Promise.all([
    pipInstall(good, ["goodpkg"], [goodpkg]),
    pipInstall(broken, ["goodpkg", "brokenpkg", "nativepkg"], [goodpkg, brokenpkg, nativepkg]),
  ]);
  const packed = await Promise.all([
    pack(good, "goodpkg", join(root, "good.pex")),
    pack(broken, "goodpkg,brokenpkg,nativepkg", join(root, "broken.pex")),
  ]);
  for (const outcome of packed) expect(outcome.code, outcome.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("cluster-pack verify", () => {
  it("exits 0 for an archive whose modules all import", async () => {
    const outcome = await runCli(["verify", join(root, "good.pex")]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toMatch(/^goodpkg\s+ok\s*$/m);
    expect(outcome.stdout).toContain("all 1 modules import");
  });

  it("exits 1 with a table naming the broken module and the missing library", async () => {
    const outcome = await runCli(["verify", join(root, "broken.pex")]);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/^brokenpkg\s+failed\s+RuntimeError: broken on purpose\s*$/m);
    expect(outcome.stdout).toMatch(
      /^nativepkg\s+failed\s+ImportError: libcpneeded\.so: cannot open shared object file.*\s+libcpneeded\.so$/m,
    );
    expect(outcome.stdout).toMatch(/^goodpkg\s+ok\s*$/m);
    expect(outcome.stderr).toContain(
      "brokenpkg (RuntimeError: broken on purpose), nativepkg (missing libcpneeded.so)",
    );
  });

  it("prints the façade's report as one JSON object with --json, and still exits 1", async () => {
    const outcome = await runCli(["verify", join(root, "broken.pex"), "--json"]);
    expect(outcome.code).toBe(1);
    const report = JSON.parse(outcome.stdout) as VerifyReport;
    expect(report).toMatchObject({ format: "pex", ok: false, startup: { ok: true } });
    expect(report.modules.map((module) => [module.module, module.ok, module.missingLibraries])).toEqual([
      ["brokenpkg", false, []],
      ["goodpkg", true, []],
      ["nativepkg", false, ["libcpneeded.so"]],
    ]);
  });

  it("refuses a missing archive (exit 1) and a name that is not an archive (exit 2) in one line", async () => {
    const missing = await runCli(["verify", join(root, "absent.pex")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*absent\.pex: no such file or directory\n/);
    const wrongName = await runCli(["verify", join(root, "notes.txt")]);
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr).toContain("the name must end in .pex, .pex.zip, .tar.gz, .tgz or .zip");
  });

  it("refuses a --timeout that is not a positive number of seconds", async () => {
    const outcome = await runCli(["verify", join(root, "good.pex"), "--timeout", "soon"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--timeout must be a positive number of seconds, not "soon"');
  });
});

describe("cluster-pack upload --verify", () => {
  it("publishes nothing when the packed environment fails, naming the module and the library", async () => {
    const store = join(root, "store-broken");
    const outcome = await runCli([
      "upload",
      "--python",
      broken.python,
      "--only-packages",
      "goodpkg,brokenpkg,nativepkg",
      "--package-path",
      join(store, "env.pex"),
      "--verify",
    ]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("not published");
    expect(outcome.stderr).toContain("brokenpkg (RuntimeError: broken on purpose)");
    expect(outcome.stderr).toContain("nativepkg (missing libcpneeded.so)");
    const left = await readdir(store).catch(() => [] as string[]);
    expect(left.filter((name) => name.startsWith("env"))).toEqual([]);
  }, 60_000);

  it("publishes an environment that passes, and verify then accepts the stored archive", async () => {
    const store = join(root, "store-good");
    const archive = join(store, "env.pex");
    const outcome = await runCli([
      "upload",
      "--python",
      good.python,
      "--only-packages",
      "goodpkg",
      "--package-path",
      archive,
      "--verify",
      "--json",
    ]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ uploaded: true });
    const stored = await runCli(["verify", `file://${archive}`, "--json"]);
    expect(stored.code, stored.stderr).toBe(0);
    expect(JSON.parse(stored.stdout)).toMatchObject({ archive: `file://${archive}`, ok: true });
  }, 60_000);
});
