// `cluster-pack config yarn`: a skein ApplicationSpec running Python in the environment.

import { applicationSpec, pythonService } from "@cluster-pack/yarn";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import { createOutput } from "../../render.js";
import { formatOf, integer, type JobFlags, jobOf, jobOptions, writeSpec } from "./shared.js";

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
  for (const option of jobOptions("yarn")) command.addOption(option);
  return command.action(async (args: string[], _flags: YarnFlags, self: Command) => {
    const flags = self.optsWithGlobals<YarnFlags>();
    const output = createOutput({ ...flags, json: false });
    const format = formatOf(flags, "yarn");
    const job = await jobOf(flags, args, config, output);
    const spec = applicationSpec({
      ...job.applicationOptions,
      services: {
        [flags.serviceName]: pythonService(job.pyenv, {
          ...job.serviceOptions,
          ...(flags.instances !== undefined && { instances: flags.instances }),
          ...(flags.maxRestarts !== undefined && { maxRestarts: flags.maxRestarts }),
        }),
      },
    });
    writeSpec(spec, format);
  });
}
