import { spawnSync } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { copyBuiltPackage, createVenv, machinePython, run, type Venv } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectInterpreter, parseRecord, probeInterpreter, readDistributions } from "../src/index.js";

const isRoot = process.getuid?.() === 0;
let root: string;
let venv: Venv;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-broken-dists-"));
  await chmod(root, 0o755);
  venv = await createVenv(machinePython, join(root, "venv"));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of the venv's site-packages to break, and where its pip's dist-info is in it. */
async function siteToBreak(name: string): Promise<{ site: string; pipInfo: string }> {
  const site = join(root, name);
  await cp(venv.sitePackages, site, { recursive: true });
  const { distributions } = await readDistributions([site]);
  return { site, pipInfo: distributions.find((d) => d.normalizedName === "pip")?.metadataPath ?? "" };
}

describe("RECORD read as the CSV Python writes", () => {
  it("keeps commas, doubled quotes and line breaks inside quoted names", () => {
    const text = '"a,b.py",sha256=x,1\r\n"say ""hi"".py",,\n"two\nlines.py",sha256=y,2\nplain.py,,\n';
    expect(parseRecord(text)).toEqual([
      { path: "a,b.py", hash: "sha256=x", size: 1 },
      { path: 'say "hi".py' },
      { path: "two\nlines.py", hash: "sha256=y", size: 2 },
      { path: "plain.py" },
    ]);
  });

  it("lists a file whose name holds a newline, as pip's csv writer recorded it", async () => {
    const { site, pipInfo } = await siteToBreak("newline-site");
    const name = "pip/two\nlines.py";
    await writeFile(join(site, name), "VALUE = 1\n");
    // Python's own csv module appends the row, quoting the name the way installers do.
    await run(machinePython, [
      "-c",
      "import csv, sys\nwith open(sys.argv[1], 'a', newline='') as f: csv.writer(f).writerow([sys.argv[2], '', ''])",
      join(pipInfo, "RECORD"),
      name,
    ]);
    const { distributions, problems } = await readDistributions([site]);
    const pip = distributions.find((d) => d.normalizedName === "pip");
    expect(problems).toEqual([]);
    expect(pip?.files?.map((file) => file.path)).toContain(name);
    expect(pip?.files?.map((file) => file.path)).toContain(`${pipInfo.split("/").pop()}/RECORD`);
  });
});

describe("a distribution nothing identifies", () => {
  it("names a dist-info directory with control characters in its name without echoing them", async () => {
    const site = join(root, "escape-site");
    const directory = join(site, "evil\u001b[31mred-1.0.dist-info");
    await mkdir(directory, { recursive: true });
    const { problems } = await readDistributions([site]);
    expect(problems).toEqual([
      {
        path: directory,
        detail: "no METADATA file: the distribution cannot be identified (reinstall it)",
        leftOut: true,
      },
    ]);
    await expect(readDistributions([site], { strict: true })).rejects.toMatchObject({
      code: "BROKEN_DISTRIBUTION",
      message: `${join(site, "evil\\x1b[31mred-1.0.dist-info")}: no METADATA file: the distribution cannot be identified (reinstall it)`,
    });
  });

  it("says a dist-info it may not read cannot be read (permission denied), not that it is missing", async () => {
    const { site, pipInfo } = await siteToBreak("locked-dist-info");
    await chmod(site, 0o755);
    await chmod(pipInfo, 0o000);
    // Root reads anything, so the listing runs as nobody, from a copy of the built package it can read.
    const code = await mkdtemp(join(tmpdir(), "cp-code-"));
    await copyBuiltPackage(fileURLToPath(new URL("..", import.meta.url)), code);
    await chmod(code, 0o755);
    const script = `
      import { readDistributions } from ${JSON.stringify(pathToFileURL(join(code, "index.js")).href)};
      const { problems } = await readDistributions([${JSON.stringify(site)}]);
      console.log(JSON.stringify(problems));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      ...(isRoot && { uid: 65534, gid: 65534 }),
    });
    await rm(code, { recursive: true, force: true });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual([
      {
        path: pipInfo,
        detail:
          "cannot be read (permission denied): make it readable for this user, or reinstall the distribution",
        leftOut: true,
      },
    ]);
  });
});

describe("an interpreter that never answers", () => {
  let hanging: string;

  beforeAll(async () => {
    hanging = join(root, "hanging-python");
    // Not `exec`: the shell's child keeps the output open after the shell is killed, as a wrapper's would.
    await writeFile(hanging, "#!/bin/sh\nsleep 30\n", { mode: 0o755 });
  });

  it("fails within the probe timeout, naming the interpreter and what to do", async () => {
    const started = Date.now();
    await expect(probeInterpreter(hanging, { probeTimeoutMs: 300 })).rejects.toMatchObject({
      code: "NOT_A_PYTHON",
      message: `${hanging}: did not answer within 0.3 s while probing the environment: check that it starts (run it with -c pass), or allow it longer with C_PACK_PROBE_TIMEOUT (seconds)`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("takes its timeout from C_PACK_PROBE_TIMEOUT, in seconds", async () => {
    const started = Date.now();
    await expect(
      detectInterpreter({ python: hanging, env: { ...process.env, C_PACK_PROBE_TIMEOUT: "0.2" } }),
    ).rejects.toMatchObject({
      code: "NOT_A_PYTHON",
      message: expect.stringContaining(`${hanging}: did not answer within 0.2 s while probing`),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses a C_PACK_PROBE_TIMEOUT that is not a positive number", async () => {
    await expect(
      detectInterpreter({ python: hanging, env: { ...process.env, C_PACK_PROBE_TIMEOUT: "soon" } }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message:
        "C_PACK_PROBE_TIMEOUT=soon is not a time limit: give a positive number (C_PACK_PROBE_TIMEOUT is in seconds)",
    });
  });
});
