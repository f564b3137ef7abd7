import { basenameOf, EnvUsageError, type PythonEnvDescription } from "@cluster-pack/env-usage";

/** What the environment's Python runs: a module (`-m`), a script shipped with the service, or code (`-c`). */
export type PythonEntryPoint =
  | { module: string; args?: readonly string[] }
  | {
      /** The script's path or URI; it is shipped into the container under its file name. */
      script: string;
      args?: readonly string[];
    }
  | { code: string; args?: readonly string[] };

/** The words of the command that runs an entry point with the environment's interpreter. */
export function pythonCommand(env: PythonEnvDescription, entryPoint: PythonEntryPoint): string[] {
  const args = entryPoint.args ?? [];
  if ("module" in entryPoint) {
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(entryPoint.module))
      throw new EnvUsageError(
        `"${entryPoint.module}" is not a module name; pass a dotted import name such as my_pkg.train`,
        "module",
      );
    return [env.interpreterCmd, "-m", entryPoint.module, ...args];
  }
  if ("script" in entryPoint) return [env.interpreterCmd, scriptFileName(entryPoint.script), ...args];
  return [env.interpreterCmd, "-c", entryPoint.code, ...args];
}

/** The name a script is localized under in the container. */
export function scriptFileName(script: string) {
  const name = basenameOf(script);
  if (name === "" || name === "." || name === "..")
    throw new EnvUsageError("the script must name a file, such as train.py", script);
  return name;
}
