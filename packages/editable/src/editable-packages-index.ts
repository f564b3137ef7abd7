import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The file shipped beside the editable zips of a job (cluster-pack's `EDITABLE_PACKAGES_INDEX`). A job launched
 * from inside that job reads it from its working directory to learn which directories there are editable
 * code to ship again: each line names one top-level package, which the cluster unpacked under that name.
 */
export const EDITABLE_PACKAGES_INDEX = "editable_packages_index";

/** One top-level name per line, each line ending in `\n`, in the order given (cluster-pack's format). */
export function formatEditablePackagesIndex(topLevelNames: Iterable<string>): string {
  return [...topLevelNames].map((name) => `${name}\n`).join("");
}

export function parseEditablePackagesIndex(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** Writes `<directory>/editable_packages_index` and returns its path. */
export async function writeEditablePackagesIndex(
  directory: string,
  topLevelNames: Iterable<string>,
): Promise<string> {
  const path = join(directory, EDITABLE_PACKAGES_INDEX);
  await writeFile(path, formatEditablePackagesIndex(topLevelNames));
  return path;
}
