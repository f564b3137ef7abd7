import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { archiveStem, type Packer, packerOfFormat } from "@cluster-pack/env-usage";
import type { FileSystem, StorageOptions } from "@cluster-pack/fs";
import { isBuildTool, normalizeName } from "@cluster-pack/python-env";
import {
  type ArchiveMetadata,
  type CacheKey,
  isUpToDate,
  readArchiveMetadata,
  toolVersion,
} from "./archive-metadata.js";
import { archivePathInStore, defaultPackagePathFor, envNameOfInterpreter } from "./default-package-path.js";
import {
  type EditablePackage,
  editablesToShip,
  uploadEditables,
  type ZippedEditables,
  zipEditables,
  zipShippedEditables,
} from "./editable-upload.js";
import { ShippingError } from "./errors.js";
import { makeWorkspace, sweepStoreDirectory, sweepWorkspaces } from "./leftovers.js";
import {
  cacheKeyOf,
  checkPackerOptions,
  type EnvironmentOptions,
  inspect,
  packModel,
  shippedInterpreterOf,
} from "./pack-env.js";
import { checkExtension, choosePacking, formatOfArchive } from "./packer.js";
import {
  downloadArchive,
  packerOfEnvironmentArchive,
  readPexRequirements,
  riskyEntryWarnings,
} from "./prebuilt-archive.js";
import type { ProgressListener } from "./progress.js";
import { acquirePublicationLease, type PublicationLease } from "./publication-lease.js";
import { type ArchiveSource, publishArchive, sha256OfFile } from "./publish.js";
import {
  archiveOfRunningEnv,
  defaultPackagePathOfRunning,
  type RunningEnv,
  runningEnvToShip,
} from "./running-env.js";
import { releaseSpecModel, specOf } from "./spec-build.js";
import { parentOf, resolveStorage } from "./storage.js";
import { publishVerified, refuseBrokenArchive, type VerifyBeforePublishing } from "./verify-env.js";

export interface UploadEnvOptions extends EnvironmentOptions {
  /** Where the archive goes (any storage URI); default `<store>/user/<user>/envs/<envName>.<ext>`. */
  packagePath?: string;
  /** Pack and upload even when the stored archive is current (also skips `C_PACK_ENV_FALLBACK_PATH`). */
  forceUpload?: boolean;
  /** Options for the storage adapters: `{ s3: { endpoint, credentials… } }`, `{ hdfs: { user… } }`. */
  fsArgs?: StorageOptions;
  /**
   * Cancels the upload (Ctrl-C): in-flight transfers stop, temporary files and objects are removed, and the store
   * keeps its previous archive and metadata. The promise then rejects with an ABORTED error.
   */
  signal?: AbortSignal;
  /**
   * Run the packed archive as a node would before publishing it (`verifyArchive`): every top-level module imported,
   * every native library resolved. When anything fails, nothing is published and a `VerifyError`
   * (`BROKEN_ENVIRONMENT`) names the modules and libraries. A stored archive that is current is not checked again.
   */
  verify?: VerifyBeforePublishing;
}

export interface UploadedEnv {
  /** The archive's URI. */
  packagePath: string;
  envName: string;
  /** False when the stored archive was current: nothing was packed or uploaded. */
  uploaded: boolean;
  packer: Packer;
  /** Where the archive came from when it was uploaded; `running`: the shipped environment this job runs in. */
  source?: "environment" | "staging" | "fallback" | "running";
  /** The metadata now beside the archive. */
  metadata: Partial<ArchiveMetadata>;
  /** What will not work where a freshly packed venv or conda archive is unpacked, each one line. */
  warnings?: string[];
  /** Editable packages, zipped and uploaded beside the env on every call. */
  editable: EditablePackage[];
  /** The uploaded `editable_packages_index`, when there are editable packages. */
  editableIndex?: string;
}

const comparable = (requirements: readonly string[]) =>
  requirements
    .map((requirement) => {
      const [name = "", version = ""] = requirement.split("==");
      return `${normalizeName(name)}==${version}`;
    })
    .filter((requirement) => !isBuildTool(requirement.split("==")[0] ?? ""))
    .sort()
    .join("\n");

/** cluster-pack's `C_PACK_ENV_FALLBACK_PATH`: a prebuilt pex reused when it holds exactly the requirements. */
async function tryFallback(
  fallback: string,
  localArchive: string,
  python: string,
  expected: CacheKey,
  fsArgs: StorageOptions,
): Promise<boolean> {
  await downloadArchive(fallback, localArchive, fsArgs);
  const requirements = await readPexRequirements(python, localArchive);
  if (requirements && comparable(requirements) === comparable(expected.package_installed)) return true;
  await rm(localArchive, { force: true });
  return false;
}

