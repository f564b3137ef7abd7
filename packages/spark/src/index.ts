export type { SparkClusterManager, SparkDeployMode } from "./cluster-manager.js";
export { clusterManagerOf } from "./cluster-manager.js";
export type { SparkSubmitCommandOptions } from "./renderers.js";
export {
  toSparkDefaultsConf,
  toSparkJson,
  toSparkSessionBuilder,
  toSparkSubmitArgs,
  toSparkSubmitCommand,
} from "./renderers.js";
export type { ProcessEnv, SparkS3Options } from "./s3a-properties.js";
export { s3aProperties } from "./s3a-properties.js";
export type { SparkConfig, SparkOptions, SparkVersion } from "./spark-config.js";
export { hadoopFileSystemsProperty, sparkConfig } from "./spark-config.js";
