import { EnvUsageError } from "@cluster-pack/env-usage";
import {
  DEFAULT_RESOURCES,
  type PythonEntryPoint,
  type Resources,
  validateResources,
} from "@cluster-pack/yarn";

/** tf-yarn's task types; each becomes a skein service of that name. */
export const TASK_TYPES = ["chief", "worker", "ps", "evaluator", "tensorboard"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/**
 * `parameter-server`: `tf.distribute` ParameterServerStrategy (or an estimator with ps tasks), which needs ps and
 * worker tasks; `mirrored`: MirroredStrategy on the chief or MultiWorkerMirroredStrategy over chief and workers,
 * which has no ps.
 */
export type Strategy = "parameter-server" | "mirrored";

export interface TaskSpec {
  /** Default 1. */
  instances?: number;
  /** Per container; default 1 GiB and 1 vcore. */
  resources?: Resources;
  /** E.g. `gpu` for tasks that must run on GPU nodes. */
  nodeLabel?: string;
  maxRestarts?: number;
  /** What this task runs, when it differs from the job's entry point. */
  run?: PythonEntryPoint;
}

export type Topology = Partial<Record<TaskType, TaskSpec>>;

export const instancesOf = (topology: Topology, type: TaskType) => {
  const spec = topology[type];
  return spec ? (spec.instances ?? 1) : 0;
};

/** The strategy a topology asks for: parameter-server when it has ps tasks. */
export const strategyOf = (topology: Topology): Strategy =>
  instancesOf(topology, "ps") > 0 ? "parameter-server" : "mirrored";

/**
 * Checks tf-yarn's rules: known task types, exactly one chief, at most one evaluator and one tensorboard, ps tasks
 * (and workers) if and only if the strategy is parameter-server. The error names the task and what to change.
 */
export function validateTopology(topology: Topology, strategy: Strategy = strategyOf(topology)) {
  const known: readonly string[] = TASK_TYPES;
  for (const type of Object.keys(topology))
    if (!known.includes(type))
      throw new EnvUsageError(
        `unknown task type "${type}": use ${TASK_TYPES.join(", ")}`,
        `topology.${type}`,
      );
  for (const type of TASK_TYPES) {
    const spec = topology[type];
    if (!spec) continue;
    const instances = spec.instances ?? 1;
    if (!Number.isInteger(instances) || instances < 0)
      throw new EnvUsageError(
        `instances must be an integer ≥ 0, got ${JSON.stringify(instances)}`,
        `topology.${type}.instances`,
      );
    if (spec.resources) validateResources(spec.resources, `topology.${type}.resources`);
  }
  const chiefs = instancesOf(topology, "chief");
  if (chiefs !== 1)
    throw new EnvUsageError(`exactly one chief task is required, got ${chiefs}`, "topology.chief");
  for (const type of ["evaluator", "tensorboard"] as const)
    if (instancesOf(topology, type) > 1)
      throw new EnvUsageError(
        `at most one ${type} task is allowed, got ${instancesOf(topology, type)}`,
        `topology.${type}`,
      );
  const ps = instancesOf(topology, "ps");
  if (strategy === "parameter-server") {
    if (ps === 0)
      throw new EnvUsageError("the parameter-server strategy needs at least one ps task", "topology.ps");
    if (instancesOf(topology, "worker") === 0)
      throw new EnvUsageError(
        "the parameter-server strategy needs at least one worker task",
        "topology.worker",
      );
  } else if (ps > 0)
    throw new EnvUsageError(
      `ps tasks only take part in the parameter-server strategy, not ${strategy}: remove them or change strategy`,
      "topology.ps",
    );
}

export interface TopologyOptions {
  /** Of every task (default 1 GiB, 1 vcore). */
  resources?: Resources;
}

/** tf-yarn's `single_server_topology`: one chief training alone, an evaluator and TensorBoard. */
export function singleServerTopology(options: TopologyOptions = {}): Topology {
  const resources = options.resources ?? DEFAULT_RESOURCES;
  return { chief: { resources }, evaluator: { resources }, tensorboard: { resources } };
}

/** tf-yarn's `ps_strategy_topology`: a chief, workers and parameter servers, an evaluator and TensorBoard. */
export function psStrategyTopology(
  options: TopologyOptions & { workers?: number; ps?: number } = {},
): Topology {
  const resources = options.resources ?? DEFAULT_RESOURCES;
  const topology: Topology = {
    chief: { resources },
    worker: { resources, instances: options.workers ?? 2 },
    ps: { resources, instances: options.ps ?? 1 },
    evaluator: { resources },
    tensorboard: { resources },
  };
  validateTopology(topology, "parameter-server");
  return topology;
}
