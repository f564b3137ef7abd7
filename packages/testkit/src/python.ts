import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** The machine's own Python (first `python3` on PATH) and Debian's, the two interpreters tests build from. */
export const machinePython = "python3";
export const debianPython = "/usr/bin/python3";
/** Debian's `python3-*-whl` packages put pip, setuptools and wheel here: an offline index for test venvs. */
export const debianWheelDirectory = "/usr/share/python-wheels";

/** Runs a command; a failure throws with the command's stderr, which is what a test needs to see. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      ...options,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONWARNINGS: "ignore", ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

/**
 * What a test needs to know of an interpreter to compute the paths and names it expects, asked of the interpreter
 * itself, so that no test is pinned to one Python version, one distribution's layout or one machine.
 */
export interface PythonFacts {
  /** `sys.version_info[:2]`: `"3.11"`. */
  version: string;
  /** `python3.11`: the versioned binary in `bin/`, the standard library's directory in `lib/`, the zipapp shebang. */
  versionedName: string;
  /** The wheel tags of an extension built for it: `cp311`, `cp311` (plus `sys.abiflags`), `linux_x86_64`. */
  pythonTag: string;
  abiTag: string;
  platformTag: string;
  /** `platform.machine()`: `x86_64`, `aarch64`. */
  machine: string;
  /** `os.path.realpath(sys.executable)`: the binary behind every link (`/usr/bin/python3.11` for Debian's). */
  executable: string;
  /** `sys.prefix`. */
  prefix: string;
  /** `sysconfig.get_paths()['purelib']` relative to `sys.prefix`: `lib/python3.11/site-packages` in a venv. */
  purelib: string;
  /** `sysconfig.get_config_var('LDLIBRARY')`: `libpython3.11.so`, or `libpython3.11.a` for a static build. */
  ldLibrary: string | null;
  /**
   * The shared libpython the running binary loads, by the name it asks for (`INSTSONAME`,
   * `libpython3.11.so.1.0`); undefined when no libpython is mapped, the binary holding the interpreter itself
   * (Debian's, whose sysconfig still says `Py_ENABLE_SHARED` because the shared library exists beside it).
   */
  sharedLibrary?: string;
}

const factsScript = `import json, os, platform, sys, sysconfig
with open("/proc/self/maps") as maps:
    mapped = {fields[5] for fields in map(str.split, maps) if len(fields) >= 6}
loads_libpython = any(os.path.basename(path).startswith("libpython") for path in mapped)
tag = "cp%d%d" % sys.version_info[:2]
print(json.dumps({
    "version": "%d.%d" % sys.version_info[:2],
    "versionedName": "python%d.%d" % sys.version_info[:2],
    "pythonTag": tag,
    "abiTag": tag + sys.abiflags,
    "platformTag": sysconfig.get_platform().replace("-", "_").replace(".", "_"),
    "machine": platform.machine(),
    "executable": os.path.realpath(sys.executable),
    "prefix": sys.prefix,
    "purelib": os.path.relpath(sysconfig.get_paths()["purelib"], sys.prefix),
    "ldLibrary": sysconfig.get_config_var("LDLIBRARY"),
    "sharedLibrary": sysconfig.get_config_var("INSTSONAME") if loads_libpython else None,
}))
`;

const factsByPython = new Map<string, Promise<PythonFacts>>();

/** Asks `python` for its {@link PythonFacts} (once per interpreter path and process). */
export function pythonFacts(python: string): Promise<PythonFacts> {
  let facts = factsByPython.get(python);
  if (!facts) {
    facts = run(python, ["-c", factsScript]).then((stdout) => {
      const { sharedLibrary, ...rest } = JSON.parse(stdout) as PythonFacts & { sharedLibrary: string | null };
      return { ...rest, ...(sharedLibrary && { sharedLibrary }) };
    });
    factsByPython.set(python, facts);
  }
  return facts;
}

