export type {
  EditableInstall,
  EditableMechanism,
  EditableScan,
  ImportableTopLevel,
} from "./editable-install.js";
export type { EditableZipOptions, EditableZipShape } from "./editable-zip.js";
export { writeTopLevelZip, zipTopLevel } from "./editable-zip.js";
export type { EditableErrorCode, EditableErrorOptions } from "./errors.js";
export { EditableError, isEditableError } from "./errors.js";
export { findEditableInstalls } from "./find-editable-installs.js";
export { locateTopLevel } from "./importable-top-levels.js";
