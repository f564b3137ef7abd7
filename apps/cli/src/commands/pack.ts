import { resolve } from "node:path";
import { type PackedEnv, packEnv } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { interruptible } from "../interrupts.js";
import { type EnvironmentFlags, environmentOptions, environmentOptionsOf } from "../options.js";
import { createOutput, formatBytes, formatCount, style } from "../render.js";

interface PackFlags extends EnvironmentFlags {
  output: string;
}

const describe = (packed: PackedEnv) =>
  [
    `${style.green("packed")} ${formatCount(packed.requirements.length, "package")} (${packed.packer}, ${packed.source}) → ${style.cyan(packed.output)} (${formatBytes(packed.size)})`,
    `sha256 ${packed.sha256}`,
    ...(packed.cacheKey.target
      ? [
          `for ${packed.cacheKey.target.platforms.join(", ")}, Python ${packed.cacheKey.target.python_version} (${packed.cacheKey.target.implementation}), from ${formatCount(Object.keys(packed.cacheKey.wheels ?? {}).length, "wheel")}`,
        ]
      : []),
  ].join("\n");

export function packCommand(config: ProjectConfig): Command {
  const command = new Command("pack")
    .description("pack the environment into a local archive (no upload)")
    .addOption(
      new Option(
        "-o, --output <file>",
        "the archive to write (.pex, .pex.zip, or .tar.gz/.tgz/.zip for venv and conda archives)",
      ).makeOptionMandatory(),
    );
  for (const option of environmentOptions()) command.addOption(option);
  return command.action(async (_flags: PackFlags, self: Command) => {
    const flags = self.optsWithGlobals<PackFlags>();
    const output = createOutput(flags);
    const environment = environmentOptionsOf(flags, config);
    const archive = resolve(flags.output);
    const progress = output.progress();
    let packed: PackedEnv;
    try {
      packed = await interruptible(
        (signal) =>
          packEnv({
            ...environment,
            output: archive,
            onProgress: progress,
            signal,
          }),
        { undone: `no archive was written at ${archive}` },
      );
    } finally {
      progress.stop();
    }
    for (const warning of packed.warnings) output.warn(warning);
    output.result(packed, () => describe(packed), packed.output);
  });
}
