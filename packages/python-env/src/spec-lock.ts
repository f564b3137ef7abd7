import { readFile } from "node:fs/promises";
import { sanitizeLine } from "@cluster-pack/errors";
import { PythonEnvError } from "./errors.js";
import { parseWheelFileName } from "./wheel-file-name.js";

/** The target an environment is resolved for, as the user gives it (`--platform`, `--python-version`…). */
export interface SpecTarget {
  /** Wheel platform tags: `manylinux2014_x86_64`, `macosx_11_0_arm64`. */
  platforms: string[];
  /** `"3.11"`. */
  pythonVersion: string;
  /** pip's short name: `cp`. */
  implementation: string;
}

/** One wheel of a lock: enough to fetch it again and to know it is the same bytes. */
export interface LockedWheel {
  name: string;
  version: string;
  /** The wheel's file name (its tags included). */
  file: string;
  /** Hex sha256 of the file. */
  sha256: string;
  /** Where it was downloaded from (credentials left out), for when the cache does not have it. */
  url: string;
}

/**
 * A lock file (`--lock-out`, `--lock`): JSON, versioned by `lockVersion`, so a person can read a diff of it:
 * ```json
 * { "lockVersion": 1, "generator": "cluster-pack",
 *   "target": { "platforms": ["manylinux2014_x86_64"], "pythonVersion": "3.11", "implementation": "cp" },
 *   "wheels": [{ "name": "pyarrow", "version": "15.0.0", "file": "pyarrow-15.0.0-….whl", "sha256": "…", "url": "…" }] }
 * ```
 */
export interface SpecLock {
  lockVersion: 1;
  generator: "cluster-pack";
  target: SpecTarget;
  /** Sorted by normalized name. */
  wheels: LockedWheel[];
}

export const LOCK_VERSION = 1;

/** The lock's text: two-space JSON, keys in a fixed order, one trailing newline (the same lock, the same bytes). */
export function formatLock(lock: SpecLock): string {
  const ordered: SpecLock = {
    lockVersion: lock.lockVersion,
    generator: lock.generator,
    target: {
      platforms: [...lock.target.platforms],
      pythonVersion: lock.target.pythonVersion,
      implementation: lock.target.implementation,
    },
    wheels: lock.wheels.map(({ name, version, file, sha256, url }) => ({ name, version, file, sha256, url })),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

const isString = (value: unknown): value is string => typeof value === "string" && value !== "";

/** Reads and checks a lock file; anything malformed is one line naming the file and what to do. */
export async function readLock(path: string): Promise<SpecLock> {
  const bad = (why: string) =>
    new PythonEnvError(
      "INVALID_ARGUMENT",
      `not a cluster-pack lock file (${why}): write it again with --lock-out`,
      {
        location: path,
      },
    );
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      error.code === "ENOENT"
        ? "lock file: no such file (write one with --lock-out)"
        : `lock file: cannot read it (${error.code})`,
      { location: path, cause: error },
    );
  });
  let parsed: Partial<SpecLock>;
  try {
    parsed = JSON.parse(text) as Partial<SpecLock>;
  } catch {
    throw bad("invalid JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw bad("not an object");
  if (parsed.lockVersion !== LOCK_VERSION)
    throw bad(
      `lockVersion ${sanitizeLine(String(parsed.lockVersion))}, this cluster-pack reads ${LOCK_VERSION}`,
    );
  const target = parsed.target;
  if (
    !target ||
    !Array.isArray(target.platforms) ||
    !target.platforms.every(isString) ||
    !isString(target.pythonVersion) ||
    !isString(target.implementation)
  )
    throw bad("no valid target");
  if (!Array.isArray(parsed.wheels)) throw bad("no wheels list");
  for (const wheel of parsed.wheels) {
    if (
      !wheel ||
      ![wheel.name, wheel.version, wheel.file, wheel.url].every(isString) ||
      !/^[0-9a-f]{64}$/.test(String(wheel.sha256))
    )
      throw bad("a wheel entry lacks name, version, file, sha256 or url");
    parseWheelFileName(wheel.file);
  }
  return { lockVersion: LOCK_VERSION, generator: "cluster-pack", target, wheels: parsed.wheels };
}
