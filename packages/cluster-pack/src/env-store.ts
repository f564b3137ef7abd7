// Reading a store back: the mirror of what `uploadEnv` writes. Per archive `<dir>/<stem>.<ext>` there is its
// metadata (`metadataPathOf`) and, when it ships editable code, `<dir>/<stem>_editable/` holding one zip per
// top-level package and the `editable_packages_index` naming them.

import {
  type ArchiveFormat,
  EDITABLE_PACKAGES_INDEX,
  type EditableZip,
  editableDirectoryOf,
  formatOfPath,
  formatsOfPacker,
  isArchiveName,
  metadataPathOf,
  type Packer,
  packers,
  parseEditablePackagesIndex,
} from "@cluster-pack/env-usage";
import { firstLine } from "@cluster-pack/errors";
import {
  type FileInfo,
  type FileSystem,
  isStorageError,
  StorageError,
  type StorageOptions,
} from "@cluster-pack/fs";
import { detectInterpreter, inspectEnvironment } from "@cluster-pack/python-env";
import parseDuration, { type StringValue } from "ms";
import type { ArchiveMetadata } from "./archive-metadata.js";
import { defaultPackagePathFor } from "./default-package-path.js";
import { editablesToShip } from "./editable-upload.js";
import { ShippingError } from "./errors.js";
import { sweepStoreDirectory, sweepWorkspaces } from "./leftovers.js";
import { checkFormat, checkPacker, formatOfArchive } from "./packer.js";
import {
  defaultPackagePathOfRunning,
  type RunningEnv,
  runningEnvToShip,
  shippedEditableNames,
} from "./running-env.js";
import { parentOf, readTextFile, resolveStorage } from "./storage.js";

/** An archive in a store, with what belongs to it. */
export interface StoredEnv {
  /** The archive's URI. */
  packagePath: string;
  format: ArchiveFormat;
  /** Bytes, from the store's listing (unknown offline). */
  size?: number;
  /** When the store last changed the archive (ISO 8601), when it says. */
  modifiedAt?: string;
  metadataPath: string;
  /**
   * The metadata beside the archive, its fields of the wrong type left out; absent when there is none or it is not
   * a JSON object, which means the archive is not trusted.
   */
  metadata?: Partial<ArchiveMetadata>;
  /**
   * One line when the metadata file is there but could not be read or is malformed (not JSON, fields of the wrong
   * type): `the metadata at s3://team/envs/env.json is malformed: "created" is not a string`.
   */
  metadataProblem?: string;
  /** The editable zips listed in the index beside the archive. */
  editable: EditableZip[];
  /** The `editable_packages_index`, when there is one. */
  editableIndex?: string;
}

export interface StoreOptions {
  /** Options for the storage adapters, as `uploadEnv` takes them. */
  fsArgs?: StorageOptions;
}

