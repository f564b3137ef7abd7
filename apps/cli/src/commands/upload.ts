import { sparkConfig } from "@cluster-pack/spark";
import { getPyenvUsageFromArchive, type UploadEnvOptions, type UploadedEnv, uploadEnv } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { interruptible } from "../interrupts.js";
import { type EnvironmentFlags, environmentOptions, environmentOptionsOf, fsArgsOf } from "../options.js";
import { createOutput, formatBytes, style, table } from "../render.js";

interface UploadFlags extends EnvironmentFlags {
  packagePath?: string;
  force?: boolean;
  verify?: boolean;
}

function describe(result: UploadedEnv): string {
  const size = result.metadata.size === undefined ? "" : ` (${formatBytes(result.metadata.size)})`;
  const lines = [
    result.uploaded
      ? `${style.green("uploaded")} ${result.envName}${size} → ${style.cyan(result.packagePath)}`
      : `${style.green("up to date")} ${result.packagePath}${size}: nothing packed or uploaded`,
  ];
  if (result.editable.length > 0) {
    lines.push("", style.bold("editable code (uploaded on every call):"));
    lines.push(table(result.editable.map((zip) => [`  ${zip.name}`, zip.uri])));
  }
  // What the spark emitter computes (`cluster-pack config spark` prints it all), less the settings every job has.
  const spark = sparkConfig(getPyenvUsageFromArchive(result.packagePath), {
    editable: result.editable,
    ...(result.editableIndex && { editableIndex: result.editableIndex }),
  });
  const shown = Object.entries({ ...spark.properties, ...spark.environmentVariables }).filter(
    ([key]) =>
      key !== "spark.master" && key !== "spark.submit.deployMode" && !key.startsWith("spark.hadoop."),
  );
  lines.push("", style.bold("use it from Spark (cluster-pack config spark prints it all):"));
  for (const [key, value] of shown) lines.push(`  ${key}=${value}`);
  return lines.join("\n");
}

/** `uploadEnv` that Ctrl-C and SIGTERM stop cleanly (`upload`, `config … --upload`). */
export function uploadInterruptibly(options: Omit<UploadEnvOptions, "signal">): Promise<UploadedEnv> {
  const { packagePath } = options;
  return interruptible((signal) => uploadEnv({ ...options, signal }), {
    undone: `nothing was published${packagePath === undefined ? "" : ` at ${packagePath}`}`,
  });
}

export function uploadCommand(config: ProjectConfig): Command {
  const command = new Command("upload")
    .description("pack the environment and upload it with its metadata, unless the stored archive is current")
    .addOption(
      new Option(
        "--package-path <uri>",
        "where the archive goes (default: <store>/user/<user>/envs/<env name>.<ext>)",
      ),
    )
    .addOption(new Option("--force", "pack and upload even when the stored archive is current"))
    .addOption(
      new Option(
        "--verify",
        "before publishing, run the packed archive as a node would (cluster-pack verify); publish nothing if it fails",
      ),
    );
  for (const option of environmentOptions()) command.addOption(option);
  return command.action(async (_flags: UploadFlags, self: Command) => {
    const flags = self.optsWithGlobals<UploadFlags>();
    const output = createOutput(flags);
    const packagePath = flags.packagePath ?? config.packagePath;
    const environment = environmentOptionsOf(flags, config);
    const fsArgs = fsArgsOf(flags, config, output.verbose);
    const progress = output.progress();
    let result: UploadedEnv;
    try {
      result = await uploadInterruptibly({
        ...environment,
        ...(packagePath !== undefined && { packagePath }),
        ...(flags.force && { forceUpload: true }),
        ...(flags.verify && { verify: true }),
        fsArgs,
        onProgress: progress,
      });
    } finally {
      progress.stop();
    }
    for (const warning of result.warnings ?? []) output.warn(warning);
    output.result(result, () => describe(result), result.packagePath);
  });
}
