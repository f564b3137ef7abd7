// Which shipped environment this process runs in, if any: the one place `uploadEnv` and `locateEnv` ask, so that a
// job launched from inside a job re-ships the environment it runs in, never the host's interpreter.

import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, join, posix, resolve } from "node:path";
import { type ArchiveEntry, collectTree, writeTar, writeZip } from "@cluster-pack/archive";
import { type ImportableTopLevel, locateTopLevel } from "@cluster-pack/editable";
import {
  type ArchiveFormat,
  archiveStem,
  EDITABLE_PACKAGES_INDEX,
  formatOfPath,
  parseEditablePackagesIndex,
  UNPACKED_VENV_NAME,
} from "@cluster-pack/env-usage";
import { firstLine } from "@cluster-pack/errors";
import { archivePathInStore } from "./default-package-path.js";
import { ShippingError } from "./errors.js";

/** A shipped environment as the cluster laid it out in the job's working directory. */
export interface RunningEnv {
  /**
   * `pex`: a zipapp, re-shipped as it is. `pex.zip`: the unpack layout, which the cluster unpacked into a
   * directory (`pyenv/`). `venv`, `conda`: a venv or conda archive, unpacked into `environment/`.
   */
  packer: "pex" | "pex.zip" | "venv" | "conda";
  /** The zipapp file, or the directory the archive was unpacked into. */
  path: string;
  /** Whether `path` is that directory. */
  unpacked: boolean;
  /** The format of the archive re-shipped. */
  format: ArchiveFormat;
  /** The zipapp's stem; else the unpack directory's name, all a job knows of the archive it came from. */
  envName: string;
  /** Where the cluster localized the job's files: the editable code and its index are read there. */
  workingDirectory: string;
}

const kindOf = (path: string) =>
  stat(path).then(
    (stats) => (stats.isFile() ? "file" : stats.isDirectory() ? "directory" : undefined),
    () => undefined,
  );

/** The first line of cluster-pack's relocatable `bin/activate`, which the venv and conda packers write. */
const SHIPPED_ACTIVATE = "# cluster-pack: activates the environment";

/** Which of our environment archives `directory` is, unpacked: a venv or a conda archive (it holds conda-meta/). */
async function unpackedArchiveKind(directory: string): Promise<"venv" | "conda" | undefined> {
  if ((await kindOf(join(directory, "bin", "python"))) !== "file") return undefined;
  const activate = await readFile(join(directory, "bin", "activate"), "utf8").catch(() => "");
  if (!activate.startsWith(SHIPPED_ACTIVATE)) return undefined;
  return (await kindOf(join(directory, "conda-meta"))) === undefined ? "venv" : "conda";
}

const samePath = async (a: string, b: string) =>
  (await realpath(a).catch(() => resolve(a))) === (await realpath(b).catch(() => resolve(b)));

/**
 * The shipped environment this process runs in, from what the cluster and the bootstrap leave:
 * - `$PEX` naming a file: a zipapp (the bootstrap sets it to the archive it runs from);
 * - `$PEX` naming a directory holding `__main__.py` and `PEX-INFO`: the unpack layout, unpacked by the cluster;
 * - else `environment/` in the working directory holding `bin/python` and our relocatable `bin/activate`: a venv
 *   archive (a venv's interpreter sets no variable), unless another venv is activated (`$VIRTUAL_ENV`).
 * Undefined anywhere else.
 */
export async function detectRunningEnv(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<RunningEnv | undefined> {
  if (env.PEX) {
    // The bootstrap writes an absolute path without resolving links: its directory is the working directory.
    const path = resolve(cwd, env.PEX);
    const kind = await kindOf(path);
    if (kind === "file") {
      const format = formatOfPath(path) === "pex.zip" ? "pex.zip" : "pex";
      return {
        packer: format,
        path,
        unpacked: false,
        format,
        envName: archiveStem(path),
        workingDirectory: dirname(path),
      };
    }
    if (
      kind === "directory" &&
      (await kindOf(join(path, "__main__.py"))) === "file" &&
      (await kindOf(join(path, "PEX-INFO"))) === "file"
    )
      return {
        packer: "pex.zip",
        path,
        unpacked: true,
        format: "pex.zip",
        envName: archiveStem(path),
        workingDirectory: dirname(path),
      };
  }
  const environment = join(cwd, UNPACKED_VENV_NAME);
  if (env.VIRTUAL_ENV && !(await samePath(env.VIRTUAL_ENV, environment))) return undefined;
  const kind = await unpackedArchiveKind(environment);
  if (kind)
    return {
      packer: kind,
      path: environment,
      unpacked: true,
      format: "tar.gz",
      envName: UNPACKED_VENV_NAME,
      workingDirectory: cwd,
    };
  return undefined;
}

/**
 * The shipped environment a call re-ships: the running one when no interpreter is given, or when the one given is
 * the running venv archive's own `bin/python` (the Python API passes `sys.executable`). Any other interpreter
 * means that interpreter's environment.
 */
export async function runningEnvToShip(
  python: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<RunningEnv | undefined> {
  const running = await detectRunningEnv(env, cwd);
  if (!running) return undefined;
  const ships =
    python === undefined ||
    (running.unpacked &&
      running.packer !== "pex.zip" &&
      (await samePath(dirname(dirname(resolve(cwd, python))), running.path)));
  if (!ships) return undefined;
  // conda-unpack rewrote the prefixes for this container: tarred back, it would be wrong anywhere else, and packing
  // it again is not what the job was started with. Refused, rather than silently shipping the host's Python.
  if (running.packer === "conda")
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "this job runs in an unpacked conda archive, which cannot be shipped again from inside the job",
      {
        location: running.path,
        hint: "upload the conda environment from the machine it was built on, or give --python for another environment",
      },
    );
  return running;
}

/** Where `uploadEnv` puts the running environment when no `packagePath` is given. */
export const defaultPackagePathOfRunning = (running: RunningEnv, env: NodeJS.ProcessEnv) =>
  archivePathInStore(running.envName, running.format, env);

/** The top-level names of the editable code the job was started with; none when no index was localized. */
export async function shippedEditableNames(running: RunningEnv): Promise<string[]> {
  const indexPath = join(running.workingDirectory, EDITABLE_PACKAGES_INDEX);
  const index = await readFile(indexPath, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw new ShippingError("EDITABLE_PROBLEM", `cannot read the index: ${firstLine(error)}`, {
      location: indexPath,
      cause: error,
    });
  });
  return parseEditablePackagesIndex(index);
}

