import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Distribution, RecordEntry } from "@cluster-pack/python-env";
import type {
  EditableInstall,
  EditableMechanism,
  EditableScan,
  ImportableTopLevel,
} from "./editable-install.js";
import { EditableError } from "./errors.js";
import { parseFinderMapping } from "./finder-mapping.js";
import { sortByName, topLevelsInPathEntry, topLevelsOfFinder } from "./importable-top-levels.js";
import { parsePthFile } from "./pth-file.js";

/**
 * Where the code of each editable distribution is: the distributions are python-env's (`listDistributions`),
 * which decides which are editable (`editable: true`: PEP 610 `direct_url.json` `dir_info.editable`, a
 * RECORD-listed setuptools `__editable__.*.pth`, or a legacy `.egg-link`); the others are ignored. For each
 * editable this works out how the installer made it importable and its importable top-levels, from its metadata
 * only: nothing is imported or executed.
 *
 * Understood: setuptools PEP 660 `__editable__.*.pth` files (finder `MAPPING` or path entry), other backends'
 * `.pth` path entries listed in the distribution's RECORD (hatchling, flit, pdm), legacy `.egg-link` installs
 * (the project directory python-env found), and PEP 610 alone (the project and its `src/` are scanned).
 * One distribution per normalised name, the first given (python-env lists the one on `sys.path` first);
 * everything that is wrong with one becomes one entry of `problems`, and the others are still found.
 */
export async function findEditableInstalls(distributions: readonly Distribution[]): Promise<EditableScan> {
  const editables = new Map<string, EditableInstall>();
  const problems: EditableError[] = [];
  const seen = new Set<string>();
  for (const distribution of distributions) {
    if (!distribution.editable || seen.has(distribution.normalizedName)) continue;
    seen.add(distribution.normalizedName);
    try {
      const found =
        distribution.format === "egg-info"
          ? await fromEggLink(distribution)
          : await fromDistInfo(distribution);
      editables.set(found.name, found);
    } catch (error) {
      problems.push(asProblem(error, distribution));
    }
  }
  return { editables: sortByName([...editables.values()]), problems };
}

/** `flat-pkg 1.0 (editable)`: how every message names the distribution. */
const labelOf = (distribution: Distribution) =>
  `${distribution.normalizedName} ${distribution.version} (editable)`;

function asProblem(error: unknown, distribution: Distribution): EditableError {
  if (error instanceof EditableError) return error;
  const errno = (error as NodeJS.ErrnoException).code ?? "error";
  const path = (error as NodeJS.ErrnoException).path ?? distribution.metadataPath;
  return new EditableError(
    "UNREADABLE",
    `cannot read this file of ${labelOf(distribution)} (${errno}); check its permissions`,
    { distribution: distribution.normalizedName, location: path, cause: error },
  );
}

/** A `.pth` or finder file's text, or `undefined` when the file does not exist. */
async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Reading a directory fails with EISDIR and no path: name the file for the message.
    (error as NodeJS.ErrnoException).path ??= path;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** What recorded the project directory, for the message saying it is gone. */
function originOf(distribution: Distribution, editablePth: string | undefined): string {
  if (distribution.format === "egg-info") return "linked by its .egg-link (setup.py develop)";
  if (distribution.directUrl?.dir_info?.editable === true)
    return `recorded in ${relative(distribution.sitePackages, distribution.metadataPath)}/direct_url.json`;
  return `put on sys.path by ${editablePth ?? "its .pth file"}`;
}

function missingProject(distribution: Distribution, projectDir: string, origin: string) {
  const name = distribution.normalizedName;
  return new EditableError(
    "MISSING_PROJECT",
    `project directory of ${labelOf(distribution)} no longer exists (${origin}); ` +
      `reinstall it with pip install -e <project> or remove it with pip uninstall ${name}`,
    { distribution: name, location: projectDir },
  );
}

/** `what` says which source of the distribution is missing (the location is the path that is gone). */
function missingSource(distribution: Distribution, what: string, path: string) {
  return new EditableError(
    "MISSING_SOURCE",
    `${what} of ${labelOf(distribution)} does not exist; reinstall the project with pip install -e <project>`,
    { distribution: distribution.normalizedName, location: path },
  );
}

/**
 * The names `top_level.txt` declares, when it does: python-env's `topLevel` falls back to the names the RECORD's
 * files provide, which for an editable are the installer's helpers in site-packages (setuptools'
 * `__editable___…_finder`, the `editables` redirector), not the project's code. `undefined`: scan the path entries.
 */
function declaredTopLevels(distribution: Distribution): string[] | undefined {
  const installed = installedNames(distribution.files ?? []);
  const declared = distribution.topLevel.filter((name) => !installed.has(name));
  return declared.length > 0 ? declared : undefined;
}

function installedNames(files: readonly RecordEntry[]): Set<string> {
  const names = new Set<string>();
  for (const { path } of files) {
    const [first = "", ...rest] = path.split("/");
    names.add(rest.length > 0 ? first : (first.split(".")[0] ?? first));
  }
  return names;
}

