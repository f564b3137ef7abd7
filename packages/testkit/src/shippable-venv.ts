/**
 * The environment the suites ship: a venv holding `purepkg` installed from a wheel (`VALUE = "wheel"`) and the
 * project `devpkg` installed in development mode (`STATE = "dev"`), so that a test can tell which copy of each a
 * node imported: the archive's, the editable zip's, or the launching machine's.
 */
import { join } from "node:path";
import {
  buildWheel,
  createVenv,
  installEditable,
  machinePython,
  pipInstall,
  type Venv,
  type WheelSpec,
  writeProject,
} from "./python.js";

export interface ShippableVenvOptions {
  /** The interpreter the venv is made from; default the machine's `python3`. */
  python?: string;
  /** Files added to the `purepkg` wheel, e.g. `{ "purepkg/cli.py": … }`. */
  wheelFiles?: Record<string, string>;
  /** `console_scripts` of the `purepkg` wheel, `{ purecli: "purepkg.cli:main" }`. */
  consoleScripts?: Record<string, string>;
  /** Files added to the `devpkg` project, e.g. a `devpkg/__main__.py` or data read beside the code. */
  projectFiles?: Record<string, string>;
  /** More wheels, built beside `purepkg` and installed with it (a C extension, a package to leave out). */
  extraWheels?: readonly WheelSpec[];
}

export interface ShippableVenv {
  /** `<root>/venv`. */
  venv: Venv;
  /** The `devpkg` project directory, `<root>/devpkg`. */
  project: string;
  /** `<root>/wheels`: each wheel is built into `<wheels>/<name>`, a `--find-links` directory of its own. */
  wheels: string;
}

/** Writes the `devpkg` project (plus `files`) at `project` and installs it into `venv` with `pip install -e`. */
export async function installDevProject(venv: Venv, project: string, files: Record<string, string> = {}) {
  await writeProject(
    { name: "devpkg", version: "0.1", files: { "devpkg/__init__.py": 'STATE = "dev"\n', ...files } },
    project,
    { pyproject: true },
  );
  await installEditable(venv, project, "pep660");
}

/** Builds the wheels and the venv under `root`, offline, and installs `purepkg`, the extra wheels and `devpkg`. */
export async function createShippableVenv(
  root: string,
  options: ShippableVenvOptions = {},
): Promise<ShippableVenv> {
  const wheels = join(root, "wheels");
  const purepkg: WheelSpec = {
    name: "purepkg",
    version: "1.0",
    files: { "purepkg/__init__.py": 'VALUE = "wheel"\n', ...options.wheelFiles },
    ...(options.consoleScripts && { consoleScripts: options.consoleScripts }),
  };
  const specs = [purepkg, ...(options.extraWheels ?? [])];
  // One directory per wheel: buildWheel finds its output by listing the directory, so parallel builds must not
  // share one.
  await Promise.all(specs.map((spec) => buildWheel(spec, join(wheels, spec.name))));
  const venv = await createVenv(options.python ?? machinePython, join(root, "venv"));
  await pipInstall(
    venv,
    specs.map((spec) => spec.name),
    specs.map((spec) => join(wheels, spec.name)),
  );
  const project = join(root, "devpkg");
  await installDevProject(venv, project, options.projectFiles);
  return { venv, project, wheels };
}

/** Python code printing `wheel dev`: both packages imported. */
export const importBoth = "import purepkg, devpkg; print(purepkg.VALUE, devpkg.STATE)";

/** Python code printing one JSON line: where the interpreter and both packages came from (`parseWhereFrom`). */
export const whereFrom = `import json, sys, purepkg, devpkg
print(json.dumps({"executable": sys.executable, "prefix": sys.prefix, "purepkg": purepkg.__file__,
                  "devpkg": devpkg.__file__, "values": [purepkg.VALUE, devpkg.STATE]}))`;

export interface WhereFrom {
  /** `sys.executable`. */
  executable: string;
  /** `sys.prefix`. */
  prefix: string;
  /** The `__file__` of each package. */
  purepkg: string;
  devpkg: string;
  /** `[purepkg.VALUE, devpkg.STATE]`: `["wheel", "dev"]` when both are the shipped ones. */
  values: string[];
}

/** Reads what `whereFrom` printed. */
export const parseWhereFrom = (stdout: string): WhereFrom => JSON.parse(stdout) as WhereFrom;
