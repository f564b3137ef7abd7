export { mergeCommaList, splitCommaList } from "./comma-list.js";
export { condaUnpackCommand } from "./conda-unpack.js";
export type { EditableCode, EditableZip } from "./editable-code.js";
export { EDITABLE_PACKAGES_INDEX } from "./editable-code.js";
export { EnvUsageError, isEnvUsageError } from "./errors.js";
export { toHadoopUri } from "./hadoop-uri.js";
export type { PythonEnvDescription } from "./pyenv-usage.js";
export {
  basenameOf,
  getPyenvUsageFromArchive,
  UNPACKED_ENV_NAME,
  UNPACKED_VENV_NAME,
} from "./pyenv-usage.js";
export { shellJoin, shellQuote } from "./shell-quote.js";
