import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVenv, machinePython, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packEnv } from "../src/index.js";

let root: string;
let venv: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-pack-cancel-"));
  venv = await createVenv(machinePython, join(root, "venv"));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("packEnv with a signal", () => {
  it("writes the same archive as without one, executable for a zipapp", async () => {
    const plain = await packEnv({ python: venv.python, output: join(root, "plain", "env.pex") });
    const controller = new AbortController();
    const signalled = await packEnv({
      python: venv.python,
      output: join(root, "signalled", "env.pex"),
      signal: controller.signal,
    });
    expect(signalled.sha256).toBe(plain.sha256);
    expect(signalled.size).toBe(plain.size);
    expect((await stat(signalled.output)).mode & 0o777).toBe(0o755);
  }, 120_000);

  it("rejects with the packer's own error when it refuses before the first byte", async () => {
    const packing = packEnv({
      python: venv.python,
      output: join(root, "refused", "env.tar.gz"),
      compression: "store",
      signal: new AbortController().signal,
    });
    await expect(packing).rejects.toMatchObject({ name: "ShippingError", code: "INVALID_ARGUMENT" });
  }, 120_000);

  it("stops when cancelled mid-pack, leaving nothing at the output or beside it", async () => {
    const controller = new AbortController();
    const directory = join(root, "cancelled");
    const packing = packEnv({
      python: venv.python,
      output: join(directory, "env.tar.gz"),
      signal: controller.signal,
      // The first pack event comes as packing starts.
      onProgress: (event) => {
        if (event.phase === "pack") controller.abort();
      },
    });
    await expect(packing).rejects.toMatchObject({ code: "ABORTED" });
    expect(await readdir(directory)).toEqual([]);
  }, 120_000);
});
