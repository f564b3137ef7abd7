import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import type { Packer } from "@cluster-pack/env-usage";
import { writeFileAtomically } from "@cluster-pack/fs";
import {
  buildRequirementSet,
  buildSpecEnvironment,
  type EnvironmentModel,
  formatLock,
  type IndexOptions,
  type Interpreter,
  readDistributions,
  type SpecEnvironment,
  supportedPlatformTags,
  type WheelSpec,
} from "@cluster-pack/python-env";
import { ShippingError } from "./errors.js";
import { makeWorkspace } from "./leftovers.js";

/** The machine and Python an environment built from a spec is for; what is not given is the interpreter's own. */
export interface EnvironmentTarget {
  /** Wheel platform tags, as pip's `--platform` takes them: `manylinux2014_x86_64`, `macosx_11_0_arm64`. */
  platforms?: readonly string[];
  /** `"3.11"`. */
  pythonVersion?: string;
  /** pip's short implementation name: `cp` (default). */
  implementation?: string;
}

/** Packing from a spec: binary wheels resolved (or a lock replayed) and installed by cluster-pack itself. */
export interface SpecOptions {
  /** A pip requirements file to resolve (binary wheels only). */
  requirementsFile?: string;
  /** pip requirement strings to resolve (`pyarrow==15.0.0`, `./dist/x-1.0-py3-none-any.whl`). */
  requirements?: readonly string[];
  /** A lock written by `lockOut`: its wheels are installed as recorded, from the wheel cache, nothing resolved. */
  lockFile?: string;
  /** Writes the lock of what was resolved here (JSON, versioned), once resolution succeeded. */
  lockOut?: string;
  /** The target; with none, the interpreter's own. Only with `requirementsFile` or `requirements`. */
  target?: EnvironmentTarget;
}

/** The spec asked for, or undefined when the installed environment is packed; conflicting ones are refused. */
export function specOf(options: SpecOptions): WheelSpec | undefined {
  const given = [
    options.requirementsFile !== undefined && "a requirements file",
    options.requirements !== undefined && "requirements",
    options.lockFile !== undefined && "a lock",
  ].filter(Boolean);
  if (given.length > 1)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `${given.join(" and ")} both say what to pack: give one (a lock already holds the resolved requirements)`,
    );
  if (options.lockFile !== undefined) {
    if (options.target !== undefined)
      throw new ShippingError(
        "INVALID_ARGUMENT",
        "a lock names its own target: leave out the platforms, Python version and implementation",
      );
    if (options.lockOut !== undefined)
      throw new ShippingError(
        "INVALID_ARGUMENT",
        "lockOut writes the lock of a resolution: a replayed lock is one already",
      );
    return { lockFile: options.lockFile };
  }
  if (options.requirementsFile !== undefined) return { requirementsFile: options.requirementsFile };
  if (options.requirements !== undefined) return { requirements: options.requirements };
  if (options.target !== undefined)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "a target platform needs requirements (or a lock) to resolve: an installed environment is packed for its own interpreter",
    );
  if (options.lockOut !== undefined)
    throw new ShippingError("INVALID_ARGUMENT", "lockOut needs requirements to resolve and lock");
  return undefined;
}

/** Options that cannot apply to a spec build, refused before anything is resolved. */
export function checkSpecPacking(
  packer: Packer,
  options: { includeEditable?: boolean; compile?: boolean; withPython?: boolean } & Record<string, unknown>,
): void {
  if (packer !== "pex" && packer !== "pex.zip")
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `packing from requirements or a lock writes pex or pex.zip archives: a ${packer} archive needs the target's own interpreter to install into; use the pex packer`,
    );
  const selection = ["additionalPackages", "ignoredPackages", "onlyPackages"].filter(
    (key) => options[key] !== undefined,
  );
  if (selection.length > 0)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `${selection.join(", ")} select packages of an installed environment: put them in the requirements instead`,
    );
  if (options.includeEditable)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "includeEditable bakes in an installed environment's editables: a spec has none",
    );
  if (options.compile)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      "compile makes bytecode with this interpreter, which need not be the target's: leave it out with requirements or a lock",
    );
}

