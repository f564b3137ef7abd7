// A wheel whose C extension needs a shared library the environment never ships: what `verify` must catch.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildWheelOfProject, run } from "./python.js";

/** The C library the native extension links against (DT_NEEDED); no archive ships it. */
export const NEEDED_LIBRARY = "libcpneeded.so";

const extensionSource = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
int cpneeded_answer(void);
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(cpneeded_answer()); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "The answer."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};
PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
`;

export interface NativeWheel {
  /** `<root>/wheels/nativepkg`: a directory holding only the `nativepkg` wheel, for `--find-links`. */
  wheels: string;
  /** `<root>/native-lib`, holding `libcpneeded.so`: put it on LD_LIBRARY_PATH to make the import work. */
  libraryDirectory: string;
}

/**
 * Builds `libcpneeded.so` with the C compiler into `<root>/native-lib`, and the wheel `nativepkg` 1.0 whose
 * extension `nativepkg._native` links against it (no RUNPATH, so only the loader's search path finds it):
 * importing `nativepkg` loads the library, and `nativepkg.answer()` returns 42.
 */
export async function buildNativeWheel(root: string): Promise<NativeWheel> {
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
  await buildWheelOfProject(project, wheels);
  return { wheels, libraryDirectory };
}
