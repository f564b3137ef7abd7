import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Distribution,
  type Interpreter,
  probeInterpreter,
  readDistributions,
} from "@cluster-pack/python-env";
import { buildWheel, createVenv, machinePython, pipInstall, type Venv } from "@cluster-pack/testkit";

/** Builds a pure wheel into a directory of its own (parallel builds must not share one) and returns that directory. */
export async function pureWheel(
  root: string,
  name: string,
  files: Record<string, string>,
  extra: { modules?: string[] } = {},
): Promise<string> {
  const directory = join(root, "wheels", name);
  await buildWheel({ name, version: "1.0", files, ...extra }, directory);
  return directory;
}

export interface FixtureEnv {
  venv: Venv;
  interpreter: Interpreter;
  /** Every distribution of the venv, pip and setuptools included. */
  all: Distribution[];
}

/** A venv of the machine's Python with the given requirements installed from these wheel directories, probed. */
export async function fixtureEnv(
  prefix: string,
  requirements: string[],
  wheelDirectories: string[],
): Promise<FixtureEnv> {
  const venv = await createVenv(machinePython, prefix);
  await pipInstall(venv, requirements, wheelDirectories);
  const interpreter = await probeInterpreter(venv.python);
  const { distributions } = await readDistributions(interpreter.sitePackages);
  return { venv, interpreter, all: distributions };
}

export const temporaryRoot = (name: string) => mkdtemp(join(tmpdir(), `cp-verify-${name}-`));
