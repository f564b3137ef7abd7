import { readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type {
  EditableInstall,
  EditableMechanism,
  EditableScan,
  ImportableTopLevel,
} from "./editable-install.js";
import { EditableError } from "./errors.js";
import { parseFinderMapping } from "./finder-mapping.js";
import { sortByName, topLevelsInPathEntry, topLevelsOfFinder } from "./importable-top-levels.js";
import {
  editableProjectOf,
  parseMetadataHeaders,
  parseRecordPaths,
  parseTopLevelTxt,
  readOptionalText,
} from "./installed-metadata.js";
import { normalizeName } from "./normalize-name.js";
import { parsePthFile } from "./pth-file.js";

/**
 * Finds the editable installs declared in an environment's site-packages directories (in `sys.path` order,
 * as the interpreter probe reports them), reading metadata only: nothing is imported or executed.
 *
 * Recognised: dist-info with PEP 610 `direct_url.json` `dir_info.editable`, setuptools PEP 660
 * `__editable__.*.pth` files (finder `MAPPING` or path entry), other backends' `.pth` path entries listed in the
 * distribution's RECORD (hatchling, flit, pdm), and legacy `*.egg-link` files with their `.egg-info`.
 * A missing site-packages directory is skipped; everything else that is wrong becomes one entry of `problems`.
 */
export async function findEditableInstalls(
  sitePackagesDirectories: readonly string[],
): Promise<EditableScan> {
  const editables = new Map<string, EditableInstall>();
  const problems: EditableError[] = [];
  for (const sitePackages of sitePackagesDirectories) {
    let files: string[];
    try {
      files = (await readdir(sitePackages)).sort();
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === "ENOENT") continue;
      problems.push(
        new EditableError("UNREADABLE", `${sitePackages}: cannot read site-packages (${errno ?? "error"})`, {
          path: sitePackages,
          cause: error,
        }),
      );
      continue;
    }
    const candidates = [
      ...files
        .filter((file) => file.endsWith(".dist-info"))
        .map((file) => () => fromDistInfo(sitePackages, file)),
      ...files
        .filter((file) => file.endsWith(".egg-link"))
        .map((file) => () => fromEggLink(sitePackages, file)),
    ];
    for (const candidate of candidates) {
      let found: EditableInstall | undefined;
      try {
        found = await candidate();
      } catch (error) {
        problems.push(asProblem(error, sitePackages));
        continue;
      }
      if (found && !editables.has(found.name)) editables.set(found.name, found);
    }
  }
  return { editables: sortByName([...editables.values()]), problems };
}

