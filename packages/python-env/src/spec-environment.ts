import { mkdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { PythonEnvError } from "./errors.js";
import { type InstalledWheel, installWheel, stagingSitePackages } from "./install-wheel.js";
import { detectInterpreter, type Interpreter } from "./interpreter.js";
import { normalizeName } from "./normalize-name.js";
import { type IndexOptions, requireFreshPrefix } from "./resolve-environment.js";
import { resolveWheels, wheelMisfit } from "./resolve-wheels.js";
import { LOCK_VERSION, type LockedWheel, readLock, type SpecLock, type SpecTarget } from "./spec-lock.js";
import { type TargetPlatform, targetOfPlatformTags } from "./target-platform.js";
import { cacheWheel, findCachedWheel, wheelCacheDirectory } from "./wheel-cache.js";

/** What to install: requirements resolved now, or a lock replayed (nothing resolved, offline from the cache). */
export type WheelSpec =
  | { requirements: readonly string[] }
  | { requirementsFile: string }
  | { lockFile: string };

export interface BuildSpecEnvironmentOptions extends IndexOptions {
  spec: WheelSpec;
  /** The target's parts given by the user; what is not given is the interpreter's own. Not with a lock. */
  target?: Partial<SpecTarget>;
  /** The interpreter whose pip resolves (default: the active one); a lock needs none. */
  python?: string;
  /** The staging prefix, empty or missing; site-packages is `stagingSitePackages(prefix)`. */
  prefix: string;
  /** Default `wheelCacheDirectory(env)`. */
  cacheDirectory?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface SpecEnvironment {
  prefix: string;
  sitePackages: string;
  target: SpecTarget;
  targetPlatform: TargetPlatform;
  /** What was installed, to write with `formatLock` (`--lock-out`). */
  lock: SpecLock;
  installed: InstalledWheel[];
}

const isGiven = (target: Partial<SpecTarget> | undefined) =>
  (target?.platforms?.length ?? 0) > 0 ||
  target?.pythonVersion !== undefined ||
  target?.implementation !== undefined;

/** The full target: the given parts, the interpreter's own for the rest. */
function targetOf(given: Partial<SpecTarget> | undefined, interpreter: Interpreter): SpecTarget {
  const [major, minor] = interpreter.version.split(".");
  return {
    platforms: given?.platforms?.length ? [...given.platforms] : interpreter.platformTags.slice(0, 1),
    pythonVersion: given?.pythonVersion ?? `${major}.${minor}`,
    implementation: given?.implementation ?? "cp",
  };
}

/** The lock's wheels in the cache: taken from it when there (sha256 checked), else downloaded from their URL. */
async function fetchLocked(
  wheels: readonly LockedWheel[],
  cacheDirectory: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const paths: string[] = [];
  for (const wheel of wheels) {
    const cached = await findCachedWheel(cacheDirectory, wheel.sha256, wheel.file);
    paths.push(
      cached ??
        (
          await cacheWheel({
            cacheDirectory,
            url: wheel.url,
            file: wheel.file,
            sha256: wheel.sha256,
            ...(signal && { signal }),
          })
        ).path,
    );
  }
  return paths;
}

/** A URL as the lock records it: without the credentials an index URL may carry. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.href;
}

/**
 * Builds a staging site-packages from binary wheels for a target that need not be this machine: resolves the
 * requirements with pip for the target (or replays a lock without resolving), keeps every wheel in the sha256-keyed
 * cache, refuses a wheel that does not fit the target, and installs them with our own PEP 427 installer, in name
 * order. The same lock gives the same tree, byte for byte.
 */
export async function buildSpecEnvironment(options: BuildSpecEnvironmentOptions): Promise<SpecEnvironment> {
  const env = options.env ?? process.env;
  const prefix = resolve(options.prefix);
  await requireFreshPrefix(prefix);
  const cacheDirectory = options.cacheDirectory ?? wheelCacheDirectory(env);
  const { spec, signal } = options;
  let target: SpecTarget;
  let targetPlatform: TargetPlatform;
  let wheels: LockedWheel[];
  let paths: string[];
  if ("lockFile" in spec) {
    if (isGiven(options.target))
      throw new PythonEnvError(
        "INVALID_ARGUMENT",
        "a lock names its own target: leave out --platform, --python-version and --implementation",
      );
    const lock = await readLock(resolve(spec.lockFile));
    target = lock.target;
    targetPlatform = targetOfPlatformTags(target);
    wheels = [...lock.wheels];
    for (const wheel of wheels) {
      const misfit = wheelMisfit(wheel.file, targetPlatform);
      if (misfit) throw new PythonEnvError("INVALID_ARGUMENT", misfit, { location: resolve(spec.lockFile) });
    }
    paths = await fetchLocked(wheels, cacheDirectory, signal);
  } else {
    const interpreter = await detectInterpreter({
      ...(options.python !== undefined && { python: options.python }),
      env,
    });
    target = targetOf(options.target, interpreter);
    // Without flags the target is exactly the interpreter; with some, the rest comes from its first platform tag.
    targetPlatform = isGiven(options.target) ? targetOfPlatformTags(target) : interpreter.target;
    if ("requirementsFile" in spec) {
      const file = resolve(spec.requirementsFile);
      const exists = await stat(file).then(
        (found) => found.isFile(),
        () => false,
      );
      if (!exists)
        throw new PythonEnvError("INVALID_ARGUMENT", "requirements file: no such file", { location: file });
    }
    const resolved = await resolveWheels({
      python: interpreter.executable,
      ...("requirementsFile" in spec
        ? { requirementsFile: resolve(spec.requirementsFile) }
        : { requirements: spec.requirements }),
      ...(isGiven(options.target) && { target }),
      targetPlatform,
      ...(options.indexUrl !== undefined && { indexUrl: options.indexUrl }),
      ...(options.extraIndexUrls !== undefined && { extraIndexUrls: options.extraIndexUrls }),
      ...(options.findLinks !== undefined && { findLinks: options.findLinks }),
      ...(options.noIndex !== undefined && { noIndex: options.noIndex }),
      ...(signal && { signal }),
      env,
    });
    wheels = [];
    paths = [];
    for (const wheel of resolved) {
      const cached = wheel.sha256 && (await findCachedWheel(cacheDirectory, wheel.sha256, wheel.file));
      const { path, sha256 } = cached
        ? { path: cached, sha256: wheel.sha256 as string }
        : await cacheWheel({
            cacheDirectory,
            url: wheel.url,
            file: wheel.file,
            ...(wheel.sha256 && { sha256: wheel.sha256 }),
            ...(signal && { signal }),
          });
      wheels.push({
        name: wheel.name,
        version: wheel.version,
        file: wheel.file,
        sha256,
        url: withoutCredentials(wheel.url),
      });
      paths.push(path);
    }
  }
  // Name order, for the lock and for installing: a file two wheels both hold ends up the same on every run.
  const order = wheels
    .map((_, index) => index)
    .sort((a, b) => {
      const [x, y] = [normalizeName(wheels[a]?.name ?? ""), normalizeName(wheels[b]?.name ?? "")];
      return x < y ? -1 : x > y ? 1 : 0;
    });
  const sortedWheels = order.map((index) => wheels[index] as LockedWheel);
  await mkdir(stagingSitePackages(prefix), { recursive: true });
  const installed: InstalledWheel[] = [];
  for (const index of order)
    installed.push(
      await installWheel({ wheel: paths[index] as string, prefix, pythonVersion: target.pythonVersion }),
    );
  return {
    prefix,
    sitePackages: stagingSitePackages(prefix),
    target,
    targetPlatform,
    lock: { lockVersion: LOCK_VERSION, generator: "cluster-pack", target, wheels: sortedWheels },
    installed,
  };
}