export interface LocateEnvOptions extends StoreOptions {
  /** Without `packagePath`: the interpreter whose default path is meant (as `uploadEnv` chooses it). */
  python?: string;
  packer?: Packer;
  format?: ArchiveFormat;
  /**
   * Do not contact the store: describe the archive from its path alone, with the editable zips the environment
   * ships (`uploadEnv` puts them under `<stem>_editable/`). For when the store cannot be reached from here.
   */
  offline?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Whether metadata describes an archive of this format. `env.pex` and `env.zip` both keep theirs in `env.json`
 * (cluster-pack's naming): the packer recorded in it says whose it is. Metadata without one (written by another
 * tool) is taken as the archive's.
 */
function describesArchive(metadata: Partial<ArchiveMetadata>, format: ArchiveFormat): boolean {
  const packer = metadata.format;
  if (packer === undefined || !(packers as readonly string[]).includes(packer)) return true;
  return formatsOfPacker(packer).includes(format);
}

// The type of each field cluster-pack writes; another tool's own fields are kept as they are.
const metadataFieldTypes: Record<
  keyof ArchiveMetadata,
  "string" | "number" | "boolean" | "strings" | "object"
> = {
  package_installed: "strings",
  platform: "string",
  python_version: "string",
  fingerprint: "string",
  sha256: "string",
  size: "number",
  checksum: "object",
  format: "string",
  with_python: "boolean",
  interpreter: "object",
  dest_prefix: "string",
  compression_level: "number",
  exclude: "strings",
  compile: "boolean",
  target: "object",
  wheels: "object",
  tool: "string",
  created: "string",
};

const hasType = (value: unknown, type: (typeof metadataFieldTypes)[keyof ArchiveMetadata]) => {
  if (type === "strings") return Array.isArray(value) && value.every((item) => typeof item === "string");
  if (type === "object") return typeof value === "object" && value !== null && !Array.isArray(value);
  if (type === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === type;
};

const typeNames = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  strings: "a list of strings",
  object: "an object",
};

/** What a read of the metadata beside an archive found. */
interface MetadataRead {
  /** Whether a metadata file is there. */
  exists: boolean;
  metadata?: Partial<ArchiveMetadata>;
  problem?: string;
}

// What Node and the HTTP clients say when a server or the network ends a transfer early.
const CUT_CONNECTION = /^(aborted|premature close|terminated|other side closed|socket hang up)$/i;

/**
 * The metadata beside an archive, checked field by field. A file that cannot be read at all (the store failed) is a
 * StorageError about the metadata's URI.
 */
async function readStoredMetadata(fs: FileSystem, archivePath: string): Promise<MetadataRead> {
  const metadataPath = metadataPathOf(archivePath);
  const uri = fs.toUri(metadataPath);
  let text: string;
  try {
    text = await readTextFile(fs, metadataPath);
  } catch (error) {
    if (isStorageError(error, "NOT_FOUND")) return { exists: false };
    if (isStorageError(error)) throw error;
    // A stream cut mid-file surfaces as the HTTP client's bare "aborted": say which file, in plain words.
    const reason = firstLine(error);
    throw CUT_CONNECTION.test(reason)
      ? new StorageError("TRANSIENT", "the connection closed before the whole file arrived", {
          uri,
          cause: error,
        })
      : new StorageError("UNKNOWN", reason, { uri, cause: error });
  }
  const malformed = (why: string) => `the metadata at ${uri} is malformed: ${why}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { exists: true, problem: malformed("not JSON") };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { exists: true, problem: malformed("not a JSON object") };
  const metadata: Record<string, unknown> = {};
  const wrong: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const type = metadataFieldTypes[key as keyof ArchiveMetadata];
    if (type === undefined || hasType(value, type)) metadata[key] = value;
    else wrong.push(`"${key}" is not ${typeNames[type]}`);
  }
  return {
    exists: true,
    metadata: metadata as Partial<ArchiveMetadata>,
    ...(wrong.length > 0 && { problem: malformed(wrong.join(", ")) }),
  };
}

/** A step of a removal; its storage failure becomes one line saying which step. */
async function removalStep<T>(what: string, location: string, action: () => Promise<T>) {
  try {
    return await action();
  } catch (error) {
    throw new ShippingError(
      "REMOVE_FAILED",
      `${what} failed: ${isStorageError(error) ? error.detail : firstLine(error)}`,
      {
        location,
        cause: error,
      },
    );
  }
}

/** The editable zips the index beside an archive lists; none when there is no index. */
async function readEditableCode(
  fs: FileSystem,
  archivePath: string,
): Promise<Pick<StoredEnv, "editable" | "editableIndex">> {
  const directory = editableDirectoryOf(archivePath);
  const indexPath = `${directory}/${EDITABLE_PACKAGES_INDEX}`;
  let index: string;
  try {
    index = await readTextFile(fs, indexPath);
  } catch (error) {
    if (isStorageError(error, "NOT_FOUND")) return { editable: [] };
    throw error;
  }
  return {
    editable: parseEditablePackagesIndex(index).map((name) => ({
      name,
      uri: fs.toUri(`${directory}/${name}.zip`),
    })),
    editableIndex: fs.toUri(indexPath),
  };
}

/**
 * What the store holds for one archive, read with the listing entry it already has. Metadata the store fails to
 * deliver is a `metadataProblem` when `unreadableMetadata` is "report" (a listing still shows the rest), else an
 * error.
 */
async function describeStored(
  fs: FileSystem,
  file: FileInfo,
  format: ArchiveFormat,
  hasEditableDirectory: boolean,
  unreadableMetadata: "report" | "fail",
): Promise<StoredEnv> {
  let read: MetadataRead;
  try {
    read = await readStoredMetadata(fs, file.path);
  } catch (error) {
    if (unreadableMetadata === "fail" || !isStorageError(error)) throw error;
    // Not trusted, as with no metadata; and the listing says why.
    read = { exists: true, problem: `the metadata at ${error.location} could not be read: ${error.detail}` };
  }
  const { metadata, problem } = read;
  return {
    packagePath: fs.toUri(file.path),
    format,
    size: file.size,
    ...(file.modifiedAt && { modifiedAt: file.modifiedAt.toISOString() }),
    metadataPath: fs.toUri(metadataPathOf(file.path)),
    ...(metadata && describesArchive(metadata, format) && { metadata }),
    ...(problem && { metadataProblem: problem }),
    ...(hasEditableDirectory ? await readEditableCode(fs, file.path) : { editable: [] }),
  };
}

/**
 * The archive path `uploadEnv` would choose for this environment, packer and format: inside a shipped environment
 * (and no `python` given), the one it re-ships.
 */
async function defaultPathOf(options: LocateEnvOptions, running: RunningEnv | undefined): Promise<string> {
  if (running) return defaultPackagePathOfRunning(running, options.env ?? process.env);
  const interpreter = await detectInterpreter({
    ...(options.python !== undefined && { python: options.python }),
    ...(options.env !== undefined && { env: options.env }),
  });
  return defaultPackagePathFor(interpreter, {
    ...(options.packer !== undefined && { packer: checkPacker(options.packer) }),
    ...(options.format !== undefined && { format: checkFormat(options.format) }),
    ...(options.env !== undefined && { env: options.env }),
  });
}

/** The top-level names of the editable code an environment ships beside its archive (no store). */
async function editableNamesOf(
  options: LocateEnvOptions,
  running: RunningEnv | undefined,
): Promise<string[]> {
  if (running) return shippedEditableNames(running);
  const environment = await inspectEnvironment({
    ...(options.python !== undefined && { python: options.python }),
    ...(options.env !== undefined && { env: options.env }),
  });
  return (await editablesToShip(environment)).flatMap((editable) =>
    editable.topLevels.map((topLevel) => topLevel.name),
  );
}

/** The editable zips an environment ships beside an archive, from the environment alone (no store). */
async function plannedEditableCode(
  packagePath: string,
  options: LocateEnvOptions,
  running: RunningEnv | undefined,
): Promise<Pick<StoredEnv, "editable" | "editableIndex">> {
  const names = await editableNamesOf(options, running);
  if (names.length === 0) return { editable: [] };
  const directory = editableDirectoryOf(packagePath);
  return {
    editable: names.map((name) => ({ name, uri: `${directory}/${name}.zip` })),
    editableIndex: `${directory}/${EDITABLE_PACKAGES_INDEX}`,
  };
}

/**
 * Finds a shipped environment: the archive at `packagePath` (default: where `uploadEnv` puts the environment of
 * `python`, or, inside a shipped environment, the one it re-ships), its metadata and the editable zips beside it.
 * The archive must exist (`NOT_FOUND` otherwise), unless `offline`, which describes it from its path without
 * reading the store.
 */
export async function locateEnv(packagePath?: string, options: LocateEnvOptions = {}): Promise<StoredEnv> {
  const running =
    packagePath === undefined || options.offline
      ? await runningEnvToShip(options.python, options.env ?? process.env)
      : undefined;
  const archive = packagePath ?? (await defaultPathOf(options, running));
  const format = formatOfArchive(archive);
  if (options.offline)
    return {
      packagePath: archive,
      format,
      metadataPath: metadataPathOf(archive),
      ...(await plannedEditableCode(archive, options, running)),
    };
  const { fs, path } = await resolveStorage(archive, options.fsArgs ?? {});
  try {
    let file: FileInfo;
    try {
      file = await fs.stat(path);
    } catch (error) {
      if (isStorageError(error, "NOT_FOUND"))
        throw new ShippingError("NOT_FOUND", "no archive there", { location: fs.toUri(path) });
      throw error;
    }
    return await describeStored(fs, file, format, true, "report");
  } finally {
    await fs.close?.();
  }
}

export interface EnvListing {
  /** The directory listed. */
  uri: string;
  /** Its archives, by name. */
  envs: StoredEnv[];
}

/** The archives of a resolved directory (or the one archive a file path names), with their paths. */
async function listResolved(
  fs: FileSystem,
  path: string,
  unreadableMetadata: "report" | "fail",
): Promise<{ env: StoredEnv; path: string }[]> {
  const info = await fs.stat(path);
  const entries = info.type === "file" ? [info] : await fs.ls(path);
  const directories = new Set(
    entries.filter((entry) => entry.type === "directory").map((entry) => entry.path.replace(/\/+$/, "")),
  );
  const found: { env: StoredEnv; path: string }[] = [];
  for (const entry of [...entries].sort((a, b) => a.name.localeCompare(b.name))) {
    const format = entry.type === "file" ? formatOfPath(entry.name) : undefined;
    if (format === undefined) continue;
    // Listing a directory already says which editable directories exist: no read for archives without one.
    const hasEditables = info.type === "file" || directories.has(editableDirectoryOf(entry.path));
    found.push({
      env: await describeStored(fs, entry, format, hasEditables, unreadableMetadata),
      path: entry.path,
    });
  }
  return found;
}

/**
 * The archives of a store directory (every format cluster-pack writes: `.pex`, `.pex.zip`, `.tar.gz`, `.tgz`,
 * `.zip`), each with its metadata and editable zips. A URI naming one archive lists that archive.
 */
export async function listEnvs(directoryUri: string, options: StoreOptions = {}): Promise<EnvListing> {
  const { fs, path } = await resolveStorage(directoryUri, options.fsArgs ?? {});
  try {
    return { uri: fs.toUri(path), envs: (await listResolved(fs, path, "report")).map(({ env }) => env) };
  } finally {
    await fs.close?.();
  }
}

export interface RemovedEnv {
  packagePath: string;
  /** Every URI removed: the metadata, the archive, the editable directory. */
  removed: string[];
}

/**
 * Removes an archive with what belongs to it: the metadata first (from then on no reader trusts the archive), the
 * archive, then its editable directory. Metadata or an editable directory that another archive of the same stem
 * also uses (`env.pex` and `env.zip` share `env.json` and `env_editable/`) stays with that archive.
 */
export async function removeEnv(packagePath: string, options: StoreOptions = {}): Promise<RemovedEnv> {
  const format = formatOfArchive(packagePath);
  const { fs, path } = await resolveStorage(packagePath, options.fsArgs ?? {});
  try {
    return await removeResolved(fs, path, format);
  } finally {
    await fs.close?.();
  }
}

async function removeResolved(fs: FileSystem, path: string, format: ArchiveFormat): Promise<RemovedEnv> {
  const uri = fs.toUri(path);
  const removed: string[] = [];
  const exists = await removalStep("looking for the archive", uri, () => fs.exists(path));
  if (!exists) throw new ShippingError("NOT_FOUND", "no archive there", { location: uri });
  const siblings = await removalStep("listing the directory", fs.toUri(parentOf(path)), () =>
    fs.ls(parentOf(path)),
  );
  const sharesStem = siblings.some(
    (sibling) =>
      sibling.path !== path &&
      sibling.type === "file" &&
      isArchiveName(sibling.name) &&
      editableDirectoryOf(sibling.path) === editableDirectoryOf(path),
  );

  const metadataPath = metadataPathOf(path);
  const { exists: hasMetadata, metadata } = await removalStep(
    "reading the metadata",
    fs.toUri(metadataPath),
    () => readStoredMetadata(fs, path),
  );
  // Malformed metadata goes with its archive, unless another archive of the stem may be the one it describes.
  if (hasMetadata && (!sharesStem || (metadata !== undefined && describesArchive(metadata, format)))) {
    await removalStep("removing the metadata", fs.toUri(metadataPath), () => fs.rm(metadataPath));
    removed.push(fs.toUri(metadataPath));
  }
  await removalStep("removing the archive", uri, () => fs.rm(path));
  removed.push(uri);
  const editableDirectory = editableDirectoryOf(path);
  if (!sharesStem && siblings.some((sibling) => sibling.path.replace(/\/+$/, "") === editableDirectory)) {
    await removalStep("removing the editable code", fs.toUri(editableDirectory), () =>
      fs.rm(editableDirectory, { recursive: true }),
    );
    removed.push(fs.toUri(editableDirectory));
  }
  return { packagePath: uri, removed };
}

export interface PruneOptions extends StoreOptions {
  /** Keep the `keep` newest archives. */
  keep?: number;
  /** Keep archives newer than this: milliseconds, or a duration such as `"30d"`, `"12h"`, `"2w"`. */
  olderThan?: number | string;
  /** Only say what would be removed (the default); `false` removes. */
  dryRun?: boolean;
  /** The present, for `olderThan` (default now). */
  now?: Date;
}

export interface PruneResult {
  uri: string;
  dryRun: boolean;
  /** Newest first: what was removed, or would be with `dryRun`. */
  removed: StoredEnv[];
  kept: StoredEnv[];
  /**
   * What killed uploads had left, removed (not with `dryRun`): temporary names and unfinished uploads in the
   * directory older than an hour, and TMPDIR work directories of processes that are gone.
   */
  leftovers: string[];
}

/**
 * When an archive was published: its metadata's `created`, else (metadata of another tool) the store's
 * modification time. An archive without metadata is not trusted, and counts as the oldest.
 */
function publishedAt(env: StoredEnv): number {
  if (!env.metadata) return 0;
  const created = Date.parse(env.metadata.created ?? "");
  if (Number.isFinite(created)) return created;
  const modified = Date.parse(env.modifiedAt ?? "");
  return Number.isFinite(modified) ? modified : 0;
}

function durationOf(olderThan: number | string): number {
  let milliseconds: number | undefined;
  try {
    milliseconds = typeof olderThan === "number" ? olderThan : parseDuration(olderThan.trim() as StringValue);
  } catch {
    // `ms` throws on an empty string: the message below says what is expected.
  }
  if (typeof milliseconds !== "number" || !Number.isFinite(milliseconds) || milliseconds < 0)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `olderThan "${olderThan}" is not a duration: write a number and a unit, such as 30d, 12h or 2w`,
    );
  return milliseconds;
}

/**
 * Removes the archives of a directory that are neither among the `keep` newest nor newer than `olderThan` (at
 * least one of the two must be given), each as `removeEnv` does, then what killed uploads left (see
 * `PruneResult.leftovers`). A dry run unless `dryRun` is false. Archives without metadata count as the oldest.
 */
export async function pruneEnvs(directoryUri: string, options: PruneOptions): Promise<PruneResult> {
  const { keep, olderThan } = options;
  if (keep === undefined && olderThan === undefined)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "say what to keep: keep (the newest N) or olderThan (a duration)",
    );
  if (keep !== undefined && (!Number.isSafeInteger(keep) || keep < 0))
    throw new ShippingError("INVALID_ARGUMENT", `keep ${keep} is not a whole number ≥ 0`);
  const cutoff =
    olderThan === undefined ? undefined : (options.now ?? new Date()).getTime() - durationOf(olderThan);
  const dryRun = options.dryRun ?? true;
  const { fs, path } = await resolveStorage(directoryUri, options.fsArgs ?? {});
  try {
    // Metadata the store failed to deliver would make its archive look untrusted, the first to go: stop instead.
    const newestFirst = (await listResolved(fs, path, "fail")).sort(
      (a, b) => publishedAt(b.env) - publishedAt(a.env),
    );
    const removed: typeof newestFirst = [];
    const kept: typeof newestFirst = [];
    for (const [rank, stored] of newestFirst.entries()) {
      const beyondKeep = keep === undefined || rank >= keep;
      const tooOld = cutoff === undefined || publishedAt(stored.env) < cutoff;
      (beyondKeep && tooOld ? removed : kept).push(stored);
    }
    const leftovers: string[] = [];
    if (!dryRun) {
      for (const stored of removed) await removeResolved(fs, stored.path, stored.env.format);
      leftovers.push(
        ...(await sweepStoreDirectory(fs, path, options.now?.getTime())),
        ...(await sweepWorkspaces()),
      );
    }
    return {
      uri: fs.toUri(path),
      dryRun,
      removed: removed.map(({ env }) => env),
      kept: kept.map(({ env }) => env),
      leftovers,
    };
  } finally {
    await fs.close?.();
  }
}
