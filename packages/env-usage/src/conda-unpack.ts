import type { PythonEnvDescription } from "./pyenv-usage.js";
import { shellQuote } from "./shell-quote.js";

/**
 * The shell command that finishes unpacking a conda archive where the cluster unpacked it: the conda packer ships
 * `bin/conda-unpack`, which writes the real path into the files that embed the environment's path. It is
 * idempotent and takes a lock, so every container sharing one localized archive may run it; a venv archive has no
 * such script and is left alone. Undefined for an environment that is not an unpacked prefix with `bin/python`
 * (a zipapp, the unpack layout).
 */
export function condaUnpackCommand(env: PythonEnvDescription): string | undefined {
  if (!env.mustUnpack || env.interpreterCmd !== `${env.destPath}/bin/python`) return undefined;
  const condaUnpack = shellQuote(`${env.destPath}/bin/conda-unpack`);
  return `if [ -x ${condaUnpack} ]; then ${condaUnpack}; fi`;
}
