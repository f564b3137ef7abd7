import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type RunningS3rver,
  s3Environment,
  startS3rver,
  startWebHdfsServer,
  type Venv,
  type WebHdfsServer,
  writeHadoopConfDir,
} from "@cluster-pack/testkit";
import type { UploadedEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runArchive, runCli } from "./cli-process.js";
import { createFixtureVenv, importBoth } from "./fixture-env.js";

let root: string;
let venv: Venv;
let s3: RunningS3rver;

const s3Env = () => baseEnv(s3Environment(s3));

/** Parses stdout, which must be exactly one JSON object. */
function parseResult(stdout: string): UploadedEnv {
  const result = JSON.parse(stdout) as UploadedEnv;
  expect(typeof result).toBe("object");
  return result;
}

async function expectRunsBoth(archive: string, editableZip: string) {
  const outcome = await runArchive(archive, editableZip, importBoth, join(root, "pex-root"));
  expect(outcome.stderr).toBe("");
  expect(outcome.stdout.trim()).toBe("wheel dev");
}

const BOTO3_DOWNLOAD = `
import json, sys
import boto3, botocore.config
args = json.loads(sys.argv[1])
client = boto3.client(
    "s3",
    endpoint_url=args["endpoint"],
    aws_access_key_id=args["accessKeyId"],
    aws_secret_access_key=args["secretAccessKey"],
    region_name="us-east-1",
    config=botocore.config.Config(s3={"addressing_style": "path"}),
)
for key, file in args["objects"]:
    client.download_file(args["bucket"], key, file)
`;

/** Downloads objects of the "team" bucket with boto3 under /usr/bin/python3 (Debian's python3-boto3). */
async function downloadWithBoto3(objects: [key: string, file: string][]) {
  const args = JSON.stringify({
    endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    bucket: "team",
    objects,
  });
  await promisify(execFile)("/usr/bin/python3", ["-c", BOTO3_DOWNLOAD, args], {
    env: baseEnv({ PYTHONPATH: "", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" }),
  });
}

/** Reads a file the way any HTTP client can: WebHDFS OPEN on the namenode, following its redirect. */
async function downloadWithWebHdfsOpen(namenodeAddress: string, path: string, file: string, user: string) {
  const response = await fetch(
    `http://${namenodeAddress}/webhdfs/v1${path}?op=OPEN&user.name=${encodeURIComponent(user)}`,
  );
  expect(response.status).toBe(200);
  await writeFile(file, new Uint8Array(await response.arrayBuffer()));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-upload-"));
  [venv, s3] = await Promise.all([createFixtureVenv(root), startS3rver({ buckets: ["team"] })]);
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

describe("cluster-pack upload to S3 (s3rver)", () => {
  const packagePath = "s3://team/envs/cli/env.pex";
  let first: UploadedEnv;
  let firstRun: { stdout: string; stderr: string; code: number | null };

  beforeAll(async () => {
    firstRun = await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"], {
      env: s3Env(),
    });
    expect(firstRun.stderr).toBe("");
    expect(firstRun.code).toBe(0);
    first = parseResult(firstRun.stdout);
  }, 120_000);

  it("prints one JSON object with the archive's URI, the env name and the editable zips", () => {
    expect(first).toMatchObject({ packagePath, uploaded: true, packer: "pex" });
    expect(first.envName).toMatch(/^venv_[0-9a-f]{7}$/);
    expect(first.editable).toEqual([
      expect.objectContaining({
        name: "devpkg",
        uri: expect.stringMatching(/^s3:\/\/team\/envs\/cli\/env_editable\/devpkg\.zip$/),
      }),
    ]);
    expect(first.metadata.package_installed).toContain("purepkg==1.0");
  });

  it("stores an archive and an editable zip that another S3 client downloads and Python runs", async () => {
    // A second, independent client: boto3 from Debian's python3-boto3, run by the system Python.
    const download = join(root, "s3-download");
    await mkdir(download, { recursive: true });
    await downloadWithBoto3([
      ["envs/cli/env.pex", join(download, "env.pex")],
      ["envs/cli/env_editable/devpkg.zip", join(download, "devpkg.zip")],
      ["envs/cli/env.json", join(download, "env.json")],
    ]);
    const metadata = JSON.parse(await readFile(join(download, "env.json"), "utf8")) as {
      package_installed: string[];
    };
    expect(metadata.package_installed).toContain("purepkg==1.0");
    await expectRunsBoth(join(download, "env.pex"), join(download, "devpkg.zip"));
  });

  it("answers a second upload of the unchanged environment from the cache: uploaded is false", async () => {
    const again = await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"], {
      env: s3Env(),
    });
    expect(again.code).toBe(0);
    const second = parseResult(again.stdout);
    expect(second).toMatchObject({ packagePath, uploaded: false, envName: first.envName });
    expect(second.editable.map((zip) => zip.uri)).toEqual(first.editable.map((zip) => zip.uri));
  });

  it("re-packs with --force", async () => {
    const forced = await runCli(
      ["upload", "--python", venv.python, "--package-path", packagePath, "--force", "--json"],
      { env: s3Env() },
    );
    expect(forced.code).toBe(0);
    expect(parseResult(forced.stdout).uploaded).toBe(true);
  });

  it("fails with exit code 1 and one error line, no stack trace, when the bucket does not exist", async () => {
    const outcome = await runCli(["ls", "s3://no-such-bucket/envs", "--json"], { env: s3Env() });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe("");
    const lines = outcome.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: .*no-such-bucket/);
    expect(lines[1]).toMatch(/^hint: /);
  });

  it("fails with exit code 1 and one error line when the S3 endpoint does not answer", async () => {
    const outcome = await runCli(
      ["upload", "--python", venv.python, "--package-path", "s3://team/envs/x/env.pex", "--json"],
      { env: { ...s3Env(), AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" } },
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe("");
    const lines = outcome.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: /);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });

  it("lists the uploaded archive with its metadata (ls --json)", async () => {
    const listing = await runCli(["ls", "s3://team/envs/cli", "--json"], { env: s3Env() });
    expect(listing.code).toBe(0);
    const parsed = JSON.parse(listing.stdout) as {
      envs: { packagePath: string; format: string; metadata?: { format?: string } }[];
    };
    expect(parsed.envs).toEqual([
      expect.objectContaining({
        packagePath,
        format: "pex",
        metadata: expect.objectContaining({ format: "pex" }),
      }),
    ]);
  });
});

