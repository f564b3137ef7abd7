// The files the build makes, and the environment of a machine without Node: the executable is run with a PATH that
// holds only the tools it starts (python3), so that nothing can quietly fall back to a `node` on the machine.
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execute } from "@cluster-pack/testkit";

export const executable = fileURLToPath(new URL("../dist/cluster-pack", import.meta.url));
export const oneFileBundle = fileURLToPath(new URL("../dist/cluster-pack.cjs", import.meta.url));
export const makeExecutableScript = fileURLToPath(new URL("../dist/make-executable.cjs", import.meta.url));

/** A directory holding a link to the machine's python3 only, to be the whole PATH. */
export async function pathWithoutNode(root: string): Promise<string> {
  const bin = join(root, "bin-without-node");
  await mkdir(bin, { recursive: true });
  const python = (await execute("python3", ["-c", "import sys, os; print(os.path.realpath(sys.executable))"]))
    .stdout;
  await symlink(python.trim(), join(bin, "python3"));
  return bin;
}

/** The variables a user's shell would have, minus anything pointing at a venv, a cluster or Node. */
export function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    HOME: process.env.HOME ?? "/root",
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    ...extra,
  };
}
