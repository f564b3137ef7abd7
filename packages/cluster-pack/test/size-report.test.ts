import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTar, listZip } from "@cluster-pack/archive";
import {
  buildWheel,
  createCondaStylePrefix,
  createSizedVenv,
  type InstalledFile,
  installCondaPackage,
  installedFiles,
  pipInstall,
  SHARED_CONTENT,
  SIZED_VENV_WHEELS,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  archiveSizeReport,
  environmentSizeReport,
  inspectEnvironment,
  packEnv,
  type SizeReport,
  StorageError,
} from "../src/index.js";

let root: string;
let venv: Venv;
let files: InstalledFile[];
let environment: SizeReport;
let pex: string;

const packageSize = (report: SizeReport, name: string) => report.packages.find((p) => p.name === name)?.size;
const sumOf = (selected: readonly { size: number }[]) => selected.reduce((sum, file) => sum + file.size, 0);
const savingOf = (report: SizeReport, label: string) => report.excludeSavings.find((s) => s.label === label);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-size-sources-"));
  venv = await createSizedVenv(root);
  files = await installedFiles(venv);
  environment = await environmentSizeReport(await inspectEnvironment({ python: venv.python, env: {} }));
  pex = join(root, "env.pex");
  await packEnv({ python: venv.python, output: pex, env: {} });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("an environment's size report", () => {
  it("sizes each package by the bytes of its installed files on disk", () => {
    for (const name of ["bigdatapackage", "midpkg", "smallpkg"])
      expect(packageSize(environment, name)).toBe(sumOf(files.filter((f) => f.package === name)));
    expect(environment.packages[0]?.name).toBe("bigdatapackage");
    expect(environment.source).toBe(venv.prefix);
  });

  it("finds the file installed twice", () => {
    expect(environment.duplicates[0]).toMatchObject({
      paths: ["bigdatapackage/data/shared.bin", "smallpkg/shared.bin"],
      savedBytes: SHARED_CONTENT.length,
    });
  });
});

describe("an archive's size report", () => {
  it("maps a zipapp's files to their distributions through the archive's RECORDs", async () => {
    const report = await archiveSizeReport(pex);
    // The zipapp leaves bytecode out: what it holds of each package is the installed files but __pycache__.
    for (const name of ["bigdatapackage", "midpkg", "smallpkg"])
      expect(packageSize(report, name)).toBe(
        sumOf(files.filter((f) => f.package === name && !f.path.includes("__pycache__/"))),
      );
    expect(report.packages.map((p) => p.name)).toEqual(["bigdatapackage", "midpkg", "smallpkg"]);
    expect(report.duplicates[0]?.paths).toEqual(["bigdatapackage/data/shared.bin", "smallpkg/shared.bin"]);
  });

  it("prices each exclude at what packing with it really leaves out", async () => {
    const report = await archiveSizeReport(pex);
    const depsBytes = async (archive: string) =>
      sumOf((await listZip(archive)).entries.filter((e) => e.kind === "file" && e.name.startsWith(".deps/")));
    const full = await depsBytes(pex);
    for (const label of ["test suites", "static libraries", "documentation", "all of the above"]) {
      const saving = savingOf(report, label);
      expect(saving?.bytes, label).toBeGreaterThan(0);
      const trimmed = join(root, `trimmed-${label.replaceAll(" ", "-")}.pex`);
      await packEnv({ python: venv.python, output: trimmed, env: {}, exclude: saving?.patterns ?? [] });
      expect(full - (await depsBytes(trimmed)), label).toBe(saving?.bytes);
    }
  }, 60_000);

  it("reads a venv .tar.gz: paths inside the environment, packages and duplicates from its entries", async () => {
    const archive = join(root, "env.tar.gz");
    await packEnv({ python: venv.python, output: archive, env: {} });
    const report = await archiveSizeReport(archive);
    const entries = (await listTar(archive)).filter((e) => e.kind === "file");
    expect(report.totalSize).toBe(sumOf(entries));
    const big = entries.filter((e) => /\/site-packages\/bigdatapackage(-1\.0\.dist-info)?\//.test(e.name));
    expect(packageSize(report, "bigdatapackage")).toBe(sumOf(big));
    expect(report.packages.at(-1)?.name).toBeNull();
    const [shared] = report.duplicates;
    expect(shared?.paths).toHaveLength(2);
    expect(shared?.paths[0]).toMatch(/^lib\/python3\.\d+\/site-packages\/bigdatapackage\/data\/shared\.bin$/);
    expect(savingOf(report, "static libraries")?.bytes).toBe(250_000);
  });

  it("maps a conda archive's files to conda packages, and site-packages to their distributions", async () => {
    const conda = await createCondaStylePrefix(join(root, "conda"), [], undefined, { recordPython: true });
    const library = "\u007fELF pretend shared library\n".repeat(10_000);
    await installCondaPackage(conda.prefix, {
      name: "libbig",
      version: "1.0",
      build: "h0_0",
      files: { "lib/libbig.so": { content: library } },
    });
    const smallpkg = SIZED_VENV_WHEELS.find((spec) => spec.name === "smallpkg");
    if (!smallpkg) throw new Error("the fixture lost smallpkg");
    await pipInstall(conda, ["smallpkg"], [await buildWheel(smallpkg, join(root, "conda-wheels"))]);
    const archive = join(root, "conda.tar.gz");
    await packEnv({ python: conda.python, output: archive, env: {} });
    const report = await archiveSizeReport(archive);
    const libbig = report.packages.find((p) => p.name === "libbig");
    expect(libbig).toMatchObject({ size: library.length, files: 1 });
    expect(libbig?.directories).toEqual([{ name: "lib/", size: library.length, files: 1 }]);
    // The fixture's python record lists the interpreter's files (and the standard library's directories only).
    const python = report.packages.find((p) => p.name === "python");
    expect(python?.directories.map((d) => d.name)).toContain("bin/");
    expect(report.packages.find((p) => p.name === "smallpkg")?.directories.map((d) => d.name)).toEqual(
      expect.arrayContaining(["smallpkg/", "smallpkg-0.1.dist-info/"]),
    );
  }, 90_000);

  it("refuses a missing archive in one line naming it", async () => {
    const missing = join(root, "nowhere", "env.pex");
    const error = await archiveSizeReport(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("NOT_FOUND");
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).not.toContain("\n");
  });
});
