import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  EDITABLE_PACKAGES_INDEX,
  findEditableInstalls,
  formatEditablePackagesIndex,
  writeTopLevelZip,
} from "@cluster-pack/editable";
import { type FileSystem, isStorageError } from "@cluster-pack/fs";
import type { Interpreter } from "@cluster-pack/python-env";
import { ClusterPackError, firstLineOf } from "./errors.js";
import type { ProgressListener } from "./progress.js";
import { sha256OfFile } from "./publish.js";

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
 * Zips every importable top-level of the environment's editable installs (pyfiles shape: `mypkg/__init__.py` at the
 * root, so the zip goes on `sys.path` as is). A broken editable install stops the upload: shipping without it
 * would fail on the cluster with an ImportError far from its cause.
 */
export async function zipEditables(interpreter: Pick<Interpreter, "sitePackages">): Promise<ZippedEditables> {
  const { editables, problems } = await findEditableInstalls(interpreter.sitePackages);
  const [problem] = problems;
  if (problem) throw new ClusterPackError("EDITABLE_PROBLEM", problem.message, { cause: problem });
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
 * `<dir>/<archive name>_editable` (`envs/env.pex` → `envs/env_editable/`): the editable zips of an env live beside
 * its archive, one directory per archive, so two envs in one directory never overwrite each other's code.
 */
export const editableDirectoryOf = (archiveDirectory: string, archiveName: string) =>
  `${archiveDirectory}/${archiveName}_editable`;

/**
 * Uploads the zips and the `editable_packages_index` (cluster-pack's file naming the top-level packages, one a
 * line) on every call: they are small, and a code change must never wait for the environment archive.
 */
export async function uploadEditables(
  fs: FileSystem,
  directory: string,
  zipped: ZippedEditables,
  onProgress?: ProgressListener,
): Promise<EditablePackage[]> {
  if (zipped.zips.length === 0) return [];
  const guard = async <T>(where: string, action: () => Promise<T>) => {
    try {
      return await action();
    } catch (error) {
      throw new ClusterPackError(
        "UPLOAD_FAILED",
        `uploading editable code failed: ${isStorageError(error) ? error.detail : firstLineOf(error)}`,
        { where, cause: error },
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
  return uploaded;
}