/** Spec builds behind their models: the staging to remove, the wheels and target for metadata and cache key. */
const builds = new WeakMap<EnvironmentModel, SpecEnvironment>();

export const specBuildOf = (model: EnvironmentModel): SpecEnvironment | undefined => builds.get(model);

/** Removes a spec model's staging directory; nothing for a model of an installed environment. */
export async function releaseSpecModel(model: EnvironmentModel): Promise<void> {
  const build = builds.get(model);
  if (build) await rm(resolve(build.prefix, ".."), { recursive: true, force: true });
}

/**
 * What a spec build is identified by: the target and every wheel's sha256, so the same lock (or a resolution to
 * the same wheels) is the same environment, and an unchanged set is not uploaded again.
 */
function specFingerprint(build: SpecEnvironment): string {
  const hash = createHash("sha256");
  hash.update("cluster-pack-spec-1\n");
  hash.update(
    `target ${build.target.platforms.join(",")} ${build.target.pythonVersion} ${build.target.implementation}\n`,
  );
  for (const wheel of [...build.lock.wheels].sort((a, b) => (a.file < b.file ? -1 : 1)))
    hash.update(`wheel ${wheel.file} ${wheel.sha256}\n`);
  return hash.digest("hex");
}

/** The interpreter a spec archive is for, as the packers and the metadata need it: the target's, not this one. */
function targetInterpreter(build: SpecEnvironment): Interpreter {
  const { targetPlatform: target } = build;
  return {
    python: "",
    source: "option",
    executable: "",
    version: build.target.pythonVersion,
    implementation: target.implementation,
    pythonTag: target.abiTag,
    abiTag: target.abiTag,
    prefix: build.prefix,
    basePrefix: build.prefix,
    kind: "system",
    paths: { purelib: build.sitePackages, platlib: build.sitePackages, scripts: join(build.prefix, "bin") },
    sitePackages: [build.sitePackages],
    systemSitePackages: [],
    platform: build.target.platforms.join(","),
    target,
    platformTags: supportedPlatformTags(target),
  };
}

/**
 * Builds the spec's environment in a work directory and describes it as an environment model, so the packers and
 * the cache treat it as any other: its interpreter is the target's, its fingerprint the target and the wheels'
 * sha256s. Writes `lockOut` once resolved. Release the model with `releaseSpecModel`.
 */
export async function inspectSpec(
  spec: WheelSpec,
  options: SpecOptions & IndexOptions & { python?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<EnvironmentModel> {
  const workspace = await makeWorkspace("spec");
  try {
    const build = await buildSpecEnvironment({
      spec,
      prefix: join(workspace, "env"),
      ...(options.target && {
        target: {
          ...(options.target.platforms && { platforms: [...options.target.platforms] }),
          ...(options.target.pythonVersion !== undefined && { pythonVersion: options.target.pythonVersion }),
          ...(options.target.implementation !== undefined && {
            implementation: options.target.implementation,
          }),
        },
      }),
      ...(options.python !== undefined && { python: options.python }),
      ...(options.indexUrl !== undefined && { indexUrl: options.indexUrl }),
      ...(options.extraIndexUrls !== undefined && { extraIndexUrls: options.extraIndexUrls }),
      ...(options.findLinks !== undefined && { findLinks: options.findLinks }),
      ...(options.noIndex !== undefined && { noIndex: options.noIndex }),
      ...(options.env !== undefined && { env: options.env }),
      ...(options.signal && { signal: options.signal }),
    });
    if (options.lockOut !== undefined)
      await writeFileAtomically(
        resolve(options.lockOut),
        Readable.from([Buffer.from(formatLock(build.lock))]),
      );
    const { distributions, problems } = await readDistributions([build.sitePackages]);
    const model: EnvironmentModel = {
      interpreter: targetInterpreter(build),
      distributions,
      problems,
      requirements: await buildRequirementSet(distributions),
      fingerprint: specFingerprint(build),
      compatibilityWarnings: [],
    };
    builds.set(model, build);
    return model;
  } catch (error) {
    await rm(workspace, { recursive: true, force: true });
    throw error;
  }
}