function asProblem(error: unknown, sitePackages: string): EditableError {
  if (error instanceof EditableError) return error;
  const errno = (error as NodeJS.ErrnoException).code ?? "error";
  const path = (error as NodeJS.ErrnoException).path ?? sitePackages;
  return new EditableError("UNREADABLE", `${path}: cannot read installed metadata (${errno})`, {
    path,
    cause: error,
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Metadata name and version, falling back to the directory name (`<name>-<version>.dist-info`). */
function identity(headers: { name?: string; version?: string }, directoryName: string) {
  const [stem = "", fallbackVersion = ""] = directoryName.replace(/\.(dist|egg)-info$/, "").split("-");
  return { name: normalizeName(headers.name ?? stem), version: headers.version ?? fallbackVersion };
}

function missingProject(label: string, name: string, projectDir: string, origin: string) {
  return new EditableError(
    "MISSING_PROJECT",
    `${label}: project directory ${projectDir} no longer exists (installed by ${origin}); ` +
      `reinstall it with pip install -e <project> or remove it with pip uninstall ${name}`,
    { distribution: name, path: projectDir },
  );
}

function missingSource(label: string, name: string, what: string, path: string) {
  return new EditableError(
    "MISSING_SOURCE",
    `${label}: ${what} ${path} does not exist; reinstall the project with pip install -e`,
    { distribution: name, path },
  );
}

async function fromDistInfo(
  sitePackages: string,
  directoryName: string,
): Promise<EditableInstall | undefined> {
  const distInfo = join(sitePackages, directoryName);
  const directUrl = await readOptionalText(join(distInfo, "direct_url.json"));
  const declaredProject = directUrl === undefined ? undefined : editableProjectOf(directUrl);
  const record = parseRecordPaths((await readOptionalText(join(distInfo, "RECORD"))) ?? "");
  const pthFiles = record.filter((path) => !path.includes("/") && path.endsWith(".pth"));
  if (declaredProject === undefined && !pthFiles.some((file) => file.startsWith("__editable__.")))
    return undefined;

  const { name, version } = identity(
    parseMetadataHeaders((await readOptionalText(join(distInfo, "METADATA"))) ?? ""),
    directoryName,
  );
  const label = `${name} ${version} (editable)`;
  if (declaredProject !== undefined && !(await exists(declaredProject)))
    throw missingProject(label, name, declaredProject, join(distInfo, "direct_url.json"));
  const topLevelTxt = await readOptionalText(join(distInfo, "top_level.txt"));
  const declaredNames = topLevelTxt === undefined ? undefined : parseTopLevelTxt(topLevelTxt);

  const topLevels = new Map<string, ImportableTopLevel>();
  const pathEntries: string[] = [];
  let mechanism: EditableMechanism = "pth";
  for (const pthFile of pthFiles) {
    const text = await readOptionalText(join(sitePackages, pthFile));
    if (text === undefined) continue;
    const pth = parsePthFile(text, sitePackages);
    pathEntries.push(...pth.pathEntries);
    for (const module of pth.importedModules.filter((imported) => /^__editable__.*_finder$/.test(imported))) {
      mechanism = "finder";
      const finderPath = join(sitePackages, `${module}.py`);
      for (const topLevel of await finderTopLevels(finderPath, label, name))
        topLevels.set(topLevel.name, topLevel);
    }
  }
  for (const entry of pathEntries) {
    if (!(await exists(entry))) throw missingSource(label, name, "path entry", entry);
  }
  let projectDir = declaredProject ?? pathEntries[0];
  if (mechanism !== "finder") {
    if (pathEntries.length === 0) {
      // Only PEP 610 says it is editable: look where cluster-pack looks, the project and its src/.
      mechanism = "direct-url";
      if (declaredProject !== undefined) pathEntries.push(declaredProject, join(declaredProject, "src"));
    }
    for (const topLevel of await pathEntryTopLevels(pathEntries, declaredNames, label, name))
      topLevels.set(topLevel.name, topLevel);
  }
  const [firstTopLevel] = topLevels.values();
  projectDir ??= firstTopLevel ? dirname(firstTopLevel.path) : distInfo;
  return {
    name,
    version,
    projectDir,
    mechanism,
    sitePackages,
    topLevels: sortByName([...topLevels.values()]),
  };
}

async function finderTopLevels(
  finderPath: string,
  label: string,
  name: string,
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
      `${label}: cannot read the editable finder ${finderPath}: ${reason}; reinstall the project with pip install -e`,
      { distribution: name, path: finderPath },
    );
  const { topLevels, missing, unsupported } = await topLevelsOfFinder(finder);
  const [gone] = missing;
  if (gone) throw missingSource(label, name, `the source of "${gone.name}",`, gone.path);
  const [odd] = unsupported;
  if (odd)
    throw new EditableError(
      "UNSUPPORTED_LAYOUT",
      `${label}: cannot tell which directory holds "${odd.name}" from its mapping to ${odd.path} in ${finderPath}`,
      { distribution: name, path: odd.path },
    );
  return topLevels;
}

/** Declared names are looked up in each path entry in turn (first wins); without them each entry is scanned. */
async function pathEntryTopLevels(
  entries: readonly string[],
  declaredNames: readonly string[] | undefined,
  label: string,
  name: string,
): Promise<ImportableTopLevel[]> {
  const found = new Map<string, ImportableTopLevel>();
  for (const entry of entries) {
    const pending = declaredNames?.filter((declared) => !found.has(declared));
    const topLevels = await topLevelsInPathEntry(entry, pending);
    for (const topLevel of topLevels) if (!found.has(topLevel.name)) found.set(topLevel.name, topLevel);
  }
  const missing = declaredNames?.find((declared) => !found.has(declared));
  if (missing !== undefined)
    throw missingSource(
      label,
      name,
      `top-level "${missing}" (from top_level.txt) is in none of`,
      entries.join(", "),
    );
  return [...found.values()];
}

async function fromEggLink(sitePackages: string, fileName: string): Promise<EditableInstall> {
  const eggLink = join(sitePackages, fileName);
  const linkName = normalizeName(fileName.slice(0, -".egg-link".length));
  const label = `${linkName} (editable, egg-link)`;
  const [firstLine = ""] = ((await readOptionalText(eggLink)) ?? "").split(/\r?\n/);
  if (firstLine.trim() === "")
    throw new EditableError(
      "BROKEN_EGG_LINK",
      `${label}: ${eggLink} is empty; reinstall the project with pip install -e or delete the file`,
      { distribution: linkName, path: eggLink },
    );
  const projectDir = resolve(sitePackages, firstLine.trim());
  if (!(await exists(projectDir))) throw missingProject(label, linkName, projectDir, eggLink);

  const eggInfos = (await readdir(projectDir)).filter((file) => file.endsWith(".egg-info")).sort();
  const eggInfo =
    eggInfos.find((file) => identity({}, file).name === linkName) ??
    (eggInfos.length === 1 ? eggInfos[0] : undefined);
  if (eggInfo === undefined)
    throw new EditableError(
      "BROKEN_EGG_LINK",
      `${label}: no ${linkName}.egg-info in ${projectDir} (linked from ${eggLink}); reinstall the project with pip install -e`,
      { distribution: linkName, path: projectDir },
    );
  const { name, version } = identity(
    parseMetadataHeaders((await readOptionalText(join(projectDir, eggInfo, "PKG-INFO"))) ?? ""),
    eggInfo,
  );
  const topLevelTxt = await readOptionalText(join(projectDir, eggInfo, "top_level.txt"));
  const declaredNames = topLevelTxt === undefined ? undefined : parseTopLevelTxt(topLevelTxt);
  const topLevels = await pathEntryTopLevels(
    [projectDir],
    declaredNames,
    `${name} ${version} (editable)`,
    name,
  );
  return {
    name,
    version,
    projectDir,
    mechanism: "egg-link",
    sitePackages,
    topLevels: sortByName(topLevels),
  };
}
