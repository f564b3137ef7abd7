import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { describe, expect, it } from "vitest";
import { type SparkOptions, sparkConfig } from "../src/index.js";

const pex = getPyenvUsageFromArchive("hdfs:///user/alice/envs/analytics.pex");
const pexZip = getPyenvUsageFromArchive("hdfs:///user/alice/envs/analytics.pex.zip");
const venv = getPyenvUsageFromArchive("hdfs://nn:8020/envs/venv.tar.gz");
const editable = [{ name: "my_project", uri: "hdfs:///user/alice/envs/analytics_editable/my_project.zip" }];
const localPython = "/home/alice/venv/bin/python";
// No AWS variables unless a case sets them: the results must not depend on the machine running the tests.
const base: SparkOptions = { editable, driverPython: localPython, processEnv: {} };

const cases: {
  name: string;
  env: typeof pex;
  options: SparkOptions;
  properties: Record<string, string>;
}[] = [
  {
    name: "YARN client mode ships a zipapp as a file; the driver keeps the local Python",
    env: pex,
    options: { master: "yarn", deployMode: "client" },
    properties: {
      "spark.master": "yarn",
      "spark.submit.deployMode": "client",
      "spark.yarn.dist.files": "hdfs:///user/alice/envs/analytics.pex",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "./analytics.pex",
      "spark.pyspark.driver.python": localPython,
      "spark.executorEnv.PEX_ROOT": "./.pex",
    },
  },
  {
    name: "YARN cluster mode points the driver and the application master into the container",
    env: pex,
    options: { master: "yarn", deployMode: "cluster" },
    properties: {
      "spark.master": "yarn",
      "spark.submit.deployMode": "cluster",
      "spark.yarn.dist.files": "hdfs:///user/alice/envs/analytics.pex",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "./analytics.pex",
      "spark.pyspark.driver.python": "./analytics.pex",
      "spark.yarn.appMasterEnv.PYSPARK_PYTHON": "./analytics.pex",
      "spark.executorEnv.PEX_ROOT": "./.pex",
      "spark.yarn.appMasterEnv.PEX_ROOT": "./.pex",
    },
  },
  {
    name: "YARN client mode unpacks the unpack layout as pyenv and needs no PEX_ROOT",
    env: pexZip,
    options: { master: "yarn" },
    properties: {
      "spark.master": "yarn",
      "spark.submit.deployMode": "client",
      "spark.yarn.dist.archives": "hdfs:///user/alice/envs/analytics.pex.zip#pyenv",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "pyenv/__main__.py",
      "spark.pyspark.driver.python": localPython,
    },
  },
  {
    name: "YARN cluster mode unpacks a venv archive as environment",
    env: venv,
    options: { master: "yarn", deployMode: "cluster" },
    properties: {
      "spark.master": "yarn",
      "spark.submit.deployMode": "cluster",
      "spark.yarn.dist.archives": "hdfs://nn:8020/envs/venv.tar.gz#environment",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "environment/bin/python",
      "spark.pyspark.driver.python": "environment/bin/python",
      "spark.yarn.appMasterEnv.PYSPARK_PYTHON": "environment/bin/python",
    },
  },
  {
    name: "Kubernetes client mode ships through spark.files",
    env: pex,
    options: { master: "k8s://https://kube.internal:6443" },
    properties: {
      "spark.master": "k8s://https://kube.internal:6443",
      "spark.submit.deployMode": "client",
      "spark.files": "hdfs:///user/alice/envs/analytics.pex",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "./analytics.pex",
      "spark.pyspark.driver.python": localPython,
      "spark.executorEnv.PEX_ROOT": "./.pex",
    },
  },
  {
    name: "Kubernetes cluster mode sets the driver pod's PEX_ROOT",
    env: pex,
    options: { master: "k8s://https://kube.internal:6443", deployMode: "cluster" },
    properties: {
      "spark.master": "k8s://https://kube.internal:6443",
      "spark.submit.deployMode": "cluster",
      "spark.files": "hdfs:///user/alice/envs/analytics.pex",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "./analytics.pex",
      "spark.pyspark.driver.python": "./analytics.pex",
      "spark.executorEnv.PEX_ROOT": "./.pex",
      "spark.kubernetes.driverEnv.PEX_ROOT": "./.pex",
    },
  },
  {
    name: "Kubernetes cluster mode unpacks a venv archive through spark.archives",
    env: venv,
    options: { master: "k8s://https://kube.internal:6443", deployMode: "cluster" },
    properties: {
      "spark.master": "k8s://https://kube.internal:6443",
      "spark.submit.deployMode": "cluster",
      "spark.archives": "hdfs://nn:8020/envs/venv.tar.gz#environment",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "environment/bin/python",
      "spark.pyspark.driver.python": "environment/bin/python",
    },
  },
  {
    name: "standalone ships through spark.files and spark.archives",
    env: pexZip,
    options: { master: "spark://master.internal:7077" },
    properties: {
      "spark.master": "spark://master.internal:7077",
      "spark.submit.deployMode": "client",
      "spark.archives": "hdfs:///user/alice/envs/analytics.pex.zip#pyenv",
      "spark.submit.pyFiles": editable[0]?.uri ?? "",
      "spark.pyspark.python": "pyenv/__main__.py",
      "spark.pyspark.driver.python": localPython,
    },
  },
  {
    name: "local mode runs driver and workers with the local Python and ships nothing",
    env: pex,
    options: { master: "local[*]" },
    properties: {
      "spark.master": "local[*]",
      "spark.submit.deployMode": "client",
      "spark.pyspark.python": localPython,
      "spark.pyspark.driver.python": localPython,
    },
  },
];

