import { sanitizeLine } from "@cluster-pack/errors";
import { PythonEnvError } from "./errors.js";

/**
 * Where a wheel is meant to run: what its tags are checked against. The probe gives the interpreter's own; a
 * cluster's may be written by hand (`{ os: "linux", machine: "x86_64", glibcVersion: "2.17", … }`).
 */
export interface TargetPlatform {
  /** `sys.platform`: `"linux"`, `"darwin"`, `"win32"`. */
  os: string;
  /** `platform.machine()`: `"x86_64"`, `"aarch64"`, `"arm64"`, `"AMD64"`. */
  machine: string;
  /** `"cpython"`, `"pypy"`. */
  implementation: string;
  /** `"3.11"`. */
  pythonVersion: string;
  /** The interpreter's ABI tag, `"cp311"`. */
  abiTag: string;
  /** Linux with glibc: `"2.36"`. */
  glibcVersion?: string;
  /** Linux with musl: `"1.2"`. */
  muslVersion?: string;
  /** macOS: `"14.2"`. */
  macosVersion?: string;
}

/** PEP 600's legacy aliases, which pip still accepts alongside `manylinux_2_x`. */
const legacyManylinux: Record<string, string> = {
  "2_17": "manylinux2014",
  "2_12": "manylinux2010",
  "2_5": "manylinux1",
};

function parseVersion(version: string | undefined): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version ?? "");
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Wheel tags spell some machines differently from `platform.machine()`. */
export function wheelArchitecture(target: Pick<TargetPlatform, "os" | "machine">): string {
  const machine = target.machine.toLowerCase();
  if (target.os === "win32") return machine === "amd64" || machine === "x86_64" ? "amd64" : machine;
  if (target.os === "darwin" && machine === "aarch64") return "arm64";
  if (target.os === "linux" && machine === "arm64") return "aarch64";
  return machine;
}

/**
 * The platform tags a target accepts, most specific first, as pip orders them: `manylinux_2_36_x86_64` down
 * to `manylinux_2_17_x86_64` (plus the legacy aliases), `musllinux_1_x`, `linux_x86_64`, `macosx_*`, `win_*`,
 * and `any` last.
 */
export function supportedPlatformTags(target: TargetPlatform): string[] {
  const arch = wheelArchitecture(target);
  const tags: string[] = [];
  if (target.os === "linux") {
    const glibc = parseVersion(target.glibcVersion);
    if (glibc) {
      const [major, newest] = glibc;
      // manylinux1 (glibc 2.5) existed only for Intel; every other architecture starts at manylinux2014.
      const oldest = arch === "x86_64" || arch === "i686" ? 5 : 17;
      for (let minor = newest; minor >= oldest; minor--) {
        tags.push(`manylinux_${major}_${minor}_${arch}`);
        const legacy = legacyManylinux[`${major}_${minor}`];
        if (legacy) tags.push(`${legacy}_${arch}`);
      }
    }
    const musl = parseVersion(target.muslVersion);
    if (musl)
      for (let minor = musl[1]; minor >= 0; minor--) tags.push(`musllinux_${musl[0]}_${minor}_${arch}`);
    tags.push(`linux_${arch}`);
  } else if (target.os === "darwin") {
    const macos = parseVersion(target.macosVersion);
    if (macos) {
      const arches = [arch, "universal2", ...(arch === "x86_64" ? ["intel", "universal"] : [])];
      // macOS 11+ wheels use major-only compatibility (`macosx_11_0`); 10.x counts minors down to 10.4. Arm
      // Macs start at 11, but a universal2 wheel may name an older macOS for its Intel half (as pip accepts).
      for (let major = macos[0]; major >= 11; major--)
        for (const a of arches) tags.push(`macosx_${major}_0_${a}`);
      const lastMinor = macos[0] === 10 ? macos[1] : 16;
      const olderArches = arch === "x86_64" ? arches : ["universal2"];
      for (let minor = lastMinor; minor >= 4; minor--)
        for (const a of olderArches) tags.push(`macosx_10_${minor}_${a}`);
    }
  } else if (target.os === "win32") {
    tags.push(target.machine === "x86" ? "win32" : `win_${arch}`);
  }
  tags.push("any");
  return tags;
}

