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

/** What packing does with a symlink that dangles, loops or leaves the environment: stop, or leave it out. */
export type UnsafeLinks = "refuse" | "skip";

/** How a packer treats such symlinks, and where `skip` notes each one it leaves out. */
export interface LinkHandling {
  /** Default `refuse`: the first such link stops packing, in one line naming it. */
  unsafeLinks?: UnsafeLinks;
  /** With `skip`, one line per link left out: `<link>: a symlink to <target>, <why>; left out`. */
  warnings: string[];
}

/** The default: every unsafe link refused, so nothing is ever noted. */
export const refuseUnsafeLinks = (): LinkHandling => ({ unsafeLinks: "refuse", warnings: [] });

/** A symlink that cannot ship: why (the words after "a symlink to <target>, "), and its refusal. */
interface UnsafeLink {
  why: string;
  refusal: PackerError;
}

/**
 * The target to pack for the symlink `link → target`: an absolute one inside the environment (`roots`) made
 * relative, so it follows the archive. Or why it would not work where the archive is unpacked: its target does
 * not exist, or it leaves the environment by `..` or, unless `absoluteMayLeave`, by an absolute path or a link on
 * the way.
 */
function linkTargetOf(
  link: string,
  target: string,
  roots: readonly string[],
  absoluteMayLeave: boolean,
): string | UnsafeLink {
  const where = sanitizeLine(link);
  const shown = sanitizeLine(target);
  const lexical = resolve(dirname(link), target);
  const leaves = (absolute: boolean): UnsafeLink => {
    const why = absolute ? "outside the environment" : "which leaves the environment";
    const refusal = new PackerError(
      "UNRELOCATABLE",
      `a symlink to ${shown}, ${why}: the archive cannot hold what it points at; replace it with a copy or remove it`,
      { location: where },
    );
    return { why, refusal };
  };
  const absolute = isAbsolute(target);
  if (!isInside(lexical, roots) && !(absolute && absoluteMayLeave)) return leaves(absolute);
  let real: string;
  try {
    real = realpathSync(link);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== "ENOENT" && errno !== "ENOTDIR" && errno !== "ELOOP") throw unreadableFile(link, error, "");
    const [why, advice] =
      errno === "ELOOP"
        ? ["which loops back to itself", "remove it"]
        : ["which does not exist", "remove it, or restore what it points at"];
    const refusal = new PackerError("MISSING_FILE", `a symlink to ${shown}, ${why}: ${advice}`, {
      location: where,
      cause: error,
    });
    return { why, refusal };
  }
  if (!isInside(real, roots) && !absoluteMayLeave) return leaves(true);
  const root = roots.find((candidate) => isInside(lexical, [candidate]));
  if (!absolute || root === undefined) return target;
  // Both ends under one spelling of the root: `/tmp/env/a` → `/private/tmp/env/b` is `b`, not `../../private/…`.
  const linkInRoot = join(root, relative(roots[0] ?? root, resolve(link)));
  return relative(dirname(linkInRoot), lexical) || ".";
}

/**
 * The target to pack for the symlink at `link` (shown as `shownAs` in a warning), as `linkTargetOf` says; an
 * unsafe one is refused, or with `skip` left out (undefined) and noted in `handling.warnings`.
 */
export function packedLinkTarget(
  link: { path: string; target: string; shownAs: string },
  roots: readonly string[],
  handling: LinkHandling,
  absoluteMayLeave = false,
): string | undefined {
  const checked = linkTargetOf(link.path, link.target, roots, absoluteMayLeave);
  if (typeof checked === "string") return checked;
  if (handling.unsafeLinks !== "skip") throw checked.refusal;
  handling.warnings.push(
    sanitizeLine(`${link.shownAs}: a symlink to ${link.target}, ${checked.why}; left out`),
  );
  return undefined;
}

/**
 * What the writer needs of a file: its kind, size and mode. No hash: RECORD's may be stale or missing (Debian drops
 * RECORD), and the zip writer hashes every file as it reads it for the archive. Synchronous: for 25,000 small
 * metadata calls on a warm cache, a loop of lstatSync is several times faster than as many promises. Undefined for
 * an unsafe symlink `handling` leaves out.
 */
function packedFile(
  source: string,
  name: string,
  roots: readonly string[],
  handling: LinkHandling,
): ArchiveEntry | undefined {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(source);
    // Refused here with its name rather than by the writer halfway through the archive.
    if (stats.isFile()) accessSync(source, constants.R_OK);
  } catch (error) {
    throw unreadableFile(source, error, "listed in its distribution's RECORD but missing; reinstall it");
  }
  if (stats.isSymbolicLink()) {
    const link = { path: source, target: readlinkSync(source), shownAs: source };
    const target = packedLinkTarget(link, roots, handling);
    return target === undefined ? undefined : { kind: "symlink", name, target };
  }
  return { kind: "file", name, path: source, size: stats.size, mode: stats.mode & 0o777 };
}

const isEntry = (entry: ArchiveEntry | undefined): entry is ArchiveEntry => entry !== undefined;

/**
 * A distribution's installed files, from its RECORD, but for those `isExcluded` names (paths in site-packages):
 * packed as installed, never rebuilt. A symlink that cannot ship is refused or left out, as `handling` says.
 */
export function distributionFiles(
  distribution: Distribution,
  handling: LinkHandling = refuseUnsafeLinks(),
  isExcluded: (path: string) => boolean = () => false,
): ArchiveEntry[] {
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
    .filter((path) => isPacked(path) && !isExcluded(path))
    .map((path) => packedFile(join(distribution.sitePackages, path), `${DEPS}/${path}`, roots, handling))
    .filter(isEntry);
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

/**
 * The code of an editable install, baked in as if it were installed: each top-level under `.deps/`; a module that
 * is a symlink that cannot ship is refused or left out, as `handling` says.
 */
export function editableFiles(
  editable: EditableInstall,
  handling: LinkHandling = refuseUnsafeLinks(),
): ArchiveEntry[] {
  const packed: (ArchiveEntry | undefined)[] = [];
  for (const topLevel of editable.topLevels) {
    if (topLevel.kind === "module") {
      const roots = rootsOf(dirname(topLevel.path));
      packed.push(packedFile(topLevel.path, `${DEPS}/${basename(topLevel.path)}`, roots, handling));
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
      if (entry.kind === "file") packed.push(packedFile(entry.path, entry.name, roots, handling));
      else if (entry.kind === "symlink") packed.push(entry);
    }
  }
  return packed.filter(isEntry);
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
