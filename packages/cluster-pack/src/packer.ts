import { ClusterPackError } from "./errors.js";

/**
 * How the environment is packed: the self-executing zipapp (`env.pex`), the unpack layout (`env.pex.zip`,
 * cluster-pack's `allow_large_pex`), a relocatable venv archive, or a conda-pack-style archive of a conda
 * environment (both unpacked by the cluster as `environment`, run as `environment/bin/python`).
 */
export type Packer = "pex" | "pex.zip" | "venv" | "conda";

export const packers: readonly Packer[] = ["pex", "pex.zip", "venv", "conda"];

/** The archive's file format, named after its extension (`.tgz` is `tar.gz`). */
export type ArchiveFormat = "pex" | "pex.zip" | "tar.gz" | "zip";

export const archiveFormats: readonly ArchiveFormat[] = ["pex", "pex.zip", "tar.gz", "zip"];

/** The formats each packer writes, its default first. */
const formatsOf: Record<Packer, readonly ArchiveFormat[]> = {
  pex: ["pex"],
  "pex.zip": ["pex.zip"],
  venv: ["tar.gz", "zip"],
  conda: ["tar.gz", "zip"],
};

/** The format a packer writes unless told otherwise; a format's name is its file extension. */
export const defaultFormatOf = (packer: Packer): ArchiveFormat => formatsOf[packer][0] as ArchiveFormat;

const withoutQuery = (path: string) => path.split(/[?#]/)[0] ?? path;

/** The format an archive name says, from its extension; undefined for a name we cannot ship. */
export function formatOfPath(path: string): ArchiveFormat | undefined {
  const name = withoutQuery(path);
  if (name.endsWith(".pex.zip")) return "pex.zip";
  if (name.endsWith(".pex")) return "pex";
  if (/\.(tar\.gz|tgz)$/.test(name)) return "tar.gz";
  if (name.endsWith(".zip")) return "zip";
  return undefined;
}

/** Which packer made an archive, when its name alone says it (`.pex`, `.pex.zip`); a `.tar.gz` may be venv or conda. */
export function packerOfPath(path: string): Packer | undefined {
  const format = formatOfPath(path);
  return format === "pex" || format === "pex.zip" ? format : undefined;
}

/** An archive's name without the extension of its format: `env.pex` → `env`, `env.tar.gz` → `env`. */
export const archiveStem = (name: string) =>
  withoutQuery(name).replace(/\.(pex\.zip|pex|tar\.gz|tgz|zip)$/, "");

/** `.pex`, or `.tar.gz, .tgz or .zip`. */
const extensionsOf = (packer: Packer) =>
  formatsOf[packer]
    .flatMap((format) => (format === "tar.gz" ? [".tar.gz", ".tgz"] : [`.${format}`]))
    .join(", ")
    .replace(/, ([^,]+)$/, " or $1");

/**
 * `path` with an extension of the packer's (of `format`, when one was asked for), or an INVALID_ARGUMENT error
 * naming them (cluster-pack's check).
 */
export function checkExtension(path: string, packer: Packer, format?: ArchiveFormat): void {
  const found = formatOfPath(path);
  if (found !== undefined && formatsOf[packer].includes(found) && (format === undefined || found === format))
    return;
  const expected =
    format !== undefined && formatsOf[packer].length > 1
      ? `a ${format} archive's name must end in ${format === "tar.gz" ? ".tar.gz or .tgz" : `.${format}`}`
      : `wrong extension for the ${packer} packer: the archive name must end in ${extensionsOf(packer)}`;
  throw new ClusterPackError("INVALID_ARGUMENT", expected, { where: path });
}

export function checkPacker(packer: string): Packer {
  if (!(packers as readonly string[]).includes(packer))
    throw new ClusterPackError(
      "INVALID_ARGUMENT",
      `unknown packer "${packer}": use ${packers.map((p) => `"${p}"`).join(", ")}`,
    );
  return packer as Packer;
}

export function checkFormat(format: string): ArchiveFormat {
  if (!(archiveFormats as readonly string[]).includes(format))
    throw new ClusterPackError(
      "INVALID_ARGUMENT",
      `unknown archive format "${format}": use ${archiveFormats.map((f) => `"${f}"`).join(", ")}`,
    );
  return format as ArchiveFormat;
}

/**
 * The packer and format of an archive, from what was asked and what the environment is. The packer comes from
 * the option, else from the format (the option, else the archive's extension): `pex` and `pex.zip` name their
 * packer, `tar.gz` and `zip` mean a conda archive for a conda environment and a venv archive otherwise; with
 * neither, `pex`. The format comes from the option, else the extension, else the packer's default (`tar.gz`).
 */
export function choosePacking(
  options: { packer?: string | undefined; format?: string | undefined; path?: string | undefined },
  environmentKind?: "venv" | "conda" | "system",
): { packer: Packer; format: ArchiveFormat } {
  const requested = options.packer === undefined ? undefined : checkPacker(options.packer);
  const asked = options.format === undefined ? undefined : checkFormat(options.format);
  const named = options.path === undefined ? undefined : formatOfPath(options.path);
  const format = asked ?? named;
  const packer: Packer =
    requested ??
    (format === "pex" || format === "pex.zip"
      ? format
      : format === undefined
        ? "pex"
        : environmentKind === "conda"
          ? "conda"
          : "venv");
  if (asked !== undefined && !formatsOf[packer].includes(asked))
    throw new ClusterPackError(
      "INVALID_ARGUMENT",
      `the ${packer} packer writes ${extensionsOf(packer)} archives, not .${asked}`,
    );
  if (options.path !== undefined) checkExtension(options.path, packer, asked);
  return { packer, format: format ?? defaultFormatOf(packer) };
}
