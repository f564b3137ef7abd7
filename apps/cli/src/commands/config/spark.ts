// `cluster-pack config spark`: the properties that make a Spark job use the environment.

import {
  type SparkDeployMode,
  type SparkVersion,
  s3aProperties,
  sparkConfig,
  toSparkDefaultsConf,
  toSparkJson,
  toSparkSessionBuilder,
  toSparkSubmitCommand,
} from "@cluster-pack/spark";
import { getPyenvUsageFromArchive } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import { createOutput, emitConfig } from "../../render.js";
import {
  type ConfigFlags,
  defaultFileSystem,
  formatOf,
  keyValues,
  repeated,
  shippedEnvOf,
  shippingOptions,
} from "./shared.js";

interface SparkFlags extends ConfigFlags {
  master?: string;
  deployMode?: SparkDeployMode;
  driverPython?: string;
  conf?: string[];
  includeSecrets?: boolean;
  application?: string;
  sparkVersion: string;
}

export function sparkCommand(config: ProjectConfig): Command {
  const command = new Command("spark")
    .description("the Spark properties and environment variables that make a job use the environment")
    .argument("[args...]", "with --format submit: the application's arguments (after --)")
    .addOption(new Option("--master <master>", "yarn, k8s://https://host:port, spark://host:port, local[*]"))
    .addOption(new Option("--deploy-mode <mode>", "default client").choices(["client", "cluster"]))
    .addOption(new Option("--driver-python <python>", "the driver's Python in client mode (default python3)"))
    .addOption(
      new Option(
        "--conf <key=value>",
        "a property the job already has; lists are extended (repeatable)",
      ).argParser(repeated),
    )
    .addOption(
      new Option(
        "--spark-version <major>",
        "names the delegation-token property: spark.kerberos.access.hadoopFileSystems (3) or spark.yarn.access.hadoopFileSystems (2)",
      )
        .choices(["2", "3"])
        .default("3"),
    )
    .addOption(new Option("--include-secrets", "write the S3 access key and secret into the properties"))
    .addOption(new Option("--application <file>", "with --format submit: the application (default app.py)"));
  for (const option of shippingOptions("spark")) command.addOption(option);
  return command.action(async (args: string[], _flags: SparkFlags, self: Command) => {
    const flags = self.optsWithGlobals<SparkFlags>();
    const output = createOutput({ ...flags, json: false });
    const format = formatOf(flags, "spark");
    const properties = keyValues(flags.conf, "--conf");
    const shipped = await shippedEnvOf(flags, config, output);
    const defaultFs = await defaultFileSystem();
    const spark = sparkConfig(getPyenvUsageFromArchive(shipped.packagePath), {
      editable: shipped.editable,
      ...(shipped.editableIndex && { editableIndex: shipped.editableIndex }),
      properties,
      ...(flags.master && { master: flags.master }),
      ...(flags.deployMode && { deployMode: flags.deployMode }),
      ...(flags.driverPython && { driverPython: flags.driverPython }),
      ...(flags.includeSecrets && { s3: { includeSecrets: true } }),
      ...(defaultFs !== undefined && { defaultFileSystem: defaultFs }),
      sparkVersion: Number(flags.sparkVersion) as SparkVersion,
    });
    const secrets = { includeSecrets: flags.includeSecrets };
    if (format === "json") emitConfig(toSparkJson(spark), secrets);
    else if (format === "conf") emitConfig(toSparkDefaultsConf(spark), secrets);
    else if (format === "python") emitConfig(toSparkSessionBuilder(spark), secrets);
    else
      emitConfig(
        toSparkSubmitCommand(spark, { ...(flags.application && { application: flags.application }), args }),
        secrets,
      );
  });
}

/** `cluster-pack config s3a`: the S3A settings alone, for a job that reads or writes S3 itself. */
export function s3aCommand(): Command {
  return new Command("s3a")
    .description(
      "the spark.hadoop.fs.s3a.* properties for the S3 settings of this environment (AWS_ENDPOINT_URL_S3, …)",
    )
    .addOption(
      new Option("--conf <key=value>", "a property the job already has: it wins (repeatable)").argParser(
        repeated,
      ),
    )
    .addOption(new Option("--include-secrets", "write the access key and secret (AWS_ACCESS_KEY_ID, …) too"))
    .addOption(new Option("--json", "print them as one JSON object on stdout"))
    .action((_flags: { conf?: string[]; includeSecrets?: boolean; json?: boolean }, self: Command) => {
      const flags = self.optsWithGlobals<{ conf?: string[]; includeSecrets?: boolean; json?: boolean }>();
      const properties = s3aProperties(
        { ...(flags.includeSecrets && { includeSecrets: true }) },
        process.env,
        keyValues(flags.conf, "--conf"),
      );
      emitConfig(
        flags.json ? `${JSON.stringify({ properties }, null, 2)}\n` : toSparkDefaultsConf({ properties }),
        { includeSecrets: flags.includeSecrets },
      );
    });
}
