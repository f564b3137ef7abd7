import { readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { type ArchiveEntry, collectTree } from "@cluster-pack/archive";
import { findEditableInstalls } from "@cluster-pack/editable";
import { type Distribution, normalizeName } from "@cluster-pack/python-env";
import { isBytecode } from "./env-archive.js";
import { PackerError } from "./errors.js";
import { DEPS, editableFiles } from "./packed-files.js";

/** An editable install found in the environment, and whether its code went into the archive. */
export interface EditableInArchive {
  /** PEP 503 name. */
  name: string;
  baked: boolean;
}

/**
 * How the archive treats the environment's editable installs. Their `.pth` files, finders and egg-links name the
 * project directory on this machine, which does not exist on the cluster, so they never go in as they are:
 * - left out (default): every file of the install goes, metadata included; the code ships as the separate
 *   editable zips (uploadEnv), and nothing in the archive points at a missing directory;
 * - baked in: the code of each top-level is copied into site-packages as if installed from a wheel, the metadata
 *   stays (entry points, `importlib.metadata`) without `direct_url.json`, and RECORD lists what was copied.
 */
export interface EditablePlan {
  editables: EditableInArchive[];
  /** Whether a path of the environment (absolute) stays out of the archive. */
  isLeftOut(path: string): boolean;
  /** Files kept with other content (RECORD, easy-install.pth), by absolute path. */
  replaced: Map<string, Buffer>;
  /** New entries, named relative to the environment. */
  added: ArchiveEntry[];
}

export async function planEditables(
  prefix: string,
  distributions: readonly Distribution[],
  options: { bake: boolean },
): Promise<EditablePlan> {
  const editable = distributions.filter((distribution) => distribution.editable);
  const leftOutRoots = new Set<string>();
  const replaced = new Map<string, Buffer>();
  const added: ArchiveEntry[] = [];
  const codeOf = options.bake ? await bakedTopLevels(editable) : new Map<string, ArchiveEntry[]>();

  for (const distribution of editable) {
    const site = distribution.sitePackages;
    const siteName = relative(prefix, site);
    const code = (codeOf.get(distribution.normalizedName) ?? []).map((entry) => ({
      ...entry,
      name: `${siteName}/${entry.name}`,
    }));
    added.push(...code);
    if (distribution.format === "dist-info") {
      const metadataName = basename(distribution.metadataPath);
      const machinery = (distribution.files ?? [])
        .map((file) => file.path)
        .filter((path) => !path.startsWith(`${metadataName}/`));
      if (!options.bake) {
        leftOutRoots.add(distribution.metadataPath);
        for (const path of machinery) leftOutRoots.add(join(site, path));
        continue;
      }
      for (const path of [...machinery, `${metadataName}/direct_url.json`])
        leftOutRoots.add(join(site, path));
      const kept = (distribution.files ?? []).filter(
        (file) => file.path.startsWith(`${metadataName}/`) && file.path !== `${metadataName}/direct_url.json`,
      );
      replaced.set(
        join(distribution.metadataPath, "RECORD"),
        Buffer.from(recordOf(kept, code, siteName, metadataName)),
      );
      continue;
    }
    // Legacy `setup.py develop`: an egg-link and a line of easy-install.pth, the metadata in the project.
    for (const link of eggLinksOf(site, distribution.normalizedName)) leftOutRoots.add(join(site, link));
    const easyInstall = join(site, "easy-install.pth");
    const text = replaced.get(easyInstall)?.toString() ?? readOptional(easyInstall);
    if (text !== undefined)
      replaced.set(
        easyInstall,
        Buffer.from(
          text
            .split("\n")
            .filter((line) => line.trim() !== distribution.editableLocation)
            .join("\n"),
        ),
      );
    if (options.bake)
      added.push(
        ...collectTree(distribution.metadataPath, {
          prefix: `${siteName}/${basename(distribution.metadataPath)}`,
          filter: (name, kind) => !isBytecode(name, kind),
        }),
      );
  }
  const roots = [...leftOutRoots];
  return {
    editables: editable.map((distribution) => ({ name: distribution.normalizedName, baked: options.bake })),
    isLeftOut: (path) => roots.some((root) => path === root || path.startsWith(`${root}/`)),
    replaced,
    added,
  };
}

/** The code of every top-level of the editable installs, by distribution, named relative to site-packages. */
async function bakedTopLevels(editable: readonly Distribution[]): Promise<Map<string, ArchiveEntry[]>> {
  const { editables, problems } = await findEditableInstalls(editable);
  const [problem] = problems;
  if (problem)
    throw new PackerError("INVALID_ARGUMENT", problem.detail, { location: problem.location, cause: problem });
  return new Map(
    editables.map((install) => [
      install.name,
      editableFiles(install).map((entry) => ({ ...entry, name: entry.name.slice(DEPS.length + 1) })),
    ]),
  );
}

/** RECORD of a baked-in editable: its kept metadata lines as they were, the copied code without hashes. */
function recordOf(
  kept: readonly { path: string; hash?: string; size?: number }[],
  code: readonly ArchiveEntry[],
  siteName: string,
  metadataName: string,
): string {
  const csv = (field: string) => (/[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field);
  const lines = kept
    .filter((file) => file.path !== `${metadataName}/RECORD`)
    .map((file) => `${csv(file.path)},${file.hash ?? ""},${file.size ?? ""}`);
  for (const entry of code)
    if (entry.kind !== "directory") lines.push(`${csv(entry.name.slice(siteName.length + 1))},,`);
  lines.sort();
  lines.push(`${metadataName}/RECORD,,`);
  return `${lines.join("\n")}\n`;
}

function eggLinksOf(site: string, normalizedName: string): string[] {
  return readdirSync(site).filter(
    (name) =>
      name.endsWith(".egg-link") && normalizeName(name.slice(0, -".egg-link".length)) === normalizedName,
  );
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
