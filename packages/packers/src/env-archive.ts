import { realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, posix, resolve } from "node:path";
import type { Writable } from "node:stream";
import { type ArchiveEntry, collectTree, writeTar, writeZip } from "@cluster-pack/archive";
import { describeExtensions, formatOfPath, formatsOfPacker } from "@cluster-pack/env-usage";
import { sanitizeLine } from "@cluster-pack/errors";
import { bytecodeEntries } from "./bytecode.js";
import { PackerError } from "./errors.js";
import {
  type LinkHandling,
  packedLinkTarget,
  refuseUnsafeLinks,
  rootsOf,
  type UnsafeLinks,
  unreadableFile,
} from "./packed-files.js";
import { publishArchive } from "./published-archive.js";

/**
 * The file formats of venv and conda archives, from the output's name: `.tar.gz`/`.tgz` (what Spark and conda-pack
 * use: YARN unpacks it with `tar`, which keeps symlinks and modes) or `.zip`.
 */
export type EnvArchiveFormat = "tar.gz" | "zip";

const envArchiveFormats = formatsOfPacker("venv") as readonly EnvArchiveFormat[];

/** The venv or conda archive format a name says; undefined for any other name (`.pex.zip` is the unpack layout). */
export function envArchiveFormatOf(path: string): EnvArchiveFormat | undefined {
  const format = formatOfPath(path);
  return envArchiveFormats.find((candidate) => candidate === format);
}

export interface EnvArchiveOptions {
  /** The archive's path; with `destination`, only its name (the format, messages). */
  output: string;
  /** Writes the archive into this stream (an upload) instead of the file `output`; the stream is not ended. */
  destination?: Writable;
  /** Default: from the output's name. */
  format?: EnvArchiveFormat;
  /**
   * gzip or deflate level, 1–9, or 0 to store a zip's entries uncompressed (a `.tar.gz` is always gzip-compressed);
   * default 4 (`DEFAULT_ENV_ARCHIVE_LEVEL`).
   */
  compressionLevel?: number;
  /** Files of the environment left out (`exclude-patterns.ts`: fnmatch patterns on paths inside the environment). */
  exclude?: readonly string[];
  /** Seconds since 1970 stamped on every entry; default `SOURCE_DATE_EPOCH`, else 1980-01-01. */
  sourceDateEpoch?: number;
  /**
   * The environment's interpreter, to precompile every `.py` of the archive with (PEP 552 unchecked-hash `.pyc`
   * beside each source, `bytecode.ts`); default: no bytecode.
   */
  compileWith?: string;
  /**
   * A symlink of the environment that dangles or leaves it: `refuse` (default) stops in one line naming it; `skip`
   * leaves it out, with a warning naming it.
   */
  unsafeLinks?: UnsafeLinks;
}

/** What every venv and conda archive reports. */
export interface PackedEnvArchive {
  output: string;
  format: EnvArchiveFormat;
  /** Hex sha256 of the archive file. */
  sha256: string;
  bytes: number;
  entries: number;
  /** Things that will not work where the archive is unpacked, each one line; empty when everything relocates. */
  warnings: string[];
}

/** conda-pack's default: most of the size gain of 6 at twice its speed. */
export const DEFAULT_ENV_ARCHIVE_LEVEL = 4;

/**
 * A `.tar.gz` is gzip-compressed, 1–9: gzip's level 0 would make it one in name only (stored blocks), which no
 * reader expects of the name, so store is refused rather than silently compressed.
 */
export const storeRefusal =
  "compression store (level 0) applies to zip archives: a .tar.gz is always gzip-compressed; use fast (1), or a .zip archive to store";

/** The level to write with, checked with the output's name before anything is read. */
export function compressionLevelOf(options: EnvArchiveOptions): number {
  const format = resolveFormat(options);
  const level = options.compressionLevel ?? DEFAULT_ENV_ARCHIVE_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9)
    throw new PackerError(
      "INVALID_ARGUMENT",
      `compressionLevel must be an integer from 0 to 9, not ${level}`,
    );
  if (level === 0 && format === "tar.gz")
    throw new PackerError("INVALID_ARGUMENT", storeRefusal, { location: options.output });
  return level;
}

