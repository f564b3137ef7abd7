import { execute as executeCommand, type Outcome } from "@cluster-pack/testkit";

export type { Outcome };

/** Runs a command to completion with a clean Python environment, feeding `input` (default nothing) on stdin. */
export function execute(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<Outcome> {
  return executeCommand(command, args, {
    ...options,
    env: { ...cleanEnv(), ...options.env },
    input: options.input ?? "",
  });
}

/** The test runner's environment minus what would leak another Python setup into the archive's process. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(PEX_|PYTHON|VIRTUAL_ENV$)/.test(name)) delete env[name];
  return env;
}