/**
 * Before publishing at `path`: removes what killed uploads left in its directory and in TMPDIR, then takes the
 * path's publication lease (waiting for another publisher to finish).
 */
async function leaseToPublish(
  fs: FileSystem,
  path: string,
  options: { signal?: AbortSignal | undefined; fsArgs?: StorageOptions | undefined },
): Promise<PublicationLease> {
  const log = options.fsArgs?.log;
  for (const removed of [...(await sweepStoreDirectory(fs, parentOf(path))), ...(await sweepWorkspaces())])
    log?.(`removed ${removed}, left by an upload that was killed`);
  return acquirePublicationLease(fs, path, {
    signal: options.signal,
    onWait: (holder) => log?.(`waiting for another upload to ${fs.toUri(path)} to finish (${holder})`),
  });
}

/**
 * Ships the environment: packs it (pex, pex.zip, venv or conda archive), uploads it with its metadata, and uploads
 * the editable code beside it, unless the stored metadata says the archive is current (one read), in which case
 * only the editable zips are sent. cluster-pack's `upload_env`.
 */
export async function uploadEnv(options: UploadEnvOptions = {}): Promise<UploadedEnv> {
  const env = options.env ?? process.env;
  // Checked before anything else; a .tar.gz is a venv or a conda archive depending on the environment, known later.
  choosePacking({ ...options, path: options.packagePath });

  // A job launched from inside a shipped environment ships that environment (cluster-pack's `_running_from_pex`).
  // A spec says what to ship: never the environment this runs in.
  const running = specOf(options) ? undefined : await runningEnvToShip(options.python, env);
  if (running) return reshipRunningEnv(running, options, env);

  const model = await inspect(options);
  const { packer, format } = choosePacking({ ...options, path: options.packagePath }, model.interpreter.kind);
  checkPackerOptions(packer, options);
  const envName = envNameOfInterpreter(model.interpreter, packer);
  const packagePath =
    options.packagePath ?? (await defaultPackagePathFor(model.interpreter, { packer, format, env }));

  const zipped: ZippedEditables = await zipEditables(await editablesToShip(model));
  const { fs, path } = await resolveStorage(packagePath, options.fsArgs ?? {});
  try {
    // Baked-in editable code changes without the fingerprint changing: the zips' hashes join the cache key.
    const editableFingerprint = options.includeEditable
      ? zipped.zips.map((zip) => `${zip.name}:${zip.sha256}`).join(",")
      : "";
    const expected = await cacheKeyOf(model, packer, options, editableFingerprint);
    const needsPublishing = (stored: Partial<ArchiveMetadata> | undefined) =>
      options.forceUpload || !isUpToDate(stored, expected);
    let metadata = await readArchiveMetadata(fs, path);
    const lease = needsPublishing(metadata) ? await leaseToPublish(fs, path, options) : undefined;
    let uploaded = false;
    let source: UploadedEnv["source"];
    let warnings: string[] = [];
    try {
      // Whoever held the lease before may have published this very environment: then there is nothing to do.
      if (lease) metadata = await readArchiveMetadata(fs, path);
      if (lease && needsPublishing(metadata)) {
        const publish = (archive: ArchiveSource) =>
          publishArchive({
            fs,
            path,
            archive,
            metadata: {
              ...expected,
              ...(expected.with_python && { interpreter: shippedInterpreterOf(model.interpreter) }),
              tool: toolVersion,
            },
            lease,
            ...(options.signal && { signal: options.signal }),
            ...(options.onProgress && { onProgress: options.onProgress }),
          });
        const fallback = env.C_PACK_ENV_FALLBACK_PATH;
        // A prebuilt pex is compared by requirements only, which says nothing of a spec's target platform.
        if (!options.forceUpload && fallback && packer === "pex" && !specOf(options)) {
          const workspace = await makeWorkspace("fallback");
          try {
            const local = join(workspace, `${envName}.${format}`);
            const python = model.interpreter.executable;
            if (await tryFallback(fallback, local, python, expected, options.fsArgs ?? {})) {
              if (options.verify)
                await refuseBrokenArchive(local, fs.toUri(path), options.verify, options.signal);
              source = "fallback";
              metadata = await publish({ file: local, sha256: await sha256OfFile(local) });
            }
          } finally {
            await rm(workspace, { recursive: true, force: true });
          }
        }
        if (source === undefined && options.verify) {
          // Checked before it is published: packed into a local file first, then sent from it.
          const { packed, published } = await publishVerified({
            name: `${envName}.${format}`,
            location: fs.toUri(path),
            verify: options.verify,
            signal: options.signal,
            pack: (output) => packModel(model, { ...options, output, packer, format }),
            publish,
          });
          metadata = published;
          source = packed.source;
          warnings = packed.warnings;
        } else if (source === undefined) {
          // Packed straight into the upload: no local copy of the archive, packing and sending overlap.
          let packed: Awaited<ReturnType<typeof packModel>> | undefined;
          metadata = await publish({
            write: async (destination) => {
              packed = await packModel(model, {
                ...options,
                output: fs.toUri(path),
                destination,
                packer,
                format,
              });
              return { sha256: packed.sha256, size: packed.bytes };
            },
            // A zipapp runs as `./env.pex` from a local store as well.
            ...(packer === "pex" && { mode: 0o755 }),
          });
          source = packed?.source;
          warnings = packed?.warnings ?? [];
        }
        uploaded = true;
      }
    } finally {
      await lease?.release();
    }
    const { editable, editableIndex } = await uploadEditables(fs, path, zipped, options.onProgress);
    return {
      packagePath: fs.toUri(path),
      envName,
      uploaded,
      packer,
      ...(source && { source }),
      metadata: metadata ?? {},
      ...(warnings.length > 0 && { warnings }),
      editable,
      ...(editableIndex && { editableIndex }),
    };
  } finally {
    await zipped.cleanup();
    await releaseSpecModel(model);
    await fs.close?.();
  }
}

