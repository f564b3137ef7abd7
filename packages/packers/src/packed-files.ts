import { createHash } from "node:crypto";
import { accessSync, constants, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix, relative, resolve } from "node:path";
import { type ArchiveEntry, collectTree } from "@cluster-pack/archive";
import type { EditableInstall } from "@cluster-pack/editable";
import { sanitizeLine } from "@cluster-pack/errors";
import type { Distribution } from "@cluster-pack/python-env";
import { PackerError } from "./errors.js";

/** The archive directory holding the environment's site-packages content. */
export const DEPS = ".deps";

/**
 * Left out: anything RECORD places outside site-packages (console scripts in `bin/` carry the build venv's path
 * in their shebang; data files), and bytecode, whose embedded source mtime never matches extracted files.
 */
const isPacked = (path: string) =>
  !path.startsWith("../") && !path.startsWith("/") && !/(^|\/)__pycache__\//.test(path);

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/** An environment's root, as given and with its links resolved: paths inside either are inside it. */
export const rootsOf = (root: string): string[] => [...new Set([resolve(root), realpathSync(root)])];

const isInside = (path: string, roots: readonly string[]) =>
  roots.some((root) => path === root || path.startsWith(`${root}/`));

/**
 * The error for a file of the environment that cannot be packed because reading it failed: `permission denied`
 * (an unreadable directory on the way) says so, anything else is a missing file.
 */
export function unreadableFile(path: string, error: unknown, missing: string): PackerError {
  const errno = errnoOf(error);
  const detail =
    errno === "EACCES" || errno === "EPERM"
      ? "cannot be read (permission denied): make it readable for this user, or pack as its owner"
      : missing || `cannot be read: ${sanitizeLine(String((error as Error).message))}`;
  return new PackerError("MISSING_FILE", detail, { location: sanitizeLine(path), cause: error });
}

/**
 * Refuses a symlink that would not work where the archive is unpacked: one whose target does not exist, or leaves
 * the environment (`roots`) by `..` or, unless `absoluteMayLeave`, by an absolute path or a link on the way.
 * Returns the target to pack: an absolute one inside the environment made relative, so it follows the archive.
 */
export function checkedLinkTarget(
  link: string,
  target: string,
  roots: readonly string[],
  options: { absoluteMayLeave?: boolean } = {},
): string {
  const where = sanitizeLine(link);
  const lexical = resolve(dirname(link), target);
  const leaves = (absolute: boolean) =>
    new PackerError(
      "UNRELOCATABLE",
      `a symlink to ${sanitizeLine(target)}, ${absolute ? "outside the environment" : "which leaves the environment"}: the archive cannot hold what it points at; replace it with a copy or remove it`,
      { location: where },
    );
  const absolute = isAbsolute(target);
  if (!isInside(lexical, roots) && !(absolute && options.absoluteMayLeave)) throw leaves(absolute);
  let real: string;
  try {
    real = realpathSync(link);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== "ENOENT" && errno !== "ENOTDIR" && errno !== "ELOOP") throw unreadableFile(link, error, "");
    throw new PackerError(
      "MISSING_FILE",
      errno === "ELOOP"
        ? `a symlink to ${sanitizeLine(target)}, which loops back to itself: remove it`
        : `a symlink to ${sanitizeLine(target)}, which does not exist: remove it, or restore what it points at`,
      { location: where, cause: error },
    );
  }
  if (!isInside(real, roots) && !options.absoluteMayLeave) throw leaves(true);
  const root = roots.find((candidate) => isInside(lexical, [candidate]));
  if (!absolute || root === undefined) return target;
  // Both ends under one spelling of the root: `/tmp/env/a` → `/private/tmp/env/b` is `b`, not `../../private/…`.
  const linkInRoot = join(root, relative(roots[0] ?? root, resolve(link)));
  return relative(dirname(linkInRoot), lexical) || ".";
}

/**
 * What the writer needs of a file: its kind, size and mode. No hash: RECORD's may be stale or missing (Debian drops
 * RECORD), and the zip writer hashes every file as it reads it for the archive. Synchronous: for 25,000 small
 * metadata calls on a warm cache, a loop of lstatSync is several times faster than as many promises.
 */
function packedFile(source: string, name: string, roots: readonly string[]): ArchiveEntry {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(source);
    // Refused here with its name rather than by the writer halfway through the archive.
    if (stats.isFile()) accessSync(source, constants.R_OK);
  } catch (error) {
    throw unreadableFile(source, error, "listed in its distribution's RECORD but missing; reinstall it");
  }
  if (stats.isSymbolicLink())
    return { kind: "symlink", name, target: checkedLinkTarget(source, readlinkSync(source), roots) };
  return { kind: "file", name, path: source, size: stats.size, mode: stats.mode & 0o777 };
}

/** A distribution's installed files, from its RECORD: packed as installed, never rebuilt. */
export function distributionFiles(distribution: Distribution): ArchiveEntry[] {
  if (!distribution.files)
    throw new PackerError(
      "INVALID_ARGUMENT",
      sanitizeLine(
        `${distribution.name} ${distribution.version} has no RECORD (or installed-files.txt): its files are unknown; reinstall it with pip`,
      ),
      { location: sanitizeLine(distribution.metadataPath) },
    );
  // The archive's `.deps` is site-packages: a link must stay inside it.
  const roots = rootsOf(distribution.sitePackages);
  return distribution.files
    .map((record) => posix.normalize(record.path))
    .filter(isPacked)
    .map((path) => packedFile(join(distribution.sitePackages, path), `${DEPS}/${path}`, roots));
}

const skippedDirectories = new Set([
  "__pycache__",
  ".git",
  ".hg",
  ".svn",
  ".mypy_cache",
  ".pytest_cache",
  ".tox",
]);

/** The code of an editable install, baked in as if it were installed: each top-level under `.deps/`. */
export function editableFiles(editable: EditableInstall): ArchiveEntry[] {
  const packed: ArchiveEntry[] = [];
  for (const topLevel of editable.topLevels) {
    if (topLevel.kind === "module") {
      packed.push(
        packedFile(topLevel.path, `${DEPS}/${basename(topLevel.path)}`, rootsOf(dirname(topLevel.path))),
      );
      continue;
    }
    const entries = collectTree(topLevel.path, {
      prefix: `${DEPS}/${topLevel.name}`,
      directories: false,
      filter: (name, kind) =>
        kind === "directory" ? !skippedDirectories.has(basename(name)) : !/\.py[co]$/.test(name),
    });
    const roots = rootsOf(topLevel.path);
    for (const entry of entries) {
      if (entry.kind === "file") packed.push(packedFile(entry.path, entry.name, roots));
      else if (entry.kind === "symlink") packed.push(entry);
    }
  }
  return packed;
}

/**
 * sha256 (hex) over names, content digests (as the zip writer computed them) and modes, in name order: what
 * `pex_hash`, `code_hash` and each distribution's hash are.
 */
export function hashOf(entries: readonly ArchiveEntry[], digests: ReadonlyMap<string, string>): string {
  const hash = createHash("sha256");
  const lines = entries
    .map((entry) => `${entry.name}\t${digests.get(entry.name) ?? ""}\t${modeOf(entry)}\n`)
    .sort();
  for (const line of lines) hash.update(line);
  return hash.digest("hex");
}

const modeOf = (entry: ArchiveEntry) => (entry.mode ?? 0).toString(8);
