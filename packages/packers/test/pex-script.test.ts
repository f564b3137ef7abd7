import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeInterpreter, readDistributions } from "@cluster-pack/python-env";
import { buildWheel, createVenv, machinePython, pipInstall } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packZipapp } from "../src/index.js";
import { execute } from "./run-archive.js";

let root: string;
let pex: string;
let pexRoot: string;

const tool = `import json, sys
def main():
    print(json.dumps(sys.argv[1:]))
    return 3
`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-pex-script-"));
  const wheels = join(root, "wheels");
  await buildWheel(
    {
      name: "scripted",
      version: "1.0",
      files: { "scripted/__init__.py": "", "scripted/tool.py": tool },
      consoleScripts: { "scripted-tool": "scripted.tool:main", "other-tool": "scripted.tool:main" },
    },
    wheels,
  );
  const env = await createVenv(machinePython, join(root, "env"));
  await pipInstall(env, ["scripted"], [wheels]);
  pex = join(root, "env.pex");
  const interpreter = await probeInterpreter(env.python);
  // Only the wheel under test: the venv's pip has console scripts of its own.
  const { distributions } = await readDistributions(interpreter.sitePackages);
  await packZipapp({
    interpreter,
    distributions: distributions.filter((d) => d.name === "scripted"),
    output: pex,
  });
  pexRoot = join(root, "pex-root");
}, 90_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("PEX_SCRIPT", () => {
  it("runs the named console script with the arguments and its exit status", async () => {
    const outcome = await execute(machinePython, [pex, "a", "b c"], {
      env: { PEX_ROOT: pexRoot, PEX_SCRIPT: "scripted-tool" },
    });
    expect(outcome).toMatchObject({ code: 3, stdout: '["a", "b c"]\n', stderr: "" });
  });

  it("names the console scripts the archive has when the one asked for is not among them", async () => {
    const outcome = await execute(machinePython, [pex], {
      env: { PEX_ROOT: pexRoot, PEX_SCRIPT: "missing-tool" },
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe(
      `${pex}: PEX_SCRIPT=missing-tool is not a console script of this archive (it has: other-tool, scripted-tool)\n`,
    );
  });

  it("leaves the interpreter behaviour alone when PEX_INTERPRETER is set", async () => {
    const outcome = await execute(machinePython, [pex, "-c", "print('interpreter')"], {
      env: { PEX_ROOT: pexRoot, PEX_SCRIPT: "scripted-tool", PEX_INTERPRETER: "1" },
    });
    expect(outcome).toMatchObject({ code: 0, stdout: "interpreter\n" });
  });
});
