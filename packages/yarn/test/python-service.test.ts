import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pythonService, type SkeinFile, ticketCacheFile } from "../src/index.js";

const editable = [
  { name: "my_project", uri: "s3://team/envs/env_editable/my_project.zip" },
  { name: "helpers", uri: "s3://team/envs/env_editable/helpers.zip" },
];
const editableIndex = "s3://team/envs/env_editable/editable_packages_index";

const condaUnpackLine =
  "if [ -x environment/bin/conda-unpack ]; then environment/bin/conda-unpack; fi || exit\n";

describe("pythonService: the environment's files, for each layout", () => {
  it.each<[string, string, Record<string, SkeinFile>, string, string?]>([
    [
      "a zipapp on S3 is a file (never unpacked), read through s3a",
      "s3://team/envs/env.pex",
      { "env.pex": { source: "s3a://team/envs/env.pex", type: "file", visibility: "application" } },
      "exec ./env.pex -m my_project.train\n",
    ],
    [
      "a zipapp on HDFS keeps its URI",
      "hdfs:///user/me/envs/team_1a2b3c4.pex",
      {
        "team_1a2b3c4.pex": {
          source: "hdfs:///user/me/envs/team_1a2b3c4.pex",
          type: "file",
          visibility: "application",
        },
      },
      "exec ./team_1a2b3c4.pex -m my_project.train\n",
    ],
    [
      "the unpack layout is an archive unpacked as pyenv",
      "s3a://team/envs/env.pex.zip",
      { pyenv: { source: "s3a://team/envs/env.pex.zip", type: "archive", visibility: "application" } },
      "exec pyenv/__main__.py -m my_project.train\n",
    ],
    [
      "a venv or conda archive is an archive unpacked as environment, which runs its conda-unpack if it has one",
      "/nfs/envs/venv.tar.gz",
      { environment: { source: "/nfs/envs/venv.tar.gz", type: "archive", visibility: "application" } },
      "exec environment/bin/python -m my_project.train\n",
      condaUnpackLine,
    ],
  ])("%s", (_, archive, files, lastLine, firstLine = "") => {
    const service = pythonService(getPyenvUsageFromArchive(archive), { run: { module: "my_project.train" } });
    expect(service.files).toEqual(files);
    expect(service.script).toBe(
      `${firstLine}export PEX_ROOT=./.pex\nexport PYTHONPATH=".\${PYTHONPATH:+:$PYTHONPATH}"\n${lastLine}`,
    );
  });

  it("unpacks each editable zip into <name>.zip/, puts it on PYTHONPATH and ships the index", () => {
    const service = pythonService(getPyenvUsageFromArchive("s3://team/envs/env.pex"), {
      run: { module: "my_project.train" },
      editable,
      editableIndex,
    });
    expect(service.files).toEqual({
      "env.pex": { source: "s3a://team/envs/env.pex", type: "file", visibility: "application" },
      "my_project.zip": {
        source: "s3a://team/envs/env_editable/my_project.zip",
        type: "archive",
        visibility: "application",
      },
      "helpers.zip": {
        source: "s3a://team/envs/env_editable/helpers.zip",
        type: "archive",
        visibility: "application",
      },
      editable_packages_index: {
        source: "s3a://team/envs/env_editable/editable_packages_index",
        type: "file",
        visibility: "application",
      },
    });
    expect(service.script).toContain(
      `export PYTHONPATH=".:my_project.zip:helpers.zip\${PYTHONPATH:+:$PYTHONPATH}"`,
    );
  });

  it("pins every field of a service with all options", () => {
    const service = pythonService(getPyenvUsageFromArchive("hdfs://nn:8020/envs/env.pex"), {
      run: { script: "s3://team/jobs/train.py", args: ["--lr", "0.1", "two words"] },
      resources: { memory: "4 GiB", vcores: 2, gpus: 1 },
      instances: 3,
      maxRestarts: -1,
      allowFailures: true,
      nodeLabel: "gpu",
      depends: ["scheduler"],
      env: { LOG_LEVEL: "debug" },
      files: { "conf.json": { source: "s3://team/conf.json", type: "file", visibility: "private" } },
      visibility: "private",
    });
    expect(service).toEqual({
      instances: 3,
      max_restarts: -1,
      allow_failures: true,
      resources: { memory: "4 GiB", vcores: 2, gpus: 1 },
      files: {
        "env.pex": { source: "hdfs://nn:8020/envs/env.pex", type: "file", visibility: "private" },
        "train.py": { source: "s3a://team/jobs/train.py", type: "file", visibility: "private" },
        "conf.json": { source: "s3a://team/conf.json", type: "file", visibility: "private" },
      },
      env: { LOG_LEVEL: "debug" },
      script: [
        "export PEX_ROOT=./.pex",
        `export PYTHONPATH=".\${PYTHONPATH:+:$PYTHONPATH}"`,
        "exec ./env.pex train.py --lr 0.1 'two words'",
        "",
      ].join("\n"),
      depends: ["scheduler"],
      node_label: "gpu",
    });
  });

  it("defaults to one container of 1 GiB and 1 vcore that is never restarted", () => {
    const service = pythonService(getPyenvUsageFromArchive("/envs/env.pex"), { run: { code: "print(1)" } });
    expect(service).toMatchObject({
      instances: 1,
      max_restarts: 0,
      resources: { memory: "1 GiB", vcores: 1 },
    });
    expect(service).not.toHaveProperty("depends");
    expect(service).not.toHaveProperty("node_label");
    expect(service).not.toHaveProperty("allow_failures");
  });

  it("leaves PEX_ROOT to the service's env when it sets one", () => {
    const service = pythonService(getPyenvUsageFromArchive("/envs/env.pex"), {
      run: { module: "job" },
      env: { PEX_ROOT: "/scratch/pex" },
    });
    expect(service.env.PEX_ROOT).toBe("/scratch/pex");
    expect(service.script).not.toContain("PEX_ROOT");
  });

  it("refuses two files localized under one name, naming both", () => {
    expect(() =>
      pythonService(getPyenvUsageFromArchive("/envs/env.pex"), {
        run: { script: "/jobs/env.pex" },
      }),
    ).toThrow(
      /^files\.env\.pex: two files would be localized as "env\.pex" \(\/envs\/env\.pex and \/jobs\/env\.pex\)/,
    );
  });

  it("refuses a module or editable name Python cannot import", () => {
    const env = getPyenvUsageFromArchive("/envs/env.pex");
    expect(() => pythonService(env, { run: { module: "my-project.train" } })).toThrow(
      /^module: "my-project\.train" is not a module name/,
    );
    expect(() =>
      pythonService(env, { run: { module: "x" }, editable: [{ name: "a/b", uri: "/e/a.zip" }] }),
    ).toThrow(/^\/e\/a\.zip: editable package "a\/b" is not an import name/);
  });
});

