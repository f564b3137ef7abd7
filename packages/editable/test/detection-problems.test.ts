import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Distribution, type InstalledDistributions, readDistributions } from "@cluster-pack/python-env";
import {
  createVenv,
  installEditable,
  installPthEditable,
  machinePython,
  pipInstall,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EditableScan, findEditableInstalls, isEditableError } from "../src/index.js";

let root: string;
let venv: Venv;
let listed: InstalledDistributions;
let scan: EditableScan;
const project = (name: string) => join(root, name);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-editable-problems-"));
  venv = await createVenv(machinePython, join(root, "venv"));
  await pipInstall(venv, ["wheel"]);
  const layouts = {
    finder: { name: "finder-pkg", files: { "finderpkg/__init__.py": "" } },
    deleted: { name: "deleted-pkg", files: { "src/deletedpkg/__init__.py": "" }, packageRoot: "src" },
    legacy: { name: "legacy-pkg", files: { "legacypkg/__init__.py": "" } },
    healthy: { name: "healthy-pkg", files: { "healthypkg/__init__.py": "" } },
  };
  for (const [directory, spec] of Object.entries(layouts)) {
    await writeProject({ version: "1.0", ...spec }, project(directory), {
      pyproject: directory !== "legacy",
    });
    await installEditable(venv, project(directory), directory === "legacy" ? "legacy" : "pep660");
  }
  // A hatchling-style editable whose .pth is a directory: the file cannot be read.
  await installPthEditable(venv, project("odd"), { name: "odd-pkg", version: "1.0" });
  await mkdir(project("odd"));
  await rm(join(venv.sitePackages, "_odd_pkg.pth"));
  await mkdir(join(venv.sitePackages, "_odd_pkg.pth"));
  await rm(project("deleted"), { recursive: true });
  await rm(project("legacy"), { recursive: true });
  const finder = (await readdir(venv.sitePackages)).find((file) =>
    /^__editable___finder_pkg.*_finder\.py$/.test(file),
  );
  await writeFile(join(venv.sitePackages, finder ?? "missing"), "MAPPING = {'finderpkg': \n");
  await writeFile(join(venv.sitePackages, "empty-pkg.egg-link"), "");
  listed = await readDistributions([venv.sitePackages]);
  scan = await findEditableInstalls(listed.distributions);
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("broken editable installs", () => {
  it("still finds the healthy ones", () => {
    expect(scan.editables.map((editable) => editable.name)).toEqual(["healthy-pkg"]);
  });

  it("report an editable whose project directory was deleted, naming the path once and the distribution", () => {
    const problem = scan.problems.find((error) => error.distribution === "deleted-pkg");
    expect(problem?.code).toBe("MISSING_PROJECT");
    expect(problem?.location).toBe(project("deleted"));
    expect(problem?.message).toBe(
      `${project("deleted")}: project directory of deleted-pkg 1.0 (editable) no longer exists ` +
        "(recorded in deleted_pkg-1.0.dist-info/direct_url.json); " +
        "reinstall it with pip install -e <project> or remove it with pip uninstall deleted-pkg",
    );
  });

  it("report what python-env reports: the same editable with a missing project", () => {
    expect(listed.problems.filter((problem) => problem.name === "deleted-pkg")).toEqual([
      expect.objectContaining({ detail: expect.stringContaining(`points at ${project("deleted")}`) }),
    ]);
  });

  it("report a finder module whose MAPPING cannot be read", () => {
    const problem = scan.problems.find((error) => error.distribution === "finder-pkg");
    expect(problem?.code).toBe("UNPARSABLE_FINDER");
    expect(problem?.location).toMatch(/__editable___finder_pkg_1_0_finder\.py$/);
    expect(problem?.message).toBe(
      `${problem?.location}: cannot read the editable finder of finder-pkg 1.0 (editable): its MAPPING is not a ` +
        "dict of strings (unexpected end of file); reinstall the project with pip install -e <project>",
    );
  });

  it("report a file that cannot be read as unreadable, where it is", () => {
    const problem = scan.problems.find((error) => error.distribution === "odd-pkg");
    const pth = join(venv.sitePackages, "_odd_pkg.pth");
    expect({ code: problem?.code, location: problem?.location, message: problem?.message }).toEqual({
      code: "UNREADABLE",
      location: pth,
      message: `${pth}: cannot read this file of odd-pkg 1.0 (editable) (EISDIR); check its permissions`,
    });
  });

  it("leave broken egg-links to python-env, which reports them instead of listing a distribution", () => {
    expect(listed.distributions.map((d) => d.normalizedName)).not.toContain("legacy-pkg");
    expect(listed.distributions.map((d) => d.normalizedName)).not.toContain("empty-pkg");
    expect(listed.problems.map((problem) => problem.path)).toEqual(
      expect.arrayContaining([
        join(venv.sitePackages, "legacy-pkg.egg-link"),
        join(venv.sitePackages, "empty-pkg.egg-link"),
      ]),
    );
  });

  it("are typed errors with one-line messages that name their path once", () => {
    expect(scan.problems.map((problem) => problem.distribution).sort()).toEqual([
      "deleted-pkg",
      "finder-pkg",
      "odd-pkg",
    ]);
    for (const problem of scan.problems) {
      expect(isEditableError(problem)).toBe(true);
      expect(problem.message).not.toContain("\n");
      expect(problem.message.startsWith(`${problem.location}: `)).toBe(true);
      expect(problem.detail).not.toContain(problem.location);
      expect(problem.message).not.toMatch(/ --[a-z]/); // no command-line flag of cluster-pack's
    }
  });
});

describe("the distributions given", () => {
  const plain = (name: string, overrides: Partial<Distribution> = {}): Distribution => ({
    name,
    normalizedName: name,
    version: "1.0",
    sitePackages: join(root ?? "", "site"),
    metadataPath: join(root ?? "", "site", `${name}-1.0.dist-info`),
    format: "dist-info",
    wheelTags: [],
    topLevel: [name],
    requiresDist: [],
    editable: false,
    ...overrides,
  });

  it("hold no editables when there are none", async () => {
    expect(await findEditableInstalls([])).toEqual({ editables: [], problems: [] });
  });

  it("are editable only as python-env says: a dist-info python-env calls not editable is not looked at", async () => {
    // Its RECORD would look editable to a second detector; python-env's answer is the only one.
    const notEditable = plain("lookalike", {
      files: [{ path: "__editable__.lookalike-1.0.pth" }, { path: "lookalike-1.0.dist-info/RECORD" }],
    });
    expect(await findEditableInstalls([notEditable])).toEqual({ editables: [], problems: [] });
  });

  it("give one editable per name, the first (python-env lists the one on sys.path first)", async () => {
    const first = plain("dup", {
      editable: true,
      editableLocation: project("healthy"),
      topLevel: ["healthypkg"],
    });
    const second = plain("dup", { editable: true, editableLocation: join(root, "nowhere") });
    const { editables, problems } = await findEditableInstalls([first, second]);
    expect(problems).toEqual([]);
    expect(editables).toEqual([
      {
        name: "dup",
        version: "1.0",
        projectDir: project("healthy"),
        mechanism: "direct-url",
        sitePackages: join(root, "site"),
        topLevels: [{ name: "healthypkg", kind: "package", path: join(project("healthy"), "healthypkg") }],
      },
    ]);
  });
});
