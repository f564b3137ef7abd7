// Runs the built CLI the way a user does: `node dist/cli.js …` in a child process, stdout a pipe.
import { fileURLToPath } from "node:url";
import { execute, machinePython, type Outcome } from "@cluster-pack/testkit";
import { expect } from "vitest";

export const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export type CliOutcome = Outcome;

/** A clean environment: no venv, no Hadoop configuration, no S3 endpoint, no Kerberos ticket unless the test gives one. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1" };
  for (const name of [
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "HADOOP_CONF_DIR",
    "HADOOP_HOME",
    "PEX",
    "C_PACK_ENV_FALLBACK_PATH",
    "CLUSTER_PACK_PLUGINS",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_PROFILE",
    "KRB5CCNAME",
  ])
    delete env[name];
  return { ...env, ...extra };
}

export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliOutcome> {
  return execute(process.execPath, [cliPath, ...args], {
    env: options.env ?? baseEnv(),
    ...(options.cwd && { cwd: options.cwd }),
  });
}

/** stderr must be `error: …` matching `pattern`, then one hint line (or the pointer to --debug), and nothing else. */
export function expectOneError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[1]).toMatch(/^(hint: .+|\(run with --debug for details\))$/);
}

/** Runs an archive with a real Python, the editable zips on PYTHONPATH, as a Spark executor would. */
export function runArchive(archive: string, pythonPath: string, code: string, pexRoot: string) {
  return execute(machinePython, [archive, "-c", code], {
    env: baseEnv({ PEX_ROOT: pexRoot, PYTHONPATH: pythonPath }),
  });
}
