import { excludeMatcher } from "@cluster-pack/packers";
import { COMMON_EXCLUDES, type CommonExclude } from "./common-excludes.js";

/** One file of an environment or archive. */
export interface SizeEntry {
  /** The path the `--exclude` patterns see: under `.deps/` for a zipapp, inside the environment otherwise. */
  path: string;
  /** Bytes, uncompressed. */
  size: number;
  /** Hex sha256 of the content, when known: files with the same one are duplicates. */
  sha256?: string;
  /** The distribution that installed it (as its RECORD says); absent for files no distribution owns. */
  package?: string;
}

/** A top-level directory (`numpy/`) or file (`six.py`) of a package, or of the files no package owns. */
export interface DirectorySize {
  /** A directory's name ends in `/`. */
  name: string;
  size: number;
  files: number;
}

export interface PackageSize {
  /** Null for the files no distribution owns (an interpreter, the standard library, scripts the packers add). */
  name: string | null;
  size: number;
  files: number;
  /** Largest first. */
  directories: DirectorySize[];
}

export interface LargestFile {
  path: string;
  size: number;
  package: string | null;
}

/** Files with the same content in several places. */
export interface DuplicateFiles {
  sha256: string;
  /** Of each copy. */
  size: number;
  paths: string[];
  /** What keeping one copy would save: `size × (copies − 1)`. */
  savedBytes: number;
}

/** What leaving a kind of file out would save: the bytes of the files the patterns really leave out. */
export interface ExcludeSaving {
  label: string;
  patterns: string[];
  caveat: string;
  files: number;
  bytes: number;
}

export interface SizeReport {
  /** What was measured: an environment's prefix, an archive's path or URI. */
  source: string;
  totalSize: number;
  files: number;
  /** Largest first; the files no package owns last whatever their size. */
  packages: PackageSize[];
  largestFiles: LargestFile[];
  /** Largest saving first. */
  duplicates: DuplicateFiles[];
  /** What removing every duplicate copy would save (all of them, not only those listed). */
  duplicateBytes: number;
  /** Per kind of file, then one row for all of them together (files matched by several counted once). */
  excludeSavings: ExcludeSaving[];
}

export interface SizeReportOptions {
  source: string;
  /** How many largest files and duplicate sets to keep; default 20. */
  top?: number;
  /** The excludes to price; default `COMMON_EXCLUDES`. */
  excludes?: readonly CommonExclude[];
}

/**
 * The directory an entry belongs to within its package: the first component after `site-packages/` (a venv or
 * conda archive), else the first component of the path (a zipapp's `.deps/`, an environment's `bin/`).
 */
export function topLevelOf(path: string): string {
  const marker = "site-packages/";
  const at = path.indexOf(marker);
  const inside = at === -1 || (at > 0 && path.charAt(at - 1) !== "/") ? path : path.slice(at + marker.length);
  const slash = inside.indexOf("/");
  return slash === -1 ? inside : inside.slice(0, slash + 1);
}

const bySizeThenName =
  <T extends { size: number }>(name: (item: T) => string) =>
  (a: T, b: T) =>
    b.size - a.size || name(a).localeCompare(name(b));

/** Where the bytes of `entries` go. */
export function buildSizeReport(entries: readonly SizeEntry[], options: SizeReportOptions): SizeReport {
  const top = options.top ?? 20;
  const packages = new Map<
    string | null,
    { size: number; files: number; directories: Map<string, DirectorySize> }
  >();
  let totalSize = 0;
  for (const entry of entries) {
    totalSize += entry.size;
    const name = entry.package ?? null;
    let group = packages.get(name);
    if (!group) {
      group = { size: 0, files: 0, directories: new Map() };
      packages.set(name, group);
    }
    group.size += entry.size;
    group.files += 1;
    const directoryName = topLevelOf(entry.path);
    const directory = group.directories.get(directoryName) ?? { name: directoryName, size: 0, files: 0 };
    directory.size += entry.size;
    directory.files += 1;
    group.directories.set(directoryName, directory);
  }
  const packageSizes: PackageSize[] = [...packages].map(([name, group]) => ({
    name,
    size: group.size,
    files: group.files,
    directories: [...group.directories.values()].sort(bySizeThenName((d) => d.name)),
  }));
  packageSizes.sort((a, b) =>
    a.name === null || b.name === null
      ? Number(a.name === null) - Number(b.name === null)
      : bySizeThenName<PackageSize>((p) => p.name ?? "")(a, b),
  );

  const largestFiles = [...entries]
    .sort(bySizeThenName((e) => e.path))
    .slice(0, top)
    .map((entry) => ({ path: entry.path, size: entry.size, package: entry.package ?? null }));

  // Empty files (the many empty `__init__.py`) are all "the same" and cost nothing: not duplicates worth naming.
  const copies = new Map<string, SizeEntry[]>();
  for (const entry of entries) {
    if (entry.sha256 === undefined || entry.size === 0) continue;
    const same = copies.get(entry.sha256);
    if (same) same.push(entry);
    else copies.set(entry.sha256, [entry]);
  }
  const allDuplicates = [...copies]
    .filter(([, same]) => same.length > 1)
    .map(([sha256, same]) => {
      const size = same[0]?.size ?? 0;
      return {
        sha256,
        size,
        paths: same.map((entry) => entry.path).sort(),
        savedBytes: size * (same.length - 1),
      };
    })
    .sort((a, b) => b.savedBytes - a.savedBytes || (a.paths[0] ?? "").localeCompare(b.paths[0] ?? ""));

  const excludes = options.excludes ?? COMMON_EXCLUDES;
  const saving = (label: string, patterns: string[], caveat: string): ExcludeSaving => {
    const isExcluded = excludeMatcher(patterns);
    let files = 0;
    let bytes = 0;
    for (const entry of entries)
      if (isExcluded(entry.path)) {
        files += 1;
        bytes += entry.size;
      }
    return { label, patterns, caveat, files, bytes };
  };
  const excludeSavings = excludes.map((exclude) =>
    saving(exclude.label, [...exclude.patterns], exclude.caveat),
  );
  if (excludes.length > 1)
    excludeSavings.push(
      saving(
        "all of the above",
        excludes.flatMap((exclude) => exclude.patterns),
        "each pattern's caveat applies",
      ),
    );

  return {
    source: options.source,
    totalSize,
    files: entries.length,
    packages: packageSizes,
    largestFiles,
    duplicates: allDuplicates.slice(0, top),
    duplicateBytes: allDuplicates.reduce((sum, duplicate) => sum + duplicate.savedBytes, 0),
    excludeSavings,
  };
}
