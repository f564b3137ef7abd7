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
