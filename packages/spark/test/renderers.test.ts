import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { execute, machinePython } from "@cluster-pack/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type SparkConfig,
  sparkConfig,
  toSparkDefaultsConf,
  toSparkJson,
  toSparkSessionBuilder,
  toSparkSubmitArgs,
  toSparkSubmitCommand,
} from "../src/index.js";

const pex = getPyenvUsageFromArchive("hdfs:///user/alice/envs/analytics.pex");
const editable = [{ name: "my_project", uri: "hdfs:///user/alice/envs/analytics_editable/my_project.zip" }];
// Values a shell, a properties file or a Python literal could get wrong.
const awkward = {
  "spark.driver.extraJavaOptions": "-Dlog.dir='/var/log/my app' -Dsep=\"a;b\" $HOME",
  "spark.app.name": " naïve \\ report: 100% = ☃",
};
const config = sparkConfig(pex, {
  editable,
  driverPython: "/home/alice/venv/bin/python",
  properties: awkward,
  processEnv: {},
});

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-spark-render-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("toSparkSubmitArgs", () => {
  it("passes master and deploy mode as flags and every other property as --conf", () => {
    expect(toSparkSubmitArgs(config)).toEqual([
      "--master",
      "yarn",
      "--deploy-mode",
      "client",
      "--conf",
      `spark.driver.extraJavaOptions=${awkward["spark.driver.extraJavaOptions"]}`,
      "--conf",
      `spark.app.name=${awkward["spark.app.name"]}`,
      "--conf",
      "spark.yarn.dist.files=hdfs:///user/alice/envs/analytics.pex",
      "--conf",
      "spark.submit.pyFiles=hdfs:///user/alice/envs/analytics_editable/my_project.zip",
      "--conf",
      "spark.pyspark.python=./analytics.pex",
      "--conf",
      "spark.pyspark.driver.python=/home/alice/venv/bin/python",
      "--conf",
      "spark.executorEnv.PEX_ROOT=./.pex",
    ]);
  });
});

describe("toSparkSubmitCommand", () => {
  it("gives a shell the exact argv and PYSPARK_PYTHON", async () => {
    // A spark-submit stand-in that reports what the shell handed it.
    const bin = join(root, "bin");
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, "spark-submit"),
      `#!/usr/bin/env python3\nimport json, os, sys\nprint(json.dumps({"argv": sys.argv[1:], "python": os.environ.get("PYSPARK_PYTHON")}))\n`,
    );
    await chmod(join(bin, "spark-submit"), 0o755);
    const command = toSparkSubmitCommand(config, {
      application: "jobs/my app.py",
      args: ["--day", "2024-01-01"],
    });
    const outcome = await execute("sh", ["-c", command], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: "/home/should-not-expand" },
    });
    expect(outcome.stderr).toBe("");
    expect(JSON.parse(outcome.stdout)).toEqual({
      argv: [...toSparkSubmitArgs(config), "jobs/my app.py", "--day", "2024-01-01"],
      python: "./analytics.pex",
    });
  });

  it("writes one option a line, ready to paste", () => {
    const plain = sparkConfig(pex, { master: "yarn", deployMode: "cluster", processEnv: {} });
    expect(toSparkSubmitCommand(plain)).toBe(
      [
        "PYSPARK_PYTHON=./analytics.pex spark-submit \\",
        "  --master yarn \\",
        "  --deploy-mode cluster \\",
        "  --conf spark.yarn.dist.files=hdfs:///user/alice/envs/analytics.pex \\",
        "  --conf spark.pyspark.python=./analytics.pex \\",
        "  --conf spark.pyspark.driver.python=./analytics.pex \\",
        "  --conf spark.yarn.appMasterEnv.PYSPARK_PYTHON=./analytics.pex \\",
        "  --conf spark.executorEnv.PEX_ROOT=./.pex \\",
        "  --conf spark.yarn.appMasterEnv.PEX_ROOT=./.pex \\",
        "  app.py",
        "",
      ].join("\n"),
    );
  });
});