describe("cluster-pack upload to a local path", () => {
  it("uploads, prints a human summary in a pipe without progress, then hits the cache", async () => {
    const store = join(root, "local-store");
    const packagePath = join(store, "envs", "env.pex");
    const human = await runCli(["upload", "--python", venv.python, "--package-path", packagePath]);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe("");
    expect(human.stdout).toContain(`uploaded`);
    expect(human.stdout).toContain(packagePath);
    expect(human.stdout).toContain("PYSPARK_PYTHON=./env.pex");
    expect(human.stdout).not.toContain("\u001b[");

    const download = join(root, "local-run");
    await mkdir(download, { recursive: true });
    const result = parseResult(
      (await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"])).stdout,
    );
    expect(result.uploaded).toBe(false);
    const zip = result.editable[0]?.uri ?? "";
    await expectRunsBoth(packagePath, zip);

    const quiet = await runCli(["upload", "-q", "--python", venv.python, "--package-path", packagePath]);
    expect(quiet).toMatchObject({ code: 0, stdout: `${packagePath}\n`, stderr: "" });
  });

  it("defaults to the embedded store named by [tool.cluster-pack] store, which beats CLUSTER_PACK_STORE", async () => {
    const project = join(root, "project");
    await mkdir(join(project, "sub"), { recursive: true });
    await writeFile(
      join(project, "pyproject.toml"),
      `[project]\nname = "x"\n\n[tool.cluster-pack]\nstore = "store-from-pyproject"\nuser = "alice"\npython = ${JSON.stringify(venv.python)}\n`,
    );
    const outcome = await runCli(["upload", "--json"], {
      cwd: join(project, "sub"),
      env: baseEnv({ CLUSTER_PACK_STORE: join(root, "store-from-env"), C_PACK_USER: "bob" }),
    });
    expect(outcome.stderr).toBe("");
    const result = parseResult(outcome.stdout);
    expect(result.packagePath).toBe(
      join(project, "store-from-pyproject", "user", "alice", "envs", `${result.envName}.pex`),
    );
  });
});

describe("cluster-pack upload to HDFS (WebHDFS test server)", () => {
  let server: WebHdfsServer;
  beforeAll(async () => {
    server = await startWebHdfsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("uploads a pex.zip that a WebHDFS client reads back, and then hits the cache", async () => {
    const packagePath = `webhdfs://${server.namenodeAddress}/tmp/envs/env.pex.zip`;
    const env = baseEnv({ HADOOP_USER_NAME: "alice" });
    const outcome = await runCli(
      ["upload", "--python", venv.python, "--package-path", packagePath, "--json"],
      {
        env,
      },
    );
    expect(outcome.stderr).toBe("");
    const result = parseResult(outcome.stdout);
    expect(result).toMatchObject({ packagePath, uploaded: true, packer: "pex.zip" });
    const download = join(root, "webhdfs-download");
    await mkdir(download, { recursive: true });
    await downloadWithWebHdfsOpen(
      server.namenodeAddress,
      "/tmp/envs/env.pex.zip",
      join(download, "env.pex.zip"),
      "alice",
    );
    expect((await readFile(join(download, "env.pex.zip"))).subarray(0, 2).toString()).toBe("PK");
    const again = parseResult(
      (await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"], { env }))
        .stdout,
    );
    expect(again.uploaded).toBe(false);
  });

  it("uploads a pex to hdfs:/// (fs.defaultFS from HADOOP_CONF_DIR) that plain WebHDFS OPEN reads back and Python runs", async () => {
    // The RPC address is never dialled: hdfs-site.xml maps it to the test namenode's HTTP address.
    const confDir = await writeHadoopConfDir(
      { "fs.defaultFS": "hdfs://127.0.0.1:8020" },
      { "dfs.namenode.rpc-address": "127.0.0.1:8020", "dfs.namenode.http-address": server.namenodeAddress },
    );
    const packagePath = "hdfs:///tmp/envs/hdfs/env.pex";
    const env = baseEnv({ HADOOP_CONF_DIR: confDir, HADOOP_USER_NAME: "alice" });
    const outcome = await runCli(
      ["upload", "--python", venv.python, "--package-path", packagePath, "--json"],
      {
        env,
      },
    );
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    const result = parseResult(outcome.stdout);
    expect(result).toMatchObject({ packagePath, uploaded: true, packer: "pex" });
    expect(result.editable).toEqual([
      expect.objectContaining({
        name: "devpkg",
        uri: expect.stringMatching(/\/tmp\/envs\/hdfs\/env_editable\/devpkg\.zip$/),
      }),
    ]);

    const download = join(root, "hdfs-download");
    await mkdir(download, { recursive: true });
    await downloadWithWebHdfsOpen(
      server.namenodeAddress,
      "/tmp/envs/hdfs/env.pex",
      join(download, "env.pex"),
      "alice",
    );
    await downloadWithWebHdfsOpen(
      server.namenodeAddress,
      "/tmp/envs/hdfs/env_editable/devpkg.zip",
      join(download, "devpkg.zip"),
      "alice",
    );
    await expectRunsBoth(join(download, "env.pex"), join(download, "devpkg.zip"));

    const again = await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"], {
      env,
    });
    expect(again.code).toBe(0);
    expect(parseResult(again.stdout)).toMatchObject({
      packagePath,
      uploaded: false,
      envName: result.envName,
    });
  });
});

describe("cluster-pack pack and info", () => {
  it("packs a local archive that runs, and prints its description as JSON", async () => {
    const output = join(root, "packed", "env.pex");
    const outcome = await runCli(["pack", "--python", venv.python, "--output", output, "--json"]);
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    const packed = JSON.parse(outcome.stdout) as { output: string; packer: string; requirements: string[] };
    expect(packed).toMatchObject({ output, packer: "pex" });
    expect(packed.requirements).toContain("purepkg==1.0");
    const run = await runArchive(output, "", "import purepkg; print(purepkg.VALUE)", join(root, "pex-root"));
    expect(run.stdout.trim()).toBe("wheel");
  });

  it("describes the environment: interpreter, packages, editables and the largest packages", async () => {
    const outcome = await runCli(["info", "--python", venv.python, "--json", "--top", "2"]);
    expect(outcome.code).toBe(0);
    const summary = JSON.parse(outcome.stdout) as {
      interpreter: { kind: string; prefix: string };
      packages: { name: string }[];
      editable: {
        name: string;
        location: string;
        topLevels: { name: string; kind: string; path: string }[];
      }[];
      largest: unknown[];
      totalSize: number;
    };
    expect(summary.interpreter).toMatchObject({ kind: "venv", prefix: venv.prefix });
    expect(summary.packages.map((p) => p.name)).toEqual(expect.arrayContaining(["purepkg", "devpkg"]));
    expect(summary.editable.map((p) => p.name)).toEqual(["devpkg"]);
    // What criteo's get_editable_requirements maps: each importable top-level to its directory in the project.
    expect(summary.editable[0]?.topLevels).toEqual([
      { name: "devpkg", kind: "package", path: join(summary.editable[0]?.location ?? "", "devpkg") },
    ]);
    expect(summary.largest).toHaveLength(2);
    expect(summary.totalSize).toBeGreaterThan(0);
    const human = await runCli(["info", "--python", venv.python]);
    expect(human.stdout).toMatch(/^interpreter\s+\S+/);
    expect(human.stdout).toContain("editable (shipped as zips):");
  });
});