async function fromDistInfo(distribution: Distribution): Promise<EditableInstall> {
  const { sitePackages } = distribution;
  const pthFiles = (distribution.files ?? [])
    .map((file) => file.path)
    .filter((path) => !path.includes("/") && path.endsWith(".pth"));
  const editablePth = pthFiles.find((file) => file.startsWith("__editable__."));
  const declaredProject = distribution.editableLocation;
  if (declaredProject !== undefined && !(await exists(declaredProject)))
    throw missingProject(distribution, declaredProject, originOf(distribution, editablePth));
  const declaredNames = declaredTopLevels(distribution);

  const topLevels = new Map<string, ImportableTopLevel>();
  const pathEntries: string[] = [];
  let mechanism: EditableMechanism = "pth";
  for (const pthFile of pthFiles) {
    const text = await readOptionalText(join(sitePackages, pthFile));
    if (text === undefined) continue;
    const pth = parsePthFile(text, sitePackages);
    for (const entry of pth.pathEntries) {
      if (!(await exists(entry))) throw missingSource(distribution, `the path entry in ${pthFile}`, entry);
      pathEntries.push(entry);
    }
    for (const module of pth.importedModules.filter((imported) => /^__editable__.*_finder$/.test(imported))) {
      mechanism = "finder";
      for (const topLevel of await finderTopLevels(join(sitePackages, `${module}.py`), distribution))
        topLevels.set(topLevel.name, topLevel);
    }
  }
  let projectDir = declaredProject ?? pathEntries[0];
  if (mechanism !== "finder") {
    if (pathEntries.length === 0) {
      // Only PEP 610 says where the project is: look where cluster-pack looks, the project and its src/.
      mechanism = "direct-url";
      if (declaredProject !== undefined) pathEntries.push(declaredProject, join(declaredProject, "src"));
    }
    for (const topLevel of await pathEntryTopLevels(pathEntries, declaredNames, distribution))
      topLevels.set(topLevel.name, topLevel);
  }
  const [firstTopLevel] = topLevels.values();
  projectDir ??= firstTopLevel ? dirname(firstTopLevel.path) : distribution.metadataPath;
  return {
    name: distribution.normalizedName,
    version: distribution.version,
    projectDir,
    mechanism,
    sitePackages,
    topLevels: sortByName([...topLevels.values()]),
  };
}

async function finderTopLevels(
  finderPath: string,
  distribution: Distribution,
): Promise<ImportableTopLevel[]> {
  const text = await readOptionalText(finderPath);
  let finder: ReturnType<typeof parseFinderMapping>;
  let reason = "it is missing";
  try {
    finder = text === undefined ? undefined : parseFinderMapping(text);
    if (text !== undefined) reason = "it has no MAPPING assignment";
  } catch (error) {
    finder = undefined;
    reason = `its MAPPING is not a dict of strings (${(error as Error).message})`;
  }
  if (!finder)
    throw new EditableError(
      "UNPARSABLE_FINDER",
      `cannot read the editable finder of ${labelOf(distribution)}: ${reason}; ` +
        "reinstall the project with pip install -e <project>",
      { distribution: distribution.normalizedName, location: finderPath },
    );
  const { topLevels, missing, unsupported } = await topLevelsOfFinder(finder);
  const [gone] = missing;
  if (gone) throw missingSource(distribution, `"${gone.name}", as its editable finder maps it,`, gone.path);
  const [odd] = unsupported;
  if (odd)
    throw new EditableError(
      "UNSUPPORTED_LAYOUT",
      `cannot tell which directory holds "${odd.name}" of ${labelOf(distribution)}, which its editable finder ` +
        "maps here; reinstall the project with pip install -e <project> --config-settings editable_mode=compat",
      { distribution: distribution.normalizedName, location: odd.path },
    );
  return topLevels;
}

/** Declared names are looked up in each path entry in turn (first wins); without them each entry is scanned. */
async function pathEntryTopLevels(
  entries: readonly string[],
  declaredNames: readonly string[] | undefined,
  distribution: Distribution,
): Promise<ImportableTopLevel[]> {
  const found = new Map<string, ImportableTopLevel>();
  for (const entry of entries) {
    const pending = declaredNames?.filter((declared) => !found.has(declared));
    const topLevels = await topLevelsInPathEntry(entry, pending);
    for (const topLevel of topLevels) if (!found.has(topLevel.name)) found.set(topLevel.name, topLevel);
  }
  const missing = declaredNames?.find((declared) => !found.has(declared));
  if (missing !== undefined) {
    const [first, ...others] = entries;
    throw new EditableError(
      "MISSING_SOURCE",
      `top-level "${missing}" of ${labelOf(distribution)} (listed in top_level.txt) is ` +
        (first === undefined
          ? "nowhere: its .pth files put no directory on sys.path"
          : `not in this directory${others.length > 0 ? ` nor in ${others.join(", ")}` : ""}`) +
        "; reinstall the project with pip install -e <project>",
      { distribution: distribution.normalizedName, location: first ?? distribution.metadataPath },
    );
  }
  return [...found.values()];
}

/** A legacy `setup.py develop` install: python-env found its project directory and the `.egg-info` in it. */
async function fromEggLink(distribution: Distribution): Promise<EditableInstall> {
  const projectDir = distribution.editableLocation;
  if (projectDir === undefined)
    throw new EditableError(
      "BROKEN_EGG_LINK",
      `${labelOf(distribution)} names no project directory; ` +
        "reinstall the project with pip install -e <project>, or delete its .egg-link",
      { distribution: distribution.normalizedName, location: distribution.metadataPath },
    );
  if (!(await exists(projectDir)))
    throw missingProject(distribution, projectDir, originOf(distribution, undefined));
  const topLevels = await pathEntryTopLevels([projectDir], declaredTopLevels(distribution), distribution);
  return {
    name: distribution.normalizedName,
    version: distribution.version,
    projectDir,
    mechanism: "egg-link",
    sitePackages: distribution.sitePackages,
    topLevels: sortByName(topLevels),
  };
}