export function resolveFormat(options: EnvArchiveOptions): EnvArchiveFormat {
  const format = options.format ?? envArchiveFormatOf(options.output);
  if (!format)
    throw new PackerError(
      "INVALID_ARGUMENT",
      `a venv or conda archive must be named ${describeExtensions(envArchiveFormats)} (or given a format)`,
      { location: options.output },
    );
  if (options.format === "zip" && options.output.endsWith(".pex.zip"))
    throw new PackerError(
      "INVALID_ARGUMENT",
      "a name ending in .pex.zip is the unpack layout's: give the zip archive another name, or use the pex.zip packer",
      { location: options.output },
    );
  if (options.format && envArchiveFormatOf(options.output) !== options.format)
    throw new PackerError(
      "INVALID_ARGUMENT",
      `a ${options.format} archive's name must end in ${describeExtensions([options.format])}`,
      {
        location: options.output,
      },
    );
  return format;
}

/**
 * The environment's own bytecode is left out: every entry gets one fixed mtime, so no timestamp-checked `.pyc`
 * would match its source once unpacked (`compileWith` adds hash-based ones instead).
 */
export const isBytecode = (name: string, kind: "file" | "directory" | "symlink") =>
  kind === "directory" ? posix.basename(name) === "__pycache__" : /\.py[co]$/.test(name);

/** Which symlinks of an environment may point outside it by an absolute path (a venv's interpreter links). */
export type OutsideLinks = (name: string) => boolean;

/** collectTree's walk, with an unreadable directory refused in one line that names it. */
function walkEnvironment(prefix: string, filter: Parameters<typeof collectTree>[1]): ArchiveEntry[] {
  try {
    return collectTree(prefix, filter);
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    if (cause?.code === "EACCES" || cause?.code === "EPERM")
      throw unreadableFile(cause.path ?? prefix, cause, "");
    throw error;
  }
}

/** How `environmentTree` walks an environment. */
export interface EnvironmentTreeOptions {
  /** What to leave out besides bytecode (with the directories that then hold nothing). */
  skip?: (name: string, kind: "file" | "directory" | "symlink") => boolean;
  /** Which links may leave by an absolute path; default any (conda's links into the base installation). */
  outsideLinks?: OutsideLinks;
  /** What to do with a link that dangles or leaves the environment otherwise; default refuse it. */
  links?: LinkHandling;
}

/** An environment's entries, and the names of the links `links: skip` left out. */
export interface EnvironmentTree {
  entries: ArchiveEntry[];
  leftOutLinks: Set<string>;
}

/**
 * Every file, symlink and directory of an environment, names relative to it, bytecode and what `skip` says left
 * out (with the directories that held nothing else). Symlinks that point inside the environment by an absolute
 * path are made relative, so they follow it wherever it is unpacked. A symlink that dangles or leaves the
 * environment by `..` is unsafe (`packedLinkTarget`); one leaving it by an absolute path is unsafe when
 * `outsideLinks` is given and does not allow it, kept as it is otherwise. An unsafe link is refused, or left out
 * with a warning, as `links` says.
 */
export function environmentTree(prefix: string, options: EnvironmentTreeOptions = {}): EnvironmentTree {
  const { skip = () => false, outsideLinks, links = refuseUnsafeLinks() } = options;
  const roots = rootsOf(prefix);
  const emptied = new Set<string>();
  const walked = walkEnvironment(prefix, {
    filter: (name, kind) => {
      if (!isBytecode(name, kind) && !skip(name, kind)) return true;
      for (let parent = posix.dirname(name); parent !== "."; parent = posix.dirname(parent))
        emptied.add(`${parent}/`);
      return false;
    },
  });
  const holding = new Set<string>();
  for (const entry of walked)
    if (entry.kind !== "directory")
      for (let parent = posix.dirname(entry.name); parent !== "."; parent = posix.dirname(parent))
        holding.add(`${parent}/`);
  const leftOutLinks = new Set<string>();
  const entries = walked
    .filter(
      (entry) =>
        entry.kind !== "directory" || !emptied.has(`${entry.name}/`) || holding.has(`${entry.name}/`),
    )
    .flatMap((entry): ArchiveEntry[] => {
      if (entry.kind !== "symlink") return [entry];
      const link = { path: join(prefix, entry.name), target: entry.target, shownAs: entry.name };
      const absoluteMayLeave = outsideLinks?.(entry.name) ?? true;
      const target = packedLinkTarget(link, roots, links, absoluteMayLeave);
      if (target === undefined) {
        leftOutLinks.add(entry.name);
        return [];
      }
      return [target === entry.target ? entry : { ...entry, target }];
    });
  return { entries, leftOutLinks };
}

