// `cluster-pack config …` run as a user does, against environments uploaded by `cluster-pack upload` to a local
// store and to s3rver.
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  plainValue,
  type RunningS3rver,
  readSpecAsSkein,
  skeinSpecProblems,
  startS3rver,
  type Venv,
} from "@cluster-pack/testkit";
import type { Service } from "@cluster-pack/yarn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { baseEnv, runCli } from "./cli-process.js";
import { createFixtureVenv } from "./fixture-env.js";

let root: string;
let venv: Venv;
let s3: RunningS3rver;
let store: string;
let packagePath: string;

const s3Env = (extra: NodeJS.ProcessEnv = {}) =>
  baseEnv({
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    ...extra,
  });

/** Runs the command; it must succeed silently and print the configuration. */
async function config(args: readonly string[], env?: NodeJS.ProcessEnv) {
  const outcome = await runCli(["config", ...args], env ? { env } : {});
  expect(outcome.stderr).toBe("");
  expect(outcome.code).toBe(0);
  return outcome.stdout;
}

/** Runs the command; it must fail with one `error:` line (plus a hint) and this exit code. */
async function refused(args: readonly string[], exitCode: number, env?: NodeJS.ProcessEnv) {
  const outcome = await runCli(["config", ...args], env ? { env } : {});
  expect(outcome.code).toBe(exitCode);
  expect(outcome.stdout).toBe("");
  const lines = outcome.stderr.trim().split("\n");
  expect(lines[0]).toMatch(/^error: /);
  expect(lines.length).toBeLessThanOrEqual(2);
  return lines[0] ?? "";
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-cli-config-"));
  [venv, s3] = await Promise.all([createFixtureVenv(root), startS3rver({ buckets: ["team"] })]);
  store = join(root, "store");
  packagePath = join(store, "envs", "team.pex");
  const upload = await runCli(["upload", "--python", venv.python, "--package-path", packagePath, "--json"]);
  expect(upload.stderr).toBe("");
  expect(upload.code).toBe(0);
}, 180_000);

