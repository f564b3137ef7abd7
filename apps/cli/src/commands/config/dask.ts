import { type DaskYarnDeployMode, daskConfig, daskYarnSpec, toDaskCommandLine } from "@cluster-pack/dask";
import { getPyenvUsageFromArchive } from "@cluster-pack/env-usage";
import { type FileVisibility, type Resources, toJson, toYaml } from "@cluster-pack/yarn";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import { listOption } from "../../options.js";
import { createOutput } from "../../render.js";
import {
  asUsage,
  type ConfigFlags,
  formatOf,
  integer,
  keyValues,
  memory,
  repeated,
  shippedEnvOf,
  shippingOptions,
  ticketCacheToShip,
} from "./shared.js";

interface DaskFlags extends ConfigFlags {
  name?: string;
  queue?: string;
  user?: string;
  tag?: string[];
  deployMode?: DaskYarnDeployMode;
  workers?: number;
  workerMemory?: number | string;
  workerVcores?: number;
  schedulerMemory?: number | string;
  schedulerVcores?: number;
  workerRestarts?: number;
  env?: string[];
  visibility?: FileVisibility;
  schedulerAddress?: string;
  schedulerFile?: string;
}

/** Resources from a memory and a vcores flag, each defaulting to dask-yarn's 2 GiB and 1 vcore. */
const daskResources = (
  memory: number | string | undefined,
  vcores: number | undefined,
): Resources | undefined =>
  memory === undefined && vcores === undefined
    ? undefined
    : { memory: memory ?? "2 GiB", vcores: vcores ?? 1 };

export function daskCommand(config: ProjectConfig): Command {
  const command = new Command("dask")
    .description(
      "a dask-yarn ApplicationSpec (scheduler and workers in the environment), or the commands to run",
    )
    .argument("[worker-args...]", "more dask-worker flags (after --)")
    .addOption(new Option("--name <name>", "the application's name (default dask)"))
    .addOption(new Option("--queue <queue>", "the YARN queue (default: default)"))
    .addOption(new Option("--user <user>", "submit as this user (needs proxy-user rights)"))
    .addOption(listOption("--tag <tag>", "application tags"))
    .addOption(
      new Option("--deploy-mode <mode>", "where the scheduler runs: remote (a container) or local").choices([
        "remote",
        "local",
      ]),
    )
    .addOption(
      new Option("--workers <n>", "workers started with the application (default 0)").argParser(integer(0)),
    )
    .addOption(new Option("--worker-memory <size>", "per worker (default 2 GiB)").argParser(memory))
    .addOption(new Option("--worker-vcores <n>", "per worker (default 1)").argParser(integer(1)))
    .addOption(new Option("--scheduler-memory <size>", "the scheduler's (default 2 GiB)").argParser(memory))
    .addOption(new Option("--scheduler-vcores <n>", "the scheduler's (default 1)").argParser(integer(1)))
    .addOption(
      new Option("--worker-restarts <n>", "restarts of failed workers; -1 always (default -1)").argParser(
        integer(-1),
      ),
    )
    .addOption(
      new Option("--env <KEY=VALUE>", "an environment variable of the workers (repeatable)").argParser(
        repeated,
      ),
    )
    .addOption(
      new Option("--visibility <visibility>", "who shares the localized environment on a node").choices([
        "application",
        "private",
        "public",
      ]),
    )
    .addOption(new Option("--scheduler-address <uri>", "with --format commands: where workers connect"))
    .addOption(
      new Option("--scheduler-file <path>", "with --format commands: the scheduler file both sides see"),
    );
  for (const option of shippingOptions("dask")) command.addOption(option);
  return command.action(async (workerArgs: string[], _flags: DaskFlags, self: Command) => {
    const flags = self.optsWithGlobals<DaskFlags>();
    const output = createOutput({ ...flags, json: false });
    const format = formatOf(flags, "dask");
    const env = keyValues(flags.env, "--env");
    const shipped = await shippedEnvOf(flags, config, output);
    const pyenv = getPyenvUsageFromArchive(shipped.packagePath);
    const code = {
      editable: shipped.editable,
      ...(shipped.editableIndex && { editableIndex: shipped.editableIndex }),
    };
    const hint = "see cluster-pack config dask --help";
    if (format === "commands") {
      const dask = asUsage(
        () =>
          daskConfig(pyenv, {
            ...code,
            env,
            workerArgs,
            ...(flags.schedulerAddress && { schedulerAddress: flags.schedulerAddress }),
            ...(flags.schedulerFile && { schedulerFile: flags.schedulerFile }),
          }),
        hint,
      );
      process.stdout.write(
        `# scheduler\n${toDaskCommandLine(dask.scheduler)}# worker\n${toDaskCommandLine(dask.worker)}`,
      );
      return;
    }
    const krb5ccname = await ticketCacheToShip(output);
    const workerResources = daskResources(flags.workerMemory, flags.workerVcores);
    const schedulerResources = daskResources(flags.schedulerMemory, flags.schedulerVcores);
    const spec = asUsage(
      () =>
        daskYarnSpec(pyenv, {
          ...code,
          workerArgs,
          ...(Object.keys(env).length > 0 && { workerEnv: env }),
          ...(flags.name && { name: flags.name }),
          ...(flags.queue && { queue: flags.queue }),
          ...(flags.user && { user: flags.user }),
          ...(flags.tag && { tags: flags.tag }),
          ...(flags.deployMode && { deployMode: flags.deployMode }),
          ...(flags.workers !== undefined && { workers: flags.workers }),
          ...(workerResources && { workerResources }),
          ...(schedulerResources && { schedulerResources }),
          ...(flags.workerRestarts !== undefined && { workerRestarts: flags.workerRestarts }),
          ...(flags.visibility && { visibility: flags.visibility }),
          ...(krb5ccname && { krb5ccname }),
        }),
      hint,
    );
    process.stdout.write(format === "json" ? toJson(spec) : toYaml(spec));
  });
}