export interface Venv {
  prefix: string;
  /** `<prefix>/bin/python`. */
  python: string;
  /** The venv's purelib directory, as its interpreter reports it. */
  sitePackages: string;
}

/** Creates a virtual environment with `python -m venv` (pip and setuptools included, nothing downloaded). */
export async function createVenv(
  python: string,
  prefix: string,
  options: { systemSitePackages?: boolean } = {},
): Promise<Venv> {
  await run(python, [
    "-m",
    "venv",
    ...(options.systemSitePackages ? ["--system-site-packages"] : []),
    prefix,
  ]);
  const venvPython = join(prefix, "bin", "python");
  const sitePackages = (
    await run(venvPython, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
  ).trim();
  return { prefix, python: venvPython, sitePackages };
}

/** Installs wheels (or requirement names found in `findLinks`) into a venv, offline. */
export async function pipInstall(
  venv: Venv,
  requirements: readonly string[],
  findLinks: readonly string[] = [],
) {
  const links = [...findLinks, debianWheelDirectory].flatMap((directory) => ["--find-links", directory]);
  await run(venv.python, ["-m", "pip", "install", "--no-index", "--quiet", ...links, ...requirements]);
}

export interface WheelSpec {
  name: string;
  version: string;
  /** Source files by path relative to the project root, e.g. `{ "mypkg/__init__.py": "VALUE = 1" }`. */
  files: Record<string, string>;
  /** Directory holding the packages (`"src"` for a src layout); default the project root. */
  packageRoot?: string;
  /** Packages (directories with `__init__.py`) to ship; default: those found under `packageRoot`. */
  packages?: string[];
  /** Single-file modules to ship (`py_modules`). */
  modules?: string[];
  /** A C extension `<package>.<name>` exposing `answer()` → 42, compiled from generated C. */
  cExtension?: { package: string; name: string };
  /** `console_scripts` entry points, `{ "tool": "mypkg.cli:main" }`. */
  consoleScripts?: Record<string, string>;
  /** Runtime dependencies (`install_requires`). */
  requires?: string[];
}

const extensionSource = (name: string) => `#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "The answer."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "${name}", NULL, -1, methods};
PyMODINIT_FUNC PyInit_${name}(void) { return PyModule_Create(&module); }
`;

function packagesOf(files: Record<string, string>, packageRoot: string | undefined): string[] {
  const prefix = packageRoot ? `${packageRoot}/` : "";
  const packages = Object.keys(files)
    .filter((path) => path.startsWith(prefix) && path.endsWith("/__init__.py"))
    .map((path) => path.slice(prefix.length, -"/__init__.py".length).replaceAll("/", "."));
  return [...new Set(packages)].sort();
}

/** Writes a setuptools project (`setup.py`) for a spec; `pyproject` adds a PEP 517 build-system table. */
export async function writeProject(
  spec: WheelSpec,
  directory: string,
  options: { pyproject?: boolean } = {},
) {
  for (const [path, content] of Object.entries(spec.files)) {
    await mkdir(dirname(join(directory, path)), { recursive: true });
    await writeFile(join(directory, path), content);
  }
  const extension = spec.cExtension;
  if (extension) {
    await writeFile(
      join(directory, extension.package, `${extension.name}.c`),
      extensionSource(extension.name),
    );
  }
  const scripts = Object.entries(spec.consoleScripts ?? {}).map(([name, target]) => `${name}=${target}`);
  await writeFile(
    join(directory, "setup.py"),
    [
      "from setuptools import setup, Extension",
      "setup(",
      `    name=${JSON.stringify(spec.name)}, version=${JSON.stringify(spec.version)},`,
      `    packages=${JSON.stringify(spec.packages ?? packagesOf(spec.files, spec.packageRoot))},`,
      spec.packageRoot ? `    package_dir={"": ${JSON.stringify(spec.packageRoot)}},` : "",
      `    py_modules=${JSON.stringify(spec.modules ?? [])},`,
      `    install_requires=${JSON.stringify(spec.requires ?? [])},`,
      `    entry_points={"console_scripts": ${JSON.stringify(scripts)}},`,
      extension
        ? `    ext_modules=[Extension("${extension.package}.${extension.name}", ["${extension.package}/${extension.name}.c"])],`
        : "",
      ")",
      "",
    ].join("\n"),
  );
  if (options.pyproject) {
    await writeFile(
      join(directory, "pyproject.toml"),
      '[build-system]\nrequires = ["setuptools>=64", "wheel"]\nbuild-backend = "setuptools.build_meta"\n',
    );
  }
}

/**
 * Builds the wheel of a project directory offline, the way every test does: `pip wheel --no-deps
 * --no-build-isolation --no-index` with Debian's Python (it has setuptools and wheel), so a C extension is compiled
 * for that interpreter. Returns the path of the one wheel the build adds to `outputDirectory`.
 */
export async function buildWheelOfProject(
  projectDirectory: string,
  outputDirectory: string,
  python = debianPython,
): Promise<string> {
  await mkdir(outputDirectory, { recursive: true });
  const before = new Set(await readdir(outputDirectory));
  await run(python, [
    "-m",
    "pip",
    "wheel",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "--quiet",
    "-w",
    outputDirectory,
    projectDirectory,
  ]);
  const built = (await readdir(outputDirectory)).filter((file) => file.endsWith(".whl") && !before.has(file));
  if (built.length !== 1 || !built[0])
    throw new Error(`expected one new wheel from ${projectDirectory}, found ${built.join(", ")}`);
  return join(outputDirectory, built[0]);
}

/** Writes the project of a spec in a temporary directory and builds its wheel ({@link buildWheelOfProject}). */
export async function buildWheel(
  spec: WheelSpec,
  outputDirectory: string,
  python = debianPython,
): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), `cp-wheel-${spec.name}-`));
  await writeProject(spec, project);
  return buildWheelOfProject(project, outputDirectory, python);
}

