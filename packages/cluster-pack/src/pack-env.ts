import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type PackedZipapp, packZipapp } from "@cluster-pack/packers";
import {
  type EnvironmentModel,
  formatRequirements,
  type IndexOptions,
  inspectEnvironment,
  isBuildTool,
  listDistributions,
  probeInterpreter,
  type Requirement,
  resolveEnvironment,
} from "@cluster-pack/python-env";
import type { CacheKey } from "./archive-metadata.js";
import { checkExtension, checkPacker, type Packer } from "./packer.js";
import type { ProgressListener } from "./progress.js";

/** Which packages to ship: cluster-pack's `additional_packages`, `ignored_packages`, `only_packages`. */
export interface PackageSelection {
  /** name → version (`"2.1.0"`) or a local wheel path; replaces an installed package of the same name. */
  additionalPackages?: Readonly<Record<string, string>>;
  ignoredPackages?: readonly string[];
  onlyPackages?: readonly string[];
}

export interface EnvironmentOptions extends PackageSelection, IndexOptions {
  /** The interpreter whose environment is shipped; default the active venv, conda env, else `python3`. */
  python?: string;
  /** Default `"pex"`. */
  packer?: Packer;
  /** Bake editable installs into the archive too (they always ship as separate zips with `uploadEnv`). */
  includeEditable?: boolean;
  onProgress?: ProgressListener;
  /** Where `VIRTUAL_ENV`, `C_PACK_*`, `HADOOP_CONF_DIR`… are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface PackEnvOptions extends EnvironmentOptions {
  /** The archive to write (`.pex` for the pex packer, `.pex.zip` for the unpack layout). */
  output: string;
}

export interface PackedEnv {
  output: string;
  packer: Packer;
  sha256: string;
  size: number;
  /** `name==version` of what was packed: the metadata's `package_installed`. */
  requirements: string[];
  /** How the archive was made: straight from the environment, or from a staging environment built for it. */
  source: "environment" | "staging";
  /** The values the cache compares. */
  cacheKey: CacheKey;
}

/** Whether packing the set needs packages the environment does not have installed at these versions. */
export function needsStaging(requirements: readonly Requirement[]): boolean {
  return requirements.some((requirement) => !requirement.distribution);
}

export function cacheKeyOf(model: EnvironmentModel, packer: Packer, extraFingerprint = ""): CacheKey {
  return {
    package_installed: formatRequirements(model.requirements),
    platform: model.interpreter.platform,
    python_version: model.interpreter.version,
    fingerprint: extraFingerprint ? `${model.fingerprint}+${extraFingerprint}` : model.fingerprint,
    format: packer,
  };
}

export async function inspect(options: EnvironmentOptions): Promise<EnvironmentModel> {
  options.onProgress?.({ phase: "inspect", transferredBytes: 0 });
  const model = await inspectEnvironment({
    ...(options.python !== undefined && { python: options.python }),
    ...(options.env !== undefined && { env: options.env }),
    ...(options.additionalPackages !== undefined && { additionalPackages: options.additionalPackages }),
    ...(options.ignoredPackages !== undefined && { ignoredPackages: options.ignoredPackages }),
    ...(options.onlyPackages !== undefined && { onlyPackages: options.onlyPackages }),
  });
  options.onProgress?.({ phase: "inspect", transferredBytes: model.requirements.length });
  return model;
}

/**
 * Packs an inspected environment into `output`. When the requirement set only keeps installed distributions
 * (ignored or only packages), they are packed straight from the environment; when it asks for packages the
 * environment lacks (additional packages, other versions), a staging environment is built first with python-env's
 * `resolveEnvironment` (uv, else venv + pip; `indexUrl` defaults to `C_PACK_PYPI_URL`).
 */
export async function packModel(
  model: EnvironmentModel,
  options: EnvironmentOptions & { output: string; packer: Packer },
): Promise<PackedZipapp & { source: PackedEnv["source"] }> {
  const layout = options.packer === "pex.zip" ? "unpack" : "zipapp";
  const includeEditable = options.includeEditable ?? false;
  options.onProgress?.({ phase: "pack", transferredBytes: 0, target: options.output });
  let packed: PackedZipapp;
  let source: PackedEnv["source"] = "environment";
  if (!needsStaging(model.requirements)) {
    packed = await packZipapp({
      interpreter: model.interpreter,
      requirementSet: model.requirements,
      output: options.output,
      layout,
      includeEditable,
    });
  } else {
    source = "staging";
    const staging = await mkdtemp(join(tmpdir(), "cluster-pack-staging-"));
    try {
      const prefix = join(staging, "env");
      // The build tools come with the new venv; pinning the packing env's versions would need them in the index.
      const requirements = formatRequirements(
        model.requirements.filter((r) => !isBuildTool(r.normalizedName)),
      );
      const environment = await resolveEnvironment({
        python: model.interpreter.executable,
        prefix,
        spec: { requirements },
        ...(options.indexUrl !== undefined && { indexUrl: options.indexUrl }),
        ...(options.extraIndexUrls !== undefined && { extraIndexUrls: options.extraIndexUrls }),
        ...(options.findLinks !== undefined && { findLinks: options.findLinks }),
        ...(options.noIndex !== undefined && { noIndex: options.noIndex }),
        ...(options.env !== undefined && { env: options.env }),
      });
      const interpreter = await probeInterpreter(environment.python);
      const { distributions } = await listDistributions(interpreter);
      packed = await packZipapp({
        interpreter,
        distributions: distributions.filter((d) => !d.editable),
        output: options.output,
        layout,
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  options.onProgress?.({
    phase: "pack",
    transferredBytes: packed.bytes,
    totalBytes: packed.bytes,
    target: options.output,
  });
  return { ...packed, source };
}

/** Packs the chosen interpreter's environment into a local archive (no upload, no cache). */
export async function packEnv(options: PackEnvOptions): Promise<PackedEnv> {
  const packer = checkPacker(options.packer ?? "pex");
  const output = resolve(options.output);
  checkExtension(output, packer);
  const model = await inspect(options);
  await mkdir(dirname(output), { recursive: true });
  const packed = await packModel(model, { ...options, output, packer });
  return {
    output,
    packer,
    sha256: packed.sha256,
    size: packed.bytes,
    requirements: formatRequirements(model.requirements),
    source: packed.source,
    cacheKey: cacheKeyOf(model, packer),
  };
}