describe("toSparkDefaultsConf", () => {
  it("aligns one property a line", () => {
    const plain = sparkConfig(pex, { processEnv: {} });
    expect(toSparkDefaultsConf(plain)).toBe(
      [
        "spark.master                 yarn",
        "spark.submit.deployMode      client",
        "spark.yarn.dist.files        hdfs:///user/alice/envs/analytics.pex",
        "spark.pyspark.python         ./analytics.pex",
        "spark.pyspark.driver.python  python3",
        "spark.executorEnv.PEX_ROOT   ./.pex",
        "",
      ].join("\n"),
    );
  });

  it("reads back exactly through Java's Properties.load, as Spark reads the file", async () => {
    const file = join(root, "spark-defaults.conf");
    await writeFile(file, toSparkDefaultsConf(config));
    const reader = join(root, "ReadProperties.java");
    await writeFile(
      reader,
      `import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class ReadProperties {
  public static void main(String[] args) throws Exception {
    Properties properties = new Properties();
    try (Reader in = new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8)) {
      properties.load(in);
    }
    Base64.Encoder base64 = Base64.getEncoder();
    for (String key : properties.stringPropertyNames()) {
      String value = properties.getProperty(key);
      System.out.println(base64.encodeToString(key.getBytes(StandardCharsets.UTF_8)) + " "
          + base64.encodeToString(value.getBytes(StandardCharsets.UTF_8)));
    }
  }
}
`,
    );
    const outcome = await execute("java", [reader, file]);
    expect(outcome.stderr).toBe("");
    const decode = (text: string) => Buffer.from(text, "base64").toString("utf8");
    const read = Object.fromEntries(
      outcome.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(" ").map(decode)),
    );
    expect(read).toEqual(config.properties);
  }, 60_000);
});

describe("toSparkJson", () => {
  it("is read by Python's json as the configuration, every property and variable a string as SparkConf takes", async () => {
    const file = join(root, "spark.json");
    await writeFile(file, toSparkJson(config));
    // What a notebook does with the file: json.load, then master, properties and variables by their names.
    const reader = `import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    conf = json.load(f)
def strings(mapping):
    return isinstance(mapping, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
print(json.dumps({"master": conf["master"], "properties": strings(conf["properties"]),
                  "environmentVariables": strings(conf["environmentVariables"]),
                  "appName": conf["properties"]["spark.app.name"], "read": conf}))
`;
    const outcome = await execute(machinePython, ["-c", reader, file]);
    expect(outcome.stderr).toBe("");
    const found = JSON.parse(outcome.stdout);
    expect(found).toMatchObject({
      master: "yarn",
      properties: true,
      environmentVariables: true,
      appName: awkward["spark.app.name"],
    });
    expect(found.read).toEqual(config);
  });
});

describe("toSparkSessionBuilder", () => {
  it("sets PYSPARK_PYTHON before the session starts and passes every property to the builder", async () => {
    // pyspark is not installable offline: a package with SparkSession.builder's interface records the calls.
    const fake = join(root, "fake-pyspark");
    await mkdir(join(fake, "pyspark", "sql"), { recursive: true });
    await writeFile(join(fake, "pyspark", "__init__.py"), "");
    await writeFile(
      join(fake, "pyspark", "sql", "__init__.py"),
      `import json, os

class _Builder:
    def __init__(self):
        self.calls = []

    def master(self, master):
        self.calls.append(["master", master])
        return self

    def config(self, key, value):
        self.calls.append(["config", key, value])
        return self

    def getOrCreate(self):
        print(json.dumps({"calls": self.calls, "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON")}))
        return self

class SparkSession:
    builder = _Builder()
`,
    );
    const script = toSparkSessionBuilder(config);
    const outcome = await execute(machinePython, ["-c", script], {
      env: { ...process.env, PYTHONPATH: fake, PYSPARK_PYTHON: "" },
    });
    expect(outcome.stderr).toBe("");
    const expected: unknown[] = [["master", "yarn"]];
    for (const [key, value] of Object.entries(config.properties))
      if (key !== "spark.master") expected.push(["config", key, value]);
    expect(JSON.parse(outcome.stdout)).toEqual({ calls: expected, PYSPARK_PYTHON: "./analytics.pex" });
  });

  it("refuses cluster mode, whose driver is not the running interpreter", () => {
    const cluster: SparkConfig = sparkConfig(pex, { deployMode: "cluster", processEnv: {} });
    expect(() => toSparkSessionBuilder(cluster)).toThrow(
      /^deployMode cluster: a SparkSession.builder snippet/,
    );
  });
});
