import {
  type ArchiveFormat,
  archiveFormats,
  defaultFormatOf,
  describeExtensions,
  formatOfPath,
  formatsOfPacker,
  type Packer,
  packerOfFormat,
  packers,
} from "@cluster-pack/env-usage";
import { ShippingError } from "./errors.js";

const extensionsOf = (packer: Packer) => describeExtensions(formatsOfPacker(packer));

/** The format of an archive cluster-pack writes, or an INVALID_ARGUMENT error naming the names it takes. */
export function formatOfArchive(path: string): ArchiveFormat {
  const format = formatOfPath(path);
  if (format === undefined)
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `not an archive cluster-pack writes: the name must end in ${describeExtensions(archiveFormats)}`,
      { location: path },
    );
  return format;
}

/**
 * `path` with an extension of the packer's (of `format`, when one was asked for), or an INVALID_ARGUMENT error
 * naming them (cluster-pack's check).
 */
export function checkExtension(path: string, packer: Packer, format?: ArchiveFormat): void {
  const found = formatOfPath(path);
  if (
    found !== undefined &&
    formatsOfPacker(packer).includes(found) &&
    (format === undefined || found === format)
  )
    return;
  const expected =
    format !== undefined && formatsOfPacker(packer).length > 1
      ? `a ${format} archive's name must end in ${describeExtensions([format])}`
      : `wrong extension for the ${packer} packer: the archive name must end in ${extensionsOf(packer)}`;
  throw new ShippingError("INVALID_ARGUMENT", expected, { location: path });
}

export function checkPacker(packer: string): Packer {
  if (!(packers as readonly string[]).includes(packer))
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `unknown packer "${packer}": use ${packers.map((p) => `"${p}"`).join(", ")}`,
    );
  return packer as Packer;
}

export function checkFormat(format: string): ArchiveFormat {
  if (!(archiveFormats as readonly string[]).includes(format))
    throw new ShippingError(
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
    packerOfFormat(format) ??
    (format === undefined ? "pex" : environmentKind === "conda" ? "conda" : "venv");
  if (asked !== undefined && !formatsOfPacker(packer).includes(asked))
    throw new ShippingError(
      "INVALID_ARGUMENT",
      `the ${packer} packer writes ${extensionsOf(packer)} archives, not .${asked}`,
    );
  if (options.path !== undefined) checkExtension(options.path, packer, asked);
  return { packer, format: format ?? defaultFormatOf(packer) };
}
