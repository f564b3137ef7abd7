import { createHash } from "node:crypto";
import { lstatSync, readlinkSync } from "node:fs";
import { basename, join, posix } from "node:path";
import { type ArchiveEntry, collectTree } from "@cluster-pack/archive";
import type { EditableInstall } from "@cluster-pack/editable";
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

/**
 * What the writer needs of a file: its kind, size and mode. No hash: RECORD's may be stale or missing (Debian drops
 * RECORD), and the zip writer hashes every file as it reads it for the archive. Synchronous: for 25,000 small
 * metadata calls on a warm cache, a loop of lstatSync is several times faster than as many promises.
 */
function packedFile(source: string, name: string): ArchiveEntry {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(source);
  } catch (error) {
    throw new PackerError("MISSING_FILE", "listed in its distribution's RECORD but missing; reinstall it", {
      location: source,
      cause: error,
    });
  }
  if (stats.isSymbolicLink()) {
    return { kind: "symlink", name, target: readlinkSync(source) };
  }
  return { kind: "file", name, path: source, size: stats.size, mode: stats.mode & 0o777 };
}

/** A distribution's installed files, from its RECORD: packed as installed, never rebuilt. */
export function distributionFiles(distribution: Distribution): ArchiveEntry[] {
  if (!distribution.files)
    throw new PackerError(
      "INVALID_ARGUMENT",
      `${distribution.name} ${distribution.version} has no RECORD (or installed-files.txt): its files are unknown; reinstall it with pip`,
      { location: distribution.metadataPath },
    );
  return distribution.files
    .map((record) => posix.normalize(record.path))
    .filter(isPacked)
    .map((path) => packedFile(join(distribution.sitePackages, path), `${DEPS}/${path}`));
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
      packed.push(packedFile(topLevel.path, `${DEPS}/${basename(topLevel.path)}`));
      continue;
    }
    const entries = collectTree(topLevel.path, {
      prefix: `${DEPS}/${topLevel.name}`,
      directories: false,
      filter: (name, kind) =>
        kind === "directory" ? !skippedDirectories.has(basename(name)) : !/\.py[co]$/.test(name),
    });
    for (const entry of entries) {
      if (entry.kind === "file") packed.push(packedFile(entry.path, entry.name));
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
