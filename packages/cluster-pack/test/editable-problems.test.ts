import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createShippableVenv, createVenv, machinePython } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isShippingError, uploadEnv } from "../src/index.js";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-editable-problems-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Uploads to a fresh local store and returns the refusal; nothing may be written there. */
async function refusal(python: string): Promise<Error> {
  const store = await mkdtemp(join(root, "store-"));
  const error = await uploadEnv({ python, packagePath: join(store, "env.pex") }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isShippingError(error, "EDITABLE_PROBLEM")).toBe(true);
  expect(await readdir(store)).toEqual([]);
  return error as Error;
}

describe("a broken editable install stops the upload before anything is packed", () => {
  it("refuses a pip install -e whose project directory was deleted", async () => {
    const { venv, project } = await createShippableVenv(join(root, "deleted"));
    await rm(project, { recursive: true, force: true });
    const error = await refusal(venv.python);
    expect(error.message).toContain(project);
    expect(error.message).not.toContain("\n");
  }, 180_000);

  it("refuses a legacy egg-link that points nowhere (python-env cannot even read it)", async () => {
    const venv = await createVenv(machinePython, join(root, "egg-link"));
    const gone = join(root, "egg-link-project");
    await writeFile(join(venv.sitePackages, "legacy-pkg.egg-link"), `${gone}\n.\n`);
    const error = await refusal(venv.python);
    expect(error.message).toMatch(/legacy-pkg\.egg-link: .*no longer exists/);
  }, 120_000);
});
