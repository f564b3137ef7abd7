import { EnvUsageError } from "@cluster-pack/env-usage";
import { instancesOf, type Strategy, type TaskType, type Topology, validateTopology } from "./topology.js";

/** The tasks that take part in the TensorFlow cluster; the evaluator and TensorBoard stay outside it. */
export const CLUSTER_TASK_TYPES = ["chief", "worker", "ps"] as const;
export type ClusterTaskType = (typeof CLUSTER_TASK_TYPES)[number];

/** Where each task listens, `host:port`, in task-index order. */
export type TaskAddresses = Partial<Record<TaskType, readonly string[]>>;

/** `TF_CONFIG` as `tf.distribute.cluster_resolver.TFConfigClusterResolver` (and tf.estimator) read it. */
export interface TfConfig {
  cluster: Partial<Record<ClusterTaskType, string[]>>;
  task: { type: Exclude<TaskType, "tensorboard">; index: number };
  environment: string;
  rpc_layer?: string;
}

export interface TfConfigOptions {
  /** TensorFlow's `environment` (default `cloud`; tf-yarn uses `google` for tasks whose server it started). */
  environment?: "cloud" | "google" | "local";
  /** E.g. `grpc`. */
  rpcLayer?: string;
  /** When given, every task of the topology must have exactly one address, and the topology is checked. */
  topology?: Topology;
  strategy?: Strategy;
}

// host:port, with a bracketed IPv6 literal allowed: what a gRPC target accepts.
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

function checkAddresses(addresses: TaskAddresses, options: TfConfigOptions) {
  const seen = new Map<string, string>();
  for (const [type, list] of Object.entries(addresses)) {
    for (const [index, address] of (list ?? []).entries()) {
      const where = `${type}:${index}`;
      const port = Number(ADDRESS.exec(address)?.[2] ?? 0);
      if (port < 1 || port > 65535)
        throw new EnvUsageError(`"${address}" is not host:port (e.g. worker-1.example.com:2222)`, where);
      const other = seen.get(address);
      if (other) throw new EnvUsageError(`${address} is also the address of ${other}`, where);
      seen.set(address, where);
    }
  }
  const count = (type: TaskType) => addresses[type]?.length ?? 0;
  if (options.topology) {
    validateTopology(options.topology, options.strategy);
    for (const type of Object.keys({ ...options.topology, ...addresses }) as TaskType[])
      if (type !== "tensorboard" && count(type) !== instancesOf(options.topology, type))
        throw new EnvUsageError(
          `the topology has ${instancesOf(options.topology, type)} ${type} task(s) but ${count(type)} address(es) were given`,
          type,
        );
  }
  if (count("chief") !== 1)
    throw new EnvUsageError(`exactly one chief address is required, got ${count("chief")}`, "chief");
  if (count("evaluator") > 1)
    throw new EnvUsageError(`at most one evaluator is allowed, got ${count("evaluator")}`, "evaluator");
}

/**
 * The `TF_CONFIG` of one task, given every task's address: the cluster holds chief, worker and ps (the evaluator
 * and TensorBoard are not part of it), `task` names this task. Set it, JSON-encoded, in the task's environment.
 */
export function tfConfig(
  addresses: TaskAddresses,
  task: { type: TaskType; index: number },
  options: TfConfigOptions = {},
): TfConfig {
  checkAddresses(addresses, options);
  const where = `${task.type}:${task.index}`;
  if (task.type === "tensorboard")
    throw new EnvUsageError(
      "TensorBoard reads event files and runs no TensorFlow server: it has no TF_CONFIG",
      where,
    );
  const count = addresses[task.type]?.length ?? 0;
  if (!Number.isInteger(task.index) || task.index < 0 || task.index >= count)
    throw new EnvUsageError(`no such task: ${count} ${task.type} address(es) were given`, where);
  const cluster: TfConfig["cluster"] = {};
  for (const type of CLUSTER_TASK_TYPES) {
    const list = addresses[type];
    if (list && list.length > 0) cluster[type] = [...list];
  }
  return {
    cluster,
    task: { type: task.type, index: task.index },
    environment: options.environment ?? "cloud",
    ...(options.rpcLayer && { rpc_layer: options.rpcLayer }),
  };
}

/** The `TF_CONFIG` of every task that has one (all but TensorBoard), by `type:index`. */
export function tfConfigs(addresses: TaskAddresses, options: TfConfigOptions = {}): Record<string, TfConfig> {
  const configs: Record<string, TfConfig> = {};
  for (const type of [...CLUSTER_TASK_TYPES, "evaluator"] as const)
    for (const index of (addresses[type] ?? []).keys())
      configs[`${type}:${index}`] = tfConfig(addresses, { type, index }, options);
  return configs;
}
