import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  type Distribution,
  listDistributions,
  probeInterpreter,
  readDistributions,
} from "@cluster-pack/python-env";
import {
  createVenv,
  debianPython,
  installEditable,
  installPthEditable,
  machinePython,
  pipInstall,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EditableScan, findEditableInstalls, type ImportableTopLevel } from "../src/index.js";
import { type InterpreterView, interpreterView } from "./interpreter-view.js";

/** What python-env lists in these site-packages directories, as the façade gets it. */
async function distributionsIn(sitePackages: readonly string[]): Promise<Distribution[]> {
  const { distributions, problems } = await readDistributions(sitePackages);
  expect(problems).toEqual([]);
  return distributions;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-editable-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every layout the package must understand, each as its own project. */
async function writeProjects(base: string) {
  const project = (name: string) => join(base, name);
  await writeProject(
    {
      name: "flat-pkg",
      version: "1.0",
      files: {
        "flatpkg/__init__.py": "VALUE = 'flat'\n",
        "flatpkg/core.py": "X = 1\n",
        "tests/__init__.py": "",
        "tests/test_core.py": "",
        "docs/conf.py": "",
      },
      packages: ["flatpkg"],
    },
    project("flat"),
    { pyproject: true },
  );
  await writeProject(
    {
      name: "Src.Pkg",
      version: "2.0",
      files: { "src/srcpkg/__init__.py": "VALUE = 'src'\n", "src/srcpkg/sub/__init__.py": "" },
      packageRoot: "src",
    },
    project("src"),
    { pyproject: true },
  );
  return project;
}

function byName(scan: EditableScan) {
  return Object.fromEntries(scan.editables.map((editable) => [editable.name, editable]));
}

/** The interpreter's answer for where a top-level's source is: a module's file, a package's directory. */
function interpreterPath(view: InterpreterView, topLevel: ImportableTopLevel): string | null | undefined {
  const spec = view.specs[topLevel.name];
  if (topLevel.kind === "module") return spec?.origin;
  return spec?.locations?.[0];
}

function expectAgreement(scan: EditableScan, view: InterpreterView) {
  expect(scan.problems).toEqual([]);
  expect(
    scan.editables.map(({ name, version, projectDir }) => ({ name, version, location: projectDir })),
  ).toEqual([...view.editables].sort((a, b) => (a.name < b.name ? -1 : 1)));
  for (const editable of scan.editables) {
    for (const topLevel of editable.topLevels) {
      if (topLevel.kind === "namespace") continue; // finders answer with a placeholder path; checked separately
      expect(topLevel.path, topLevel.name).toBe(interpreterPath(view, topLevel));
    }
  }
}

describe("in a venv of the machine's Python (setuptools 65)", () => {
  let venv: Venv;
  let project: (name: string) => string;
  let distributions: Distribution[];
  let scan: EditableScan;
  let view: InterpreterView;

  beforeAll(async () => {
    const base = join(root, "machine");
    venv = await createVenv(machinePython, join(base, "venv"));
    project = await writeProjects(base);
    await writeProject(
      {
        name: "multi",
        version: "0.1",
        files: {
          "alpha/__init__.py": "A = 1\n",
          "beta/__init__.py": "B = 2\n",
          "solo.py": "S = 3\n",
          "tests/t.py": "",
        },
        packages: ["alpha", "beta"],
        modules: ["solo"],
      },
      project("multi"),
      { pyproject: true },
    );
    await writeProject(
      {
        name: "onemod",
        version: "0.3",
        files: { "onemod.py": "V = 5\n" },
        packages: [],
        modules: ["onemod"],
      },
      project("onemod"),
      { pyproject: true },
    );
    await writeProject(
      { name: "ns-proj", version: "0.2", files: { "nsx/inner/__init__.py": "N = 1\n" } },
      project("namespace"),
      { pyproject: true },
    );
    await writeProject(
      { name: "Leg_Pkg", version: "0.4", files: { "legpkg/__init__.py": "L = 1\n", "tests/t.py": "" } },
      project("legacy"),
    );
    await writeProject(
      {
        name: "hatch-pkg",
        version: "0.5",
        files: { "src/hatchpkg/__init__.py": "H = 1\n", "src/hatchmod.py": "" },
      },
      project("hatch"),
    );
    await pipInstall(venv, ["wheel"]);
    for (const name of ["flat", "src", "multi", "onemod", "namespace"])
      await installEditable(venv, project(name), "pep660");
    await installEditable(venv, project("legacy"), "legacy");
    await installPthEditable(venv, project("hatch"), {
      name: "hatch-pkg",
      version: "0.5",
      pathEntry: join(project("hatch"), "src"),
    });
    distributions = await distributionsIn([venv.sitePackages]);
    scan = await findEditableInstalls(distributions);
    const names = scan.editables.flatMap((editable) => editable.topLevels.map((topLevel) => topLevel.name));
    view = await interpreterView(venv, [...names, "nsx.inner"]);
  }, 120_000);

  it("finds the same editable distributions, versions and project directories as pip list --editable", () => {
    expect(scan.editables.map((editable) => editable.name)).toEqual([
      "flat-pkg",
      "hatch-pkg",
      "leg-pkg",
      "multi",
      "ns-proj",
      "onemod",
      "src-pkg",
    ]);
    expectAgreement(scan, view);
  });

  it("maps each editable to the top-levels the interpreter imports, wherever their source is", () => {
    const editables = byName(scan);
    const summary = (name: string) =>
      editables[name]?.topLevels.map(({ name, kind }) => `${kind}:${name}`).join(" ");
    expect(summary("flat-pkg")).toBe("package:flatpkg");
    expect(summary("src-pkg")).toBe("package:srcpkg");
    expect(summary("multi")).toBe("package:alpha package:beta module:solo");
    expect(summary("onemod")).toBe("module:onemod");
    expect(summary("ns-proj")).toBe("namespace:nsx");
    expect(summary("leg-pkg")).toBe("package:legpkg");
    expect(summary("hatch-pkg")).toBe("module:hatchmod package:hatchpkg");
  });

  it("tells how each was installed", () => {
    const mechanisms = Object.fromEntries(
      scan.editables.map((editable) => [editable.name, editable.mechanism]),
    );
    expect(mechanisms).toEqual({
      "flat-pkg": "finder",
      "src-pkg": "pth",
      multi: "finder",
      onemod: "finder",
      "ns-proj": "finder",
      "leg-pkg": "egg-link",
      "hatch-pkg": "pth",
    });
  });

  it("gives a namespace package the directory its portions are imported from", () => {
    const nsx = byName(scan)["ns-proj"]?.topLevels[0];
    expect(nsx).toEqual({ name: "nsx", kind: "namespace", path: join(project("namespace"), "nsx") });
    expect(view.specs["nsx.inner"]?.origin).toBe(join(project("namespace"), "nsx", "inner", "__init__.py"));
  });

  it("leaves out tests, docs and setup.py of a project", () => {
    const shipped = scan.editables.flatMap((editable) => editable.topLevels.map((topLevel) => topLevel.name));
    expect(shipped).not.toContain("tests");
    expect(shipped).not.toContain("docs");
    expect(shipped).not.toContain("setup");
  });

  it("finds exactly the distributions python-env calls editable, and nothing of the others", () => {
    expect(scan.editables.map((editable) => editable.name)).toEqual(
      distributions.filter((d) => d.editable).map((d) => d.normalizedName),
    );
    expect(distributions.filter((d) => !d.editable).map((d) => d.normalizedName)).toContain("pip");
  });

  it("reports a distribution once when given twice (the first wins, as on sys.path)", async () => {
    expect(await findEditableInstalls([...distributions, ...distributions])).toEqual(scan);
  });
});

describe("in a venv of Debian's Python (setuptools 66)", () => {
  let venv: Venv;
  let scan: EditableScan;
  let view: InterpreterView;

  beforeAll(async () => {
    const base = join(root, "debian");
    venv = await createVenv(debianPython, join(base, "venv"));
    const project = await writeProjects(base);
    await writeProject(
      {
        name: "legacy-src",
        version: "3.1",
        files: { "src/legsrc/__init__.py": "", "src/legsrc/mod.py": "" },
        packageRoot: "src",
      },
      project("legacy-src"),
    );
    await pipInstall(venv, ["wheel"]);
    await installEditable(venv, project("flat"), "pep660");
    await installEditable(venv, project("src"), "pep660");
    await installEditable(venv, project("legacy-src"), "legacy");
    scan = await findEditableInstalls(await distributionsIn([venv.sitePackages]));
    const names = scan.editables.flatMap((editable) => editable.topLevels.map((topLevel) => topLevel.name));
    view = await interpreterView(venv, names);
  }, 120_000);

  it("agrees with pip list --editable and find_spec for flat, src and legacy src layouts", () => {
    expect(scan.editables.map((editable) => editable.name)).toEqual(["flat-pkg", "legacy-src", "src-pkg"]);
    expect(scan.editables.map((editable) => editable.topLevels.map((topLevel) => topLevel.name))).toEqual([
      ["flatpkg"],
      ["legsrc"],
      ["srcpkg"],
    ]);
    expectAgreement(scan, view);
  });
});

describe("without metadata naming the top-levels", () => {
  it("scans the path entry: packages, modules and namespace directories, minus tests, docs and setup.py", async () => {
    const base = join(root, "scan");
    const sitePackages = join(base, "site-packages");
    const projectDir = join(base, "project");
    for (const [path, content] of Object.entries({
      "pkg/__init__.py": "",
      "ns/part/__init__.py": "",
      "mod.py": "",
      "setup.py": "",
      "conftest.py": "",
      "tests/test_x.py": "",
      "docs/conf.py": "",
      "data/readme.txt": "",
      ".hidden/x.py": "",
    })) {
      await mkdir(join(projectDir, path, ".."), { recursive: true });
      await writeFile(join(projectDir, path), content);
    }
    await mkdir(sitePackages, { recursive: true });
    await installPthEditable({ prefix: base, python: "", sitePackages }, projectDir, {
      name: "scanned",
      version: "1",
    });
    const { editables, problems } = await findEditableInstalls(await distributionsIn([sitePackages]));
    expect(problems).toEqual([]);
    expect(editables[0]?.topLevels).toEqual([
      { name: "mod", kind: "module", path: join(projectDir, "mod.py") },
      { name: "ns", kind: "namespace", path: join(projectDir, "ns") },
      { name: "pkg", kind: "package", path: join(projectDir, "pkg") },
    ]);
    expect(await readdir(sitePackages)).toContain("_scanned.pth");
  });
});

describe("a setuptools editable install without direct_url.json (once, python-env and this package disagreed)", () => {
  let venv: Venv;
  let project: (name: string) => string;
  let distributions: Distribution[];
  let scan: EditableScan;
  let view: InterpreterView;

  /** What an installer that does not write PEP 610 metadata leaves: no direct_url.json, none in the RECORD. */
  async function removeDirectUrl(distInfo: string) {
    const directory = join(venv.sitePackages, distInfo);
    await rm(join(directory, "direct_url.json"));
    const record = await readFile(join(directory, "RECORD"), "utf8");
    const kept = record.split("\n").filter((line) => !line.startsWith(`${distInfo}/direct_url.json,`));
    await writeFile(join(directory, "RECORD"), kept.join("\n"));
  }

  beforeAll(async () => {
    const base = join(root, "no-direct-url");
    venv = await createVenv(machinePython, join(base, "venv"));
    project = await writeProjects(base);
    await pipInstall(venv, ["wheel"]);
    await installEditable(venv, project("flat"), "pep660");
    await installEditable(venv, project("src"), "pep660");
    for (const distribution of await distributionsIn([venv.sitePackages]))
      if (distribution.editable) await removeDirectUrl(basename(distribution.metadataPath));
    const listed = await listDistributions(await probeInterpreter(venv.python));
    expect(listed.problems).toEqual([]);
    distributions = listed.distributions;
    scan = await findEditableInstalls(distributions);
    view = await interpreterView(venv, ["flatpkg", "srcpkg"]);
  }, 120_000);

  it("is editable for python-env, by the __editable__.*.pth its RECORD lists", () => {
    const editable = distributions.filter((d) => d.editable);
    expect(editable.map((d) => d.normalizedName)).toEqual(["flat-pkg", "src-pkg"]);
    for (const distribution of editable) {
      expect(distribution.directUrl).toBeUndefined();
      expect(distribution.files?.some((file) => /^__editable__\..*\.pth$/.test(file.path))).toBe(true);
    }
    expect(editable.map((d) => d.editableLocation)).toEqual([undefined, join(project("src"), "src")]);
  });

  it("is found here with the top-levels the interpreter imports", () => {
    expect(scan.problems).toEqual([]);
    expect(
      scan.editables.map(({ name, version, mechanism, projectDir, topLevels }) => ({
        name,
        version,
        mechanism,
        projectDir,
        topLevels,
      })),
    ).toEqual([
      {
        name: "flat-pkg",
        version: "1.0",
        mechanism: "finder",
        projectDir: project("flat"),
        topLevels: [{ name: "flatpkg", kind: "package", path: join(project("flat"), "flatpkg") }],
      },
      {
        name: "src-pkg",
        version: "2.0",
        mechanism: "pth",
        projectDir: join(project("src"), "src"),
        topLevels: [{ name: "srcpkg", kind: "package", path: join(project("src"), "src", "srcpkg") }],
      },
    ]);
    for (const topLevel of scan.editables.flatMap((editable) => editable.topLevels))
      expect(topLevel.path).toBe(interpreterPath(view, topLevel));
  });
});
