import { type PruneResult, pruneEnvs, type StoredEnv } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../config.js";
import { fsArgsOf, type GlobalFlags } from "../options.js";
import { createOutput, style, table, text } from "../render.js";
import { UsageError } from "../usage-error.js";
import { integer } from "./config/shared.js";

interface PruneFlags extends GlobalFlags {
  keep?: number;
  olderThan?: string;
  yes?: boolean;
}

const row = (env: StoredEnv) => [
  `  ${text(env.packagePath)}`,
  text(env.metadata?.created ?? env.modifiedAt, 80) || "no date",
];

const leftoverLines = (result: PruneResult) =>
  result.leftovers.length === 0
    ? []
    : [
        "",
        style.bold("removed what killed uploads had left:"),
        ...result.leftovers.map((line) => `  ${text(line)}`),
      ];

function describe(result: PruneResult): string {
  if (result.removed.length === 0)
    return [`nothing to prune in ${result.uri} (${result.kept.length} kept)`, ...leftoverLines(result)].join(
      "\n",
    );
  const heading = result.dryRun
    ? style.bold(`would remove ${result.removed.length} of ${result.removed.length + result.kept.length}:`)
    : style.bold(`removed ${result.removed.length} of ${result.removed.length + result.kept.length}:`);
  const lines = [heading, table(result.removed.map(row))];
  if (result.dryRun) lines.push("", "nothing was removed: run again with --yes to remove them");
  lines.push(...leftoverLines(result));
  return lines.join("\n");
}

export function pruneCommand(config: ProjectConfig): Command {
  return new Command("prune")
    .description("remove the old archives of a store directory (a dry run unless --yes)")
    .argument("<uri>", "the directory: /path, s3://bucket/envs, hdfs:///user/me/envs…")
    .addOption(new Option("--keep <n>", "keep the n newest archives").argParser(integer(0)))
    .addOption(new Option("--older-than <duration>", "keep archives newer than this, e.g. 30d, 12h, 2w"))
    .addOption(new Option("--yes", "remove them (without it, only print what would go)"))
    .addOption(new Option("--json", "print the result as one JSON object on stdout"))
    .action(async (uri: string, _flags: PruneFlags, self: Command) => {
      const flags = self.optsWithGlobals<PruneFlags>();
      if (flags.keep === undefined && flags.olderThan === undefined)
        throw new UsageError("say what to keep: --keep N, --older-than DURATION, or both", "e.g. --keep 5");
      const output = createOutput(flags);
      const result = await pruneEnvs(uri, {
        ...(flags.keep !== undefined && { keep: flags.keep }),
        ...(flags.olderThan !== undefined && { olderThan: flags.olderThan }),
        dryRun: !flags.yes,
        fsArgs: fsArgsOf(flags, config, output.verbose),
      });
      for (const env of [...result.removed, ...result.kept])
        if (env.metadataProblem) output.warn(env.metadataProblem);
      output.result(result, () => describe(result), result.removed.map((env) => env.packagePath).join("\n"));
    });
}
