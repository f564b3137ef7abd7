import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createVenv,
  installEditable,
  machinePython,
  pipInstall,
  type Venv,
  writeProject,
} from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EditableScan, findEditableInstalls, isEditableError } from "../src/index.js";

let root: string;
let venv: Venv;
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
  await rm(project("deleted"), { recursive: true });
  await rm(project("legacy"), { recursive: true });
  const finder = (await readdir(venv.sitePackages)).find((file) =>
    /^__editable___finder_pkg.*_finder\.py$/.test(file),
  );
  await writeFile(join(venv.sitePackages, finder ?? "missing"), "MAPPING = {'finderpkg': \n");
  await writeFile(join(venv.sitePackages, "empty-pkg.egg-link"), "");
  scan = await findEditableInstalls([venv.sitePackages]);
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("broken editable installs", () => {
  it("still finds the healthy ones", () => {
    expect(scan.editables.map((editable) => editable.name)).toEqual(["healthy-pkg"]);
  });

  it("report an editable whose project directory was deleted, naming the distribution and the path", () => {
    const problem = scan.problems.find((error) => error.distribution === "deleted-pkg");
    expect(problem?.code).toBe("MISSING_PROJECT");
    expect(problem?.path).toBe(project("deleted"));
    expect(problem?.message).toBe(
      `deleted-pkg 1.0 (editable): project directory ${project("deleted")} no longer exists ` +
        `(installed by ${join(venv.sitePackages, "deleted_pkg-1.0.dist-info", "direct_url.json")}); ` +
        "reinstall it with pip install -e <project> or remove it with pip uninstall deleted-pkg",
    );
  });

  it("report a finder module whose MAPPING cannot be read", () => {
    const problem = scan.problems.find((error) => error.distribution === "finder-pkg");
    expect(problem?.code).toBe("UNPARSABLE_FINDER");
    expect(problem?.message).toMatch(
      /^finder-pkg 1\.0 \(editable\): cannot read the editable finder .*__editable___finder_pkg_1_0_finder\.py: its MAPPING is not a dict of strings \(unexpected end of file\); reinstall the project with pip install -e$/,
    );
  });

  it("report an egg-link to a directory that no longer exists", () => {
    const problem = scan.problems.find((error) => error.distribution === "legacy-pkg");
    expect(problem?.code).toBe("MISSING_PROJECT");
    expect(problem?.message).toContain(`project directory ${project("legacy")} no longer exists`);
    expect(problem?.message).toContain("legacy-pkg.egg-link");
  });

  it("report an empty egg-link", () => {
    const problem = scan.problems.find((error) => error.distribution === "empty-pkg");
    expect(problem?.code).toBe("BROKEN_EGG_LINK");
  });

  it("are typed errors with one-line messages and nothing else", () => {
    expect(scan.problems).toHaveLength(4);
    for (const problem of scan.problems) {
      expect(isEditableError(problem)).toBe(true);
      expect(problem.message).not.toContain("\n");
    }
  });
});

describe("a site-packages directory", () => {
  it("that does not exist holds no editables", async () => {
    expect(await findEditableInstalls([join(root, "nowhere")])).toEqual({ editables: [], problems: [] });
  });

  it("that is a file is reported as unreadable", async () => {
    const file = join(root, "not-a-directory");
    await writeFile(file, "");
    const { problems } = await findEditableInstalls([file]);
    expect(problems.map(({ code, message }) => ({ code, message }))).toEqual([
      { code: "UNREADABLE", message: `${file}: cannot read site-packages (ENOTDIR)` },
    ]);
  });
});
