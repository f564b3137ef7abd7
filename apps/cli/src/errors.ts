import {
  type ArchiveErrorCode,
  type EditableErrorCode,
  firstLine,
  isClusterPackError,
  type PackerErrorCode,
  type PythonEnvErrorCode,
  type ShippingErrorCode,
  type StorageErrorCode,
  type VerifyErrorCode,
} from "cluster-pack";
import { CommanderError } from "commander";

export interface ReportedError {
  message: string;
  hint?: string;
  exitCode: 1 | 2;
}

const help = "see cluster-pack <command> --help";

/** The kind of store an error is about: hints name that store's settings, not another's. */
type StoreKind = "s3" | "hdfs" | "local" | "other";

const storeKindOf = (location: string): StoreKind | undefined => {
  if (/^s3a?:\/\//i.test(location)) return "s3";
  if (/^(hdfs|webhdfs|swebhdfs|viewfs):\/\//i.test(location)) return "hdfs";
  if (/^file:/i.test(location) || location.startsWith("/")) return "local";
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? "other" : undefined;
};

/** The store named by the first location along the error and its causes. */
function storeOf(error: unknown): StoreKind {
  for (let current = error; isClusterPackError(current); current = current.cause) {
    const kind = current.location === undefined ? undefined : storeKindOf(current.location);
    if (kind) return kind;
  }
  return "other";
}

// What to do about each error a user can meet, in the command's own words (flags, variables). Every family's every
// code has one: a new code does not compile until it says what the user should do.
const storageHints: Record<StorageErrorCode, string | Record<StoreKind, string>> = {
  NOT_FOUND: {
    s3: "check that the bucket exists (and the URI's spelling)",
    hdfs: "check that the directory exists on HDFS (and the URI's spelling)",
    local: "check that the directory exists (and the path's spelling)",
    other: "check that the directory exists (and the URI's spelling)",
  },
  ALREADY_EXISTS: "remove the existing file or choose another path",
  PERMISSION_DENIED: {
    s3: "check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE…) and the bucket's permissions",
    hdfs: "check the HDFS user (HADOOP_USER_NAME, or --kerberos with a ticket) and the directory's permissions",
    local: "check the permissions of the directory",
    other: "check the credentials and the store's permissions",
  },
  TRANSIENT: {
    s3: "the store could not be reached or did not answer; check the endpoint (AWS_ENDPOINT_URL_S3) and retry (--retries, --stall-timeout)",
    hdfs: "the namenode or a datanode could not be reached or did not answer; check the addresses in HADOOP_CONF_DIR and retry (--retries, --stall-timeout)",
    local: "the file system was busy; run the command again",
    other:
      "the store could not be reached or did not answer; check its address and retry (--retries, --stall-timeout)",
  },
  INVALID_ARGUMENT:
    "check the URI: a path, file://, s3://bucket/key, hdfs://namenode/path or webhdfs://host:port/path",
  ABORTED: "the transfer was cancelled; run the command again",
  UNKNOWN: "run again with --debug to see the store's own error",
};

const archiveHints: Record<ArchiveErrorCode, string> = {
  INVALID_ARGUMENT: "check the files being packed (names, duplicates) and the options",
  CORRUPT: "the archive is damaged or not of the format its name says: pack or download it again",
  UNSAFE:
    "the archive would write outside the directory it is unpacked into: pack it again with cluster-pack",
  IO: "check the free space and permissions where the archive is read or written (TMPDIR, --output's directory)",
  UNSUPPORTED: "repack the archive without that feature (encryption, multi-disk, unusual compression)",
};

const pythonHints: Record<PythonEnvErrorCode, string> = {
  NOT_A_PYTHON: "pass --python with a Python interpreter, e.g. --python .venv/bin/python",
  UNREADABLE_ENVIRONMENT: "check the environment's permissions, or pass another --python",
  BROKEN_DISTRIBUTION: "reinstall the package named above, or leave it out with --skip-broken",
  INVALID_ARGUMENT: "check --requirements, --lock, --additional-packages and the files named above",
  MISSING_TOOL: "install the tool named above, or pass --find-links/--no-index to stay offline",
  RESOLUTION_FAILED:
    "check --requirements, --additional-packages and the index (--index-url, --find-links, C_PACK_PYPI_URL)",
};

const editableHints: Record<EditableErrorCode, string> = {
  MISSING_PROJECT: "reinstall the project (pip install -e <project>) or uninstall it",
  MISSING_SOURCE: "reinstall the project with pip install -e <project>",
  UNSUPPORTED_LAYOUT:
    "reinstall the project with pip install -e <project> --config-settings editable_mode=compat",
  UNPARSABLE_FINDER: "reinstall the project with pip install -e <project>",
  BROKEN_EGG_LINK: "reinstall the project with pip install -e <project>, or delete the .egg-link file",
  UNREADABLE: "check the permissions of the environment's site-packages",
  INVALID_ARGUMENT: "check SOURCE_DATE_EPOCH (seconds since 1970-01-01)",
};

const packerHints: Record<PackerErrorCode, string> = {
  INVALID_ARGUMENT: "check --python and --packer against the environment (see cluster-pack <command> --help)",
  MISSING_FILE:
    "reinstall the package that file belongs to (pip install --force-reinstall), or leave it out with --ignored-packages",
  IO: "check the free space and permissions where the archive is written (--output's directory, else TMPDIR)",
  UNRELOCATABLE:
    "use --packer venv without --with-python (the nodes then need the venv's Python at the same path) or --packer pex; with --dest-prefix, choose a shorter path",
};

const shippingHints: Record<ShippingErrorCode, string> = {
  INVALID_ARGUMENT: help,
  NOT_FOUND: "upload it first (cluster-pack upload), pass --upload, or check --package-path",
  EDITABLE_PROBLEM: "reinstall the editable project named above (pip install -e <project>) or uninstall it",
  VERIFICATION_FAILED: "the store changed the bytes sent: run the upload again (--force) and check the store",
  UPLOAD_FAILED: "check the store and run the upload again; nothing half-written was published",
  REMOVE_FAILED: "check the store's permissions and run the command again",
  DOWNLOAD_FAILED: "check the URL or URI and that it can be read from here",
  CONCURRENT_UPLOAD: "another upload to the same path is running: let it finish, then run the command again",
};

const verifyHints: Record<VerifyErrorCode, string> = {
  INVALID_ARGUMENT:
    "give an archive cluster-pack wrote (.pex, .pex.zip, .tar.gz, .tgz or .zip), or pack it again",
  NOT_FOUND: "check the path or URI of the archive",
  NO_INTERPRETER: "pass --python with the Python the nodes run, e.g. --python /usr/bin/python3.11",
  UNSAFE_ARCHIVE:
    "pack the environment again: this archive would write outside the directory it is unpacked into",
  IO: "check the free space and permissions of TMPDIR, where the archive is unpacked",
  BROKEN_ENVIRONMENT:
    "fix the packages named above or leave them out (--ignored-packages), and ship the missing libraries (auditwheel repair, or install them on the nodes)",
};

const hintsByFamily: Record<string, Record<string, string | Record<StoreKind, string>>> = {
  StorageError: storageHints,
  ArchiveError: archiveHints,
  PythonEnvError: pythonHints,
  EditableError: editableHints,
  PackerError: packerHints,
  ShippingError: shippingHints,
  VerifyError: verifyHints,
  EnvUsageError: { INVALID_ARGUMENT: help },
  UsageError: { INVALID_ARGUMENT: help },
};

/** The error's own hint, else the command's for its family and code, else the hint of what caused it. */
function hintOf(error: unknown, store: StoreKind): string | undefined {
  if (!isClusterPackError(error)) return undefined;
  if (error.hint) return error.hint;
  // A step that wraps a storage error (an upload) is best explained by the store's problem.
  const own = hintsByFamily[error.name]?.[error.code];
  return hintOf(error.cause, store) ?? (typeof own === "object" ? own[store] : own);
}

// What Node and the HTTP clients say when a server or the network ends a transfer early.
const CUT_CONNECTION = /^(aborted|premature close|terminated|other side closed|socket hang up)$/i;

/** A message from outside our error families (a bug, a raw network error): its first line, in plain words when known. */
function plainMessageOf(error: unknown): string {
  const line = firstLine(error);
  return CUT_CONNECTION.test(line) ? "the connection closed before the whole answer arrived" : line;
}

/** What the user sees for an error, and the exit code: 2 for a usage error, 1 for everything else. */
export function reportOf(error: unknown): ReportedError {
  if (error instanceof CommanderError)
    return {
      message: firstLine(error.message.replace(/^error: /, "")) || "failed",
      hint: "run cluster-pack --help (or cluster-pack <command> --help)",
      exitCode: 2,
    };
  if (isClusterPackError(error)) {
    const hint = hintOf(error, storeOf(error));
    return {
      message: error.message,
      exitCode: error.code === "INVALID_ARGUMENT" ? 2 : 1,
      ...(hint && { hint }),
    };
  }
  return { message: plainMessageOf(error) || "failed", exitCode: 1 };
}
