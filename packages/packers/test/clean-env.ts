import { execute as executeCommand, type Outcome } from "@cluster-pack/testkit";

/**
 * Runs a command of an unpacked archive with no stdin and without the test runner's Python settings
 * (`PYTHON*`, `VIRTUAL_ENV`, `CONDA_PREFIX`), which would otherwise leak another environment into it.
 */
export function execute(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Outcome> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(PEX_|PYTHON|VIRTUAL_ENV$|CONDA_)/.test(name)) delete env[name];
  return executeCommand(command, args, { ...options, env: { ...env, ...options.env } });
}