/** Where Spark on YARN localizes `spark.submit.pyFiles` in a container (its `LOCALIZED_PYTHON_DIR`). */
const SPARK_PYFILES_DIRECTORY = "__pyfiles__";

/** One top-level of the job's editable code: the zip the job has, or the directory the cluster unpacked it into. */
export type ShippedEditable = { name: string } & ({ zip: string } | { topLevel: ImportableTopLevel });

/**
 * Where the job has the top-level `name`: the zip itself (Spark's `pyFiles`, in the working directory or Spark's
 * directory for them), or the directory YARN unpacked it into (`<name>.zip/`, the YARN emitters' archives).
 */
async function localizedEditable(
  workingDirectory: string,
  name: string,
): Promise<ShippedEditable | undefined> {
  for (const directory of [workingDirectory, join(workingDirectory, SPARK_PYFILES_DIRECTORY)]) {
    const localized = join(directory, `${name}.zip`);
    const kind = await kindOf(localized);
    if (kind === "file") return { name, zip: localized };
    // YARN unpacks `<name>.zip` into a directory of that name, holding the top-level as the zip did.
    const topLevel = kind === "directory" ? await locateTopLevel(name, join(localized, name)) : undefined;
    if (topLevel) return { name, topLevel };
  }
  return undefined;
}

/**
 * The editable code the job was started with, each top-level its index names. A name the job does not have stops
 * the upload, as a broken editable install does.
 */
export async function shippedEditables(running: RunningEnv): Promise<ShippedEditable[]> {
  const found: ShippedEditable[] = [];
  for (const name of await shippedEditableNames(running)) {
    const localized = await localizedEditable(running.workingDirectory, name);
    if (!localized)
      throw new ShippingError(
        "EDITABLE_PROBLEM",
        `editable package "${name}" is listed in ${EDITABLE_PACKAGES_INDEX} but the job has no ${name}.zip holding it`,
        { location: running.workingDirectory },
      );
    found.push(localized);
  }
  return found;
}

/** Bytecode written while the job ran (the cluster's directories are writable) is never part of an archive. */
const isBytecode = (name: string, kind: "file" | "directory" | "symlink") =>
  kind === "directory" ? posix.basename(name) === "__pycache__" : /\.py[co]$/.test(name);

/**
 * The unpacked tree as archive entries, with modes as packers write them (0755 for directories and what is
 * executable, 0644 else): the cluster left its own (YARN: read-only), which would follow the archive everywhere.
 */
function unpackedEntries(directory: string): ArchiveEntry[] {
  return collectTree(directory, { filter: (name, kind) => !isBytecode(name, kind) }).map((entry) =>
    entry.kind === "file" || entry.kind === "directory"
      ? { ...entry, mode: entry.kind === "directory" || (entry.mode ?? 0) & 0o111 ? 0o755 : 0o644 }
      : entry,
  );
}

/**
 * A local archive of the running environment, to upload as a prebuilt one: the zipapp itself; the unpack layout
 * zipped back (as the zipapp packer writes it: deflate level 1, no prefix); the venv tarred back (as the venv
 * packer writes it: gzip level 4). Its files are already relocated, so packing it again would only redo that
 * work, and could not (no `pyvenv.cfg`) for an archive that carries its interpreter.
 */
export async function archiveOfRunningEnv(running: RunningEnv, workspace: string): Promise<string> {
  if (!running.unpacked) return running.path;
  const output = join(workspace, `${running.envName}.${running.format}`);
  const entries = unpackedEntries(running.path);
  if (running.packer === "pex.zip") await writeZip(entries, output, { level: 1, label: running.path });
  else await writeTar(entries, output, { gzip: true, level: 4, label: running.path });
  return output;
}
