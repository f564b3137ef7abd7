import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machinePython, run } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EDITABLE_PACKAGES_INDEX,
  formatEditablePackagesIndex,
  parseEditablePackagesIndex,
} from "../src/index.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-editable-index-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("editable_packages_index", () => {
  it("lists one top-level name per line, as cluster-pack writes it", () => {
    expect(formatEditablePackagesIndex(["alpha", "beta"])).toBe("alpha\nbeta\n");
    expect(parseEditablePackagesIndex("alpha\nbeta\n\n")).toEqual(["alpha", "beta"]);
  });

  it("lets a job launched from inside a job find the unpacked packages again, the way cluster-pack reads it", async () => {
    const job = join(root, "job");
    for (const name of ["alpha", "beta"]) {
      await mkdir(join(job, name), { recursive: true });
      await run("touch", [join(job, name, "__init__.py")]);
    }
    const index = join(job, EDITABLE_PACKAGES_INDEX);
    await writeFile(index, formatEditablePackagesIndex(["alpha", "beta"]));
    expect(await readFile(index, "utf8")).toBe("alpha\nbeta\n");
    // cluster-pack's get_editable_requirements inside a pex: find_spec(name) → {basename(dir): dir}.
    const found = await run(
      machinePython,
      [
        "-c",
        "import importlib.util, json, os\n" +
          "names = open('editable_packages_index').read().splitlines()\n" +
          "paths = {}\n" +
          "for name in names:\n" +
          "    path = os.path.dirname(importlib.util.find_spec(name).origin)\n" +
          "    paths[os.path.basename(path)] = path\n" +
          "print(json.dumps(paths))",
      ],
      { cwd: job, env: { PYTHONPATH: "." } },
    );
    expect(JSON.parse(found)).toEqual({ alpha: join(job, "alpha"), beta: join(job, "beta") });
  });
});
