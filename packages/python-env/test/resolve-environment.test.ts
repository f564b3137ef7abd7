import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { buildWheel, debianWheelDirectory, machinePython, run } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDistributions, probeInterpreter, resolveEnvironment } from "../src/index.js";
import { pipList } from "./ground-truth.js";

let root: string;
let wheels: string;
let python: string;
/** A PATH holding the base tools but neither uv nor any conda front-end (none is installed here). */
let plainPath: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-resolve-"));
  wheels = join(root, "wheels");
  await buildWheel(
    { name: "cp-resolved", version: "1.0.0", files: { "cp_resolved/__init__.py": "" } },
    wheels,
  );
  python = (await probeInterpreter(machinePython)).executable;
  plainPath = ["/usr/bin", "/bin"].join(delimiter);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * uv, mamba, micromamba and conda cannot be installed here (no network but npm): a stub of that name on PATH
 * records its arguments (and pip's index variables), which is what selecting the tool and building its command
 * line decide. A stub `uv venv` creates a real venv so the result can be probed.
 */
async function stubTool(name: string): Promise<{ path: string; log: string }> {
  const directory = await mkdtemp(join(root, `stub-${name}-`));
  const log = join(directory, "calls.log");
  await writeFile(
    join(directory, name),
    `#!/bin/sh
echo "$* | PIP_INDEX_URL=$PIP_INDEX_URL PIP_NO_INDEX=$PIP_NO_INDEX" >> ${log}
if [ "$1" = venv ]; then eval "last=\\\${$#}"; ${python} -m venv --without-pip "$last"; fi
`,
    { mode: 0o755 },
  );
  return { path: [directory, plainPath].join(delimiter), log };
}

describe("resolving a staging environment", () => {
  it("builds it with python -m venv and pip, offline from find-links, when uv is not on PATH", async () => {
    const prefix = join(root, "pip-staging");
    const staging = await resolveEnvironment({
      python,
      prefix,
      spec: { requirements: ["cp-resolved==1.0.0"] },
      noIndex: true,
      findLinks: [wheels, debianWheelDirectory],
      env: { PATH: plainPath },
    });
    expect(staging).toEqual({ prefix, python: join(prefix, "bin", "python"), tool: "pip" });
    const { distributions } = await listDistributions(await probeInterpreter(staging.python));
    const resolved = distributions.find((d) => d.normalizedName === "cp-resolved");
    expect(resolved?.version).toBe("1.0.0");
    expect(await pipList(staging.python, ["-l"])).toContainEqual(["cp-resolved", "1.0.0"]);
  }, 60_000);

  it("installs a requirements file", async () => {
    const file = join(root, "requirements.txt");
    await writeFile(file, "cp-resolved\n");
    const staging = await resolveEnvironment({
      python,
      prefix: join(root, "file-staging"),
      spec: { requirementsFile: file },
      noIndex: true,
      findLinks: [wheels],
      env: { PATH: plainPath },
    });
    expect(await run(staging.python, ["-c", "import cp_resolved; print('ok')"])).toBe("ok\n");
  }, 60_000);

  it("reports pip's own reason when a requirement cannot be found, and leaves no half-built environment", async () => {
    const prefix = join(root, "failing-staging");
    await expect(
      resolveEnvironment({
        python,
        prefix,
        spec: { requirements: ["cp-not-anywhere==9.9"] },
        noIndex: true,
        findLinks: [wheels],
        env: { PATH: plainPath },
      }),
    ).rejects.toMatchObject({
      code: "RESOLUTION_FAILED",
      message: "pip failed: ERROR: No matching distribution found for cp-not-anywhere==9.9",
    });
    await expect(stat(prefix)).rejects.toMatchObject({ code: "ENOENT" });
  }, 60_000);

  it("refuses a prefix that already holds files, and leaves them alone", async () => {
    const prefix = join(root, "occupied");
    await mkdir(prefix);
    await writeFile(join(prefix, "keep.txt"), "user data");
    await expect(
      resolveEnvironment({ python, prefix, spec: { requirements: [] }, env: { PATH: plainPath } }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("is not empty") });
    expect(await readFile(join(prefix, "keep.txt"), "utf8")).toBe("user data");
  });

  it("prefers uv when it is on PATH, passing C_PACK_PYPI_URL and the extra indexes", async () => {
    const uv = await stubTool("uv");
    const prefix = join(root, "uv-staging");
    const staging = await resolveEnvironment({
      python,
      prefix,
      spec: { requirements: ["numpy==1.26.4"] },
      extraIndexUrls: ["https://download.pytorch.org/whl/cpu"],
      findLinks: ["/wheels"],
      env: { PATH: uv.path, C_PACK_PYPI_URL: "https://pypi.internal/simple" },
    });
    expect(staging.tool).toBe("uv");
    expect((await readFile(uv.log, "utf8")).trim().split("\n")).toEqual([
      `venv --quiet --python ${python} ${prefix} | PIP_INDEX_URL= PIP_NO_INDEX=`,
      `pip install --quiet --python ${prefix}/bin/python --index-url https://pypi.internal/simple --extra-index-url https://download.pytorch.org/whl/cpu --find-links /wheels numpy==1.26.4 | PIP_INDEX_URL= PIP_NO_INDEX=`,
    ]);
    expect((await probeInterpreter(staging.python)).kind).toBe("venv");
  });

  it("builds a conda spec with the conda front-end on PATH, with the index options for its pip section", async () => {
    const file = join(root, "environment.yml");
    await writeFile(file, "name: ml\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - cp-resolved\n");
    const micromamba = await stubTool("micromamba");
    const prefix = join(root, "conda-staging");
    const staging = await resolveEnvironment({
      python,
      prefix,
      spec: { condaEnvironmentFile: file },
      noIndex: true,
      env: { PATH: micromamba.path },
    });
    expect(staging).toEqual({ prefix, python: join(prefix, "bin", "python"), tool: "micromamba" });
    expect((await readFile(micromamba.log, "utf8")).trim()).toBe(
      `create --yes --quiet -p ${prefix} -f ${file} | PIP_INDEX_URL= PIP_NO_INDEX=1`,
    );
  });

  it("names what to install when no conda front-end is on PATH", async () => {
    const file = join(root, "environment.yml");
    await expect(
      resolveEnvironment({
        python,
        prefix: join(root, "x"),
        spec: { condaEnvironmentFile: file },
        env: { PATH: plainPath },
      }),
    ).rejects.toMatchObject({
      code: "MISSING_TOOL",
      message: `${file}: building a conda environment needs mamba, micromamba or conda on PATH: install micromamba (https://mamba.readthedocs.io), or give pip requirements instead`,
    });
  });

  it("refuses a file that is not a conda environment", async () => {
    const file = join(root, "not-an-env.yml");
    await writeFile(file, "just: a mapping\n");
    await expect(
      resolveEnvironment({
        python,
        prefix: join(root, "y"),
        spec: { condaEnvironmentFile: file },
        env: { PATH: plainPath },
      }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: `${file}: not a conda environment file: it has no dependencies list`,
    });
  });
});
