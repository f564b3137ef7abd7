import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readlink } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import { type ArchiveEntry, collectTree } from "@cluster-pack/archive";
import type { EditableInstall } from "@cluster-pack/editable";
import type { Distribution } from "@cluster-pack/python-env";
import { PackerError } from "./errors.js";

/** One file to pack under `.deps/`, with the content hash that goes into `pex_hash`. */
export interface PackedFile {
  entry: ArchiveEntry;
  /** `sha256=<urlsafe base64>` as in RECORD, or `link:<target>` for a symlink. */
  hash: string;
}

/** The archive directory holding the environment's site-packages content. */
export const DEPS = ".deps";

/**
 * Left out: anything RECORD places outside site-packages (console scripts in `bin/` carry the build venv's path
 * in their shebang; data files), and bytecode, whose embedded source mtime never matches extracted files.
 */
const isPacked = (path: string) =>
  !path.startsWith("../") && !path.startsWith("/") && !/(^|\/)__pycache__\//.test(path);

async function sha256Record(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256=${hash.digest("base64url")}`;
}

/** Same-size files keep RECORD's hash (reading 25,000 files twice would double packing time); others are hashed. */
async function packedFile(source: string, name: string, recordHash?: string, recordSize?: number) {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(source);
  } catch (error) {
    throw new PackerError("MISSING_FILE", "listed in its distribution's RECORD but missing; reinstall it", {
      path: source,
      cause: error,
    });
  }
  if (stats.isSymbolicLink()) {
    const target = await readlink(source);
    return { entry: { kind: "symlink", name, target }, hash: `link:${target}` } satisfies PackedFile;
  }
  const mode = stats.mode & 0o777;
  const hash =
    recordHash?.startsWith("sha256=") && recordSize === stats.size ? recordHash : await sha256Record(source);
  return { entry: { kind: "file", name, path: source, size: stats.size, mode }, hash } satisfies PackedFile;
}

/** A distribution's installed files, from its RECORD: packed as installed, never rebuilt. */
export async function distributionFiles(distribution: Distribution): Promise<PackedFile[]> {
  if (!distribution.files)
    throw new PackerError(
      "INVALID_ARGUMENT",
      `${distribution.name} ${distribution.version} has no RECORD (or installed-files.txt): its files are unknown; reinstall it with pip`,
      { path: distribution.metadataPath },
    );
  const files = distribution.files
    .map((record) => ({ record, path: posix.normalize(record.path) }))
    .filter(({ path }) => isPacked(path));
  return Promise.all(
    files.map(({ record, path }) =>
      packedFile(join(distribution.sitePackages, path), `${DEPS}/${path}`, record.hash, record.size),
    ),
  );
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
export async function editableFiles(editable: EditableInstall): Promise<PackedFile[]> {
  const packed: PackedFile[] = [];
  for (const topLevel of editable.topLevels) {
    if (topLevel.kind === "module") {
      packed.push(await packedFile(topLevel.path, `${DEPS}/${basename(topLevel.path)}`));
      continue;
    }
    const entries = collectTree(topLevel.path, {
      prefix: `${DEPS}/${topLevel.name}`,
      directories: false,
      filter: (name, kind) =>
        kind === "directory" ? !skippedDirectories.has(basename(name)) : !/\.py[co]$/.test(name),
    });
    for (const entry of entries) {
      if (entry.kind === "file") packed.push(await packedFile(entry.path, entry.name));
      else if (entry.kind === "symlink") packed.push({ entry, hash: `link:${entry.target}` });
    }
  }
  return packed;
}

/** sha256 (hex) over names and content hashes, in name order: what `pex_hash`, `code_hash` and each distribution's hash are. */
export function hashOf(files: readonly PackedFile[]): string {
  const hash = createHash("sha256");
  const lines = files.map((file) => `${file.entry.name}\t${file.hash}\t${modeOf(file.entry)}\n`).sort();
  for (const line of lines) hash.update(line);
  return hash.digest("hex");
}

const modeOf = (entry: ArchiveEntry) => (entry.mode ?? 0).toString(8);
