export type { ArchiveFormat, Packer } from "./archive-formats.js";
export {
  archiveFormats,
  archiveStem,
  basenameOf,
  defaultFormatOf,
  describeExtensions,
  editableDirectoryOf,
  formatOfPath,
  formatsOfPacker,
  isArchiveName,
  metadataPathOf,
  packerOfFormat,
  packers,
} from "./archive-formats.js";
export { mergeCommaList, splitCommaList } from "./comma-list.js";
export { condaUnpackCommand } from "./conda-unpack.js";
export type { EditableCode, EditableZip } from "./editable-code.js";
export {
  EDITABLE_PACKAGES_INDEX,
  formatEditablePackagesIndex,
  parseEditablePackagesIndex,
} from "./editable-code.js";
export { EnvUsageError, isEnvUsageError } from "./errors.js";
export { fileSystemsToName, hadoopFileSystemOf } from "./hadoop-file-system.js";
export { toHadoopUri } from "./hadoop-uri.js";
export type { PythonEnvDescription } from "./pyenv-usage.js";
export { getPyenvUsageFromArchive, UNPACKED_ENV_NAME, UNPACKED_VENV_NAME } from "./pyenv-usage.js";
export { shellJoin, shellQuote } from "./shell-quote.js";
