import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { firstLine, sanitizeLine } from "@cluster-pack/errors";
import pMap from "p-map";
import type { DirectUrl, Distribution, DistributionProblem } from "./distribution.js";
import { errnoOf } from "./errno.js";
import { PythonEnvError } from "./errors.js";
import type { Interpreter } from "./interpreter.js";
import { parseMetadataHeaders } from "./metadata-headers.js";
import { normalizeName } from "./normalize-name.js";
import { parseRecord, type RecordEntry } from "./record-file.js";

export interface ListDistributionsOptions {
  /** Also read `systemSitePackages` (a venv's base with `--system-site-packages`, the user site). */
  includeSystem?: boolean;
  /** Throw a `BROKEN_DISTRIBUTION` error for the first problem instead of returning it. */
  strict?: boolean;
}

export interface InstalledDistributions {
  /** One per normalised name, the first on `sys.path` (the one `import` loads), sorted by normalised name. */
  distributions: Distribution[];
  /**
   * Distributions that could not be read completely. One without METADATA is left out (nothing identifies it,
   * `leftOut`); one without RECORD is kept, without `files`. Neither stops the listing: pip and importlib behave
   * the same.
   */
  problems: DistributionProblem[];
}

type Found = { distribution?: Distribution; problems: DistributionProblem[] };

/** A distribution nothing identifies: it is missing from the listing, so whatever packs it must hear of it. */
const unidentified = (path: string, detail: string): Found => ({
  problems: [{ path, detail, leftOut: true }],
});

/** Why a metadata directory or file could not be read, in one line that names no path (the problem's does). */
function unreadable(error: unknown): string {
  const errno = errnoOf(error);
  if (errno === "EACCES" || errno === "EPERM")
    return "cannot be read (permission denied): make it readable for this user, or reinstall the distribution";
  return `cannot be read: ${sanitizeLine(firstLine(error))}`;
}

/** Reads a metadata file; a missing one is `undefined`, any other failure is the caller's problem to report. */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "ENOENT" || errno === "ENOTDIR") return undefined;
    throw error;
  }
}

/** Lines of a text file such as `top_level.txt` or `INSTALLER`, blank lines dropped. */
const linesOf = (text: string | undefined) =>
  (text ?? "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);

/** The importable names a distribution's files provide, when it ships no `top_level.txt`. */
function topLevelFromFiles(files: readonly RecordEntry[]): string[] {
  const names = new Set<string>();
  for (const { path } of files) {
    const [first, ...rest] = path.split("/");
    if (!first || first === ".." || first === "__pycache__" || /\.(dist-info|egg-info|data)$/.test(first))
      continue;
    if (rest.length > 0) names.add(first);
    else if (/\.py$/.test(first)) names.add(first.slice(0, -3));
    // Extension modules: `_cffi_backend.cpython-311-x86_64-linux-gnu.so` provides `_cffi_backend`.
    else if (/\.(so|pyd)$/.test(first)) names.add(first.split(".")[0] ?? first);
  }
  return [...names].sort();
}

function identify(text: string): { name: string; version: string; requiresDist: string[] } | string {
  const headers = parseMetadataHeaders(text);
  const name = headers.get("name")?.[0];
  const version = headers.get("version")?.[0];
  if (!name || !version) return `its metadata has no ${name ? "Version" : "Name"} header (reinstall it)`;
  return { name, version, requiresDist: headers.get("requires-dist") ?? [] };
}

function parseDirectUrl(text: string | undefined): DirectUrl | undefined | string {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as DirectUrl;
    if (typeof parsed.url === "string") return parsed;
  } catch {
    // Reported by the caller.
  }
  return "direct_url.json is not valid PEP 610 JSON; the install source is ignored";
}

/**
 * setuptools' PEP 660 editable wheels install `__editable__.<name>-<version>.pth` at the top of site-packages
 * (a path entry, or an import of its finder): listed in RECORD, it marks the distribution editable even without
 * PEP 610's `direct_url.json` (an installer that does not write it, or a deleted one).
 */
const isEditablePth = (path: string) =>
  !path.includes("/") && path.startsWith("__editable__.") && path.endsWith(".pth");

/**
 * The first directory a `.pth` file puts on `sys.path`, when it is an absolute path (what setuptools writes for a
 * src layout): import lines, comments and relative entries give none. An unreadable file gives none either, as
 * for `site`, which skips it.
 */
async function firstPathEntry(pthFile: string): Promise<string | undefined> {
  const text = await readOptional(pthFile).catch(() => undefined);
  // As `site` reads it: blank and `#` lines skipped, lines starting with `import ` executed, the rest added.
  const entry = (text ?? "")
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .find((line) => line !== "" && !line.startsWith("#") && !/^import[ \t]/.test(line));
  return entry !== undefined && isAbsolute(entry) ? resolve(entry) : undefined;
}

