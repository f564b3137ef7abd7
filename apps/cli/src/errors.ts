import { isEnvUsageError } from "@cluster-pack/env-usage";
import { isStorageError } from "@cluster-pack/fs";
import { isPackerError, type PackerErrorCode } from "@cluster-pack/packers";
import { isPythonEnvError } from "@cluster-pack/python-env";
import { isClusterPackError } from "cluster-pack";
import { CommanderError } from "commander";
import { UsageError } from "./usage-error.js";

export interface ReportedError {
  message: string;
  hint?: string;
  exitCode: 1 | 2;
}

const firstLine = (text: string) => text.split("\n")[0]?.trim() || "failed";

const storageHints: Record<string, string> = {
  NOT_FOUND: "check that the bucket or directory exists (and the URI's spelling)",
  PERMISSION_DENIED: "check the credentials (AWS_*, HADOOP_USER_NAME…) and the store's permissions",
  TRANSIENT: "the store did not answer; check the endpoint (AWS_ENDPOINT_URL_S3, HADOOP_CONF_DIR) and retry",
  ALREADY_EXISTS: "remove the existing file or choose another path",
};

const pythonHints: Record<string, string> = {
  NOT_A_PYTHON: "pass --python with a Python interpreter, e.g. --python .venv/bin/python",
  MISSING_TOOL: "install the tool named above, or pass --find-links/--no-index to stay offline",
  RESOLUTION_FAILED: "check --additional-packages and the index (--index-url, C_PACK_PYPI_URL)",
  BROKEN_DISTRIBUTION: "reinstall the package named above",
  UNREADABLE_ENVIRONMENT: "check the environment's permissions, or pass another --python",
};

const packerHints: Record<PackerErrorCode, string> = {
  INVALID_ARGUMENT: "check --python and --packer against the environment (see cluster-pack <command> --help)",
  MISSING_FILE:
    "reinstall the package that file belongs to (pip install --force-reinstall), or leave it out with --ignored-packages",
  IO: "check the free space and permissions where the archive is written (--output's directory, else TMPDIR)",
  UNRELOCATABLE:
    "use --packer venv without --with-python (the nodes then need the venv's Python at the same path) or --packer pex; with --dest-prefix, choose a shorter path",
};

/** What the user sees for an error, and the exit code: 2 for a usage error, 1 for everything else. */
export function reportOf(error: unknown): ReportedError {
  if (error instanceof UsageError)
    return { message: firstLine(error.message), exitCode: 2, ...(error.hint && { hint: error.hint }) };
  if (error instanceof CommanderError)
    return {
      message: firstLine(error.message.replace(/^error: /, "")),
      hint: "run cluster-pack --help (or cluster-pack <command> --help)",
      exitCode: 2,
    };
  if (isClusterPackError(error)) {
    if (error.code === "INVALID_ARGUMENT")
      return { message: firstLine(error.message), hint: "see cluster-pack <command> --help", exitCode: 2 };
    const cause = error.cause;
    const hint = isStorageError(cause) ? storageHints[cause.code] : undefined;
    return { message: firstLine(error.message), exitCode: 1, ...(hint && { hint }) };
  }
  if (isStorageError(error)) {
    const hint = storageHints[error.code];
    return { message: firstLine(error.message), exitCode: 1, ...(hint && { hint }) };
  }
  if (isPackerError(error))
    return {
      message: firstLine(error.message),
      hint: packerHints[error.code],
      exitCode: error.code === "INVALID_ARGUMENT" ? 2 : 1,
    };
  if (isEnvUsageError(error))
    return { message: firstLine(error.message), hint: "see cluster-pack <command> --help", exitCode: 2 };
  if (isPythonEnvError(error)) {
    const hint = pythonHints[error.code];
    return { message: firstLine(error.message), exitCode: 1, ...(hint && { hint }) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: firstLine(message), exitCode: 1 };
}
