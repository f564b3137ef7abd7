/** One zip of code under development, as uploaded beside the environment (the façade's `UploadedEnv.editable`). */
export interface EditableZip {
  /** The import name (`import <name>`); the zip is localized as `<name>.zip`. */
  name: string;
  /** Where the zip is stored. */
  uri: string;
}

/** The code under development shipped with an environment: what every emitter takes besides the environment. */
export interface EditableCode {
  /** The zips to put on `sys.path` (Spark `pyFiles`, YARN files). */
  editable?: readonly EditableZip[];
  /** Where cluster-pack's `editable_packages_index` is stored (the façade's `UploadedEnv.editableIndex`). */
  editableIndex?: string | undefined;
}

/**
 * The file shipped beside the editable zips of a job (cluster-pack's `EDITABLE_PACKAGES_INDEX`). A job launched
 * from inside that job reads it from its working directory to learn which directories there are editable code
 * to ship again: each line names one top-level package, which the cluster unpacked under that name.
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
