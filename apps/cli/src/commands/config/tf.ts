import {
  type Strategy,
  TASK_TYPES,
  type TaskAddresses,
  type TaskType,
  type Topology,
  tfApplicationSpec,
  tfConfigs,
} from "@cluster-pack/tensorflow";
import { Command, Option } from "commander";
import type { ProjectConfig } from "../../config.js";
import { createOutput, emitConfig } from "../../render.js";
import { UsageError } from "../../usage-error.js";
import {
  formatOf,
  integer,
  type JobFlags,
  jobOf,
  jobOptions,
  repeated,
  resourcesOf,
  writeSpec,
} from "./shared.js";

interface TfFlags extends JobFlags {
  workers: number;
  ps: number;
  evaluator?: boolean;
  tensorboardLogdir?: string;
  strategy?: Strategy;
  taskAddress?: string[];
  tfEnvironment?: "cloud" | "google" | "local";
  rpcLayer?: string;
}

/** `chief=host:port`, `worker=h1:p,h2:p` (repeatable) → the addresses of each task type. */
function taskAddressesOf(items: readonly string[]): TaskAddresses {
  const addresses: Partial<Record<TaskType, string[]>> = {};
  for (const item of items) {
    const [type = "", list = ""] = item.split(/=(.*)/s);
    if (!(TASK_TYPES as readonly string[]).includes(type) || list === "")
      throw new UsageError(
        `--task-address: "${item}" is not TYPE=HOST:PORT[,HOST:PORT…] with TYPE one of ${TASK_TYPES.join(", ")}`,
        "e.g. --task-address chief=10.0.0.1:2222 --task-address worker=10.0.0.2:2222,10.0.0.3:2222",
      );
    addresses[type as TaskType] = [
      ...(addresses[type as TaskType] ?? []),
      ...list
        .split(",")
        .map((address) => address.trim())
        .filter(Boolean),
    ];
  }
  return addresses;
}

function topologyOf(flags: TfFlags): Topology {
  const resources = resourcesOf(flags);
  const task = (instances: number) => ({
    instances,
    ...(resources && { resources }),
    ...(flags.maxRestarts !== undefined && { maxRestarts: flags.maxRestarts }),
  });
  return {
    chief: task(1),
    ...(flags.workers > 0 && { worker: task(flags.workers) }),
    ...(flags.ps > 0 && { ps: task(flags.ps) }),
    ...(flags.evaluator && { evaluator: task(1) }),
    ...(flags.tensorboardLogdir && { tensorboard: task(1) }),
  };
}

export function tfCommand(config: ProjectConfig): Command {
  const command = new Command("tf")
    .description(
      "TensorFlow on YARN: a tf-yarn-style topology as a skein ApplicationSpec, or each task's TF_CONFIG",
    )
    .argument("[args...]", "arguments of the module, script or code (after --)")
    .addOption(new Option("--workers <n>", "worker tasks").argParser(integer(0)).default(0))
    .addOption(new Option("--ps <n>", "parameter server tasks").argParser(integer(0)).default(0))
    .addOption(new Option("--evaluator", "add an evaluator task"))
    .addOption(
      new Option("--tensorboard-logdir <dir>", "add a TensorBoard task reading this model directory"),
    )
    .addOption(
      new Option("--strategy <strategy>", "default: parameter-server with --ps, else mirrored").choices([
        "parameter-server",
        "mirrored",
      ]),
    )
    .addOption(
      new Option(
        "--task-address <type=host:port>",
        "with --format tf-config: where each task listens (repeatable, comma-separated per type)",
      ).argParser(repeated),
    )
    .addOption(
      new Option("--tf-environment <environment>", "TF_CONFIG's environment (default cloud)").choices([
        "cloud",
        "google",
        "local",
      ]),
    )
    .addOption(new Option("--rpc-layer <layer>", "TF_CONFIG's rpc_layer, e.g. grpc"));
  for (const option of jobOptions("tf")) command.addOption(option);
  return command.action(async (args: string[], _flags: TfFlags, self: Command) => {
    const flags = self.optsWithGlobals<TfFlags>();
    const output = createOutput({ ...flags, json: false });
    const format = formatOf(flags, "tf");
    const topology = topologyOf(flags);
    const hint = "see cluster-pack config tf --help";
    if (format === "tf-config") {
      if (!flags.taskAddress)
        throw new UsageError("--format tf-config needs --task-address for every task", hint);
      const configs = tfConfigs(taskAddressesOf(flags.taskAddress ?? []), {
        topology,
        ...(flags.strategy && { strategy: flags.strategy }),
        ...(flags.tfEnvironment && { environment: flags.tfEnvironment }),
        ...(flags.rpcLayer && { rpcLayer: flags.rpcLayer }),
      });
      emitConfig(`${JSON.stringify(configs, null, 2)}\n`);
      return;
    }
    if (flags.taskAddress) throw new UsageError("--task-address only applies to --format tf-config", hint);
    const job = await jobOf(flags, args, config, output);
    const spec = tfApplicationSpec(
      job.pyenv,
      topology,
      {
        ...job.serviceOptions,
        ...(flags.strategy && { strategy: flags.strategy }),
        ...(flags.tensorboardLogdir && { tensorboardLogdir: flags.tensorboardLogdir }),
      },
      job.applicationOptions,
    );
    writeSpec(spec, format);
  });
}