afterAll(async () => {
  await s3?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("cluster-pack config yarn", () => {
  it("prints a skein spec running the module in the stored env, with the editable code found beside it", async () => {
    const yaml = await config([
      "yarn",
      "--package-path",
      packagePath,
      "--module",
      "devpkg",
      "--",
      "--epochs",
      "3",
    ]);
    const spec = parse(yaml) as { name: string; queue: string; services: Record<string, Service> };
    expect(spec).toMatchObject({ name: "cluster-pack", queue: "default", max_attempts: 1 });
    const job = spec.services.job;
    expect(job?.files).toEqual({
      "team.pex": {
        source: expect.stringMatching(/\/store\/envs\/team\.pex$/),
        type: "file",
        visibility: "application",
      },
      "devpkg.zip": {
        source: expect.stringMatching(/\/store\/envs\/team_editable\/devpkg\.zip$/),
        type: "archive",
        visibility: "application",
      },
      editable_packages_index: {
        source: expect.stringMatching(/\/store\/envs\/team_editable\/editable_packages_index$/),
        type: "file",
        visibility: "application",
      },
    });
    expect(job?.script).toBe(
      [
        "export PEX_ROOT=./.pex",
        `export PYTHONPATH=".:devpkg.zip\${PYTHONPATH:+:$PYTHONPATH}"`,
        "exec ./team.pex -m devpkg --epochs 3",
        "",
      ].join("\n"),
    );
  });

  it("sets every application and service option from flags, and prints JSON with --json", async () => {
    const args = [
      "yarn",
      "--package-path",
      packagePath,
      "--code",
      "import devpkg",
      "--name",
      "nightly",
      "--queue",
      "ml",
      "--node-label",
      "cpu",
      "--max-attempts",
      "2",
      "--tag",
      "a,b",
      "--file-system",
      "hdfs://nn2:8020",
      "--memory",
      "4 GiB",
      "--vcores",
      "2",
      "--gpus",
      "1",
      "--instances",
      "3",
      "--max-restarts",
      "-1",
      "--env",
      "MODE=a=b",
      "--visibility",
      "private",
      "--service-name",
      "trainer",
    ];
    const json = await config([...args, "--json"]);
    const yaml = await config(args);
    // Both files as skein reads them (json.loads, PyYAML): within its rules, and the same spec.
    const [fromJson, fromYaml] = await Promise.all([
      readSpecAsSkein(json, "json"),
      readSpecAsSkein(yaml, "yaml"),
    ]);
    expect(skeinSpecProblems(fromJson)).toEqual([]);
    expect(skeinSpecProblems(fromYaml)).toEqual([]);
    expect(plainValue(fromYaml)).toEqual(plainValue(fromJson));
    const spec = JSON.parse(json);
    expect(spec).toMatchObject({
      name: "nightly",
      queue: "ml",
      node_label: "cpu",
      max_attempts: 2,
      tags: ["a", "b"],
      file_systems: ["hdfs://nn2:8020"],
    });
    expect(spec.services.trainer).toMatchObject({
      instances: 3,
      max_restarts: -1,
      resources: { memory: "4 GiB", vcores: 2, gpus: 1 },
      env: { MODE: "a=b" },
      files: { "team.pex": { visibility: "private" } },
    });
    expect(spec.services.trainer.script).toContain("exec ./team.pex -c 'import devpkg'\n");
  });

  it("uploads first with --upload and names the archive through s3a", async () => {
    const args = ["yarn", "--upload", "--python", venv.python, "--package-path", "s3://team/envs/up.pex.zip"];
    const first = await runCli(["config", ...args, "--module", "devpkg"], { env: s3Env() });
    expect(first.code).toBe(0);
    const spec = parse(first.stdout) as { services: Record<string, Service> };
    expect(spec.services.job?.files).toMatchObject({
      pyenv: { source: "s3a://team/envs/up.pex.zip", type: "archive" },
      "devpkg.zip": { source: "s3a://team/envs/up_editable/devpkg.zip", type: "archive" },
    });
    expect(spec.services.job?.script).toContain("exec pyenv/__main__.py -m devpkg\n");

    const second = await runCli(["config", ...args, "--module", "devpkg", "--verbose"], { env: s3Env() });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("up to date s3://team/envs/up.pex.zip");
    expect(second.stdout).toBe(first.stdout);
  });

  it("finds the env at the default path of the interpreter's environment", async () => {
    const env = baseEnv({ CLUSTER_PACK_STORE: join(root, "default-store"), C_PACK_USER: "bob" });
    const upload = await runCli(["upload", "--python", venv.python, "--quiet"], { env });
    expect(upload.code).toBe(0);
    const spec = parse(await config(["yarn", "--python", venv.python, "--module", "devpkg"], env));
    expect(spec.services.job.files).toHaveProperty("devpkg.zip");
    expect(Object.values(spec.services.job.files as Service["files"])[0]?.source).toBe(upload.stdout.trim());
  });

  it("ships the Kerberos ticket cache only with --ship-ticket-cache, and says so on stderr otherwise", async () => {
    const ticketCache = join(root, "krb5cc_test");
    await writeFile(ticketCache, "ticket", { mode: 0o600 });
    const krb5 = baseEnv({ KRB5CCNAME: `FILE:${ticketCache}` });
    const yarn = ["yarn", "--package-path", packagePath, "--module", "devpkg"];
    const tf = ["tf", "--package-path", packagePath, "--module", "devpkg"];
    const dask = ["dask", "--package-path", packagePath];
    for (const args of [yarn, tf, dask]) {
      const kept = await runCli(["config", ...args, "--json"], { env: krb5 });
      expect(kept).toMatchObject({
        code: 0,
        stderr: "KRB5CCNAME is set: the Kerberos ticket cache is not shipped (--ship-ticket-cache does)\n",
      });
      expect(kept.stdout).not.toContain("krb5cc");
      expect(kept.stdout).not.toContain("KRB5CCNAME");
      const spec = JSON.parse(await config([...args, "--json", "--ship-ticket-cache"], krb5));
      for (const service of Object.values(spec.services as Record<string, Service>)) {
        expect(service.files?.krb5cc).toEqual({
          source: ticketCache,
          type: "file",
          visibility: "application",
        });
        expect(service.script).toContain('export KRB5CCNAME="FILE:$PWD/krb5cc"');
      }
    }
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ["KRB5CCNAME is not set", {}, /^error: --ship-ticket-cache: KRB5CCNAME is not set$/],
    [
      "KRB5CCNAME names no file here",
      { KRB5CCNAME: "/nonexistent/krb5cc_test" },
      /^error: --ship-ticket-cache: KRB5CCNAME names \/nonexistent\/krb5cc_test, which is not a file here$/,
    ],
    [
      "the cache is not a file",
      { KRB5CCNAME: "KEYRING:persistent:1000" },
      /^error: --ship-ticket-cache: KRB5CCNAME=KEYRING:persistent:1000 is not a file cache/,
    ],
  ])("refuses --ship-ticket-cache when %s, before uploading anything", async (_, extra, message) => {
    const target = join(root, "never-uploaded", "env.pex");
    const args = ["yarn", "--upload", "--python", venv.python, "--package-path", target, "--module", "a"];
    expect(await refused([...args, "--ship-ticket-cache"], 2, baseEnv(extra))).toMatch(message);
    await expect(stat(target)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.each<[string, string[], number, RegExp]>([
    ["nothing to run", [], 2, /^error: say what to run: --module, --script or --code$/],
    [
      "two things to run",
      ["--module", "a", "--code", "x"],
      2,
      /^error: --module and --code exclude each other$/,
    ],
    [
      "a module Python cannot import",
      ["--module", "my-pkg"],
      2,
      /^error: module: "my-pkg" is not a module name/,
    ],
    ["bad memory", ["--module", "a", "--memory", "lots"], 2, /^error: services\.job\.resources\.memory: /],
    [
      "--force without --upload",
      ["--module", "a", "--force"],
      2,
      /^error: --force only applies with --upload$/,
    ],
    ["a bad --env", ["--module", "a", "--env", "NOVALUE"], 2, /^error: --env: "NOVALUE" is not KEY=VALUE$/],
  ])("refuses %s in one line", async (_, args, exitCode, message) => {
    expect(await refused(["yarn", "--package-path", packagePath, ...args], exitCode)).toMatch(message);
  });

  it("fails when no archive is stored at the path, saying how to get one there", async () => {
    const outcome = await runCli([
      "config",
      "yarn",
      "--package-path",
      join(store, "none.pex"),
      "--module",
      "a",
    ]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^error: .*none\.pex: no archive there$/),
      "hint: upload it first (cluster-pack upload), pass --upload, or check --package-path",
    ]);
  });
});

describe("cluster-pack config tf", () => {
  it("emits a ps strategy topology as one skein service per task type", async () => {
    const spec = parse(
      await config([
        "tf",
        "--package-path",
        packagePath,
        "--module",
        "devpkg",
        "--workers",
        "2",
        "--ps",
        "1",
        "--evaluator",
        "--tensorboard-logdir",
        "hdfs:///models/a",
        "--memory",
        "2048",
      ]),
    ) as { name: string; services: Record<string, Service> };
    expect(spec.name).toBe("tensorflow");
    expect(
      Object.fromEntries(Object.entries(spec.services).map(([type, service]) => [type, service.instances])),
    ).toEqual({ chief: 1, worker: 2, ps: 1, evaluator: 1, tensorboard: 1 });
    expect(spec.services.worker?.resources).toEqual({ memory: 2048, vcores: 1 });
    expect(spec.services.chief?.script).toContain("exec ./team.pex -m devpkg\n");
    expect(spec.services.tensorboard?.script).toContain(
      "-m tensorboard.main --logdir hdfs:///models/a --bind_all\n",
    );
  });

  it("prints each task's TF_CONFIG from the task addresses, without an archive", async () => {
    const configs = JSON.parse(
      await config([
        "tf",
        "--format",
        "tf-config",
        "--workers",
        "1",
        "--evaluator",
        "--task-address",
        "chief=10.0.0.1:2222",
        "--task-address",
        "worker=10.0.0.2:2222",
        "--task-address",
        "evaluator=10.0.0.3:2222",
        "--rpc-layer",
        "grpc",
      ]),
    );
    const cluster = { chief: ["10.0.0.1:2222"], worker: ["10.0.0.2:2222"] };
    expect(configs).toEqual({
      "chief:0": { cluster, task: { type: "chief", index: 0 }, environment: "cloud", rpc_layer: "grpc" },
      "worker:0": { cluster, task: { type: "worker", index: 0 }, environment: "cloud", rpc_layer: "grpc" },
      "evaluator:0": {
        cluster,
        task: { type: "evaluator", index: 0 },
        environment: "cloud",
        rpc_layer: "grpc",
      },
    });
  });

  it.each<[string, string[], RegExp]>([
    [
      "ps without workers",
      ["--module", "a", "--ps", "1"],
      /^error: topology\.worker: the parameter-server strategy/,
    ],
    [
      "ps under the mirrored strategy",
      ["--module", "a", "--ps", "1", "--workers", "1", "--strategy", "mirrored"],
      /^error: topology\.ps: ps tasks only take part in the parameter-server strategy/,
    ],
    [
      "two task types in one --task-address",
      ["--format", "tf-config", "--workers", "1", "--task-address", "chief=a:1,worker=b:1"],
      /^error: chief:1: "worker=b:1" is not host:port/,
    ],
    [
      "fewer addresses than tasks",
      [
        "--format",
        "tf-config",
        "--workers",
        "2",
        "--task-address",
        "chief=a:1",
        "--task-address",
        "worker=b:1",
      ],
      /^error: worker: the topology has 2 worker task\(s\) but 1 address\(es\) were given$/,
    ],
    [
      "tf-config without addresses",
      ["--format", "tf-config"],
      /^error: --format tf-config needs --task-address/,
    ],
  ])("refuses %s with exit code 2", async (_, args, message) => {
    expect(await refused(["tf", "--package-path", packagePath, ...args], 2)).toMatch(message);
  });
});

describe("cluster-pack config spark", () => {
  it("prints the emitter's whole configuration as JSON: properties and environment variables apart", async () => {
    const spark = JSON.parse(
      await config([
        "spark",
        "--package-path",
        packagePath,
        "--format",
        "json",
        "--conf",
        "spark.submit.pyFiles=a.zip",
      ]),
    );
    expect(spark).toMatchObject({ master: "yarn", clusterManager: "yarn", deployMode: "client" });
    const { properties, environmentVariables } = spark;
    expect(properties).toMatchObject({
      "spark.master": "yarn",
      "spark.submit.deployMode": "client",
      // The index goes with the editable zips: a job launched from the job ships the same code.
      "spark.yarn.dist.files": expect.stringMatching(
        /\/store\/envs\/team\.pex,.*\/store\/envs\/team_editable\/editable_packages_index$/,
      ),
      "spark.submit.pyFiles": expect.stringMatching(/^a\.zip,.*\/store\/envs\/team_editable\/devpkg\.zip$/),
      "spark.pyspark.python": "./team.pex",
      "spark.executorEnv.PEX_ROOT": "./.pex",
    });
    expect(environmentVariables).toEqual({ PYSPARK_PYTHON: "./team.pex" });
    expect(Object.values(properties).every((value) => typeof value === "string")).toBe(true);
  });

  it("renders spark-submit, spark-defaults.conf and a SparkSession snippet", async () => {
    const base = ["spark", "--package-path", packagePath];
    expect(await config([...base, "--application", "job.py", "--", "--day", "1"])).toMatch(
      /^PYSPARK_PYTHON=\.\/team\.pex spark-submit \\\n {2}--master yarn \\\n[\s\S]*\n {2}job\.py --day 1\n$/,
    );
    expect(await config([...base, "--format", "conf"])).toMatch(/^spark\.master +yarn\n/m);
    expect(await config([...base, "--format", "python"])).toContain(
      'os.environ["PYSPARK_PYTHON"] = "./team.pex"',
    );
  });

  it("keeps S3 secrets out unless asked, for an env uploaded to S3", async () => {
    const args = ["spark", "--upload", "--python", venv.python, "--package-path", "s3://team/envs/spark.pex"];
    const { properties } = JSON.parse((await runCli(["config", ...args, "--json"], { env: s3Env() })).stdout);
    expect(properties["spark.yarn.dist.files"]).toBe(
      "s3a://team/envs/spark.pex,s3a://team/envs/spark_editable/editable_packages_index",
    );
    expect(properties["spark.hadoop.fs.s3a.endpoint"]).toBe(s3.endpoint);
    expect(JSON.stringify(properties)).not.toContain(s3.secretAccessKey);
    const withSecrets = await runCli(["config", ...args, "--json", "--include-secrets"], { env: s3Env() });
    expect(JSON.parse(withSecrets.stdout).properties["spark.hadoop.fs.s3a.secret.key"]).toBe(
      s3.secretAccessKey,
    );
  });

  it("keeps the S3A settings given with --conf, whatever AWS_ENDPOINT_URL_S3 says", async () => {
    const given = {
      "spark.hadoop.fs.s3a.endpoint": "https://mine.example",
      "spark.hadoop.fs.s3a.path.style.access": "false",
    };
    const args = ["spark", "--upload", "--python", venv.python, "--package-path", "s3://team/envs/spark.pex"];
    const conf = Object.entries(given).flatMap(([key, value]) => ["--conf", `${key}=${value}`]);
    const outcome = await runCli(["config", ...args, ...conf, "--json", "--quiet"], { env: s3Env() });
    expect(outcome).toMatchObject({ code: 0, stderr: "" });
    const { properties } = JSON.parse(outcome.stdout);
    expect(properties).toMatchObject(given);
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.connection.ssl.enabled");
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.aws.credentials.provider");
  });

  it("refuses a master it cannot configure, with exit code 2", async () => {
    expect(await refused(["spark", "--package-path", packagePath, "--master", "mesos://x"], 2)).toMatch(
      /^error: master "mesos:\/\/x": unsupported Spark master/,
    );
  });
});

describe("cluster-pack config dask", () => {
  it("prints a dask-yarn spec with scheduler and workers in the stored env", async () => {
    const spec = parse(
      await config([
        "dask",
        "--package-path",
        packagePath,
        "--workers",
        "3",
        "--worker-memory",
        "4 GiB",
        "--env",
        "MODE=x",
        "--",
        "--nthreads",
        "2",
      ]),
    ) as { name: string; services: Record<string, Service> };
    expect(spec.name).toBe("dask");
    expect(Object.keys(spec.services)).toEqual(["dask.scheduler", "dask.worker"]);
    expect(spec.services["dask.worker"]).toMatchObject({
      instances: 3,
      resources: { memory: "4 GiB", vcores: 1 },
      env: { MODE: "x" },
      depends: ["dask.scheduler"],
      files: { "team.pex": { type: "file" }, "devpkg.zip": { type: "archive" } },
    });
    expect(spec.services["dask.worker"]?.script).toMatch(/ --nthreads 2\n$/);
    expect(spec.services["dask.scheduler"]?.script).toContain(
      "exec ./team.pex -m dask_yarn.cli services scheduler\n",
    );
  });

  it("prints the scheduler and worker command lines", async () => {
    const text = await config([
      "dask",
      "--package-path",
      packagePath,
      "--format",
      "commands",
      "--scheduler-address",
      "tcp://10.0.0.5:8786",
    ]);
    const lines = text.split("\n");
    expect(lines[0]).toBe("# scheduler");
    expect(lines[1]).toMatch(/ \.\/team\.pex -m distributed\.cli\.dask_scheduler$/);
    expect(lines[2]).toBe("# worker");
    expect(lines[3]).toMatch(
      /PYTHONPATH=.*devpkg\.zip.* \.\/team\.pex -m distributed\.cli\.dask_worker tcp:\/\/10\.0\.0\.5:8786$/,
    );
  });
});

describe("cluster-pack config dask refuses flags its format does not use", () => {
  it.each([
    ["--workers", "3"],
    ["--name", "nightly"],
    ["--queue", "ml"],
    ["--worker-memory", "4 GiB"],
    ["--visibility", "private"],
    ["--ship-ticket-cache"],
  ])("refuses %s with --format commands, with exit code 2", async (...flag) => {
    const args = ["dask", "--package-path", packagePath, "--format", "commands", ...flag];
    expect(await refused(args, 2)).toBe(
      `error: ${flag[0]} only applies to the dask-yarn spec (--format yaml or json), not to --format commands`,
    );
  });

  it.each([
    ["--scheduler-address", "tcp://10.0.0.5:8786"],
    ["--scheduler-file", "/shared/scheduler.json"],
  ])("refuses %s in the spec, with exit code 2", async (...flag) => {
    expect(await refused(["dask", "--package-path", packagePath, "--json", ...flag], 2)).toBe(
      `error: ${flag[0]} only applies to --format commands`,
    );
  });
});

describe("cluster-pack config with venv and conda archives", () => {
  it("offers every archive format the library packs in --archive-format", async () => {
    const outcome = await runCli(["config", "spark", "--help"]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.replace(/\s+/g, " ")).toMatch(
      /--archive-format <format> .*\(choices: "pex", "pex\.zip", "tar\.gz", "zip"\)/,
    );
  });

  it("uploads a venv archive with --upload --packer venv --archive-format zip and unpacks it as environment", async () => {
    const outcome = await runCli(
      [
        "config",
        "spark",
        "--upload",
        "--python",
        venv.python,
        "--packer",
        "venv",
        "--with-python",
        "--archive-format",
        "zip",
        "--package-path",
        "s3://team/envs/spark-venv.zip",
        "--json",
      ],
      { env: s3Env() },
    );
    expect(outcome).toMatchObject({ code: 0, stderr: "uploaded s3://team/envs/spark-venv.zip\n" });
    expect(JSON.parse(outcome.stdout).properties).toMatchObject({
      "spark.yarn.dist.archives": "s3a://team/envs/spark-venv.zip#environment",
      "spark.pyspark.python": "environment/bin/python",
      "spark.submit.pyFiles": "s3a://team/envs/spark-venv_editable/devpkg.zip",
    });
  });

  it("finds a venv archive uploaded to the default path with --packer venv --format zip", async () => {
    const env = baseEnv({ CLUSTER_PACK_STORE: join(root, "zip-store"), C_PACK_USER: "ann" });
    const upload = await runCli(
      ["upload", "--python", venv.python, "--packer", "venv", "--format", "zip", "--quiet"],
      { env },
    );
    expect(upload).toMatchObject({ code: 0, stderr: "" });
    expect(upload.stdout.trim()).toMatch(/\/zip-store\/user\/ann\/envs\/venv_[0-9a-f]{7}\.zip$/);
    const { properties } = JSON.parse(
      await config(
        ["spark", "--python", venv.python, "--packer", "venv", "--archive-format", "zip", "--json"],
        env,
      ),
    );
    expect(properties["spark.yarn.dist.archives"]).toBe(`${upload.stdout.trim()}#environment`);
  });
});

describe("cluster-pack config on a cluster whose fs.defaultFS is another file system", () => {
  let hadoopEnv: NodeJS.ProcessEnv;
  const elsewhere = "hdfs://other-nn:8020/envs/env.pex";
  const key = "spark.kerberos.access.hadoopFileSystems";

  beforeAll(async () => {
    const confDir = join(root, "hadoop-conf");
    await mkdir(confDir, { recursive: true });
    await writeFile(
      join(confDir, "core-site.xml"),
      "<configuration><property><name>fs.defaultFS</name><value>hdfs://main-nn:8020</value></property></configuration>\n",
    );
    hadoopEnv = baseEnv({ HADOOP_CONF_DIR: confDir });
  });

  const offline = (engine: string, path: string, more: readonly string[] = []) => [
    engine,
    "--offline",
    "--python",
    venv.python,
    "--package-path",
    path,
    ...more,
  ];

  it("names the archive's file system for Spark's delegation tokens, after the job's own", async () => {
    const spark = JSON.parse(await config(offline("spark", elsewhere, ["--json"]), hadoopEnv)).properties;
    expect(spark[key]).toBe("hdfs://other-nn:8020");
    expect(spark["spark.submit.pyFiles"]).toBe("hdfs://other-nn:8020/envs/env_editable/devpkg.zip");
    const merged = JSON.parse(
      await config(offline("spark", elsewhere, ["--json", "--conf", `${key}=s3a://logs`]), hadoopEnv),
    ).properties;
    expect(merged[key]).toBe("s3a://logs,hdfs://other-nn:8020");
  });

  it("uses Spark 2's property with --spark-version 2", async () => {
    const spark = JSON.parse(
      await config(offline("spark", elsewhere, ["--json", "--spark-version", "2"]), hadoopEnv),
    ).properties;
    expect(spark["spark.yarn.access.hadoopFileSystems"]).toBe("hdfs://other-nn:8020");
    expect(spark).not.toHaveProperty(key);
  });

  it("names nothing for an archive on the default file system, a local store, or without a Hadoop configuration", async () => {
    const onDefault = JSON.parse(
      await config(offline("spark", "hdfs://main-nn/envs/env.pex", ["--json"]), hadoopEnv),
    ).properties;
    expect(onDefault).not.toHaveProperty(key);
    const local = JSON.parse(
      await config(["spark", "--package-path", packagePath, "--json"], hadoopEnv),
    ).properties;
    expect(local).not.toHaveProperty(key);
    const unconfigured = JSON.parse(
      await config(offline("spark", elsewhere, ["--json"]), baseEnv()),
    ).properties;
    expect(unconfigured).not.toHaveProperty(key);
  });

  it("lists the store in the skein and dask-yarn specs' file systems, after --file-system, once", async () => {
    const yarn = parse(await config(offline("yarn", elsewhere, ["--module", "devpkg"]), hadoopEnv));
    expect(yarn.file_systems).toEqual(["hdfs://other-nn:8020"]);
    const s3 = parse(
      await config(
        offline("yarn", "s3://team/envs/env.pex", [
          "--module",
          "devpkg",
          "--file-system",
          "viewfs://cluster",
        ]),
        hadoopEnv,
      ),
    );
    expect(s3.file_systems).toEqual(["viewfs://cluster", "s3a://team"]);
    const dask = parse(
      await config(offline("dask", elsewhere, ["--file-system", "hdfs://other-nn,s3a://logs"]), hadoopEnv),
    );
    expect(dask.file_systems).toEqual(["hdfs://other-nn", "s3a://logs"]);
    const local = parse(
      await config(["yarn", "--package-path", packagePath, "--module", "devpkg"], hadoopEnv),
    );
    expect(local).not.toHaveProperty("file_systems");
  });
});
