import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Distribution } from "./distribution.js";
import { PythonEnvError } from "./errors.js";
import { normalizeName } from "./normalize-name.js";

/** One thing to pack: an installed distribution pinned to its version, or an additional package. */
export interface Requirement {
  /** As the user or the project spells it. */
  name: string;
  normalizedName: string;
  /** The exact version (`==`); absent for a local wheel. */
  version?: string;
  /** An additional package given as a local wheel file (absolute path). */
  wheel?: string;
  origin: "installed" | "additional";
  /** The installed distribution behind an `installed` requirement. */
  distribution?: Distribution;
}

export interface RequirementSetOptions {
  /** Packages to add, name → version (`"2.1.0"`) or a local wheel path (`"./dist/x-1.0-py3-none-any.whl"`). */
  additionalPackages?: Readonly<Record<string, string>>;
  /** Names to leave out. */
  ignoredPackages?: readonly string[];
  /** When given, only these names are kept. */
  onlyPackages?: readonly string[];
}

/**
 * Installers that every environment has and that cluster-pack leaves out when it compares requirement sets: they
 * are still packed, but a different pip never makes an environment "changed".
 */
export const buildToolNames: readonly string[] = ["pip", "setuptools", "wheel"];

export const isBuildTool = (name: string) => buildToolNames.includes(normalizeName(name));

const looksLikeWheel = (value: string) => value.endsWith(".whl");

/**
 * The requirement set to pack, in cluster-pack's order of operations: the non-editable distributions, replaced
 * or extended by `additionalPackages` (same normalised name replaces, not cluster-pack's substring match), minus
 * `ignoredPackages`, restricted to `onlyPackages`. Sorted by normalised name.
 */
export async function buildRequirementSet(
  distributions: readonly Distribution[],
  options: RequirementSetOptions = {},
): Promise<Requirement[]> {
  const set = new Map<string, Requirement>();
  for (const distribution of distributions) {
    if (distribution.editable) continue;
    set.set(distribution.normalizedName, {
      name: distribution.name,
      normalizedName: distribution.normalizedName,
      version: distribution.version,
      origin: "installed",
      distribution,
    });
  }
  for (const [name, value] of Object.entries(options.additionalPackages ?? {})) {
    const normalizedName = normalizeName(name);
    if (looksLikeWheel(value)) {
      const wheel = resolve(value);
      const isFile = await stat(wheel).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!isFile)
        throw new PythonEnvError("INVALID_ARGUMENT", `additional package ${name}: no such wheel file`, {
          location: wheel,
        });
      set.set(normalizedName, { name, normalizedName, wheel, origin: "additional" });
    } else set.set(normalizedName, { name, normalizedName, version: value, origin: "additional" });
  }
  for (const name of options.ignoredPackages ?? []) set.delete(normalizeName(name));
  if (options.onlyPackages) {
    const only = new Set(options.onlyPackages.map(normalizeName));
    for (const name of set.keys()) if (!only.has(name)) set.delete(name);
  }
  return [...set.values()].sort((a, b) => (a.normalizedName < b.normalizedName ? -1 : 1));
}

/** The set as pip requirement strings (`name==version`, or the wheel path): cluster-pack's `package_installed`. */
export function formatRequirements(requirements: readonly Requirement[]): string[] {
  return requirements.map((r) => r.wheel ?? (r.version === undefined ? r.name : `${r.name}==${r.version}`));
}

/** Whether two sets ask for the same packages, ignoring name spelling, order and the build tools. */
export function sameRequirements(a: readonly Requirement[], b: readonly Requirement[]): boolean {
  const key = (set: readonly Requirement[]) =>
    set
      .filter((r) => !isBuildTool(r.normalizedName))
      .map((r) => `${r.normalizedName} ${r.wheel ?? r.version ?? ""}`)
      .sort()
      .join("\n");
  return key(a) === key(b);
}
