export type { ClusterTaskType, TaskAddresses, TfConfig, TfConfigOptions } from "./tf-config.js";
export { CLUSTER_TASK_TYPES, tfConfig, tfConfigs } from "./tf-config.js";
export type { TfServicesOptions } from "./tf-services.js";
export { tfApplicationSpec, tfServices } from "./tf-services.js";
export type { Strategy, TaskSpec, TaskType, Topology, TopologyOptions } from "./topology.js";
export {
  instancesOf,
  psStrategyTopology,
  singleServerTopology,
  strategyOf,
  TASK_TYPES,
  validateTopology,
} from "./topology.js";
