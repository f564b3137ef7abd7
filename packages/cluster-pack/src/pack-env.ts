import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Writable } from "node:stream";
import type { ArchiveFormat, Packer } from "@cluster-pack/env-usage";
import { sanitizeLine } from "@cluster-pack/errors";
import { writeFileAtomically } from "@cluster-pack/fs";
import {
  DEFAULT_ENV_ARCHIVE_LEVEL,
  DEFAULT_ZIPAPP_LEVEL,
  excludePatternProblem,
  normalizeExcludePatterns,
  packConda,
  packVenv,
  packZipapp,
} from "@cluster-pack/packers";
import {
  type EnvironmentModel,
  formatRequirements,
  type IndexOptions,
  type Interpreter,
  inspectEnvironment,
  isBuildTool,
  listCondaPackages,
  listDistributions,
  PythonEnvError,
  probeInterpreter,
  type Requirement,
  resolveEnvironment,
} from "@cluster-pack/python-env";
import type { CacheKey, ShippedInterpreter } from "./archive-metadata.js";
import { ShippingError } from "./errors.js";
import { choosePacking } from "./packer.js";
import type { ProgressListener } from "./progress.js";
import {
  checkSpecPacking,
  inspectSpec,
  releaseSpecModel,
  type SpecOptions,
  specBuildOf,
  specOf,
} from "./spec-build.js";
import { streamed } from "./streamed-write.js";

/** Which packages to ship: cluster-pack's `additional_packages`, `ignored_packages`, `only_packages`. */
export interface PackageSelection {
  /** name → version (`"2.1.0"`) or a local wheel path; replaces an installed package of the same name. */
  additionalPackages?: Readonly<Record<string, string>>;
  ignoredPackages?: readonly string[];
  onlyPackages?: readonly string[];
}

/** How hard archives are compressed: `store` (level 0), `fast` (1), `best` (9), or a level from 0 to 9. */
export type Compression = "store" | "fast" | "best" | number;

export interface EnvironmentOptions extends PackageSelection, IndexOptions, SpecOptions {
  /** The interpreter whose environment is shipped; default the active venv, conda env, else `python3`. */
  python?: string;
  /**
   * `pex`, `pex.zip`, `venv` or `conda`. Default: from `format` (or the archive's extension): `pex`/`pex.zip` name
   * their packer, `tar.gz`/`zip` mean `conda` for a conda environment and `venv` otherwise; else `pex`.
   */
  packer?: Packer;
  /** `pex`, `pex.zip`, `tar.gz` or `zip`; default the archive's extension, else the packer's default (`tar.gz`). */
  format?: ArchiveFormat;
  /** Bake editable installs into the archive too (they always ship as separate zips with `uploadEnv`). */
  includeEditable?: boolean;
  /** venv archives: ship the base interpreter too, for nodes without that Python (conda archives always do). */
  withPython?: boolean;
  /** conda archives: the absolute path the archive will be unpacked at (no unpack step then). */
  destPrefix?: string;
  /**
   * `store` (0: entries kept uncompressed, fastest to pack and extract; zip formats only), `fast` (1), `best` (9)
   * or a level 0–9. Default the packer's: 1 for `pex` and `pex.zip`, 4 for venv and conda archives.
   */
  compression?: Compression;
  /**
   * Files left out of the archive: fnmatch patterns on paths inside it, relative to the environment: under
   * `.deps/` for `pex`/`pex.zip` (`numpy/tests/test_a.py`), inside the environment for venv and conda archives
   * (`lib/python3.11/site-packages/numpy/tests/test_a.py`). `*` matches `/` too, so `*.a` matches at any depth. A
   * pattern matching a directory leaves out what it holds. The files cluster-pack adds itself always ship.
   */
  exclude?: readonly string[];
  /**
   * Precompile the archive's Python sources with the environment's interpreter: `.pyc` files with PEP 552's
   * unchecked-hash invalidation beside each source, so the first start on a node imports without compiling and no
   * extracted mtime matters. Kept in a bytecode cache between packs. Default false.
   */
  compile?: boolean;
  /**
   * What packing does with what cannot be packed as it is: a distribution nothing identifies (a `.dist-info`
   * without METADATA, an unreadable one), a symlink that dangles or leaves the environment (every packer; conda
   * archives keep absolute links out of the prefix). `refuse` (default) stops with one line naming it
   * (`BROKEN_DISTRIBUTION`; `MISSING_FILE` or `UNRELOCATABLE` for a link); `skip` packs the rest and names each
   * one left out among the result's warnings.
   */
  brokenDistributions?: "refuse" | "skip";
  onProgress?: ProgressListener;
  /** Where `VIRTUAL_ENV`, `C_PACK_*`, `HADOOP_CONF_DIR`… are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface PackEnvOptions extends EnvironmentOptions {
  /** The archive to write: `.pex`, `.pex.zip`, or `.tar.gz`/`.tgz`/`.zip` for venv and conda archives. */
  output: string;
  /** Cancels packing (Ctrl-C): nothing is left at `output` or beside it. The promise rejects with ABORTED. */
  signal?: AbortSignal;
}