/**
 * Installs a project in development mode the way users do: `pep660` (pip install -e of a pyproject project,
 * setuptools' `__editable__` finder or path hook), or `legacy` (`setup.py develop`: egg-link + easy-install.pth).
 */
export async function installEditable(venv: Venv, projectDirectory: string, mode: "pep660" | "legacy") {
  if (mode === "legacy") {
    await run(venv.python, ["setup.py", "--quiet", "develop"], { cwd: projectDirectory });
    return;
  }
  // setuptools < 70.1 builds editable wheels with the `wheel` package, which a fresh venv lacks.
  await pipInstall(venv, ["wheel"]);
  await run(venv.python, [
    "-m",
    "pip",
    "install",
    "--no-index",
    "--no-build-isolation",
    "--quiet",
    "-e",
    projectDirectory,
  ]);
}

/**
 * Installs a project in development mode the way hatchling, flit and pdm do (none is installable offline, so the
 * files are written by hand, as `pip install -e` leaves them): a `_<name>.pth` holding the path entry (the
 * project or its `src/`), and a `<name>-<version>.dist-info` without `top_level.txt` whose RECORD lists the
 * .pth and whose `direct_url.json` marks the install editable (PEP 610).
 */
export async function installPthEditable(
  venv: Venv,
  projectDirectory: string,
  options: { name: string; version: string; pathEntry?: string },
) {
  const distribution = options.name.replace(/[-_.]+/g, "_");
  const distInfo = `${distribution}-${options.version}.dist-info`;
  const files: Record<string, string> = {
    [`_${distribution}.pth`]: `${options.pathEntry ?? projectDirectory}\n`,
    [`${distInfo}/METADATA`]: `Metadata-Version: 2.1\nName: ${options.name}\nVersion: ${options.version}\n`,
    [`${distInfo}/WHEEL`]:
      "Wheel-Version: 1.0\nGenerator: hatchling 1.18.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    [`${distInfo}/INSTALLER`]: "pip\n",
    [`${distInfo}/direct_url.json`]: JSON.stringify({
      url: pathToFileURL(projectDirectory).href,
      dir_info: { editable: true },
    }),
  };
  await mkdir(join(venv.sitePackages, distInfo));
  const record: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    await writeFile(join(venv.sitePackages, path), content);
    const hash = createHash("sha256").update(content).digest("base64url");
    record.push(`${path},sha256=${hash},${Buffer.byteLength(content)}`);
  }
  record.push(`${distInfo}/RECORD,,`);
  await writeFile(join(venv.sitePackages, distInfo, "RECORD"), `${record.join("\n")}\n`);
}

