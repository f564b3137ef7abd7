import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    scan = await findEditableInstalls([venv.sitePackages]);
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

  it("reports a distribution once when several site-packages declare it (the first wins, as on sys.path)", async () => {
    const again = await findEditableInstalls([venv.sitePackages, venv.sitePackages, join(root, "absent")]);
    expect(again).toEqual(scan);
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
    scan = await findEditableInstalls([venv.sitePackages]);
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
    const { editables, problems } = await findEditableInstalls([sitePackages]);
    expect(problems).toEqual([]);
    expect(editables[0]?.topLevels).toEqual([
      { name: "mod", kind: "module", path: join(projectDir, "mod.py") },
      { name: "ns", kind: "namespace", path: join(projectDir, "ns") },
      { name: "pkg", kind: "package", path: join(projectDir, "pkg") },
    ]);
    expect(await readdir(sitePackages)).toContain("_scanned.pth");
  });
});