export interface PackedEnv {
  output: string;
  packer: Packer;
  format: ArchiveFormat;
  sha256: string;
  size: number;
  /** `name==version` of what was packed: the metadata's `package_installed`. */
  requirements: string[];
  /** How the archive was made: straight from the environment, or from a staging environment built for it. */
  source: "environment" | "staging";
  /** The values the cache compares. */
  cacheKey: CacheKey;
  /**
   * What will not work where a venv or conda archive is unpacked (conda-pip conflicts too), and what
   * `brokenDistributions: "skip"` left out, each one line.
   */
  warnings: string[];
}

/** Whether packing the set needs packages the environment does not have installed at these versions. */
export function needsStaging(requirements: readonly Requirement[]): boolean {
  return requirements.some((requirement) => !requirement.distribution);
}

/** The interpreter an archive carries, described from the probe (the same for a venv and its base). */
export function shippedInterpreterOf(interpreter: Interpreter): ShippedInterpreter {
  return {
    version: interpreter.version,
    implementation: interpreter.implementation,
    platform: `${interpreter.target.os}-${interpreter.target.machine}`,
    ...(interpreter.target.glibcVersion && { glibc: interpreter.target.glibcVersion }),
  };
}

/** Whether the archive will carry its interpreter: conda archives always, venv archives when asked. */
const carriesPython = (packer: Packer, options: Pick<EnvironmentOptions, "withPython">) =>
  packer === "conda" || (packer === "venv" && options.withPython === true);

/**
 * A conda environment's packages beyond Python's (MKL, CUDA, compiled libraries) change without any
 * dist-info changing: their conda records join the fingerprint.
 */
async function condaFingerprint(prefix: string): Promise<string> {
  const packages = await listCondaPackages(prefix);
  const hash = createHash("sha256");
  for (const { name, version, build } of packages) hash.update(`${name}=${version}=${build}\n`);
  return `conda:${hash.digest("hex")}`;
}

/** What each packer compresses with when not told: the packers' own defaults (zipapp 1, venv and conda 4). */
export const defaultCompressionLevels: Readonly<Record<Packer, number>> = {
  pex: DEFAULT_ZIPAPP_LEVEL,
  "pex.zip": DEFAULT_ZIPAPP_LEVEL,
  venv: DEFAULT_ENV_ARCHIVE_LEVEL,
  conda: DEFAULT_ENV_ARCHIVE_LEVEL,
};

const compressionNames: Readonly<Record<string, number>> = { store: 0, fast: 1, best: 9 };

/** The level a `compression` option means for a packer (`fast` and `1` are the same); a bad value is refused. */
export function compressionLevelOf(packer: Packer, compression: Compression | undefined): number {
  if (compression === undefined) return defaultCompressionLevels[packer];
  const level =
    typeof compression === "number"
      ? compression
      : (compressionNames[compression] ?? (/^[0-9]$/.test(compression) ? Number(compression) : Number.NaN));
  if (!Number.isInteger(level) || level < 0 || level > 9)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `compression "${compression}" is not supported: use store (0), fast (1), best (9) or a level from 0 to 9`,
    );
  return level;
}

/** The exclude patterns as the cache key and the metadata hold them: sorted, each once; a bad one is refused. */
export function excludePatternsOf(exclude: readonly string[] | undefined): string[] {
  for (const pattern of exclude ?? []) {
    const problem = excludePatternProblem(pattern);
    if (problem) throw new ShippingError("INVALID_ARGUMENT", problem);
  }
  return normalizeExcludePatterns(exclude);
}