async function readDistInfo(sitePackages: string, entry: string): Promise<Found> {
  const directory = join(sitePackages, entry);
  const [metadata, record, installer, wheel, topLevel, directUrlText] = await Promise.all(
    ["METADATA", "RECORD", "INSTALLER", "WHEEL", "top_level.txt", "direct_url.json"].map((file) =>
      readOptional(join(directory, file)),
    ),
  );
  if (metadata === undefined)
    return unidentified(directory, "no METADATA file: the distribution cannot be identified (reinstall it)");
  const identity = identify(metadata);
  if (typeof identity === "string") return unidentified(directory, identity);
  const problems: DistributionProblem[] = [];
  if (record === undefined)
    problems.push({
      path: directory,
      name: identity.name,
      detail:
        "no RECORD file: its installed files are unknown and left out of the fingerprint (reinstall it)",
    });
  const directUrl = parseDirectUrl(directUrlText);
  if (typeof directUrl === "string")
    problems.push({ path: directory, name: identity.name, detail: directUrl });
  const files = record === undefined ? undefined : parseRecord(record);
  const source = typeof directUrl === "object" ? directUrl : undefined;
  const declaredEditable = source?.dir_info?.editable === true;
  const editablePth = files?.find((file) => isEditablePth(file.path))?.path;
  const editable = declaredEditable || editablePth !== undefined;
  const editableLocation =
    declaredEditable && source?.url.startsWith("file:")
      ? fileURLToPath(source.url)
      : editablePth !== undefined
        ? await firstPathEntry(join(sitePackages, editablePth))
        : undefined;
  const distribution: Distribution = {
    ...identity,
    normalizedName: normalizeName(identity.name),
    sitePackages,
    metadataPath: directory,
    format: "dist-info",
    wheelTags: parseMetadataHeaders(wheel ?? "").get("tag") ?? [],
    topLevel: topLevel === undefined ? topLevelFromFiles(files ?? []) : linesOf(topLevel),
    editable,
    ...(installer !== undefined && { installer: installer.trim() }),
    ...(files && { files }),
    ...(source && { directUrl: source }),
    ...(editableLocation !== undefined && { editableLocation }),
  };
  return { distribution, problems };
}

/** An `.egg-info` directory (setuptools) or file (distutils, the file is PKG-INFO itself). */
async function readEggInfo(sitePackages: string, path: string, isDirectory: boolean): Promise<Found> {
  const [metadata, installedFiles, topLevel] = isDirectory
    ? await Promise.all(
        ["PKG-INFO", "installed-files.txt", "top_level.txt"].map((f) => readOptional(join(path, f))),
      )
    : [await readOptional(path), undefined, undefined];
  if (metadata === undefined)
    return unidentified(path, "no PKG-INFO file: the distribution cannot be identified (reinstall it)");
  const identity = identify(metadata);
  if (typeof identity === "string") return unidentified(path, identity);
  // installed-files.txt lists paths relative to the egg-info directory; RECORD's are relative to site-packages.
  const base = relative(sitePackages, path).split("\\").join("/");
  const files =
    installedFiles === undefined
      ? undefined
      : linesOf(installedFiles).map((file) => ({
          path: posix.normalize(posix.join(base, file)),
        }));
  return {
    distribution: {
      ...identity,
      normalizedName: normalizeName(identity.name),
      sitePackages,
      metadataPath: path,
      format: "egg-info",
      wheelTags: [],
      topLevel: topLevel === undefined ? topLevelFromFiles(files ?? []) : linesOf(topLevel),
      editable: false,
      ...(files && { files }),
    },
    problems: [],
  };
}

/** A legacy `setup.py develop` install: the link's first line is the directory put on `sys.path`. */
async function readEggLink(sitePackages: string, entry: string): Promise<Found> {
  const path = join(sitePackages, entry);
  const line = linesOf(await readOptional(path))[0];
  const missing = (detail: string): Found => ({
    problems: [{ path, name: entry.slice(0, -9), detail, editable: true }],
  });
  if (!line) return missing("the egg-link is empty: it names no project directory");
  // A relative line is relative to the site directory, as pkg_resources reads it.
  const location = resolve(sitePackages, line);
  let names: string[];
  try {
    names = await readdir(location);
  } catch {
    return missing(
      `editable install points at ${sanitizeLine(location)}, which no longer exists (reinstall or uninstall it)`,
    );
  }
  const wanted = normalizeName(entry.slice(0, -".egg-link".length));
  const eggInfo = names.find(
    (name) => name.endsWith(".egg-info") && normalizeName(name.slice(0, -9)) === wanted,
  );
  if (!eggInfo)
    return missing(
      `no ${sanitizeLine(wanted)}.egg-info in ${sanitizeLine(location)}: run setup.py develop again`,
    );
  const found = await readEggInfo(location, join(location, eggInfo), true);
  if (!found.distribution) return found;
  return {
    distribution: { ...found.distribution, sitePackages, editable: true, editableLocation: location },
    problems: found.problems,
  };
}

