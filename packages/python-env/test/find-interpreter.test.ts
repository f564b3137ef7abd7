import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findInterpreter } from "../src/index.js";

let bin: string;

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), "cp-find-python-"));
  await writeFile(join(bin, "python3"), "#!/bin/sh\n", { mode: 0o755 });
});
afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});

describe("finding the interpreter", () => {
  const env = () => ({ PATH: bin, VIRTUAL_ENV: "/opt/venv", CONDA_PREFIX: "/opt/conda/envs/ml" });

  it("prefers the explicit option", async () => {
    expect(await findInterpreter({ python: "/usr/bin/python3", env: env() })).toEqual({
      python: "/usr/bin/python3",
      source: "option",
    });
  });

  it("looks an explicit command name up on PATH", async () => {
    expect(await findInterpreter({ python: "python3", env: env() })).toEqual({
      python: join(bin, "python3"),
      source: "option",
    });
  });

  it("then uses the active virtualenv", async () => {
    expect(await findInterpreter({ env: env() })).toEqual({
      python: "/opt/venv/bin/python",
      source: "VIRTUAL_ENV",
    });
  });

  it("then the active conda environment", async () => {
    const { VIRTUAL_ENV: _, ...conda } = env();
    expect(await findInterpreter({ env: conda })).toEqual({
      python: "/opt/conda/envs/ml/bin/python",
      source: "CONDA_PREFIX",
    });
  });

  it("then python3 on PATH", async () => {
    expect(await findInterpreter({ env: { PATH: bin } })).toEqual({
      python: join(bin, "python3"),
      source: "PATH",
    });
  });
});
