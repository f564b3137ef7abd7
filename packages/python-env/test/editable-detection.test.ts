import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  createVenv,
  installEditable,
  machinePython,
  pipInstall,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildRequirementSet,
  type Distribution,
  type DistributionProblem,
  formatRequirements,
  listDistributions,
  probeInterpreter,
} from "../src/index.js";

/**
 * A setuptools PEP 660 editable install is editable whether or not PEP 610's `direct_url.json` says so: an
 * installer that does not write it leaves only the RECORD-listed `__editable__.*.pth`. Built here from real
 * `pip install -e` installs (setuptools 65: a finder for a flat layout, a path entry for a src layout) whose
 * `direct_url.json` is then removed, as such an installer would have left them.
 */
let root: string;
let venv: Venv;
let distributions: Distribution[];
let problems: DistributionProblem[];
const project = (name: string) => join(root, name);
const byName = (name: string) => distributions.find((d) => d.normalizedName === name);

/** Removes `direct_url.json` from an installed distribution, and its line from the RECORD. */
async function withoutDirectUrl(venv: Venv, distInfo: string) {
  const directory = join(venv.sitePackages, distInfo);
  await rm(join(directory, "direct_url.json"));
  const record = await readFile(join(directory, "RECORD"), "utf8");
  await writeFile(
    join(directory, "RECORD"),
    record
      .split("\n")
      .filter((line) => !line.startsWith(`${distInfo}/direct_url.json,`))
      .join("\n"),
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-python-env-editable-"));
  venv = await createVenv(machinePython, join(root, "venv"));
  await pipInstall(venv, ["wheel"]);
  const projects = {
    "finder-only": { name: "finder-only", files: { "finderonly/__init__.py": "" } },
    "path-only": { name: "path-only", files: { "src/pathonly/__init__.py": "" }, packageRoot: "src" },
    "path-declared": {
      name: "path-declared",
      files: { "src/pathdeclared/__init__.py": "" },
      packageRoot: "src",
    },
    "gone-only": { name: "gone-only", files: { "src/goneonly/__init__.py": "" }, packageRoot: "src" },
  };
  for (const [directory, spec] of Object.entries(projects)) {
    await writeProject({ version: "1.0", ...spec }, project(directory), { pyproject: true });
    await installEditable(venv, project(directory), "pep660");
  }
  await writeProject(
    { name: "relative-link", version: "1.0", files: { "rellink/__init__.py": "" } },
    project("relative-link"),
  );
  await installEditable(venv, project("relative-link"), "legacy");
  for (const distribution of ["finder_only", "path_only", "gone_only"])
    await withoutDirectUrl(venv, `${distribution}-1.0.dist-info`);
  // An egg-link whose line is relative to site-packages, as pkg_resources reads it.
  await writeFile(
    join(venv.sitePackages, "relative-link.egg-link"),
    `${relative(venv.sitePackages, project("relative-link"))}\n.`,
  );
  await rm(join(project("gone-only"), "src"), { recursive: true });
  ({ distributions, problems } = await listDistributions(await probeInterpreter(venv.python)));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("a dist-info whose RECORD lists an __editable__.*.pth, without direct_url.json", () => {
  it("is editable when the .pth imports setuptools' finder, with no location to tell", async () => {
    const finder = byName("finder-only");
    expect(finder).toMatchObject({ editable: true, format: "dist-info" });
    expect(finder?.directUrl).toBeUndefined();
    expect(finder?.editableLocation).toBeUndefined();
    expect(finder?.files?.map((file) => file.path)).toContain("__editable__.finder_only-1.0.pth");
    expect(await readdir(venv.sitePackages)).toContain("__editable___finder_only_1_0_finder.py");
  });

  it("is editable at the .pth's path entry when it has one", () => {
    expect(byName("path-only")).toMatchObject({
      editable: true,
      editableLocation: join(project("path-only"), "src"),
    });
    expect(byName("path-only")?.directUrl).toBeUndefined();
  });

  it("is reported, like a PEP 610 editable, when its path entry was deleted", () => {
    expect(byName("gone-only")?.editable).toBe(true);
    expect(problems).toEqual([
      {
        path: join(venv.sitePackages, "gone_only-1.0.dist-info"),
        name: "gone-only",
        detail: `editable install of gone-only points at ${join(project("gone-only"), "src")}, which no longer exists (reinstall or uninstall it)`,
        editable: true,
      },
    ]);
  });

  it("is not packed: it ships as editable code", async () => {
    const packed = formatRequirements(await buildRequirementSet(distributions));
    expect(packed.filter((line) => /only|declared|link/.test(line))).toEqual([]);
  });
});

describe("the location of an editable", () => {
  it("stays PEP 610's project directory when direct_url.json gives it, whatever the .pth says", () => {
    const declared = byName("path-declared");
    expect(declared?.files?.map((file) => file.path)).toContain("__editable__.path_declared-1.0.pth");
    expect(declared).toMatchObject({ editable: true, editableLocation: project("path-declared") });
    expect(declared?.directUrl?.dir_info).toEqual({ editable: true });
  });

  it("of a legacy egg-link is read relative to site-packages", () => {
    expect(byName("relative-link")).toMatchObject({
      editable: true,
      format: "egg-info",
      editableLocation: project("relative-link"),
    });
  });
});