/** One `conda-meta/<name>-<version>-<build>.json` record, as conda writes it for every installed package. */
export interface CondaRecord {
  name: string;
  version: string;
  build: string;
  channel?: string;
  files?: string[];
}

/**
 * A conda-style prefix (conda itself cannot be installed here): a standalone, non-venv Python at
 * `<prefix>/bin/python` whose standard library is linked from `python`'s installation, an empty site-packages
 * with pip bootstrapped by `ensurepip`, and `conda-meta/` holding the given records. `python` must be a build
 * whose binary finds its libpython by absolute path (pyenv's does), not Debian's.
 */
export async function createCondaStylePrefix(
  prefix: string,
  records: readonly CondaRecord[],
  python = machinePython,
  options: { recordPython?: boolean } = {},
): Promise<Venv> {
  const [basePrefix = "", version = ""] = (
    await run(python, ["-c", "import sys; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2])"])
  )
    .trim()
    .split("\n");
  const stdlib = join(prefix, "lib", `python${version}`);
  await mkdir(join(prefix, "bin"), { recursive: true });
  await mkdir(join(stdlib, "site-packages"), { recursive: true });
  await copyFile(join(basePrefix, "bin", `python${version}`), join(prefix, "bin", `python${version}`));
  await symlink(`python${version}`, join(prefix, "bin", "python"));
  const baseStdlib = join(basePrefix, "lib", `python${version}`);
  for (const entry of await readdir(baseStdlib))
    if (entry !== "site-packages") await symlink(join(baseStdlib, entry), join(stdlib, entry));
  await mkdir(join(prefix, "conda-meta"), { recursive: true });
  for (const record of records)
    await writeFile(
      join(prefix, "conda-meta", `${record.name}-${record.version}-${record.build}.json`),
      JSON.stringify({
        build_number: 0,
        channel: "https://conda.anaconda.org/conda-forge/linux-64",
        files: [],
        ...record,
      }),
    );
  if (options.recordPython) {
    // As conda's python package would list them: the interpreter and the standard library (links here).
    const files = [
      `bin/python${version}`,
      "bin/python",
      ...(await readdir(stdlib))
        .filter((entry) => entry !== "site-packages")
        .map((entry) => `lib/python${version}/${entry}`),
    ].sort();
    await writeFile(
      join(prefix, "conda-meta", `python-${version}.0-cp_style_0.json`),
      JSON.stringify({
        name: "python",
        version: `${version}.0`,
        build: "cp_style_0",
        build_number: 0,
        files,
        paths_data: {
          paths: files.map((path) => ({ _path: path, path_type: "hardlink" })),
          paths_version: 1,
        },
      }),
    );
  }
  const venvPython = join(prefix, "bin", "python");
  await run(venvPython, ["-m", "ensurepip", "--default-pip"]);
  return { prefix, python: venvPython, sitePackages: join(stdlib, "site-packages") };
}

/** One file of a conda package, as the package holds it (before conda installs it). */
export interface CondaPackageFile {
  content: string | Uint8Array;
  /** The build prefix written in `content`, which conda replaces by the environment's path when installing. */
  placeholder?: string;
  /** How conda replaces it: `text` (every occurrence) or `binary` (in place, padded with NULs). Default text. */
  fileMode?: "text" | "binary";
  /** Permission bits; default 0o644. */
  mode?: number;
}

