import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvUsageError } from "@cluster-pack/env-usage";
import { PackerError } from "@cluster-pack/packers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportOf } from "../src/errors.js";
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

describe("errors of the packers and the emitters", () => {
  it.each<[string, Error, 1 | 2, RegExp]>([
    [
      "a bad packer option is a usage error",
      new PackerError("INVALID_ARGUMENT", "not a virtual environment", { path: "/usr" }),
      2,
      /--packer/,
    ],
    [
      "a file missing from an installed package",
      new PackerError("MISSING_FILE", "listed in its distribution's RECORD but missing; reinstall it", {
        path: "/venv/lib/python3.11/site-packages/pkg/core.py",
      }),
      1,
      /--force-reinstall/,
    ],
    ["an archive that could not be written", new PackerError("IO", "no space left on device"), 1, /TMPDIR/],
    [
      "an interpreter or destination that cannot be relocated",
      new PackerError("UNRELOCATABLE", "--with-python ships Linux (ELF) interpreters only", { path: "/py" }),
      1,
      /--packer venv without --with-python/,
    ],
    [
      "an option an emitter refuses is a usage error",
      new EnvUsageError('"my-pkg" is not a module name', "module"),
      2,
      /--help/,
    ],
  ])("%s: one line, a hint, exit code %s", (_, error, exitCode, hint) => {
    const report = reportOf(error);
    expect(report).toMatchObject({ message: error.message, exitCode });
    expect(report.hint).toMatch(hint);
  });

  it("reports an environment the venv packer cannot pack as a usage error", async () => {
    const outcome = await runCli(
      ["pack", "--python", "python3", "--packer", "venv", "--output", join(root, "system.tar.gz")],
      { cwd: root },
    );
    expect(outcome.code).toBe(2);
    expectOneError(outcome.stderr, /not a virtual environment/);
    expect(outcome.stderr).toContain("hint: check --python and --packer");
  });
});

describe("cluster-pack info", () => {
  it("offers only the options it uses", async () => {
    const help = await runCli(["info", "--help"], { cwd: root });
    expect(help.code).toBe(0);
    for (const used of [
      "--python",
      "--additional-packages",
      "--ignored-packages",
      "--only-packages",
      "--top",
    ])
      expect(help.stdout).toContain(used);
    for (const unused of ["--packer", "--with-python", "--dest-prefix", "--include-editable", "--index-url"])
      expect(help.stdout).not.toContain(unused);
    const refused = await runCli(["info", "--packer", "venv"], { cwd: root });
    expect(refused.code).toBe(2);
    expectOneError(refused.stderr, /unknown option '--packer'/);
  });
});
