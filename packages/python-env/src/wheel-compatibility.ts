import { sanitizeLine } from "@cluster-pack/errors";
import type { Distribution } from "./distribution.js";
import { supportedPlatformTags, type TargetPlatform } from "./target-platform.js";

/** A distribution whose wheel cannot run on the target. */
export interface CompatibilityWarning {
  name: string;
  version: string;
  wheelTags: string[];
  /** One line: why, e.g. `built for macosx_11_0_arm64, which linux x86_64 (glibc 2.36) cannot load`. */
  detail: string;
}

function describe(target: TargetPlatform): string {
  const libc = target.glibcVersion
    ? ` (glibc ${target.glibcVersion})`
    : target.muslVersion
      ? ` (musl ${target.muslVersion})`
      : target.macosVersion
        ? ` (macOS ${target.macosVersion})`
        : "";
  return `${target.os} ${target.machine}${libc}`;
}

function pythonTagProblem(tag: string, abi: string, target: TargetPlatform): string | undefined {
  const [major, minor] = target.pythonVersion.split(".").map(Number) as [number, number];
  const match = /^(py|cp|pp|ip|jy)(\d)(\d*)$/.exec(tag);
  if (!match) return `built for Python tag ${tag}, which is unknown`;
  const [, kind, tagMajor, tagMinor] = match;
  const implementation = { cp: "cpython", pp: "pypy", ip: "ironpython", jy: "jython" }[kind as "cp"];
  if (kind !== "py" && implementation !== target.implementation)
    return `built for ${implementation} (${tag}), not ${target.implementation}`;
  if (Number(tagMajor) !== major || (tagMinor && Number(tagMinor) > minor))
    return `built for Python ${tag}, not ${target.pythonVersion}`;
  // A version-specific CPython build runs only on that version, unless it uses the stable ABI (abi3).
  if (kind === "cp" && tagMinor && abi !== "abi3" && Number(tagMinor) !== minor)
    return `built for Python ${tag}, not ${target.pythonVersion}`;
  return undefined;
}

/** Why one wheel tag (`cp311-cp311-manylinux_2_17_x86_64`, dotted sets allowed) cannot run there, or undefined. */
export function wheelTagProblem(tag: string, target: TargetPlatform): string | undefined {
  const [pythons, abis, platforms] = tag.split("-");
  if (!pythons || !abis || !platforms) return `malformed wheel tag ${tag}`;
  const accepted = new Set(supportedPlatformTags(target));
  let problem: string | undefined;
  for (const python of pythons.split("."))
    for (const abi of abis.split("."))
      for (const platform of platforms.split(".")) {
        const found =
          pythonTagProblem(python, abi, target) ??
          (abi === "none" || (abi === "abi3" && target.implementation === "cpython") || abi === target.abiTag
            ? undefined
            : `built for ABI ${abi}, the target interpreter's is ${target.abiTag}`) ??
          (accepted.has(platform)
            ? undefined
            : `built for ${platform}, which ${describe(target)} cannot load`);
        if (!found) return undefined;
        problem ??= found;
      }
  return problem;
}

/**
 * Distributions installed from wheels none of whose tags the target accepts (a macOS wheel headed for Linux, a
 * manylinux level newer than the target's glibc, a cp312 build for 3.11). Distributions without WHEEL tags
 * (egg-info, conda packages) are not judged.
 */
export function checkPlatformCompatibility(
  distributions: readonly Distribution[],
  target: TargetPlatform,
): CompatibilityWarning[] {
  const warnings: CompatibilityWarning[] = [];
  for (const { name, version, wheelTags } of distributions) {
    if (wheelTags.length === 0) continue;
    const problems = wheelTags.map((tag) => wheelTagProblem(tag, target));
    if (problems.every((problem) => problem !== undefined))
      // Tags come from the WHEEL file: shown on a terminal, a crafted one must not carry escape sequences.
      warnings.push({ name, version, wheelTags, detail: sanitizeLine(problems[0] ?? "") });
  }
  return warnings;
}
