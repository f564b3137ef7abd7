export { EnvUsageError, isEnvUsageError } from "./errors.js";
export type { PythonEnvDescription } from "./pyenv-usage.js";
export {
  basenameOf,
  getPyenvUsageFromArchive,
  UNPACKED_ENV_NAME,
  UNPACKED_VENV_NAME,
} from "./pyenv-usage.js";
