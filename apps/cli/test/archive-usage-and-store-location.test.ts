// `usage`, `where` and `config s3a`: the answers the Python package reads with --json.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, runCli } from "./cli-process.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cli-usage-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const json = async (args: readonly string[], env = baseEnv()) => {
  const outcome = await runCli([...args, "--json"], { env });
  expect(outcome).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(outcome.stdout);
};

describe("cluster-pack usage", () => {
  it("says how a node runs each kind of archive, from its name alone", async () => {
    expect(await json(["usage", "hdfs:///user/ann/envs/team.pex"])).toEqual({
      pathToArchive: "hdfs:///user/ann/envs/team.pex",
      interpreterCmd: "./team.pex",
      destPath: "team.pex",
      mustUnpack: false,
      format: "pex",
      packer: "pex",
    });
    expect(await json(["usage", "s3://b/big.pex.zip"])).toMatchObject({
      interpreterCmd: "pyenv/__main__.py",
      destPath: "pyenv",
      mustUnpack: true,
      packer: "pex.zip",
    });
    // A venv and a conda archive share the extension: only the entries would tell.
    expect(await json(["usage", "/envs/ml.tgz"])).toMatchObject({
      interpreterCmd: "environment/bin/python",
      mustUnpack: true,
      format: "tar.gz",
      packer: null,
    });
  });

  it("refuses a name that is no archive, with exit code 2 and one line", async () => {
    const outcome = await runCli(["usage", "notes.txt", "--json"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    expect(outcome.stderr.split("\n")[0]).toBe(
      "error: notes.txt: not an archive cluster-pack writes: the name must end in .pex, .pex.zip, .tar.gz, .tgz or .zip",
    );
  });
});

describe("cluster-pack where", () => {
  it("gives the embedded store without a Hadoop configuration", async () => {
    const store = join(root, "store");
    expect(await json(["where"], baseEnv({ CLUSTER_PACK_STORE: store }))).toEqual({
      defaultFs: store,
      hadoopDefaultFs: null,
      store,
    });
  });

  it("gives Hadoop's fs.defaultFS when the configuration names one", async () => {
    const confDir = join(root, "hadoop-conf");
    await mkdir(confDir, { recursive: true });
    await writeFile(
      join(confDir, "core-site.xml"),
      "<configuration><property><name>fs.defaultFS</name><value>hdfs://main-nn:8020</value></property></configuration>\n",
    );
    expect(await json(["where"], baseEnv({ HADOOP_CONF_DIR: confDir }))).toEqual({
      defaultFs: "hdfs://main-nn:8020",
      hadoopDefaultFs: "hdfs://main-nn:8020",
      store: "hdfs://",
    });
  });
});

describe("cluster-pack config s3a", () => {
  const s3 = baseEnv({
    AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000",
    AWS_ACCESS_KEY_ID: "team-key",
    AWS_SECRET_ACCESS_KEY: "team-secret",
  });

  it("prints the S3A settings of the environment, the keys only when asked", async () => {
    const { properties } = await json(["config", "s3a"], s3);
    expect(properties).toMatchObject({
      "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
      "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000",
      "spark.hadoop.fs.s3a.path.style.access": "true",
    });
    expect(JSON.stringify(properties)).not.toContain("team-secret");
    const withSecrets = await json(["config", "s3a", "--include-secrets"], s3);
    expect(withSecrets.properties["spark.hadoop.fs.s3a.secret.key"]).toBe("team-secret");
  });

  it("keeps the job's own settings given with --conf", async () => {
    const { properties } = await json(
      ["config", "s3a", "--conf", "spark.hadoop.fs.s3a.endpoint=https://mine.example"],
      s3,
    );
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.endpoint");
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.path.style.access");
  });
});
