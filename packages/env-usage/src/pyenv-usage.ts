import { archiveFormats, basenameOf, describeExtensions, formatOfPath } from "./archive-formats.js";
import { EnvUsageError } from "./errors.js";

/**
 * How a job uses a shipped environment: cluster-pack's `PythonEnvDescription`, the one description every
 * emitter (Spark, YARN, Dask, TensorFlow) consumes.
 */
export interface PythonEnvDescription {
  /** The archive as given. */
  pathToArchive: string;
  /** The Python command in the container's working directory (`./env.pex`, `pyenv/__main__.py`). */
  interpreterCmd: string;
  /** The name the archive is localised (or unpacked) under in the container. */
  destPath: string;
  /** Whether the cluster must unpack the archive (YARN archive) rather than ship it as a file. */
  mustUnpack: boolean;
}

/** Where the unpack layout (`env.pex.zip`) is unpacked: cluster-pack's `UNPACKED_ENV_NAME`. */
export const UNPACKED_ENV_NAME = "pyenv";
/** Where venv and conda archives are unpacked (conda-pack's convention). */
export const UNPACKED_VENV_NAME = "environment";

/** Describes how a job runs the Python of an archive, from its name (cluster-pack's `get_pyenv_usage_from_archive`). */
export function getPyenvUsageFromArchive(pathToArchive: string): PythonEnvDescription {
  const format = formatOfPath(pathToArchive);
  switch (format) {
    case "pex.zip":
      return {
        pathToArchive,
        interpreterCmd: `${UNPACKED_ENV_NAME}/__main__.py`,
        destPath: UNPACKED_ENV_NAME,
        mustUnpack: true,
      };
    case "pex": {
      const name = basenameOf(pathToArchive);
      return { pathToArchive, interpreterCmd: `./${name}`, destPath: name, mustUnpack: false };
    }
    case "tar.gz":
    case "zip":
      return {
        pathToArchive,
        interpreterCmd: `${UNPACKED_VENV_NAME}/bin/python`,
        destPath: UNPACKED_VENV_NAME,
        mustUnpack: true,
      };
    default:
      throw new EnvUsageError(
        `unsupported archive format: the name must end in ${describeExtensions(archiveFormats)}`,
        pathToArchive,
      );
  }
}