export interface UploadZipOptions {
  forceUpload?: boolean;
  fsArgs?: StorageOptions;
  onProgress?: ProgressListener;
  /** Cancels the upload, as `UploadEnvOptions.signal`. */
  signal?: AbortSignal;
}

type PrebuiltOptions = Required<Pick<UploadZipOptions, "forceUpload">> & {
  packer: Packer;
  onProgress?: ProgressListener;
  signal?: AbortSignal | undefined;
  fsArgs?: StorageOptions | undefined;
};

/** Publishes a prebuilt archive at a resolved path, unless the store holds the same bytes. */
async function publishPrebuilt(
  fs: FileSystem,
  path: string,
  localArchive: string,
  options: PrebuiltOptions,
): Promise<Omit<UploadedEnv, "envName" | "editable">> {
  const sha256 = await sha256OfFile(localArchive);
  const current = (stored: Partial<ArchiveMetadata> | undefined) =>
    !options.forceUpload && stored?.sha256 === sha256;
  const stored = await readArchiveMetadata(fs, path);
  if (current(stored))
    return { packagePath: fs.toUri(path), uploaded: false, packer: options.packer, metadata: stored ?? {} };
  const lease = await leaseToPublish(fs, path, options);
  try {
    // Another publisher may have stored these very bytes while this one waited.
    const storedMeanwhile = await readArchiveMetadata(fs, path);
    if (current(storedMeanwhile))
      return {
        packagePath: fs.toUri(path),
        uploaded: false,
        packer: options.packer,
        metadata: storedMeanwhile ?? {},
      };
    return await publishPrebuiltLeased(fs, path, localArchive, sha256, lease, options);
  } finally {
    await lease.release();
  }
}

async function publishPrebuiltLeased(
  fs: FileSystem,
  path: string,
  localArchive: string,
  sha256: string,
  lease: PublicationLease,
  options: PrebuiltOptions,
): Promise<Omit<UploadedEnv, "envName" | "editable">> {
  const metadata = await publishArchive({
    fs,
    path,
    archive: { file: localArchive, sha256 },
    metadata: {
      package_installed: [],
      platform: "",
      python_version: "",
      // Never equal to an environment's fingerprint: uploadEnv packs again rather than trust a prebuilt archive.
      fingerprint: `prebuilt:${sha256}`,
      format: options.packer,
      tool: toolVersion,
    },
    lease,
    ...(options.signal && { signal: options.signal }),
    ...(options.onProgress && { onProgress: options.onProgress }),
  });
  return { packagePath: fs.toUri(path), uploaded: true, packer: options.packer, metadata };
}

