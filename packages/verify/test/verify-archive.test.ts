import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { packConda, packVenv, packZipapp } from "@cluster-pack/packers";
import { probeInterpreter } from "@cluster-pack/python-env";
import {
  buildNativeWheel,
  createCondaStylePrefix,
  createVenv,
  machinePython,
  NEEDED_LIBRARY,
  pipInstall,
  run,
  type Venv,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyArchive } from "../src/index.js";
import { type FixtureEnv, fixtureEnv, pureWheel, temporaryRoot } from "./fixture-envs.js";

let root: string;
let env: FixtureEnv;
let host: Venv;
let libraryDirectory: string;
/** The wheel directories of the good and the broken packages, for the conda environment. */
let wheelDirectories: string[];
const archive = (name: string) => join(root, name);

// One venv holds every test package; each archive packs the subset it needs.
const GOOD = ["goodpkg"];
const BROKEN = ["goodpkg", "brokenpkgs"];
const NATIVE = ["goodpkg", "nativepkg"];

beforeAll(async () => {
  root = await temporaryRoot("archive");
  const [goodpkg, brokenpkgs, hostonly, nativeBuild] = await Promise.all([
    pureWheel(
      root,
      "goodpkg",
      { "goodpkg/__init__.py": "VALUE = 1\n", "goodmod.py": "VALUE = 2\n" },
      { modules: ["goodmod"] },
    ),
    pureWheel(root, "brokenpkgs", {
      "brokenpkg/__init__.py": 'raise RuntimeError("broken on purpose")\n',
      "crashpkg/__init__.py": "import ctypes\nctypes.string_at(0)\n",
      "hangpkg/__init__.py": "import time\ntime.sleep(600)\n",
      "usehost/__init__.py": "import hostonly\n",
    }),
    pureWheel(root, "hostonly", { "hostonly/__init__.py": "" }),
    buildNativeWheel(root),
  ]);
  libraryDirectory = nativeBuild.libraryDirectory;
  wheelDirectories = [goodpkg, brokenpkgs];
  [env, host] = await Promise.all([
    fixtureEnv(
      join(root, "env"),
      ["goodpkg", "brokenpkgs", "nativepkg"],
      [goodpkg, brokenpkgs, nativeBuild.wheels],
    ),
    createVenv(machinePython, join(root, "host")),
  ]);
  await pipInstall(host, ["hostonly"], [hostonly]);
  const only = (names: string[]) =>
    env.all.filter((distribution) => names.includes(distribution.normalizedName));
  const allBut = (names: string[]) =>
    env.all.filter((distribution) => !names.includes(distribution.normalizedName));
  const zipapp = (names: string[], name: string, layout: "zipapp" | "unpack" = "zipapp") =>
    packZipapp({ interpreter: env.interpreter, distributions: only(names), output: archive(name), layout });
  const venvArchive = (names: string[], name: string) =>
    packVenv({ interpreter: env.interpreter, excludedDistributions: allBut(names), output: archive(name) });
  await Promise.all([
    zipapp(GOOD, "good.pex"),
    zipapp(GOOD, "good.pex.zip", "unpack"),
    zipapp(BROKEN, "broken.pex"),
    zipapp(NATIVE, "native.pex"),
    venvArchive(NATIVE, "native.tar.gz"),
    venvArchive(GOOD, "good.zip"),
  ]);
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const byModule = (report: Awaited<ReturnType<typeof verifyArchive>>) =>
  Object.fromEntries(report.modules.map((module) => [module.module, module]));

describe("verifyArchive on a zipapp", () => {
  it("passes an archive whose modules all import, packages and single-file modules alike", async () => {
    const report = await verifyArchive(archive("good.pex"));
    expect(report).toMatchObject({ format: "pex", ok: true, startup: { ok: true } });
    expect(report.modules).toEqual([
      { module: "goodmod", distribution: "goodpkg", ok: true, missingLibraries: [] },
      { module: "goodpkg", distribution: "goodpkg", ok: true, missingLibraries: [] },
    ]);
  });

  it("fails the modules that raise, crash or hang, each with its own reason, while the good one passes", async () => {
    const report = await verifyArchive(archive("broken.pex"), { timeoutMs: 5_000 });
    const modules = byModule(report);
    expect(report.ok).toBe(false);
    expect(modules.goodpkg).toMatchObject({ ok: true });
    expect(modules.brokenpkg).toMatchObject({ ok: false, error: "RuntimeError: broken on purpose" });
    expect(modules.crashpkg).toMatchObject({ ok: false, error: "crashed (killed by SIGSEGV)" });
    expect(modules.hangpkg).toMatchObject({ ok: false, error: "timed out after 5 s" });
    expect(modules.usehost).toMatchObject({
      ok: false,
      error: "ModuleNotFoundError: No module named 'hostonly'",
    });
  }, 40_000);

  it("does not let a module installed only on the host be imported, even through PYTHONPATH", async () => {
    // The control: the host Python imports it, so only isolation can make the archive's import fail.
    await run(host.python, ["-c", "import hostonly"]);
    const saved = process.env.PYTHONPATH;
    process.env.PYTHONPATH = host.sitePackages;
    try {
      const report = await verifyArchive(archive("broken.pex"), { python: host.python, timeoutMs: 5_000 });
      expect(byModule(report).usehost).toMatchObject({
        ok: false,
        error: "ModuleNotFoundError: No module named 'hostonly'",
      });
      expect(report.interpreterCommand[0]).toBe(host.python);
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
    }
  }, 40_000);

  it("fails a C extension whose shared library is not shipped, naming the module and the library", async () => {
    const report = await verifyArchive(archive("native.pex"));
    const modules = byModule(report);
    expect(report.ok).toBe(false);
    expect(modules.goodpkg).toMatchObject({ ok: true });
    expect(modules.nativepkg).toMatchObject({ ok: false, missingLibraries: [NEEDED_LIBRARY] });
    expect(modules.nativepkg?.error).toContain(`${NEEDED_LIBRARY}: cannot open shared object file`);
    expect(report.elfFiles).toEqual([
      {
        path: expect.stringMatching(/^\.deps\/nativepkg\/_native\..*\.so$/),
        module: "nativepkg",
        missingLibraries: [NEEDED_LIBRARY],
      },
    ]);
  });

  it("passes the same archive once this machine provides the library (LD_LIBRARY_PATH)", async () => {
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = libraryDirectory;
    try {
      const report = await verifyArchive(archive("native.pex"));
      expect(report.ok).toBe(true);
      expect(report.elfFiles[0]?.missingLibraries).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
  });

  it("runs the unpack layout (.pex.zip) from pyenv/__main__.py", async () => {
    const report = await verifyArchive(archive("good.pex.zip"));
    expect(report).toMatchObject({ format: "pex.zip", ok: true });
    expect(report.interpreterCommand.at(-1)).toMatch(/\/pyenv\/__main__\.py$/);
    expect(report.modules.map((module) => module.module)).toEqual(["goodmod", "goodpkg"]);
  });
});

describe("verifyArchive on a venv archive", () => {
  it("fails a venv archive whose extension's library is missing, naming the module and the library", async () => {
    const report = await verifyArchive(archive("native.tar.gz"));
    const modules = byModule(report);
    expect(report).toMatchObject({ format: "tar.gz", ok: false, startup: { ok: true } });
    expect(report.interpreterCommand[0]).toMatch(/\/environment\/bin\/python$/);
    expect(modules.goodpkg).toMatchObject({ ok: true });
    expect(modules.nativepkg).toMatchObject({ ok: false, missingLibraries: [NEEDED_LIBRARY] });
    expect(report.elfFiles.filter((file) => file.missingLibraries.length > 0)).toEqual([
      {
        path: expect.stringMatching(/^lib\/python3\.\d+\/site-packages\/nativepkg\/_native\..*\.so$/),
        module: "nativepkg",
        missingLibraries: [NEEDED_LIBRARY],
      },
    ]);
  }, 40_000);

  it("passes a good venv zip, run with the Python given for its base interpreter", async () => {
    const report = await verifyArchive(archive("good.zip"), { python: host.python });
    expect(report.ok).toBe(true);
    expect(byModule(report).goodpkg).toMatchObject({ ok: true });
  }, 40_000);
});

describe("verifyArchive on a conda archive", () => {
  it("runs conda-unpack, then imports what the environment ships, failing the broken module alone", async () => {
    // A conda-style prefix: its own interpreter and standard library, packages pip-installed into it.
    const conda = await createCondaStylePrefix(join(root, "conda", "envs", "work"), [], undefined, {
      recordPython: true,
    });
    await pipInstall(conda, ["goodpkg", "brokenpkgs"], wheelDirectories);
    await packConda({ interpreter: await probeInterpreter(conda.python), output: archive("conda.tar.gz") });
    const report = await verifyArchive(archive("conda.tar.gz"), { timeoutMs: 5_000 });
    const modules = byModule(report);
    expect(report).toMatchObject({ format: "tar.gz", ok: false, startup: { ok: true } });
    expect(report.interpreterCommand[0]).toMatch(/\/environment\/bin\/python$/);
    expect(modules.goodpkg).toMatchObject({ ok: true });
    expect(modules.brokenpkg).toMatchObject({ ok: false, error: "RuntimeError: broken on purpose" });
  }, 90_000);
});

describe("verifyArchive refuses what it cannot check", () => {
  it("refuses a name that is not an environment archive", async () => {
    await expect(verifyArchive(archive("env.whl"))).rejects.toMatchObject({
      name: "VerifyError",
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("the name must end in .pex, .pex.zip, .tar.gz, .tgz or .zip"),
    });
  });

  it("refuses a missing archive and a damaged one", async () => {
    await expect(verifyArchive(archive("absent.pex"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await writeFile(archive("garbage.pex"), "not a zip at all");
    await expect(verifyArchive(archive("garbage.pex"))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("not a readable pex archive"),
    });
  });

  it("refuses a Python that is not on this machine", async () => {
    await expect(
      verifyArchive(archive("good.pex"), { python: "python-that-is-not-here" }),
    ).rejects.toMatchObject({
      code: "NO_INTERPRETER",
      message: expect.stringContaining('Python "python-that-is-not-here" is not on this machine'),
    });
  });

  it("refuses a tar hard link that reaches through one of its own symlinks", async () => {
    const sneaky = archive("sneaky.tar.gz");
    await run(machinePython, [
      "-c",
      [
        "import sys, tarfile",
        "def entry(name, kind, target):",
        "    info = tarfile.TarInfo(name); info.type = kind; info.linkname = target; return info",
        "with tarfile.open(sys.argv[1], 'w:gz') as tar:",
        "    tar.addfile(entry('etc', tarfile.SYMTYPE, '/etc'))",
        "    tar.addfile(entry('stolen', tarfile.LNKTYPE, 'etc/hostname'))",
      ].join("\n"),
      sneaky,
    ]);
    await expect(verifyArchive(sneaky)).rejects.toMatchObject({
      code: "UNSAFE_ARCHIVE",
      message: expect.stringContaining('entry "stolen"'),
    });
  });

  it("refuses, before writing anything, a tar whose entry climbs out of the unpack directory", async () => {
    const evil = archive("evil.tar.gz");
    await run(machinePython, [
      "-c",
      [
        "import io, sys, tarfile",
        "with tarfile.open(sys.argv[1], 'w:gz') as tar:",
        "    for name in ('bin/python', '../escaped'):",
        "        info = tarfile.TarInfo(name); info.size = 1; tar.addfile(info, io.BytesIO(b'x'))",
      ].join("\n"),
      evil,
    ]);
    await expect(verifyArchive(evil)).rejects.toMatchObject({
      code: "UNSAFE_ARCHIVE",
      message: expect.stringContaining('entry "../escaped"'),
    });
  });
});