/** What a wheel platform tag (`--platform`) says of the machine it is for, or undefined when it says nothing known. */
function platformOfTag(
  tag: string,
): Omit<TargetPlatform, "implementation" | "pythonVersion" | "abiTag"> | undefined {
  const legacy = /^(manylinux1|manylinux2010|manylinux2014)_(.+)$/.exec(tag);
  if (legacy?.[1] && legacy[2]) {
    const glibc = { manylinux1: "2.5", manylinux2010: "2.12", manylinux2014: "2.17" }[legacy[1]];
    return { os: "linux", machine: legacy[2], ...(glibc && { glibcVersion: glibc }) };
  }
  const libc = /^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$/.exec(tag);
  if (libc?.[4]) {
    const version = `${libc[2]}.${libc[3]}`;
    return libc[1] === "manylinux"
      ? { os: "linux", machine: libc[4], glibcVersion: version }
      : { os: "linux", machine: libc[4], muslVersion: version };
  }
  const linux = /^linux_(.+)$/.exec(tag);
  if (linux?.[1]) return { os: "linux", machine: linux[1] };
  const macos = /^macosx_(\d+)_(\d+)_(.+)$/.exec(tag);
  if (macos?.[3]) return { os: "darwin", machine: macos[3], macosVersion: `${macos[1]}.${macos[2]}` };
  if (tag === "win32") return { os: "win32", machine: "x86" };
  const windows = /^win_(.+)$/.exec(tag);
  if (windows?.[1]) return { os: "win32", machine: windows[1] === "amd64" ? "AMD64" : windows[1] };
  return undefined;
}

const newer = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined ? a : compareVersions(a, b) >= 0 ? a : b;

function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = parseVersion(a) ?? [0, 0];
  const [bMajor, bMinor] = parseVersion(b) ?? [0, 0];
  return aMajor - bMajor || aMinor - bMinor;
}

/** pip's `--implementation` short names. */
const implementations: Record<string, string> = { cp: "cpython", pp: "pypy" };

/**
 * The target that `--platform` tags (as pip takes them: `manylinux2014_x86_64`, `manylinux_2_28_aarch64`,
 * `macosx_11_0_arm64`), `--python-version X.Y` and `--implementation cp` describe. Several tags name one machine
 * (`manylinux2014_x86_64` and `manylinux_2_28_x86_64`): the newest libc or macOS among them is the target's. An
 * unknown tag, tags naming two machines, or a malformed version is an INVALID_ARGUMENT error.
 */
export function targetOfPlatformTags(options: {
  platforms: readonly string[];
  pythonVersion: string;
  implementation?: string;
}): TargetPlatform {
  const implementationTag = options.implementation ?? "cp";
  const implementation = implementations[implementationTag];
  if (!implementation)
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `implementation "${sanitizeLine(implementationTag)}" is not supported: use cp (CPython) or pp (PyPy)`,
    );
  if (!/^3\.\d{1,2}$/.test(options.pythonVersion))
    throw new PythonEnvError(
      "INVALID_ARGUMENT",
      `Python version "${sanitizeLine(options.pythonVersion)}" is not X.Y: write e.g. 3.11`,
    );
  let platform: Omit<TargetPlatform, "implementation" | "pythonVersion" | "abiTag"> | undefined;
  for (const tag of options.platforms) {
    const found = platformOfTag(tag);
    if (!found)
      throw new PythonEnvError(
        "INVALID_ARGUMENT",
        `platform tag "${sanitizeLine(tag)}" is not one cluster-pack knows: write e.g. manylinux2014_x86_64, manylinux_2_28_aarch64, musllinux_1_2_x86_64 or macosx_11_0_arm64`,
      );
    if (platform && (platform.os !== found.os || platform.machine !== found.machine))
      throw new PythonEnvError(
        "INVALID_ARGUMENT",
        `platform tags ${options.platforms.map((t) => sanitizeLine(t)).join(", ")} name more than one machine: give the tags of one`,
      );
    const glibcVersion = newer(platform?.glibcVersion, found.glibcVersion);
    const muslVersion = newer(platform?.muslVersion, found.muslVersion);
    const macosVersion = newer(platform?.macosVersion, found.macosVersion);
    platform = {
      os: found.os,
      machine: found.machine,
      ...(glibcVersion && { glibcVersion }),
      ...(muslVersion && { muslVersion }),
      ...(macosVersion && { macosVersion }),
    };
  }
  if (!platform)
    throw new PythonEnvError("INVALID_ARGUMENT", "no platform tag given: write e.g. manylinux2014_x86_64");
  const versionTag = options.pythonVersion.replace(".", "");
  return {
    ...platform,
    implementation,
    pythonVersion: options.pythonVersion,
    abiTag: `${implementationTag}${versionTag}`,
  };
}