async function uploadArchiveFile(
  localArchive: string,
  packagePath: string,
  options: PrebuiltOptions & { fsArgs: StorageOptions },
): Promise<Omit<UploadedEnv, "envName" | "editable">> {
  const { fs, path }: { fs: FileSystem; path: string } = await resolveStorage(packagePath, options.fsArgs);
  try {
    return await publishPrebuilt(fs, path, localArchive, options);
  } finally {
    await fs.close?.();
  }
}

/**
 * Re-ships the environment a job runs in, as a prebuilt archive (a job cannot tell how it was packed): the
 * zipapp itself, or the unpacked directory archived again; then the editable code the job was started with, as
 * `uploadEnv` ships a developer's.
 */
/** Options that change what is packed: a running environment is shipped as it is, so they are refused, not ignored. */
const packingOptions = [
  "additionalPackages",
  "ignoredPackages",
  "onlyPackages",
  "includeEditable",
  "withPython",
  "destPrefix",
  "compression",
  "exclude",
  "compile",
] as const;

function refusePackingOptions(running: RunningEnv, options: UploadEnvOptions) {
  const given: string[] = packingOptions.filter((name) => {
    const value = options[name];
    return value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0);
  });
  if (options.packer !== undefined && options.packer !== running.packer)
    given.push(`packer ${options.packer}`);
  if (options.format !== undefined && options.format !== running.format)
    given.push(`format ${options.format}`);
  if (given.length > 0)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `this job runs in a shipped environment, which is uploaded as it is: ${given.join(", ")} cannot apply`,
      { location: running.path, hint: "drop those options, or give python for another environment" },
    );
}

async function reshipRunningEnv(
  running: RunningEnv,
  options: UploadEnvOptions,
  env: NodeJS.ProcessEnv,
): Promise<UploadedEnv> {
  refusePackingOptions(running, options);
  const packagePath = options.packagePath ?? (await defaultPackagePathOfRunning(running, env));
  checkExtension(packagePath, running.packer);
  const zipped = await zipShippedEditables(running);
  const workspace = await makeWorkspace("upload");
  try {
    const localArchive = await archiveOfRunningEnv(running, workspace);
    const { fs, path } = await resolveStorage(packagePath, options.fsArgs ?? {});
    try {
      const result = await publishPrebuilt(fs, path, localArchive, {
        forceUpload: options.forceUpload ?? false,
        packer: running.packer,
        signal: options.signal,
        fsArgs: options.fsArgs,
        ...(options.onProgress && { onProgress: options.onProgress }),
      });
      const { editable, editableIndex } = await uploadEditables(fs, path, zipped, options.onProgress);
      return {
        ...result,
        envName: running.envName,
        ...(result.uploaded && { source: "running" as const }),
        editable,
        ...(editableIndex && { editableIndex }),
      };
    } finally {
      await fs.close?.();
    }
  } finally {
    await rm(workspace, { recursive: true, force: true });
    await zipped.cleanup();
  }
}

/**
 * Uploads a prebuilt archive (a local file, or http(s)) with its metadata: cluster-pack's `upload_zip`, for zipapps
 * (`.pex`), unpack layouts (`.pex.zip`) and venv or conda archives (`.tar.gz`, `.tgz`, `.zip`; which of the two,
 * the archive's entries say). `packagePath` must have the same format (default: the user's envs directory).
 */
export async function uploadZip(
  file: string,
  packagePath?: string,
  options: UploadZipOptions & { env?: NodeJS.ProcessEnv } = {},
): Promise<Omit<UploadedEnv, "editable">> {
  const format = formatOfArchive(file);
  const envName = archiveStem(file);
  const target = packagePath ?? (await archivePathInStore(envName, format, options.env ?? process.env));
  const zipappPacker = packerOfFormat(format);
  // venv and conda archives take the same extensions: which one the file is can wait until it is here.
  checkExtension(target, zipappPacker ?? "venv", format);
  const workspace = await makeWorkspace("zip");
  try {
    let local = file;
    if (/^https?:\/\//i.test(file)) {
      local = join(workspace, `${envName}.${format}`);
      await downloadArchive(file, local);
    } else local = resolve(file);
    const packer = zipappPacker ?? (await packerOfEnvironmentArchive(local, format, file));
    const warnings = await riskyEntryWarnings(local, format);
    const result = await uploadArchiveFile(local, target, {
      forceUpload: options.forceUpload ?? false,
      fsArgs: options.fsArgs ?? {},
      packer,
      signal: options.signal,
      ...(options.onProgress && { onProgress: options.onProgress }),
    });
    return { ...result, envName, ...(warnings.length > 0 && { warnings }) };
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}
