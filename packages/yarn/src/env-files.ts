import {
  EDITABLE_PACKAGES_INDEX,
  type EditableCode,
  EnvUsageError,
  type PythonEnvDescription,
  toHadoopUri,
} from "@cluster-pack/env-usage";
import type { FileVisibility, SkeinFile } from "./application-spec.js";

export interface EnvFilesOptions extends EditableCode {
  /** Visibility of the environment and the editable code (default `application`, skein's default). */
  visibility?: FileVisibility;
}

const IMPORT_NAME = /^[A-Za-z_]\w*$/;

/** The container directory an editable zip is unpacked into, and which goes on `PYTHONPATH`. */
export const editableDirectoryName = (name: string) => `${name}.zip`;

/**
 * The files that give a container the environment and the code under development:
 * - the environment under its `destPath`: a zipapp (`env.pex`) as a `file` (YARN must not unpack it), the unpack
 *   layout and venv/conda archives as an `archive`;
 * - each editable zip as an `archive` unpacked into `<name>.zip/` (not imported from the zip, so C extensions and
 *   files read next to the code work, and cluster-pack finds the package directory when a job launches a job);
 * - the `editable_packages_index` beside them, as cluster-pack reads it from the working directory.
 * Sources are read by YARN through Hadoop, so `s3://` becomes `s3a://`.
 */
export function envFiles(
  env: PythonEnvDescription,
  options: EnvFilesOptions = {},
): Record<string, SkeinFile> {
  const visibility = options.visibility ?? "application";
  const files: Record<string, SkeinFile> = {
    [env.destPath]: {
      source: toHadoopUri(env.pathToArchive),
      type: env.mustUnpack ? "archive" : "file",
      visibility,
    },
  };
  for (const editable of options.editable ?? []) {
    if (!IMPORT_NAME.test(editable.name))
      throw new EnvUsageError(
        `editable package "${editable.name}" is not an import name; pass the top-level package name`,
        editable.uri,
      );
    files[editableDirectoryName(editable.name)] = {
      source: toHadoopUri(editable.uri),
      type: "archive",
      visibility,
    };
  }
  if (options.editableIndex)
    files[EDITABLE_PACKAGES_INDEX] = { source: toHadoopUri(options.editableIndex), type: "file", visibility };
  return files;
}