export async function cacheKeyOf(
  model: EnvironmentModel,
  packer: Packer,
  options: Pick<EnvironmentOptions, "withPython" | "destPrefix" | "compression" | "exclude" | "compile">,
  extraFingerprint = "",
): Promise<CacheKey> {
  const exclude = excludePatternsOf(options.exclude);
  const extras = [
    extraFingerprint,
    packer === "conda" ? await condaFingerprint(model.interpreter.prefix) : "",
  ];
  const extra = extras.filter(Boolean).join("+");
  const spec = specBuildOf(model);
  return {
    package_installed: formatRequirements(model.requirements),
    platform: model.interpreter.platform,
    python_version: model.interpreter.version,
    fingerprint: extra ? `${model.fingerprint}+${extra}` : model.fingerprint,
    format: packer,
    ...(carriesPython(packer, options) && { with_python: true }),
    ...(packer === "conda" && options.destPrefix !== undefined && { dest_prefix: options.destPrefix }),
    compression_level: compressionLevelOf(packer, options.compression),
    ...(exclude.length > 0 && { exclude }),
    ...(options.compile && { compile: true }),
    ...(spec && {
      target: {
        platforms: spec.target.platforms,
        python_version: spec.target.pythonVersion,
        implementation: spec.target.implementation,
      },
      wheels: Object.fromEntries(spec.lock.wheels.map(({ file, sha256 }) => [file, sha256])),
    }),
  };
}

/** The distributions an environment holds but nothing identifies: packing them cannot be done, only noticed. */
const unidentifiedOf = (model: Pick<EnvironmentModel, "problems">) =>
  model.problems.filter((problem) => problem.leftOut);

/** With `brokenDistributions: "skip"`, one warning per distribution left out. */
const skippedWarnings = (model: Pick<EnvironmentModel, "problems">) =>
  unidentifiedOf(model).map(
    (problem) => `${sanitizeLine(problem.path)}: ${problem.detail}; skipped (not among the packed packages)`,
  );

/** Refuses an environment with a distribution nothing identifies, unless told to skip such distributions. */
function checkBrokenDistributions(model: EnvironmentModel, options: EnvironmentOptions): void {
  const [first] = unidentifiedOf(model);
  if (first && options.brokenDistributions !== "skip")
    throw new PythonEnvError(
      "BROKEN_DISTRIBUTION",
      `${first.detail}; packing stops rather than leave it out (or skip broken distributions)`,
      { location: sanitizeLine(first.path) },
    );
}

export async function inspect(options: EnvironmentOptions): Promise<EnvironmentModel> {
  const { brokenDistributions } = options;
  if (brokenDistributions !== undefined && brokenDistributions !== "refuse" && brokenDistributions !== "skip")
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `brokenDistributions must be "refuse" or "skip", not ${sanitizeLine(JSON.stringify(brokenDistributions))}`,
    );
  options.onProgress?.({ phase: "inspect", transferredBytes: 0 });
  const spec = specOf(options);
  if (spec) {
    // Refused before anything is resolved: the packer is known from the options and the archive's name.
    const path =
      "output" in options ? options.output : "packagePath" in options ? options.packagePath : undefined;
    const { packer } = choosePacking(
      { ...options, path: typeof path === "string" ? path : undefined },
      "system",
    );
    checkSpecPacking(packer, { ...options });
    checkPackerOptions(packer, options);
    const model = await inspectSpec(spec, options);
    options.onProgress?.({ phase: "inspect", transferredBytes: model.requirements.length });
    return model;
  }
  const model = await inspectEnvironment({
    ...(options.python !== undefined && { python: options.python }),
    ...(options.env !== undefined && { env: options.env }),
    ...(options.additionalPackages !== undefined && { additionalPackages: options.additionalPackages }),
    ...(options.ignoredPackages !== undefined && { ignoredPackages: options.ignoredPackages }),
    ...(options.onlyPackages !== undefined && { onlyPackages: options.onlyPackages }),
  });
  checkBrokenDistributions(model, options);
  options.onProgress?.({ phase: "inspect", transferredBytes: model.requirements.length });
  return model;
}

const selects = (options: PackageSelection) =>
  Object.keys(options.additionalPackages ?? {}).length > 0 ||
  (options.ignoredPackages?.length ?? 0) > 0 ||
  options.onlyPackages !== undefined;

