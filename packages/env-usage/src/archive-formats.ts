// The one place that knows the archives cluster-pack writes: which names mean which format, which packer writes
// which format, where an archive's metadata and editable code live beside it, and how a job runs each one.

/**
 * How an environment is packed: the self-executing zipapp (`env.pex`), the unpack layout (`env.pex.zip`,
 * cluster-pack's `allow_large_pex`), a relocatable venv archive, or a conda-pack-style archive of a conda
 * environment (both unpacked by the cluster as `environment`, run as `environment/bin/python`).
 */
export type Packer = "pex" | "pex.zip" | "venv" | "conda";

export const packers: readonly Packer[] = ["pex", "pex.zip", "venv", "conda"];

/** An archive's file format, named after its extension (`.tgz` is `tar.gz`). */
export type ArchiveFormat = "pex" | "pex.zip" | "tar.gz" | "zip";

export const archiveFormats: readonly ArchiveFormat[] = ["pex", "pex.zip", "tar.gz", "zip"];

/** The file-name endings of each format, the usual one first; longer endings are tried first (`.pex.zip`). */
const extensionsByFormat: Record<ArchiveFormat, readonly string[]> = {
  "pex.zip": [".pex.zip"],
  pex: [".pex"],
  "tar.gz": [".tar.gz", ".tgz"],
  zip: [".zip"],
};

/** The formats each packer writes, its default first. */
const formatsByPacker: Record<Packer, readonly ArchiveFormat[]> = {
  pex: ["pex"],
  "pex.zip": ["pex.zip"],
  venv: ["tar.gz", "zip"],
  conda: ["tar.gz", "zip"],
};

/** The last path segment of a path or URI, without query or fragment. */
export const basenameOf = (path: string) => {
  const withoutQuery = path.split(/[?#]/)[0] ?? path;
  return withoutQuery.replace(/\/+$/, "").split("/").at(-1) ?? "";
};

/**
 * The format and extension an archive's name ends with; undefined for a name that is not one of ours. The name
 * must be more than its extension: `.pex` alone is a hidden file, not an archive.
 */
function matchExtension(path: string): { format: ArchiveFormat; extension: string } | undefined {
  const name = basenameOf(path);
  for (const format of Object.keys(extensionsByFormat) as ArchiveFormat[])
    for (const extension of extensionsByFormat[format])
      if (name.endsWith(extension) && name.length > extension.length) return { format, extension };
  return undefined;
}

/** The format an archive's name says (`env.tgz` → `tar.gz`); undefined for any other name. */
export const formatOfPath = (path: string): ArchiveFormat | undefined => matchExtension(path)?.format;

/** Whether a name is one of the archives cluster-pack writes (`.pex`, `.pex.zip`, `.tar.gz`, `.tgz`, `.zip`). */
export const isArchiveName = (path: string) => matchExtension(path) !== undefined;

/** An archive's name without its format's extension: `env.pex` → `env`, `env.tar.gz` → `env`. */
export function archiveStem(path: string): string {
  const name = basenameOf(path);
  const match = matchExtension(name);
  return match ? name.slice(0, -match.extension.length) : name;
}

/** The packer an archive's format names (`pex`, `pex.zip`); a `tar.gz` or `zip` may be a venv or a conda archive. */
export function packerOfFormat(format: ArchiveFormat | undefined): Packer | undefined {
  return format === "pex" || format === "pex.zip" ? format : undefined;
}

/** The formats a packer writes, its default first. */
export const formatsOfPacker = (packer: Packer): readonly ArchiveFormat[] => formatsByPacker[packer];

/** The format a packer writes unless told otherwise. */
export const defaultFormatOf = (packer: Packer): ArchiveFormat => formatsByPacker[packer][0] as ArchiveFormat;

/** The name endings of some formats, for messages: `.tar.gz, .tgz or .zip`. */
export function describeExtensions(formats: readonly ArchiveFormat[]): string {
  return formats
    .flatMap((format) => extensionsByFormat[format])
    .join(", ")
    .replace(/, ([^,]+)$/, " or $1");
}

/**
 * `<archive without its last extension>.json`, as cluster-pack's `pathlib.Path(path).with_suffix(".json")`: only
 * the last suffix goes, so `env.pex` → `env.json`, `env.pex.zip` → `env.pex.json`, `env.tar.gz` → `env.tar.json`.
 */
export function metadataPathOf(archivePath: string): string {
  const slash = archivePath.lastIndexOf("/");
  const dot = archivePath.lastIndexOf(".");
  return dot > slash + 1 ? `${archivePath.slice(0, dot)}.json` : `${archivePath}.json`;
}

/**
 * `<dir>/<stem>_editable` (`envs/env.pex` → `envs/env_editable`): the editable zips of an environment live beside
 * its archive, one directory per archive, so two environments in one directory never overwrite each other's code.
 */
export function editableDirectoryOf(archivePath: string): string {
  const slash = archivePath.replace(/\/+$/, "").lastIndexOf("/");
  const directory = slash < 0 ? "" : archivePath.slice(0, slash + 1);
  return `${directory}${archiveStem(archivePath)}_editable`;
}
