import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-process.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-errors-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** stderr must be `error: …` then one hint line, and nothing else. */
function expectOneError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[1]).toMatch(/^(hint: .+|\(run with --debug for details\))$/);
}

describe("usage errors exit with code 2 and one error line", () => {
  it.each([
    [["upload", "--bogus"], /unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["pack", "--python", "python3"], /--output/],
    [["upload", "--format", "tar"], /tar/],
    [["ls"], /missing required argument 'uri'/],
    [["upload", "--additional-packages", "numpy>=2"], /NAME==VERSION/],
    [["upload", "--package-path", "/tmp/env.tar.gz", "--format", "pex"], /tar\.gz|extension|pex/],
  ])("cluster-pack %j", async (args, pattern) => {
    const outcome = await runCli(args, { cwd: root });
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    expectOneError(outcome.stderr, pattern);
  });

  it("reports a malformed [tool.cluster-pack] table as a usage error naming the file", async () => {
    const project = await mkdtemp(join(root, "project-"));
    await writeFile(join(project, "pyproject.toml"), '[tool.cluster-pack]\npackage-paht = "/x/env.pex"\n');
    const outcome = await runCli(["info"], { cwd: project });
    expect(outcome.code).toBe(2);
    expectOneError(outcome.stderr, /pyproject\.toml: unknown key "package-paht"/);
  });
});

describe("runtime errors exit with code 1, one line, no stack trace unless --debug", () => {
  it("names a --python that does not exist", async () => {
    const outcome = await runCli(["upload", "--python", join(root, "nope", "python"), "--json"], {
      cwd: root,
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe("");
    expectOneError(outcome.stderr, /nope\/python/);
    expect(outcome.stderr).toContain("hint: pass --python");
  });

  it("prints the stack trace with --debug", async () => {
    const outcome = await runCli(["--debug", "info", "--python", join(root, "nope", "python")], {
      cwd: root,
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.split("\n")[0]).toMatch(/^error: /);
    expect(outcome.stderr).toMatch(/\n\s+at /);
  });
});

describe("help and version", () => {
  it("prints help on stdout with exit code 0", async () => {
    const outcome = await runCli(["upload", "--help"], { cwd: root });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain("--package-path");
    expect(outcome.stdout).toContain("--include-editable");
  });

  it("shows the help on stderr and exits with 2 when no command is given", async () => {
    const outcome = await runCli([], { cwd: root });
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    expect(outcome.stderr).toContain("Usage: cluster-pack");
  });
});