/** Options that only some packers take, refused where they would silently do nothing. */
export function checkPackerOptions(packer: Packer, options: EnvironmentOptions): void {
  if (options.withPython && packer !== "venv" && packer !== "conda")
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `withPython ships the interpreter inside venv archives; the ${packer} packer runs with the nodes' Python: use the venv packer`,
    );
  if (options.destPrefix !== undefined && packer !== "conda")
    throw new ShippingError("INVALID_ARGUMENT", `destPrefix is for conda archives, not the ${packer} packer`);
  compressionLevelOf(packer, options.compression);
  excludePatternsOf(options.exclude);
  if (packer === "conda" && selects(options))
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "a conda archive ships the conda environment as installed: additional, ignored and only packages apply to the pex and venv packers; install or remove the packages in the environment instead",
    );
}

/**
 * Where `packModel` writes: the file `output`, or the stream `destination` (an upload), `output` then naming the
 * archive in progress events.
 */
export interface ArchiveTarget {
  output: string;
  destination?: Writable;
  packer: Packer;
  format: ArchiveFormat;
}

/** What packing produced, whichever the packer. */
interface PackedArchive {
  sha256: string;
  bytes: number;
  source: PackedEnv["source"];
  warnings: string[];
}

/**
 * A staging environment holding exactly the requirement set, for requirement sets that ask for packages the
 * environment lacks (additional packages, other versions): python-env's `resolveEnvironment` (uv, else venv + pip;
 * `indexUrl` defaults to `C_PACK_PYPI_URL`). Removed after `use`.
 */
async function withStaging<T>(
  model: EnvironmentModel,
  options: EnvironmentOptions,
  use: (interpreter: Interpreter) => Promise<T>,
): Promise<T> {
  const staging = await mkdtemp(join(tmpdir(), "cluster-pack-staging-"));
  try {
    // The build tools come with the new venv; pinning the packing env's versions would need them in the index.
    const requirements = formatRequirements(model.requirements.filter((r) => !isBuildTool(r.normalizedName)));
    const environment = await resolveEnvironment({
      python: model.interpreter.executable,
      prefix: join(staging, "env"),
      spec: { requirements },
      ...(options.indexUrl !== undefined && { indexUrl: options.indexUrl }),
      ...(options.extraIndexUrls !== undefined && { extraIndexUrls: options.extraIndexUrls }),
      ...(options.findLinks !== undefined && { findLinks: options.findLinks }),
      ...(options.noIndex !== undefined && { noIndex: options.noIndex }),
      ...(options.env !== undefined && { env: options.env }),
    });
    return await use(await probeInterpreter(environment.python));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The packers' size options: the level always given (so the key's is the one used), the patterns when any. */
function sizeOptionsOf(options: EnvironmentOptions & { packer: Packer; format: ArchiveFormat }) {
  const compressionLevel = compressionLevelOf(options.packer, options.compression);
  if (compressionLevel === 0 && options.format === "tar.gz")
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "compression store (level 0) applies to zip formats (pex, pex.zip, zip): a .tar.gz is always gzip-compressed; use fast (1), or the zip format to store",
    );
  const exclude = excludePatternsOf(options.exclude);
  return { compressionLevel, ...(exclude.length > 0 && { exclude }) };
}

/** With `brokenDistributions: "skip"`, the packers leave unsafe symlinks out too (with a warning each). */
const linkOptionOf = (options: EnvironmentOptions) =>
  options.brokenDistributions === "skip" ? { unsafeLinks: "skip" as const } : {};

/** With `compile`, the interpreter that compiles: the one whose environment is packed (a staging one included). */
const compileOptionOf = (options: EnvironmentOptions, interpreter: Pick<Interpreter, "executable">) =>
  options.compile ? { compileWith: interpreter.executable } : {};

/** Packs with the zipapp packers: a staging environment's distributions, or the requirement set's. */
function packPex(
  model: EnvironmentModel,
  options: EnvironmentOptions & ArchiveTarget,
): Promise<{ sha256: string; bytes: number; warnings: string[] }> {
  const layout = options.packer === "pex.zip" ? "unpack" : "zipapp";
  const size = sizeOptionsOf(options);
  const target = { output: options.output, ...(options.destination && { destination: options.destination }) };
  if (needsStaging(model.requirements))
    return withStaging(model, options, async (interpreter) => {
      const { distributions } = await listDistributions(interpreter);
      return packZipapp({
        interpreter,
        distributions: distributions.filter((d) => !d.editable),
        ...target,
        layout,
        ...size,
        ...linkOptionOf(options),
        ...compileOptionOf(options, interpreter),
      });
    });
  return packZipapp({
    interpreter: model.interpreter,
    requirementSet: model.requirements,
    ...target,
    layout,
    includeEditable: options.includeEditable ?? false,
    ...size,
    ...linkOptionOf(options),
    ...compileOptionOf(options, model.interpreter),
  });
}