describe("pythonService: the command line", () => {
  it("passes code and arguments to the interpreter exactly as given, through bash", () => {
    const service = pythonService(getPyenvUsageFromArchive("/envs/env.pex"), {
      run: { code: "import sys; print(sys.argv[1:])", args: ["it's", "$HOME", "a b"] },
    });
    const command = service.script.split("\n").find((line) => line.startsWith("exec ")) ?? "";
    // Replace the interpreter with printf to see the words bash hands it.
    const words = execFileSync("bash", ["-c", command.replace("exec ./env.pex", "printf '%s\\n'")])
      .toString()
      .split("\n")
      .slice(0, -1);
    expect(words).toEqual(["-c", "import sys; print(sys.argv[1:])", "it's", "$HOME", "a b"]);
  });
});

describe("pythonService: a conda archive's unpack step, run by bash", () => {
  let container: string;
  beforeAll(() => {
    container = mkdtempSync(join(tmpdir(), "cp-yarn-unpack-step-"));
  });
  afterAll(() => rmSync(container, { recursive: true, force: true }));

  /** A container directory whose `environment/bin` holds these scripts; runs the service's script there. */
  function runScript(scripts: Record<string, string>) {
    const bin = join(container, "environment", "bin");
    rmSync(join(container, "environment"), { recursive: true, force: true });
    mkdirSync(bin, { recursive: true });
    for (const [name, body] of Object.entries(scripts))
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    const service = pythonService(getPyenvUsageFromArchive("hdfs:///envs/analytics.tar.gz"), {
      run: { module: "job" },
    });
    return spawnSync("bash", ["-c", service.script], { cwd: container, encoding: "utf8" });
  }

  it("runs conda-unpack before the job", () => {
    const outcome = runScript({
      "conda-unpack": "echo unpacked",
      python: 'echo "job $*"',
    });
    expect(outcome).toMatchObject({ status: 0, stdout: "unpacked\njob -m job\n" });
  });

  it("runs the job of a venv archive, which has no conda-unpack", () => {
    expect(runScript({ python: 'echo "job $*"' })).toMatchObject({ status: 0, stdout: "job -m job\n" });
  });

  it("stops with conda-unpack's exit code when it fails, without starting the job", () => {
    const outcome = runScript({
      "conda-unpack": "echo 'conda-unpack: path too long' >&2; exit 3",
      python: 'echo "job $*"',
    });
    expect(outcome).toMatchObject({ status: 3, stdout: "", stderr: "conda-unpack: path too long\n" });
  });
});

describe("Kerberos ticket cache", () => {
  it.each([
    ["FILE:/tmp/krb5cc_1000", "/tmp/krb5cc_1000"],
    ["/tmp/krb5cc_1000", "/tmp/krb5cc_1000"],
    ["KEYRING:persistent:1000", undefined],
    ["KCM:", undefined],
    ["DIR::/run/user/1000/krb5cc/tkt", undefined],
    ["MEMORY:x", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("KRB5CCNAME=%s is the file %s", (krb5ccname, file) => {
    expect(ticketCacheFile(krb5ccname)).toBe(file);
  });

  it("ships a file ticket cache with application visibility and points KRB5CCNAME at it", () => {
    const service = pythonService(getPyenvUsageFromArchive("/envs/env.pex"), {
      run: { module: "job" },
      visibility: "public",
      krb5ccname: "FILE:/tmp/krb5cc_1000",
    });
    expect(service.files.krb5cc).toEqual({
      source: "/tmp/krb5cc_1000",
      type: "file",
      visibility: "application",
    });
    expect(service.script).toContain('export KRB5CCNAME="FILE:$PWD/krb5cc"\n');
  });

  it("ships nothing for a keyring cache", () => {
    const service = pythonService(getPyenvUsageFromArchive("/envs/env.pex"), {
      run: { module: "job" },
      krb5ccname: "KEYRING:persistent:1000",
    });
    expect(Object.keys(service.files)).toEqual(["env.pex"]);
    expect(service.script).not.toContain("KRB5CCNAME");
  });
});