describe("sparkConfig", () => {
  it.each(cases)("$name", ({ env, options, properties }) => {
    const config = sparkConfig(env, { ...base, ...options });
    expect(config.properties).toEqual(properties);
    expect(config.environmentVariables).toEqual({ PYSPARK_PYTHON: properties["spark.pyspark.python"] });
    expect(config.master).toBe(properties["spark.master"]);
    expect(config.deployMode).toBe(properties["spark.submit.deployMode"]);
  });

  it.each(cases)(
    "never sets PYSPARK_DRIVER_PYTHON and never ships a zipapp as an archive: $name",
    ({ env, options }) => {
      const config = sparkConfig(env, { ...base, ...options });
      const everything = JSON.stringify(config);
      expect(everything).not.toContain("PYSPARK_DRIVER_PYTHON");
      for (const [key, value] of Object.entries(config.properties))
        if (key.endsWith("archives")) expect(value).not.toMatch(/\.pex(#|,|$)/);
    },
  );

  it("defaults to YARN client mode and python3 for the driver", () => {
    const config = sparkConfig(pex, { processEnv: {} });
    expect(config).toMatchObject({ master: "yarn", clusterManager: "yarn", deployMode: "client" });
    expect(config.properties["spark.pyspark.driver.python"]).toBe("python3");
  });

  it("names a renamed zipapp with an alias so that PYSPARK_PYTHON finds it", () => {
    const renamed = { ...pex, destPath: "env.pex", interpreterCmd: "./env.pex" };
    expect(sparkConfig(renamed, { processEnv: {} }).properties["spark.yarn.dist.files"]).toBe(
      "hdfs:///user/alice/envs/analytics.pex#env.pex",
    );
  });
});

describe("sparkConfig merges into the job's own properties", () => {
  const given = {
    "spark.master": "k8s://https://kube.internal:6443",
    "spark.submit.deployMode": "cluster",
    "spark.files": "s3a://data/lookup.csv,hdfs:///user/alice/envs/analytics.pex",
    "spark.submit.pyFiles": "hdfs:///libs/helpers.zip",
    "spark.executorEnv.PEX_ROOT": "/scratch/pex",
    "spark.executor.memory": "8g",
    "spark.pyspark.driver.python": "/opt/conda/bin/python",
  };

  it("extends comma lists without duplicates, keeping the user's entries first", () => {
    const { properties } = sparkConfig(pex, { editable, properties: given, processEnv: {} });
    expect(properties["spark.files"]).toBe("s3a://data/lookup.csv,hdfs:///user/alice/envs/analytics.pex");
    expect(properties["spark.submit.pyFiles"]).toBe(`hdfs:///libs/helpers.zip,${editable[0]?.uri}`);
  });

  it("ships the editable packages index with the zips, as a file, for a job launched from the job", () => {
    const editableIndex = "hdfs:///user/alice/envs/analytics_editable/editable_packages_index";
    const onYarn = sparkConfig(pex, { editable, editableIndex, processEnv: {} }).properties;
    expect(onYarn["spark.yarn.dist.files"]).toBe(`hdfs:///user/alice/envs/analytics.pex,${editableIndex}`);
    const onKubernetes = sparkConfig(pex, {
      editable,
      editableIndex,
      properties: given,
      processEnv: {},
    }).properties;
    expect(onKubernetes["spark.files"]).toBe(
      `s3a://data/lookup.csv,hdfs:///user/alice/envs/analytics.pex,${editableIndex}`,
    );
    // No editable code, nothing to index.
    expect(sparkConfig(pex, { editableIndex, processEnv: {} }).properties["spark.yarn.dist.files"]).toBe(
      "hdfs:///user/alice/envs/analytics.pex",
    );
  });

  it("takes master and deploy mode from the properties and keeps unrelated settings and the user's PEX_ROOT", () => {
    const config = sparkConfig(pex, { properties: given, processEnv: {} });
    expect(config).toMatchObject({ clusterManager: "kubernetes", deployMode: "cluster" });
    expect(config.properties["spark.executor.memory"]).toBe("8g");
    expect(config.properties["spark.executorEnv.PEX_ROOT"]).toBe("/scratch/pex");
    expect(config.properties["spark.kubernetes.driverEnv.PEX_ROOT"]).toBe("./.pex");
  });

  it("replaces the user's driver Python in cluster mode, where the driver runs in the container", () => {
    expect(
      sparkConfig(pex, { properties: given, processEnv: {} }).properties["spark.pyspark.driver.python"],
    ).toBe("./analytics.pex");
    const client = sparkConfig(pex, { properties: given, deployMode: "client", processEnv: {} });
    expect(client.properties["spark.pyspark.driver.python"]).toBe("/opt/conda/bin/python");
  });

  it("does not change the object it was given", () => {
    const frozen = Object.freeze({ ...given });
    sparkConfig(pex, { properties: frozen, editable, processEnv: {} });
    expect(frozen).toEqual(given);
  });
});

describe("sparkConfig on S3", () => {
  const onS3 = getPyenvUsageFromArchive("s3://team/envs/analytics.pex");
  const s3Editable = [{ name: "my_project", uri: "s3://team/envs/analytics_editable/my_project.zip" }];
  const awsEnv = {
    AWS_ENDPOINT_URL_S3: "http://minio.internal:9000",
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLEKEY",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI-example-secret",
    AWS_REGION: "eu-west-1",
  };

  it("reads s3:// as s3a:// with the endpoint and path-style access, but no secret and no credentials provider", () => {
    const config = sparkConfig(onS3, { editable: s3Editable, processEnv: awsEnv });
    expect(config.properties).toEqual({
      "spark.master": "yarn",
      "spark.submit.deployMode": "client",
      "spark.yarn.dist.files": "s3a://team/envs/analytics.pex",
      "spark.submit.pyFiles": "s3a://team/envs/analytics_editable/my_project.zip",
      "spark.pyspark.python": "./analytics.pex",
      "spark.pyspark.driver.python": "python3",
      "spark.executorEnv.PEX_ROOT": "./.pex",
      "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
      "spark.hadoop.fs.s3a.endpoint": "http://minio.internal:9000",
      "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
      "spark.hadoop.fs.s3a.path.style.access": "true",
      "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
    });
    const everything = JSON.stringify(config);
    expect(everything).not.toContain(awsEnv.AWS_SECRET_ACCESS_KEY);
    expect(everything).not.toContain(awsEnv.AWS_ACCESS_KEY_ID);
  });

  it("writes the keys only when secrets are asked for, with the matching provider", () => {
    const withKeys = sparkConfig(onS3, { s3: { includeSecrets: true }, processEnv: awsEnv }).properties;
    expect(withKeys).toMatchObject({
      "spark.hadoop.fs.s3a.access.key": "AKIAEXAMPLEKEY",
      "spark.hadoop.fs.s3a.secret.key": "wJalrXUtnFEMI-example-secret",
      "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
    });
    expect(withKeys).not.toHaveProperty("spark.hadoop.fs.s3a.session.token");
    const temporary = sparkConfig(onS3, {
      s3: {
        includeSecrets: true,
        credentials: { accessKeyId: "ASIATEMP", secretAccessKey: "temp-secret", sessionToken: "token" },
      },
      processEnv: {},
    }).properties;
    expect(temporary).toMatchObject({
      "spark.hadoop.fs.s3a.access.key": "ASIATEMP",
      "spark.hadoop.fs.s3a.session.token": "token",
      "spark.hadoop.fs.s3a.aws.credentials.provider":
        "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
    });
  });

  it("keeps credentials given as options out of the properties unless secrets are asked for", () => {
    const config = sparkConfig(onS3, {
      s3: {
        endpoint: "https://ceph.internal",
        credentials: { accessKeyId: "AK", secretAccessKey: "sk-secret" },
      },
      processEnv: {},
    });
    expect(JSON.stringify(config)).not.toContain("sk-secret");
    expect(config.properties["spark.hadoop.fs.s3a.endpoint"]).toBe("https://ceph.internal");
    expect(config.properties).not.toHaveProperty("spark.hadoop.fs.s3a.connection.ssl.enabled");
  });

  it("sets a credentials provider only when asked, and never in place of the job's own", () => {
    const chosen = sparkConfig(onS3, { s3: { credentialsProvider: "com.example.Other" }, processEnv: {} });
    expect(chosen.properties["spark.hadoop.fs.s3a.aws.credentials.provider"]).toBe("com.example.Other");
    const given = { "spark.hadoop.fs.s3a.aws.credentials.provider": "com.example.VaultProvider" };
    for (const s3 of [{}, { credentialsProvider: "com.example.Other" }, { includeSecrets: true }]) {
      const { properties } = sparkConfig(onS3, { properties: given, s3, processEnv: awsEnv });
      expect(properties["spark.hadoop.fs.s3a.aws.credentials.provider"]).toBe("com.example.VaultProvider");
    }
  });

  it("keeps the endpoint and path style the job gave, whatever AWS_ENDPOINT_URL_S3 says", () => {
    const given = {
      "spark.hadoop.fs.s3a.endpoint": "https://mine.example",
      "spark.hadoop.fs.s3a.path.style.access": "false",
    };
    const { properties } = sparkConfig(onS3, {
      properties: given,
      processEnv: { AWS_ENDPOINT_URL_S3: "http://other:9000" },
    });
    expect(properties).toMatchObject(given);
    // Nothing derived from the endpoint it did not use.
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.connection.ssl.enabled");
  });

  it("never replaces an S3A property the job gave, not even with options or secrets", () => {
    const given = {
      "spark.hadoop.fs.s3a.impl": "com.example.PatchedS3AFileSystem",
      "spark.hadoop.fs.s3a.endpoint": "http://mine.example:9000",
      "spark.hadoop.fs.s3a.connection.ssl.enabled": "true",
      "spark.hadoop.fs.s3a.path.style.access": "false",
      "spark.hadoop.fs.s3a.endpoint.region": "us-east-2",
      "spark.hadoop.fs.s3a.access.key": "AKIAJOBKEY",
      "spark.hadoop.fs.s3a.secret.key": "job-secret",
      "spark.hadoop.fs.s3a.session.token": "job-token",
      "spark.hadoop.fs.s3a.aws.credentials.provider": "com.example.VaultProvider",
    };
    const { properties } = sparkConfig(onS3, {
      properties: given,
      s3: {
        endpoint: "http://options.example",
        region: "eu-west-1",
        forcePathStyle: true,
        includeSecrets: true,
        credentialsProvider: "com.example.Other",
      },
      processEnv: awsEnv,
    });
    const s3a = Object.fromEntries(Object.entries(properties).filter(([key]) => key.includes(".s3a.")));
    expect(s3a).toEqual(given);
  });

  it("keeps the job's access key and secret as a pair, without asking for credentials of its own", () => {
    const given = { "spark.hadoop.fs.s3a.access.key": "AKIAJOBKEY" };
    const { properties } = sparkConfig(onS3, {
      properties: given,
      s3: { includeSecrets: true },
      processEnv: {},
    });
    expect(properties["spark.hadoop.fs.s3a.access.key"]).toBe("AKIAJOBKEY");
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.secret.key");
    expect(properties).not.toHaveProperty("spark.hadoop.fs.s3a.aws.credentials.provider");
  });

  it.each(["S3A://team/envs/analytics.pex", "S3://team/envs/analytics.pex", "S3N://team/envs/analytics.pex"])(
    "reads %s, whatever the scheme's case, as s3a:// with the S3A settings",
    (uri) => {
      const { properties } = sparkConfig(getPyenvUsageFromArchive(uri), { processEnv: awsEnv });
      expect(properties["spark.yarn.dist.files"]).toBe("s3a://team/envs/analytics.pex");
      expect(properties).toMatchObject({
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": "http://minio.internal:9000",
      });
    },
  );

  it("uses virtual-host addressing on AWS itself and path style when asked", () => {
    const aws = sparkConfig(onS3, { processEnv: {} }).properties;
    expect(aws).not.toHaveProperty("spark.hadoop.fs.s3a.endpoint");
    expect(aws).not.toHaveProperty("spark.hadoop.fs.s3a.path.style.access");
    const forced = sparkConfig(onS3, { s3: { forcePathStyle: true }, processEnv: {} }).properties;
    expect(forced["spark.hadoop.fs.s3a.path.style.access"]).toBe("true");
  });

  it("adds no S3A settings when nothing is read from S3", () => {
    const keys = Object.keys(sparkConfig(pex, { editable, processEnv: awsEnv }).properties);
    expect(keys.filter((key) => key.includes("s3a"))).toEqual([]);
  });

  it("refuses to include secrets it does not have, in one line", () => {
    expect(() => sparkConfig(onS3, { s3: { includeSecrets: true }, processEnv: {} })).toThrow(
      "s3.includeSecrets: no credentials to include: pass s3.credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
  });
});

describe("sparkConfig refuses what Spark would not run", () => {
  it.each([
    {
      refused: "a master Spark 3 does not know",
      options: { master: "mesos://zk:2181" },
      message: /^master "mesos:\/\/zk:2181": unsupported Spark master: use yarn, k8s:/,
    },
    {
      refused: "the yarn-cluster master removed in Spark 3",
      options: { master: "yarn-cluster" },
      message: /^master "yarn-cluster": unsupported Spark master/,
    },
    {
      refused: "cluster mode with a local master",
      options: { master: "local[*]", deployMode: "cluster" as const },
      message: /^deployMode cluster: local mode runs the driver here/,
    },
    {
      refused: "cluster mode on standalone, which spark-submit refuses for Python",
      options: { master: "spark://m:7077", deployMode: "cluster" as const },
      message: /^deployMode cluster: Spark standalone runs Python applications in client mode only$/,
    },
    {
      refused: "an unknown deploy mode in the properties",
      options: { properties: { "spark.submit.deployMode": "server" } },
      message: /^deployMode "server": deploy mode must be client or cluster$/,
    },
  ])("refuses $refused, in one line", ({ options, message }) => {
    expect(() => sparkConfig(pex, { ...options, processEnv: {} })).toThrow(message);
  });

  it("refuses two editable zips that would be localized under one name", () => {
    const clash = [
      { name: "my_project", uri: "hdfs:///a/my_project.zip" },
      { name: "my_project", uri: "hdfs:///b/my_project.zip" },
    ];
    expect(() => sparkConfig(pex, { editable: clash, processEnv: {} })).toThrow(
      'editable: hdfs:///a/my_project.zip and hdfs:///b/my_project.zip would both be localized as "my_project.zip" in the container; rename one',
    );
  });

  it("names the environment when an editable zip would be localized under its name", () => {
    const zipapp = getPyenvUsageFromArchive("hdfs:///envs/my_project.pex");
    const clash = [{ name: "my_project", uri: "hdfs:///code/my_project.pex" }];
    expect(() => sparkConfig(zipapp, { editable: clash, processEnv: {} })).toThrow(
      'env: hdfs:///envs/my_project.pex and hdfs:///code/my_project.pex would both be localized as "my_project.pex" in the container; rename one',
    );
  });
});

describe("sparkConfig on a Kerberized cluster names the file systems outside fs.defaultFS", () => {
  const key3 = "spark.kerberos.access.hadoopFileSystems";
  const key2 = "spark.yarn.access.hadoopFileSystems";
  const defaultFileSystem = "hdfs://main-nn:8020";
  const on = (archive: string, options: SparkOptions = {}) =>
    sparkConfig(getPyenvUsageFromArchive(archive), { processEnv: {}, defaultFileSystem, ...options })
      .properties;

  it("adds nothing when the archive is on the default file system, however it is written", () => {
    for (const archive of [
      "hdfs:///user/alice/envs/env.pex",
      "hdfs://main-nn/user/alice/envs/env.pex",
      "HDFS://Main-NN:8020/user/alice/envs/env.pex",
    ]) {
      const properties = on(archive);
      expect(properties).not.toHaveProperty(key3);
      expect(properties).not.toHaveProperty(key2);
    }
  });

  it("adds nothing without the default file system, or for a local archive", () => {
    const unconfigured = sparkConfig(getPyenvUsageFromArchive("hdfs://nn2:8020/envs/env.pex"), {
      processEnv: {},
    });
    expect(unconfigured.properties).not.toHaveProperty(key3);
    expect(on("file:///tmp/envs/env.pex")).not.toHaveProperty(key3);
    expect(on("/tmp/envs/env.pex")).not.toHaveProperty(key3);
  });

  it("names another HDFS, after the file systems the job already lists", () => {
    expect(on("hdfs://nn2:8020/envs/env.pex")[key3]).toBe("hdfs://nn2:8020");
    const properties = on("hdfs://nn2:8020/envs/env.pex", {
      properties: { [key3]: "hdfs://nn3:8020, s3a://logs" },
    });
    expect(properties[key3]).toBe("hdfs://nn3:8020,s3a://logs,hdfs://nn2:8020");
  });

  it("does not name twice what the job lists in another spelling, or under the Spark 2 name", () => {
    expect(on("hdfs://nn2:8020/envs/env.pex", { properties: { [key3]: "hdfs://NN2" } })[key3]).toBe(
      "hdfs://NN2",
    );
    expect(
      on("hdfs://nn2:8020/envs/env.pex", { properties: { [key2]: "hdfs://nn2:8020" } }),
    ).not.toHaveProperty(key3);
  });

  it("uses Spark 2's name with sparkVersion 2", () => {
    const properties = on("hdfs://nn2:8020/envs/env.pex", { sparkVersion: 2 });
    expect(properties[key2]).toBe("hdfs://nn2:8020");
    expect(properties).not.toHaveProperty(key3);
  });

  it("names s3a buckets and viewfs clusters", () => {
    expect(on("s3://team/envs/env.pex")[key3]).toBe("s3a://team");
    expect(on("viewfs://cluster/user/alice/envs/env.pex")[key3]).toBe("viewfs://cluster");
  });

  it("names the file systems of editable zips too, each once", () => {
    const editable = [
      { name: "a", uri: "hdfs://nn3:8020/code/a.zip" },
      { name: "b", uri: "hdfs://nn3/code/b.zip" },
      { name: "c", uri: "hdfs:///code/c.zip" },
    ];
    expect(on("hdfs://nn2:8020/envs/env.pex", { editable })[key3]).toBe("hdfs://nn2:8020,hdfs://nn3:8020");
  });

  it("applies on YARN and Kubernetes, not in local or standalone mode, and Spark 2 on YARN only", () => {
    const archive = "hdfs://nn2:8020/envs/env.pex";
    expect(on(archive, { master: "k8s://https://api:6443" })[key3]).toBe("hdfs://nn2:8020");
    expect(on(archive, { master: "k8s://https://api:6443", sparkVersion: 2 })).not.toHaveProperty(key2);
    expect(on(archive, { master: "spark://m:7077" })).not.toHaveProperty(key3);
    expect(on(archive, { master: "local[*]" })).not.toHaveProperty(key3);
  });
});
