import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ArchiveError,
  EditableError,
  EnvUsageError,
  PackerError,
  PythonEnvError,
  ShippingError,
  StorageError,
} from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportOf } from "../src/errors.js";
import { expectOneError, runCli } from "./cli-process.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-errors-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

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

// Every code of every family a user can meet, as the packages define them: each reaches the user as one line with
// a hint, exit code 2 when the call was wrong, 1 otherwise.
const families: [string, (code: string) => Error, readonly string[]][] = [
  [
    "StorageError",
    (code) => new StorageError(code as never, "refused", { uri: "s3://team/envs/env.pex" }),
    [
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "TRANSIENT",
      "INVALID_ARGUMENT",
      "ABORTED",
      "UNKNOWN",
    ],
  ],
  [
    "ArchiveError",
    (code) => new ArchiveError(code as never, "bad entry", { archive: "/tmp/env.zip", entry: "a.py" }),
    ["INVALID_ARGUMENT", "CORRUPT", "IO", "UNSUPPORTED"],
  ],
  [
    "PythonEnvError",
    (code) => new PythonEnvError(code as never, "cannot be used", { location: "/venv/bin/python" }),
    [
      "NOT_A_PYTHON",
      "UNREADABLE_ENVIRONMENT",
      "BROKEN_DISTRIBUTION",
      "INVALID_ARGUMENT",
      "MISSING_TOOL",
      "RESOLUTION_FAILED",
    ],
  ],
  [
    "EditableError",
    (code) =>
      new EditableError(code as never, "devpkg 0.1 (editable) is broken", { location: "/src/devpkg" }),
    [
      "MISSING_PROJECT",
      "MISSING_SOURCE",
      "UNSUPPORTED_LAYOUT",
      "UNPARSABLE_FINDER",
      "BROKEN_EGG_LINK",
      "UNREADABLE",
      "INVALID_ARGUMENT",
    ],
  ],
  [
    "PackerError",
    (code) => new PackerError(code as never, "cannot pack", { location: "/venv" }),
    ["INVALID_ARGUMENT", "MISSING_FILE", "IO", "UNRELOCATABLE"],
  ],
  ["EnvUsageError", () => new EnvUsageError('"my-pkg" is not a module name', "module"), ["INVALID_ARGUMENT"]],
  [
    "ShippingError",
    (code) => new ShippingError(code as never, "failed", { location: "s3://team/envs/env.pex" }),
    [
      "INVALID_ARGUMENT",
      "NOT_FOUND",
      "EDITABLE_PROBLEM",
      "VERIFICATION_FAILED",
      "UPLOAD_FAILED",
      "REMOVE_FAILED",
      "DOWNLOAD_FAILED",
      "CONCURRENT_UPLOAD",
    ],
  ],
];

describe.each(families)("every %s reaches the user as one line with a hint", (_, make, codes) => {
  it.each(codes)("%s", (code) => {
    const error = make(code);
    const report = reportOf(error);
    expect(report.message).toBe(error.message);
    expect(report.message).not.toContain("\n");
    expect(report.hint).toMatch(/\S/);
    expect(report.exitCode).toBe(code === "INVALID_ARGUMENT" ? 2 : 1);
  });
});

describe("errors of the packers and the emitters", () => {
  it("explains a failed upload by the store's problem", () => {
    const cause = new StorageError("PERMISSION_DENIED", "access denied", { uri: "s3://team/envs/env.pex" });
    const error = new ShippingError("UPLOAD_FAILED", "uploading the archive failed: access denied", {
      location: "s3://team/envs/env.pex",
      cause,
    });
    expect(reportOf(error)).toEqual({
      message: "s3://team/envs/env.pex: uploading the archive failed: access denied",
      hint: "check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE…) and the bucket's permissions",
      exitCode: 1,
    });
  });

  it.each([
    ["s3://team/envs/env.pex", /AWS_ENDPOINT_URL_S3/, /HADOOP/],
    ["webhdfs://namenode:9870/user/bob/env.pex", /HADOOP_CONF_DIR/, /AWS/],
    ["hdfs:///user/bob/env.pex", /HADOOP_CONF_DIR/, /AWS/],
    ["/data/envs/env.pex", /run the command again/, /AWS|HADOOP/],
  ])("hints at the settings of the store in %s, not another's", (uri, named, notNamed) => {
    const cause = new StorageError("TRANSIENT", "lost the connection", { uri });
    const error = new ShippingError("UPLOAD_FAILED", "uploading the archive failed", {
      location: uri,
      cause,
    });
    expect(reportOf(error).hint).toMatch(named);
    expect(reportOf(error).hint).not.toMatch(notNamed);
    expect(reportOf(cause).hint).toMatch(named);
  });

  it("says in plain words that a connection closed early, instead of the HTTP client's 'aborted'", () => {
    expect(reportOf(new Error("aborted")).message).toBe(
      "the connection closed before the whole answer arrived",
    );
  });

  it("prefers the library's own hint", () => {
    const error = new StorageError("INVALID_ARGUMENT", "no adapter", { hint: "install @cluster-pack/fs-s3" });
    expect(reportOf(error).hint).toBe("install @cluster-pack/fs-s3");
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