export interface CondaPackage {
  name: string;
  version: string;
  build: string;
  /** By path relative to the prefix. */
  files: Record<string, CondaPackageFile>;
}

/**
 * conda's binary replacement, written here independently of the code under test: in each NUL-terminated string
 * holding the placeholder, every occurrence becomes the prefix and the string is padded with NULs to its length.
 */
function condaBinaryReplace(data: Buffer, placeholder: Buffer, prefix: Buffer): Buffer {
  const parts: Buffer[] = [];
  let position = 0;
  for (let found = data.indexOf(placeholder); found !== -1; found = data.indexOf(placeholder, position)) {
    const end = data.indexOf(0, found);
    if (end === -1) break;
    const text = data.subarray(found, end).toString("latin1");
    const occurrences = text.split(placeholder.toString("latin1")).length - 1;
    const replaced = Buffer.from(
      text.split(placeholder.toString("latin1")).join(prefix.toString("latin1")),
      "latin1",
    );
    const padding = (placeholder.length - prefix.length) * occurrences;
    if (padding < 0) throw new Error(`${prefix} is longer than the placeholder ${placeholder}`);
    parts.push(data.subarray(position, found), replaced, Buffer.alloc(1 + padding));
    position = end + 1;
  }
  parts.push(data.subarray(position));
  return Buffer.concat(parts);
}

/**
 * Installs a package into a conda-style prefix the way conda does: each file written with its placeholder
 * replaced by the prefix, and a `conda-meta` record listing `files` and `paths_data` (placeholder, file mode and
 * `sha256_in_prefix` of the installed bytes).
 */
export async function installCondaPackage(prefix: string, condaPackage: CondaPackage): Promise<void> {
  const paths = [];
  for (const [path, file] of Object.entries(condaPackage.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    let data: Buffer = Buffer.from(file.content);
    if (file.placeholder) {
      const placeholder = Buffer.from(file.placeholder);
      data =
        file.fileMode === "binary"
          ? condaBinaryReplace(data, placeholder, Buffer.from(prefix))
          : Buffer.from(data.toString("utf8").replaceAll(file.placeholder, prefix));
    }
    await mkdir(dirname(join(prefix, path)), { recursive: true });
    await writeFile(join(prefix, path), data, { mode: file.mode ?? 0o644 });
    paths.push({
      _path: path,
      path_type: "hardlink",
      ...(file.placeholder && { prefix_placeholder: file.placeholder, file_mode: file.fileMode ?? "text" }),
      sha256: createHash("sha256").update(Buffer.from(file.content)).digest("hex"),
      sha256_in_prefix: createHash("sha256").update(data).digest("hex"),
      size_in_bytes: data.length,
    });
  }
  const { name, version, build } = condaPackage;
  await mkdir(join(prefix, "conda-meta"), { recursive: true });
  await writeFile(
    join(prefix, "conda-meta", `${name}-${version}-${build}.json`),
    JSON.stringify({
      name,
      version,
      build,
      build_number: 0,
      channel: "https://conda.anaconda.org/conda-forge/linux-64",
      files: paths.map((path) => path._path),
      paths_data: { paths, paths_version: 1 },
      extracted_package_dir: `/opt/conda/pkgs/${name}-${version}-${build}`,
      link: { source: `/opt/conda/pkgs/${name}-${version}-${build}`, type: 1 },
    }),
  );
}

/** Compiles one C file into an executable with the machine's C compiler (what conda packages' binaries are). */
export async function compileC(source: string, output: string): Promise<string> {
  const file = `${output}.c`;
  await mkdir(dirname(output), { recursive: true });
  await writeFile(file, source);
  await run("cc", ["-O1", "-o", output, file]);
  return output;
}
