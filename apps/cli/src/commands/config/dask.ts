import { type DaskYarnDeployMode, daskConfig, daskYarnSpec, toDaskCommandLine } from "@cluster-pack/dask";
import type { FileVisibility, Resources } from "@cluster-pack/yarn";
import { getPyenvUsageFromArchive } from "cluster-pack";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import { listOption } from "../../options.js";
import { createOutput, emitConfig } from "../../render.js";
import { UsageError } from "../../usage-error.js";
import {
  type ConfigFlags,
  defaultFileSystem,
  formatOf,
  integer,
  keyValues,
  memory,
  repeated,
  shippedEnvOf,
  shippingOptions,
  shipTicketCacheOption,
  type TicketCacheFlags,
  ticketCacheToShip,
  writeSpec,
} from "./shared.js";

interface DaskFlags extends ConfigFlags, TicketCacheFlags {
  name?: string;
  queue?: string;
  user?: string;
  tag?: string[];
  fileSystem?: string[];
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

/** The options of the dask-yarn spec, which `--format commands` refuses. */
const specOptions = () => [
  new Option("--name <name>", "the application's name (default dask)"),
  new Option("--queue <queue>", "the YARN queue (default: default)"),
  new Option("--user <user>", "submit as this user (needs proxy-user rights)"),
  listOption("--tag <tag>", "application tags"),
  listOption("--file-system <uri>", "more file systems to get delegation tokens for"),
  new Option("--deploy-mode <mode>", "where the scheduler runs: remote (a container) or local").choices([
    "remote",
    "local",
  ]),
  new Option("--workers <n>", "workers started with the application (default 0)").argParser(integer(0)),
  new Option("--worker-memory <size>", "per worker (default 2 GiB)").argParser(memory),
  new Option("--worker-vcores <n>", "per worker (default 1)").argParser(integer(1)),
  new Option("--scheduler-memory <size>", "the scheduler's (default 2 GiB)").argParser(memory),
  new Option("--scheduler-vcores <n>", "the scheduler's (default 1)").argParser(integer(1)),
  new Option("--worker-restarts <n>", "restarts of failed workers; -1 always (default -1)").argParser(
    integer(-1),
  ),
  new Option("--visibility <visibility>", "who shares the localized environment on a node").choices([
    "application",
    "private",
    "public",
  ]),
  shipTicketCacheOption(),
];

/** The options of `--format commands`, which the spec refuses. */
const commandsOptions = () => [
  new Option("--scheduler-address <uri>", "with --format commands: where workers connect"),
  new Option("--scheduler-file <path>", "with --format commands: the scheduler file both sides see"),
];

export function daskCommand(config: ProjectConfig): Command {
  const forSpec = specOptions();
  const forCommands = commandsOptions();
  const command = new Command("dask")
    .description(
      "a dask-yarn ApplicationSpec (scheduler and workers in the environment), or the commands to run",
    )
    .argument("[worker-args...]", "more dask-worker flags (after --)")
    .addOption(
      new Option("--env <KEY=VALUE>", "an environment variable of the workers (repeatable)").argParser(
        repeated,
      ),
    );
  for (const option of [...forSpec, ...forCommands, ...shippingOptions("dask")]) command.addOption(option);
  return command.action(async (workerArgs: string[], _flags: DaskFlags, self: Command) => {
    const flags = self.optsWithGlobals<DaskFlags>();
    const output = createOutput({ ...flags, json: false });
    const format = formatOf(flags, "dask");
    const hint = "see cluster-pack config dask --help";
    // Refused rather than ignored, before anything is uploaded: the user expects the flag to change the output.
    const misplaced = (format === "commands" ? forSpec : forCommands).find(
      (option) => flags[option.attributeName() as keyof DaskFlags] !== undefined,
    );
    if (misplaced)
      throw new UsageError(
        format === "commands"
          ? `${misplaced.long} only applies to the dask-yarn spec (--format yaml or json), not to --format commands`
          : `${misplaced.long} only applies to --format commands`,
        hint,
      );
    const env = keyValues(flags.env, "--env");
    const krb5ccname = format === "commands" ? undefined : await ticketCacheToShip(flags, output);
    const shipped = await shippedEnvOf(flags, config, output);
    const pyenv = getPyenvUsageFromArchive(shipped.packagePath);
    const code = {
      editable: shipped.editable,
      ...(shipped.editableIndex && { editableIndex: shipped.editableIndex }),
    };
    if (format === "commands") {
      const dask = daskConfig(pyenv, {
        ...code,
        env,
        workerArgs,
        ...(flags.schedulerAddress && { schedulerAddress: flags.schedulerAddress }),
        ...(flags.schedulerFile && { schedulerFile: flags.schedulerFile }),
      });
      emitConfig(
        `# scheduler\n${toDaskCommandLine(dask.scheduler)}# worker\n${toDaskCommandLine(dask.worker)}`,
      );
      return;
    }
    const workerResources = daskResources(flags.workerMemory, flags.workerVcores);
    const schedulerResources = daskResources(flags.schedulerMemory, flags.schedulerVcores);
    const defaultFs = await defaultFileSystem();
    const spec = daskYarnSpec(pyenv, {
      ...code,
      workerArgs,
      ...(Object.keys(env).length > 0 && { workerEnv: env }),
      ...(flags.name && { name: flags.name }),
      ...(flags.queue && { queue: flags.queue }),
      ...(flags.user && { user: flags.user }),
      ...(flags.tag && { tags: flags.tag }),
      ...(flags.fileSystem && { fileSystems: flags.fileSystem }),
      ...(defaultFs !== undefined && { defaultFileSystem: defaultFs }),
      ...(flags.deployMode && { deployMode: flags.deployMode }),
      ...(flags.workers !== undefined && { workers: flags.workers }),
      ...(workerResources && { workerResources }),
      ...(schedulerResources && { schedulerResources }),
      ...(flags.workerRestarts !== undefined && { workerRestarts: flags.workerRestarts }),
      ...(flags.visibility && { visibility: flags.visibility }),
      ...(krb5ccname && { krb5ccname }),
    });
    writeSpec(spec, format);
  });
}
