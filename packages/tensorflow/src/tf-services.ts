import type { EditableCode, PythonEnvDescription } from "@cluster-pack/env-usage";
import {
  type ApplicationSpec,
  type ApplicationSpecOptions,
  applicationSpec,
  DEFAULT_RESOURCES,
  type FileVisibility,
  type PythonEntryPoint,
  pythonService,
  type Service,
  type SkeinFile,
} from "@cluster-pack/yarn";
import { type Strategy, TASK_TYPES, type Topology, validateTopology } from "./topology.js";

export interface TfServicesOptions extends EditableCode {
  /** What every task runs (unless its `TaskSpec.run` says otherwise). */
  run: PythonEntryPoint;
  /** Default: parameter-server when the topology has ps tasks, else mirrored. */
  strategy?: Strategy;
  /** Where the model writes its events: the tensorboard task then runs `tensorboard --logdir` on it. */
  tensorboardLogdir?: string;
  env?: Readonly<Record<string, string>>;
  files?: Readonly<Record<string, SkeinFile>>;
  visibility?: FileVisibility;
  /** The launching user's `KRB5CCNAME`, shipped to every task when it names a file. */
  krb5ccname?: string;
}

/**
 * One skein service per task type of a validated topology, each running in the shipped environment. A task learns
 * its type and index from `SKEIN_CONTAINER_ID` (`worker_1`), as tf-yarn's tasks do.
 */
export function tfServices(
  env: PythonEnvDescription,
  topology: Topology,
  options: TfServicesOptions,
): Record<string, Service> {
  validateTopology(topology, options.strategy);
  const services: Record<string, Service> = {};
  for (const type of TASK_TYPES) {
    const spec = topology[type];
    const instances = spec?.instances ?? 1;
    if (!spec || instances === 0) continue;
    const tensorboard: PythonEntryPoint | undefined =
      type === "tensorboard" && options.tensorboardLogdir
        ? { module: "tensorboard.main", args: ["--logdir", options.tensorboardLogdir, "--bind_all"] }
        : undefined;
    services[type] = pythonService(env, {
      run: spec.run ?? tensorboard ?? options.run,
      resources: spec.resources ?? DEFAULT_RESOURCES,
      instances,
      ...(spec.maxRestarts !== undefined && { maxRestarts: spec.maxRestarts }),
      ...(spec.nodeLabel && { nodeLabel: spec.nodeLabel }),
      ...(options.editable && { editable: options.editable }),
      ...(options.editableIndex && { editableIndex: options.editableIndex }),
      ...(options.env && { env: options.env }),
      ...(options.files && { files: options.files }),
      ...(options.visibility && { visibility: options.visibility }),
      ...(options.krb5ccname && { krb5ccname: options.krb5ccname }),
    });
  }
  return services;
}

/** A skein ApplicationSpec running a TensorFlow topology (application name default `tensorflow`). */
export function tfApplicationSpec(
  env: PythonEnvDescription,
  topology: Topology,
  options: TfServicesOptions,
  application: Omit<ApplicationSpecOptions, "services"> = {},
): ApplicationSpec {
  return applicationSpec({
    ...application,
    name: application.name ?? "tensorflow",
    services: tfServices(env, topology, options),
  });
}
