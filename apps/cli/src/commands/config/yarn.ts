// `cluster-pack config yarn`: a skein ApplicationSpec running Python in the environment.

import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { applicationSpec, pythonService, toJson, toYaml } from "@cluster-pack/yarn";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import { createOutput } from "../../render.js";
import {
  applicationOptionsOf,
  asUsage,
  entryPointOf,
  formatOf,
  integer,
  type JobFlags,
  jobOptions,
  serviceOptionsOf,
  shippedEnvOf,
  shippingOptions,
} from "./shared.js";

interface YarnFlags extends JobFlags {
  instances?: number;
  serviceName: string;
}

export function yarnCommand(config: ProjectConfig): Command {
  const command = new Command("yarn")
    .description("a skein ApplicationSpec that runs a module, script or code in the environment")
    .argument("[args...]", "arguments of the module, script or code (after --)")
    .addOption(new Option("--service-name <name>", "the skein service's name").default("job"))
    .addOption(new Option("--instances <n>", "containers to start (default 1)").argParser(integer(0)));
  for (const option of [...jobOptions(), ...shippingOptions("yarn")]) command.addOption(option);
  return command.action(async (args: string[], _flags: YarnFlags, self: Command) => {
    const flags = self.optsWithGlobals<YarnFlags>();
    const output = createOutput({ ...flags, json: false });
    const format = formatOf(flags, "yarn");
    const run = entryPointOf(flags, args);
    const shipped = await shippedEnvOf(flags, config, output);
    const serviceOptions = await serviceOptionsOf(flags, shipped, output);
    const spec = asUsage(
      () =>
        applicationSpec({
          ...applicationOptionsOf(flags),
          services: {
            [flags.serviceName]: pythonService(getPyenvUsageFromArchive(shipped.packagePath), {
              ...serviceOptions,
              run,
              ...(flags.instances !== undefined && { instances: flags.instances }),
              ...(flags.maxRestarts !== undefined && { maxRestarts: flags.maxRestarts }),
            }),
          },
        }),
      "see cluster-pack config yarn --help",
    );
    process.stdout.write(format === "json" ? toJson(spec) : toYaml(spec));
  });
}
