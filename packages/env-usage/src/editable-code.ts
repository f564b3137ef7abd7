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

/** The name cluster-pack gives the index of editable top-level packages, one a line. */
export const EDITABLE_PACKAGES_INDEX = "editable_packages_index";
