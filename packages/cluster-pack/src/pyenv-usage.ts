import {
  getPyenvUsageFromArchive as describeArchive,
  isEnvUsageError,
  type PythonEnvDescription,
} from "@cluster-pack/env-usage";
import { ClusterPackError } from "./errors.js";

/** Describes how a job runs the Python of an archive, from its name (cluster-pack's `get_pyenv_usage_from_archive`). */
export function getPyenvUsageFromArchive(pathToArchive: string): PythonEnvDescription {
  try {
    return describeArchive(pathToArchive);
  } catch (error) {
    if (isEnvUsageError(error))
      throw new ClusterPackError("INVALID_ARGUMENT", error.detail, { where: pathToArchive });
    throw error;
  }
}