async function readSiteDirectory(sitePackages: string): Promise<Dirent[]> {
  try {
    return await readdir(sitePackages, { withFileTypes: true });
  } catch (error) {
    const errno = errnoOf(error);
    // A site directory that does not exist yet (a fresh venv's platlib) is an empty one, as for Python.
    if (errno === "ENOENT") return [];
    const detail =
      errno === "EACCES" || errno === "EPERM" ? "permission denied" : sanitizeLine(firstLine(error));
    throw new PythonEnvError("UNREADABLE_ENVIRONMENT", `cannot read the site-packages directory: ${detail}`, {
      location: sanitizeLine(sitePackages),
      cause: error,
    });
  }
}

function readEntry(sitePackages: string, entry: Dirent): Promise<Found> | undefined {
  const { name } = entry;
  if (name.endsWith(".dist-info")) return readDistInfo(sitePackages, name);
  if (name.endsWith(".egg-info")) return readEggInfo(sitePackages, join(sitePackages, name), !entry.isFile());
  if (name.endsWith(".egg-link")) return readEggLink(sitePackages, name);
  return undefined;
}

/** Reads every distribution in the given site directories, in `sys.path` order: the first of a name wins. */
export async function readDistributions(
  sitePackages: readonly string[],
  options: Pick<ListDistributionsOptions, "strict"> = {},
): Promise<InstalledDistributions> {
  const directories = [...new Set(sitePackages)];
  const listings = await Promise.all(directories.map(readSiteDirectory));
  const entries = directories.flatMap((directory, index) =>
    (listings[index] ?? [])
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((entry) => ({ directory, entry })),
  );
  // Each distribution reads up to six small files at once: 64 of them in flight stay well under `ulimit -n`.
  const found = await pMap(
    entries,
    async ({ directory, entry }): Promise<Found> =>
      (await readEntry(directory, entry)?.catch(
        (error: unknown): Found => unidentified(join(directory, entry.name), unreadable(error)),
      )) ?? { problems: [] },
    { concurrency: 64 },
  );
  const byName = new Map<string, Distribution>();
  const problems: DistributionProblem[] = [];
  for (const { distribution, problems: own } of found) {
    problems.push(...own);
    if (!distribution) continue;
    const first = byName.get(distribution.normalizedName);
    if (!first) byName.set(distribution.normalizedName, distribution);
    // Debian ships some packages with both a dist-info and an egg-info of one version: only a mismatch matters.
    else if (first.sitePackages === distribution.sitePackages && first.version !== distribution.version)
      problems.push({
        path: distribution.metadataPath,
        name: distribution.name,
        detail: sanitizeLine(
          `a second installation of ${first.name} (${distribution.version} beside ${first.version}), left over by an interrupted install; ${first.version} is used`,
        ),
      });
  }
  const distributions = [...byName.values()].sort((a, b) => (a.normalizedName < b.normalizedName ? -1 : 1));
  problems.push(...(await missingEditableLocations(distributions)));
  const firstProblem = problems[0];
  if (options.strict && firstProblem)
    throw new PythonEnvError("BROKEN_DISTRIBUTION", firstProblem.detail, {
      location: sanitizeLine(firstProblem.path),
    });
  return { distributions, problems };
}

/** Editables whose project directory was deleted: importing them fails, so the user must hear about it. */
async function missingEditableLocations(
  distributions: readonly Distribution[],
): Promise<DistributionProblem[]> {
  const checks = distributions
    .filter((d) => d.format === "dist-info" && d.editableLocation !== undefined)
    .map(async (d): Promise<DistributionProblem | undefined> => {
      const location = d.editableLocation ?? "";
      const exists = await stat(location).then(
        () => true,
        () => false,
      );
      return exists
        ? undefined
        : {
            path: d.metadataPath,
            name: d.name,
            detail: sanitizeLine(
              `editable install of ${d.name} points at ${location}, which no longer exists (reinstall or uninstall it)`,
            ),
            editable: true,
          };
    });
  return (await Promise.all(checks)).filter((problem) => problem !== undefined);
}

/** The interpreter's distributions: its own site-packages (like `pip list -l`), the system ones on request. */
export function listDistributions(
  interpreter: Pick<Interpreter, "sitePackages" | "systemSitePackages">,
  options: ListDistributionsOptions = {},
): Promise<InstalledDistributions> {
  const directories = options.includeSystem
    ? [...interpreter.sitePackages, ...interpreter.systemSitePackages]
    : interpreter.sitePackages;
  return readDistributions(directories, options);
}
