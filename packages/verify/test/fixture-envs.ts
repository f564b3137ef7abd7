import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Distribution,
  type Interpreter,
  probeInterpreter,
  readDistributions,
} from "@cluster-pack/python-env";
import {
  buildWheel,
  createVenv,
  debianPython,
  machinePython,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";

/** The C library the native extension links against; the archives never ship it. */
export const NEEDED_LIBRARY = "libcpneeded.so";

const extensionSource = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
int cpneeded_answer(void);
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(cpneeded_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "The answer."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};
PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
`;

/**
 * Builds `libcpneeded.so` with the C compiler into `<root>/native-lib`, and a wheel whose extension
 * `nativepkg._native` links against it (DT_NEEDED libcpneeded.so, no RUNPATH): importing `nativepkg` loads it.
 */
export async function buildNativeWheel(root: string): Promise<{ wheels: string; libraryDirectory: string }> {
  const libraryDirectory = join(root, "native-lib");
  await mkdir(libraryDirectory, { recursive: true });
  await writeFile(join(libraryDirectory, "cpneeded.c"), "int cpneeded_answer(void) { return 42; }\n");
  await run("cc", [
    "-shared",
    "-fPIC",
    "-o",
    join(libraryDirectory, NEEDED_LIBRARY),
    join(libraryDirectory, "cpneeded.c"),
  ]);
  const project = join(root, "nativepkg-project");
  await mkdir(join(project, "nativepkg"), { recursive: true });
  await writeFile(join(project, "nativepkg", "__init__.py"), "from nativepkg._native import answer\n");
  await writeFile(join(project, "nativepkg", "_native.c"), extensionSource);
  await writeFile(
    join(project, "setup.py"),
    [
      "from setuptools import setup, Extension",
      'setup(name="nativepkg", version="1.0", packages=["nativepkg"], ext_modules=[Extension(',
      `    "nativepkg._native", ["nativepkg/_native.c"], libraries=["cpneeded"], library_dirs=[${JSON.stringify(libraryDirectory)}])])`,
      "",
    ].join("\n"),
  );
  const wheels = join(root, "wheels", "nativepkg");
  await mkdir(wheels, { recursive: true });
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
  return { wheels, libraryDirectory };
}

/** Builds a pure wheel into a directory of its own (parallel builds must not share one) and returns that directory. */
export async function pureWheel(
  root: string,
  name: string,
  files: Record<string, string>,
  extra: { modules?: string[] } = {},
): Promise<string> {
  const directory = join(root, "wheels", name);
  await buildWheel({ name, version: "1.0", files, ...extra }, directory);
  return directory;
}

export interface FixtureEnv {
  venv: Venv;
  interpreter: Interpreter;
  /** Every distribution of the venv, pip and setuptools included. */
  all: Distribution[];
}

/** A venv of the machine's Python with the given requirements installed from these wheel directories, probed. */
export async function fixtureEnv(
  prefix: string,
  requirements: string[],
  wheelDirectories: string[],
): Promise<FixtureEnv> {
  const venv = await createVenv(machinePython, prefix);
  await pipInstall(venv, requirements, wheelDirectories);
  const interpreter = await probeInterpreter(venv.python);
  const { distributions } = await readDistributions(interpreter.sitePackages);
  return { venv, interpreter, all: distributions };
}

export const temporaryRoot = (name: string) => mkdtemp(join(tmpdir(), `cp-verify-${name}-`));
