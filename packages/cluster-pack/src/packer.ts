import { ClusterPackError } from "./errors.js";

/**
 * The archive formats we pack: the self-executing zipapp (`env.pex`) and the unpack layout (`env.pex.zip`,
 * cluster-pack's `allow_large_pex`). `venv` and `conda` archives come later.
 */
export type Packer = "pex" | "pex.zip";

export const packers: readonly Packer[] = ["pex", "pex.zip"];

/** The file extension (without the dot) of a packer's archives. */
export const extensionOf = (packer: Packer): string => packer;

/** Which packer made an archive, from its name; undefined for a name we cannot ship. */
export function packerOfPath(path: string): Packer | undefined {
  const name = path.split(/[?#]/)[0] ?? path;
  if (name.endsWith(".pex.zip")) return "pex.zip";
  if (name.endsWith(".pex")) return "pex";
  return undefined;
}

/** `path` with the packer's extension, or an INVALID_ARGUMENT error naming the expected one (cluster-pack's check). */
export function checkExtension(path: string, packer: Packer): void {
  if (packerOfPath(path) !== packer)
    throw new ClusterPackError(
      "INVALID_ARGUMENT",
      `wrong extension for the ${packer} packer: the archive name must end in .${extensionOf(packer)}`,
      { where: path },
    );
}

export function checkPacker(packer: string): Packer {
  if (!(packers as readonly string[]).includes(packer))
    throw new ClusterPackError(
      "INVALID_ARGUMENT",
      `unknown packer "${packer}": use ${packers.map((p) => `"${p}"`).join(" or ")}`,
    );
  return packer as Packer;
}
