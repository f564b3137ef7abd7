import { type RemovedEnv, removeEnv } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, style, text } from "../render.js";

const describe = (result: RemovedEnv) =>
  result.removed.map((uri) => `${style.green("removed")} ${text(uri)}`).join("\n");

export function rmCommand(config: ProjectConfig): Command {
  return new Command("rm")
    .description("remove an archive with its metadata and its editable code")
    .argument(
      "<archive>",
      "the archive: /path/env.pex, s3://bucket/envs/env.tar.gz, hdfs:///user/me/envs/env.pex…",
    )
    .addOption(new Option("--json", "print what was removed as one JSON object on stdout"))
    .action(async (archive: string, _flags: GlobalFlags, self: Command) => {
      const flags = self.optsWithGlobals<GlobalFlags>();
      const output = createOutput(flags);
      const result = await removeEnv(archive, { fsArgs: fsArgsOf(flags, config, output.verbose) });
      output.result(result, () => describe(result), result.removed.join("\n"));
    });
}
