import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTar, listZip } from "@cluster-pack/archive";
import { buildWheel, createVenv, machinePython, pipInstall, run, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packEnv, uploadEnv } from "../src/index.js";

let root: string;
let venv: Venv;
/** A dist-info with a RECORD but no METADATA: nothing says which distribution it is. */
let broken: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-broken-envs-"));
  await chmod(root, 0o755);
  const wheels = join(root, "wheels");
  await buildWheel(
    { name: "purepkg", version: "1.0", files: { "purepkg/__init__.py": "VALUE = 1\n" } },
    wheels,
  );
  venv = await createVenv(machinePython, join(root, "venv"));
  await pipInstall(venv, ["purepkg"], [wheels]);
  // A file whose name holds a newline, recorded by Python's csv module as installers write RECORD.
  const oddName = "purepkg/two\nlines.py";
  await writeFile(join(venv.sitePackages, oddName), "VALUE = 2\n");
  await run(machinePython, [
    "-c",
    "import csv, sys\nwith open(sys.argv[1], 'a', newline='') as f: csv.writer(f).writerow([sys.argv[2], '', ''])",
    join(venv.sitePackages, "purepkg-1.0.dist-info", "RECORD"),
    oddName,
  ]);
  broken = join(venv.sitePackages, "halfgone-2.0.dist-info");
  await mkdir(broken);
  await writeFile(join(broken, "RECORD"), "halfgone/__init__.py,,\n");
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const refusal = () =>
  `${broken}: no METADATA file: the distribution cannot be identified (reinstall it); packing stops rather than leave it out (or skip broken distributions)`;
const skipped = () =>
  `${broken}: no METADATA file: the distribution cannot be identified (reinstall it); skipped (not among the packed packages)`;

describe("a distribution without METADATA", () => {
  it("stops packEnv with one line naming its directory", async () => {
    await expect(packEnv({ python: venv.python, output: join(root, "refused.pex") })).rejects.toMatchObject({
      name: "PythonEnvError",
      code: "BROKEN_DISTRIBUTION",
      message: refusal(),
    });
  });

  it("is skipped with a warning when told, the rest packed", async () => {
    const packed = await packEnv({
      python: venv.python,
      output: join(root, "skipped.pex"),
      brokenDistributions: "skip",
    });
    expect(packed.warnings).toEqual([skipped()]);
    expect(packed.requirements.filter((r) => !/^(pip|setuptools)==/.test(r))).toEqual(["purepkg==1.0"]);
  });

  it("stops uploadEnv too, and is skipped with a warning there when told", async () => {
    const packagePath = join(root, "store", "env.pex");
    await expect(uploadEnv({ python: venv.python, packagePath })).rejects.toMatchObject({
      code: "BROKEN_DISTRIBUTION",
      message: refusal(),
    });
    const uploaded = await uploadEnv({ python: venv.python, packagePath, brokenDistributions: "skip" });
    expect(uploaded).toMatchObject({ uploaded: true, warnings: [skipped()] });
  });

  it("refuses a brokenDistributions value it does not know", async () => {
    await expect(
      packEnv({
        python: venv.python,
        output: join(root, "unknown.pex"),
        brokenDistributions: "ignore" as "skip",
      }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: 'brokenDistributions must be "refuse" or "skip", not "ignore"',
    });
  });
});

describe("a symlink of the environment that dangles", () => {
  it("is left out of a venv archive with a warning when told to skip, by packEnv and uploadEnv", async () => {
    const link = join(venv.prefix, "share", "dangling");
    await mkdir(join(venv.prefix, "share"), { recursive: true });
    await symlink("nowhere", link);
    try {
      const output = join(root, "dangling-link.tar.gz");
      const warnings = [skipped(), "share/dangling: a symlink to nowhere, which does not exist; left out"];
      const packed = await packEnv({ python: venv.python, output, brokenDistributions: "skip" });
      expect(packed).toMatchObject({ packer: "venv", format: "tar.gz", warnings });
      const names = (await listTar(output)).map((entry) => entry.name);
      expect(names).toContain("bin/python");
      expect(names).not.toContain("share/dangling");
      const packagePath = join(root, "store", "dangling-link.tar.gz");
      const uploaded = await uploadEnv({ python: venv.python, packagePath, brokenDistributions: "skip" });
      expect(uploaded).toMatchObject({ uploaded: true, packer: "venv", warnings });
    } finally {
      await rm(link);
    }
  });
});

describe("a RECORD row quoted over two lines", () => {
  it("packs the file it names", async () => {
    const output = join(root, "odd-name.pex.zip");
    await packEnv({ python: venv.python, output, brokenDistributions: "skip" });
    const { entries } = await listZip(output);
    expect(entries.map((entry) => entry.name)).toContain(".deps/purepkg/two\nlines.py");
  });
});

describe("an interpreter that never answers", () => {
  it("fails within C_PACK_PROBE_TIMEOUT with one line naming it", async () => {
    const hanging = join(root, "hanging-python");
    await writeFile(hanging, "#!/bin/sh\nsleep 30\n", { mode: 0o755 });
    const started = Date.now();
    await expect(
      packEnv({
        python: hanging,
        output: join(root, "never.pex"),
        env: { ...process.env, C_PACK_PROBE_TIMEOUT: "0.5" },
      }),
    ).rejects.toMatchObject({
      code: "NOT_A_PYTHON",
      message: `${hanging}: did not answer within 0.5 s while probing the environment: check that it starts (run it with -c pass), or allow it longer with C_PACK_PROBE_TIMEOUT (seconds)`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
