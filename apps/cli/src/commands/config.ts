import { Command } from "commander";
import type { ProjectConfig } from "../config.js";
import { daskCommand } from "./config/dask.js";
import { s3aCommand, sparkCommand } from "./config/spark.js";
import { tfCommand } from "./config/tf.js";
import { yarnCommand } from "./config/yarn.js";

/** `cluster-pack config <engine>`: prints the launch configuration that makes an engine use the environment. */
export function configCommand(config: ProjectConfig): Command {
  const command = new Command("config").description(
    "print the launch configuration that makes Spark, YARN (skein), TensorFlow or Dask use the environment",
  );
  for (const engine of [
    sparkCommand(config),
    s3aCommand(),
    yarnCommand(config),
    tfCommand(config),
    daskCommand(config),
  ]) {
    engine.exitOverride().configureOutput({ outputError: () => undefined });
    command.addCommand(engine);
  }
  return command;
}
