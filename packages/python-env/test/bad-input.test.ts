import { spawnSync } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { copyBuiltPackage, createVenv, machinePython, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findInterpreter, listDistributions, probeInterpreter, readDistributions } from "../src/index.js";
import { importlibDistributions } from "./ground-truth.js";

const isRoot = process.getuid?.() === 0;
let root: string;
let venv: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-bad-input-"));
  await chmod(root, 0o755);
  venv = await createVenv(machinePython, join(root, "venv"));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("an interpreter that is not a Python", () => {
  it("names a missing path", async () => {
    const missing = join(root, "no-such-python");
    await expect(probeInterpreter(missing)).rejects.toMatchObject({
      code: "NOT_A_PYTHON",
      message: `${missing}: no such file`,
    });
  });

  it("names a file that is not executable", async () => {
    const file = join(root, "plain-file");
    await writeFile(file, "print('hi')\n");
    await expect(probeInterpreter(file)).rejects.toMatchObject({ message: `${file}: not executable` });
  });

  it("quotes what a program that is not Python printed", async () => {
    const script = join(root, "fake-python");
    await writeFile(script, "#!/bin/sh\necho hello from a shell script\n", { mode: 0o755 });
    await expect(probeInterpreter(script)).rejects.toMatchObject({
      code: "NOT_A_PYTHON",
      message: `${script}: not a Python interpreter (it printed "hello from a shell script" instead of the probe's answer)`,
    });
  });

  it("quotes the first line of a failing program's error", async () => {
    const script = join(root, "failing-python");
    await writeFile(script, "#!/bin/sh\necho 'boom: cannot start' >&2\necho more >&2\nexit 3\n", {
      mode: 0o755,
    });
    await expect(probeInterpreter(script)).rejects.toMatchObject({
      message: `${script}: not a Python interpreter (it failed: boom: cannot start)`,
    });
  });

  it("says what to do when no python3 is on PATH", async () => {
    await expect(findInterpreter({ env: { PATH: join(root, "empty") } })).rejects.toMatchObject({
      code: "NOT_A_PYTHON",
      message: "python3 is not on PATH; name the interpreter explicitly or activate an environment",
    });
  });
});

describe("a broken environment", () => {
  it("leaves out a dist-info without METADATA, keeps one without RECORD, and says why for each", async () => {
    const site = join(root, "broken-site");
    await cp(venv.sitePackages, site, { recursive: true });
    const { distributions: before } = await readDistributions([site]);
    const pip = before.find((d) => d.normalizedName === "pip");
    const setuptools = before.find((d) => d.normalizedName === "setuptools");
    await rm(join(pip?.metadataPath ?? "", "METADATA"));
    await rm(join(setuptools?.metadataPath ?? "", "RECORD"));

    const { distributions, problems } = await readDistributions([site]);
    expect(distributions.map((d) => d.normalizedName)).toEqual(["setuptools"]);
    expect(distributions[0]?.files).toBeUndefined();
    expect(problems).toEqual([
      {
        path: pip?.metadataPath,
        detail: "no METADATA file: the distribution cannot be identified (reinstall it)",
        leftOut: true,
      },
      {
        path: setuptools?.metadataPath,
        name: "setuptools",
        detail:
          "no RECORD file: its installed files are unknown and left out of the fingerprint (reinstall it)",
      },
    ]);
    await expect(readDistributions([site], { strict: true })).rejects.toMatchObject({
      code: "BROKEN_DISTRIBUTION",
      message: `${pip?.metadataPath}: no METADATA file: the distribution cannot be identified (reinstall it)`,
    });
  });

  it("agrees with importlib.metadata about a venv with a broken dist-info", async () => {
    const broken = await createVenv(machinePython, join(root, "broken-venv"));
    const { distributions: before } = await readDistributions([broken.sitePackages]);
    await rm(join(before.find((d) => d.normalizedName === "pip")?.metadataPath ?? "", "METADATA"));
    const { distributions } = await listDistributions(await probeInterpreter(broken.python));
    // importlib still yields the broken one, but without a name: nothing can refer to it.
    const truth = (await importlibDistributions(broken.python)).filter((d) => d.name).map((d) => d.name);
    expect(distributions.map((d) => d.name).sort()).toEqual(truth.sort());
  }, 30_000);

  it("reports an unreadable site-packages directory as one line, for a user who may not read it", async () => {
    const site = join(root, "locked-site");
    await mkdir(site);
    await chmod(site, 0o700);
    // Root reads anything, so the listing runs in a child process as nobody, from a copy of the built package
    // (and of its dependencies) that this user can read wherever the checkout lives.
    const code = await mkdtemp(join(tmpdir(), "cp-code-"));
    await copyBuiltPackage(fileURLToPath(new URL("..", import.meta.url)), code);
    await chmod(code, 0o755);
    const script = `
      import { readDistributions } from ${JSON.stringify(pathToFileURL(join(code, "index.js")).href)};
      readDistributions([${JSON.stringify(site)}]).then(
        () => console.log("{}"),
        (error) => console.log(JSON.stringify({ code: error.code, message: error.message })));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      ...(isRoot && { uid: 65534, gid: 65534 }),
    });
    await rm(code, { recursive: true, force: true });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({
      code: "UNREADABLE_ENVIRONMENT",
      message: `${site}: cannot read the site-packages directory: permission denied`,
    });
  });

  it("ignores a malformed direct_url.json and says so", async () => {
    const site = join(root, "bad-direct-url");
    await cp(venv.sitePackages, site, { recursive: true });
    const { distributions } = await readDistributions([site]);
    const pip = distributions.find((d) => d.normalizedName === "pip");
    await writeFile(join(pip?.metadataPath ?? "", "direct_url.json"), "{not json");
    const { distributions: after, problems } = await readDistributions([site]);
    expect(after.find((d) => d.normalizedName === "pip")?.directUrl).toBeUndefined();
    expect(problems).toEqual([
      {
        path: pip?.metadataPath,
        name: "pip",
        detail: "direct_url.json is not valid PEP 610 JSON; the install source is ignored",
      },
    ]);
  });
});