/** Packs a venv archive: of a staging venv, or of the environment without the distributions the set leaves out. */
function packVenvArchive(model: EnvironmentModel, options: EnvironmentOptions & ArchiveTarget) {
  const common = {
    output: options.output,
    ...(options.destination && { destination: options.destination }),
    format: options.format === "zip" ? ("zip" as const) : ("tar.gz" as const),
    withPython: options.withPython ?? false,
    ...sizeOptionsOf(options),
    ...linkOptionOf(options),
  };
  if (needsStaging(model.requirements))
    return withStaging(model, options, (interpreter) =>
      packVenv({ ...common, ...compileOptionOf(options, interpreter), interpreter }),
    );
  const kept = new Set(model.requirements.map((requirement) => requirement.distribution?.metadataPath));
  return packVenv({
    ...common,
    ...compileOptionOf(options, model.interpreter),
    interpreter: model.interpreter,
    includeEditable: options.includeEditable ?? false,
    excludedDistributions: model.distributions.filter((d) => !d.editable && !kept.has(d.metadataPath)),
  });
}

/**
 * Packs an inspected environment into `output` with the chosen packer. When the requirement set only keeps
 * installed distributions (ignored or only packages), they are packed straight from the environment (a venv
 * archive leaves the others' files out); when it asks for packages the environment lacks, a staging environment
 * is built first.
 */
export async function packModel(
  model: EnvironmentModel,
  options: EnvironmentOptions & ArchiveTarget,
): Promise<PackedArchive> {
  options.onProgress?.({ phase: "pack", transferredBytes: 0, target: options.output });
  let packed: { sha256: string; bytes: number; warnings: string[] };
  if (options.packer === "pex" || options.packer === "pex.zip") packed = await packPex(model, options);
  else if (options.packer === "venv") packed = await packVenvArchive(model, options);
  else
    packed = await packConda({
      interpreter: model.interpreter,
      output: options.output,
      ...(options.destination && { destination: options.destination }),
      format: options.format === "zip" ? "zip" : "tar.gz",
      includeEditable: options.includeEditable ?? false,
      ...(options.destPrefix !== undefined && { destPrefix: options.destPrefix }),
      ...sizeOptionsOf(options),
      ...linkOptionOf(options),
      ...compileOptionOf(options, model.interpreter),
    });
  options.onProgress?.({
    phase: "pack",
    transferredBytes: packed.bytes,
    totalBytes: packed.bytes,
    target: options.output,
  });
  return {
    sha256: packed.sha256,
    bytes: packed.bytes,
    warnings: [...skippedWarnings(model), ...packed.warnings],
    source: needsStaging(model.requirements) ? "staging" : "environment",
  };
}

/** Packs the chosen interpreter's environment into a local archive (no upload, no cache). */
export async function packEnv(options: PackEnvOptions): Promise<PackedEnv> {
  const output = resolve(options.output);
  // The packer may depend on the environment (a .tar.gz of a conda env is a conda archive): checked before, chosen after.
  choosePacking({ ...options, path: output });
  const model = await inspect(options);
  try {
    return await packInspected(model, { ...options, output });
  } finally {
    await releaseSpecModel(model);
  }
}

async function packInspected(model: EnvironmentModel, options: PackEnvOptions): Promise<PackedEnv> {
  const { output } = options;
  const { packer, format } = choosePacking({ ...options, path: output }, model.interpreter.kind);
  checkPackerOptions(packer, options);
  await mkdir(dirname(output), { recursive: true });
  const target = { ...options, output, packer, format };
  const { signal } = options;
  // With a signal, the packer streams into an atomic local write that the signal can stop at any byte.
  const packed = signal
    ? await streamed(
        (destination) => packModel(model, { ...target, destination }),
        (source) =>
          writeFileAtomically(output, source, { signal, ...(packer === "pex" && { mode: 0o755 }) }).then(
            () => undefined,
          ),
      )
    : await packModel(model, target);
  return {
    output,
    packer,
    format,
    sha256: packed.sha256,
    size: packed.bytes,
    requirements: formatRequirements(model.requirements),
    // A spec build is packed from the staging site-packages it was installed into.
    source: specBuildOf(model) ? "staging" : packed.source,
    cacheKey: await cacheKeyOf(model, packer, options),
    warnings: packed.warnings,
  };
}
