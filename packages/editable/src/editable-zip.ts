import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { readdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { type ZipOptions, zipSync } from "fflate";
import type { ImportableTopLevel } from "./editable-install.js";
import { EditableError } from "./errors.js";

/**
 * - `pyfiles`: the package directory is the root entry (`mypkg/__init__.py`), so the zip itself goes on
 *   `sys.path` (Spark `pyFiles`, `spark.submit.pyFiles`; imported through zipimport).
 * - `archive`: the package's contents are at the root (`__init__.py`), for a YARN/skein archive the cluster
 *   unpacks into a directory named after the package (cluster-pack's `zip_path(…, include_base_name=False)`).
 * A single module is at the root in both shapes.
 */
export type EditableZipShape = "pyfiles" | "archive";

export interface EditableZipOptions {
  shape: EditableZipShape;
  /**
   * Seconds since the Unix epoch stamped on every entry. Default: `$SOURCE_DATE_EPOCH`
   * (reproducible-builds.org), else 1980-01-01, the earliest time a zip can hold.
   */
  sourceDateEpoch?: number;
  /** Deflate level 0–9; default 6. */
  level?: ZipOptions["level"];
}

/** Editor, VCS and interpreter leftovers that are never shipped. */
const skippedDirectories = new Set([
  "__pycache__",
  ".git",
  ".hg",
  ".svn",
  ".idea",
  ".vscode",
  ".mypy_cache",
  ".pytest_cache",
  ".ruff_cache",
  ".tox",
]);
const skippedFile = /(\.py[co]|\.sw[op]|~)$|^(\.DS_Store|Thumbs\.db|\.#.*|#.*#)$/;

const earliestZipTime = Date.UTC(1980, 0, 1) / 1000;
const latestZipTime = Date.UTC(2099, 11, 31, 23, 59, 58) / 1000;
const unixHost = 3;
const directoryAttribute = 0x10;

/** One zip entry before compression: directories end with `/` and have no content. */
interface ZipEntry {
  name: string;
  source?: string;
  executable: boolean;
}

/**
 * Zips the source of one importable top-level deterministically: equal sources give byte-identical zips.
 * Entries are sorted, directories included (zipimport finds namespace packages through them), with fixed
 * timestamps and unix modes (0644, or 0755 for executables); `__pycache__`, `*.pyc`, VCS and editor files are left
 * out. Symbolic links are followed (a directory cycle is entered once).
 */
export async function zipTopLevel(
  topLevel: ImportableTopLevel,
  options: EditableZipOptions,
): Promise<Uint8Array> {
  const mtime = zipTimestamp(epochSecondsOf(options.sourceDateEpoch));
  let rootStats: Stats;
  try {
    rootStats = await stat(topLevel.path);
  } catch (error) {
    throw new EditableError("MISSING_SOURCE", `the source of "${topLevel.name}" does not exist`, {
      location: topLevel.path,
      cause: error,
    });
  }
  const entries: ZipEntry[] = [];
  if (rootStats.isDirectory()) {
    const prefix = options.shape === "pyfiles" ? `${topLevel.name}/` : "";
    if (prefix) entries.push({ name: prefix, executable: false });
    await collect(topLevel.path, prefix, entries, new Set());
  } else {
    entries.push({
      name: basename(topLevel.path),
      source: topLevel.path,
      executable: isExecutable(rootStats),
    });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Object keys keep insertion order except integer-like ones ("123"), which only a root file can be: the
  // order then stays deterministic, if not sorted.
  const files: Record<string, [Uint8Array, ZipOptions]> = {};
  for (const entry of entries) {
    const isDirectory = entry.source === undefined;
    const permissions = isDirectory ? 0o40755 : entry.executable ? 0o100755 : 0o100644;
    files[entry.name] = [
      isDirectory ? new Uint8Array(0) : await readFile(entry.source as string),
      {
        level: isDirectory ? 0 : (options.level ?? 6),
        mtime,
        os: unixHost,
        attrs: permissions * 0x10000 + (isDirectory ? directoryAttribute : 0),
      },
    ];
  }
  return zipSync(files);
}

/** Writes {@link zipTopLevel}'s zip to `destination`, complete or not at all (temporary file, then rename). */
export async function writeTopLevelZip(
  topLevel: ImportableTopLevel,
  destination: string,
  options: EditableZipOptions,
): Promise<string> {
  const bytes = await zipTopLevel(topLevel, options);
  const temporary = `${destination}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return destination;
}

async function collect(directory: string, prefix: string, entries: ZipEntry[], visited: Set<string>) {
  const real = await realpath(directory);
  if (visited.has(real)) return;
  visited.add(real);
  for (const name of await readdir(directory)) {
    const path = join(directory, name);
    const stats = await stat(path).catch(() => undefined); // a dangling symlink is not source
    if (stats?.isDirectory()) {
      if (skippedDirectories.has(name)) continue;
      entries.push({ name: `${prefix}${name}/`, executable: false });
      await collect(path, `${prefix}${name}/`, entries, visited);
    } else if (stats?.isFile() && !skippedFile.test(name)) {
      entries.push({ name: `${prefix}${name}`, source: path, executable: isExecutable(stats) });
    }
  }
}

function isExecutable(stats: Stats): boolean {
  return (stats.mode & 0o111) !== 0;
}

function epochSecondsOf(option: number | undefined): number {
  const fromEnvironment = process.env.SOURCE_DATE_EPOCH;
  if (option === undefined && (fromEnvironment === undefined || fromEnvironment === ""))
    return earliestZipTime;
  const seconds = option ?? (/^\d+$/.test(fromEnvironment ?? "") ? Number(fromEnvironment) : Number.NaN);
  if (!Number.isFinite(seconds))
    throw new EditableError(
      "INVALID_ARGUMENT",
      `${option === undefined ? `SOURCE_DATE_EPOCH=${fromEnvironment}` : `sourceDateEpoch ${option}`}: ` +
        "expected a number of seconds since 1970-01-01",
    );
  return seconds;
}

/**
 * Zip times are local DOS times (2-second steps, 1980–2107) and fflate reads a Date's local fields: a Date whose
 * local fields are the epoch's UTC fields stores the same bytes whatever the machine's time zone.
 */
function zipTimestamp(epochSeconds: number): Date {
  const utc = new Date(Math.min(Math.max(epochSeconds, earliestZipTime), latestZipTime) * 1000);
  return new Date(
    utc.getUTCFullYear(),
    utc.getUTCMonth(),
    utc.getUTCDate(),
    utc.getUTCHours(),
    utc.getUTCMinutes(),
    utc.getUTCSeconds(),
  );
}
