import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type EditableInstall, findEditableInstalls, writeTopLevelZip } from "@cluster-pack/editable";
import {
  EDITABLE_PACKAGES_INDEX,
  editableDirectoryOf,
  formatEditablePackagesIndex,
} from "@cluster-pack/env-usage";
import { firstLine } from "@cluster-pack/errors";
import { type FileSystem, isStorageError } from "@cluster-pack/fs";
import type { EnvironmentModel } from "@cluster-pack/python-env";
import { ShippingError } from "./errors.js";
import type { ProgressListener } from "./progress.js";
import { sha256OfFile } from "./publish.js";
import { type RunningEnv, shippedEditables } from "./running-env.js";

/** One top-level package of code under development, zipped for Spark's `pyFiles` and uploaded beside the env. */
export interface EditablePackage {
  /** The import name (`import <name>`). */
  name: string;
  /** The distribution it belongs to (PEP 503 name). */
  distribution: string;
  /** Where the zip was uploaded. */
  uri: string;
  sha256: string;
}

export interface ZippedEditables {
  directory: string;
  zips: { name: string; distribution: string; file: string; sha256: string }[];
  cleanup(): Promise<void>;
}

/**
 * The environment's editable installs, each with its importable top-levels. A broken editable install stops the
 * upload: shipping without it would fail on the cluster with an ImportError far from its cause. python-env
 * reports the installs it could not read at all (an egg-link to nowhere) among its problems.
 */
export async function editablesToShip(
  environment: Pick<EnvironmentModel, "distributions" | "problems">,
): Promise<EditableInstall[]> {
  const unreadable = environment.problems.find((problem) => problem.editable);
  if (unreadable)
    throw new ShippingError("EDITABLE_PROBLEM", unreadable.detail, { location: unreadable.path });
  const { editables, problems } = await findEditableInstalls(environment.distributions);
  const [problem] = problems;
  if (problem)
    throw new ShippingError("EDITABLE_PROBLEM", problem.detail, {
      location: problem.location,
      cause: problem,
    });
  return editables;
}

/**
 * Zips every importable top-level of the editable installs (pyfiles shape: `mypkg/__init__.py` at the root, so
 * the zip goes on `sys.path` as is).
 */
export async function zipEditables(editables: readonly EditableInstall[]): Promise<ZippedEditables> {
  const directory = await mkdtemp(join(tmpdir(), "cluster-pack-editable-"));
  const cleanup = () => rm(directory, { recursive: true, force: true });
  try {
    const zips: ZippedEditables["zips"] = [];
    for (const editable of editables)
      for (const topLevel of editable.topLevels) {
        const file = await writeTopLevelZip(topLevel, join(directory, `${topLevel.name}.zip`), {
          shape: "pyfiles",
        });
        zips.push({
          name: topLevel.name,
          distribution: editable.name,
          file,
          sha256: await sha256OfFile(file),
        });
      }
    return { directory, zips, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * The editable code a running job was started with, ready for `uploadEditables`: a zip the job has goes as it is; a
 * directory the cluster unpacked is zipped again, as `zipEditables` does. Inside a job the distribution is unknown:
 * the top-level's name stands for it.
 */
export async function zipShippedEditables(running: RunningEnv): Promise<ZippedEditables> {
  const directory = await mkdtemp(join(tmpdir(), "cluster-pack-editable-"));
  const cleanup = () => rm(directory, { recursive: true, force: true });
  try {
    const zips: ZippedEditables["zips"] = [];
    for (const shipped of await shippedEditables(running)) {
      const file =
        "zip" in shipped
          ? shipped.zip
          : await writeTopLevelZip(shipped.topLevel, join(directory, `${shipped.name}.zip`), {
              shape: "pyfiles",
            });
      zips.push({ name: shipped.name, distribution: shipped.name, file, sha256: await sha256OfFile(file) });
    }
    return { directory, zips, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Uploads the zips and the `editable_packages_index` (cluster-pack's file naming the top-level packages, one a
 * line) into the archive's editable directory, on every call: they are small, and a code change must never wait
 * for the environment archive.
 */
export async function uploadEditables(
  fs: FileSystem,
  archivePath: string,
  zipped: ZippedEditables,
  onProgress?: ProgressListener,
): Promise<{ editable: EditablePackage[]; editableIndex?: string }> {
  if (zipped.zips.length === 0) return { editable: [] };
  const directory = editableDirectoryOf(archivePath);
  const guard = async <T>(where: string, action: () => Promise<T>) => {
    try {
      return await action();
    } catch (error) {
      throw new ShippingError(
        "UPLOAD_FAILED",
        `uploading editable code failed: ${isStorageError(error) ? error.detail : firstLine(error)}`,
        { location: where, cause: error },
      );
    }
  };
  await guard(fs.toUri(directory), () => fs.mkdir(directory));
  const uploaded: EditablePackage[] = [];
  for (const zip of zipped.zips) {
    const path = `${directory}/${zip.name}.zip`;
    const uri = fs.toUri(path);
    await guard(uri, () =>
      fs.put(zip.file, path, {
        overwrite: true,
        onProgress: (progress) =>
          onProgress?.({
            phase: "upload",
            transferredBytes: progress.transferredBytes,
            ...(progress.totalBytes !== undefined && { totalBytes: progress.totalBytes }),
            target: uri,
          }),
      }),
    );
    uploaded.push({ name: zip.name, distribution: zip.distribution, uri, sha256: zip.sha256 });
  }
  const index = formatEditablePackagesIndex(zipped.zips.map((zip) => zip.name));
  const indexPath = `${directory}/${EDITABLE_PACKAGES_INDEX}`;
  await guard(fs.toUri(indexPath), () =>
    fs.put(Readable.from([Buffer.from(index)]), indexPath, {
      overwrite: true,
      size: Buffer.byteLength(index),
    }),
  );
  return { editable: uploaded, editableIndex: fs.toUri(indexPath) };
}