/**
 * Zip consumers (Hadoop's `FileUtil.unZip`, Python's `zipfile`) do not restore symlinks, so a zip holds what each
 * link points at under the link's name. A target inside the archive is resolved against the archive's own entries
 * (following chains), not the disk: with `withPython`, `bin/python → python3.11` must copy the patched binary, and
 * Debian's `lib/python3/dist-packages → ../python3.11/site-packages` exists only as an entry. A link to a directory
 * of the archive gets a copy of its entries, except venv's `lib64 → lib`: site searches `lib/` too, so a copy would
 * only double the zip. A link leaving the archive is copied from disk, whole; dangling links are dropped with a warning.
 */
function materializeSymlinks(entries: readonly ArchiveEntry[], prefix: string, warnings: string[]) {
  const root = realpathSync(prefix);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const copiedDirectories = new Set<string>();
  const renamed = (entry: ArchiveEntry, from: string, to: string) => ({
    ...entry,
    name: `${to}${entry.name.slice(from.length)}`,
  });
  // What `entry` is once no link remains, named under `entry.name`; `location` is where it is on disk.
  const contentOf = (entry: ArchiveEntry, location: string, trail: readonly string[]): ArchiveEntry[] => {
    if (entry.kind !== "symlink") return [entry];
    const name = isAbsolute(entry.target)
      ? ""
      : posix.normalize(posix.join(posix.dirname(entry.name), entry.target));
    if (name && name !== ".." && !name.startsWith("../")) {
      if (trail.includes(entry.name) || name === "." || entry.name.startsWith(`${name}/`)) {
        warnings.push(
          sanitizeLine(`${entry.name}: a symlink to ${entry.target}, which loops; left out of the zip`),
        );
        return [];
      }
      const linked = byName.get(name);
      if (linked && linked.kind !== "directory")
        return contentOf(linked, join(prefix, name), [...trail, entry.name]).map((inner) =>
          renamed(inner, name, entry.name),
        );
      const inside = entries.filter((inner) => inner.name.startsWith(`${name}/`));
      if (linked || inside.length > 0) {
        if (entry.name === "lib64" && name === "lib") return [];
        return inside.flatMap((inner) =>
          contentOf(inner, join(prefix, inner.name), [...trail, entry.name]).map((copy) =>
            renamed(copy, name, entry.name),
          ),
        );
      }
    }
    const source = resolve(dirname(location), entry.target);
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(source);
    } catch {
      warnings.push(
        sanitizeLine(
          `${entry.name}: a symlink to ${entry.target}, which does not exist; left out of the zip`,
        ),
      );
      return [];
    }
    if (stats.isFile())
      return [{ kind: "file", name: entry.name, path: source, size: stats.size, mode: stats.mode & 0o777 }];
    // A directory of the environment the archive leaves out stays out.
    const real = realpathSync(source);
    if (real === root || real.startsWith(`${root}/`) || copiedDirectories.has(real)) return [];
    copiedDirectories.add(real);
    return collectTree(real, {
      prefix: entry.name,
      filter: (inner, kind) => !isBytecode(inner, kind),
    }).flatMap((inner) => contentOf(inner, join(real, inner.name.slice(entry.name.length + 1)), trail));
  };
  // The environment's own entries win over copies made for links.
  const materialized = new Map<string, ArchiveEntry>();
  for (const entry of entries) if (entry.kind !== "symlink") materialized.set(entry.name, entry);
  for (const entry of entries)
    if (entry.kind === "symlink")
      for (const copy of contentOf(entry, join(prefix, entry.name), []))
        if (!materialized.has(copy.name)) materialized.set(copy.name, copy);
  return [...materialized.values()];
}

/**
 * Writes the entries as a tar.gz or zip beside the output and renames it into place (the archive appears complete
 * or not at all), or into `destination`. Entries are sorted and stamped with one time by the writers, so equal
 * inputs give equal bytes.
 */
export async function writeEnvArchive(
  entries: readonly ArchiveEntry[],
  options: EnvArchiveOptions & { prefix: string; warnings: string[] },
): Promise<PackedEnvArchive> {
  const format = resolveFormat(options);
  const level = compressionLevelOf(options);
  const epoch = options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch };
  const packed = options.compileWith
    ? [...entries, ...(await bytecodeEntries(options.compileWith, entries))]
    : entries;
  const { written: summary, sha256 } = await publishArchive(
    options.destination ?? options.output,
    (destination) =>
      format === "zip"
        ? writeZip(materializeSymlinks(packed, options.prefix, options.warnings), destination, {
            level,
            label: options.output,
            ...epoch,
          })
        : writeTar(packed, destination, { gzip: true, level, label: options.output, ...epoch }),
  );
  return {
    output: options.output,
    format,
    sha256,
    bytes: summary.bytes,
    entries: summary.entries,
    warnings: options.warnings,
  };
}
