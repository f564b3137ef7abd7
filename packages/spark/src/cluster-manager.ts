import { EnvUsageError } from "@cluster-pack/env-usage";

/** Where executors run: each ships files and sets the driver's environment its own way. */
export type SparkClusterManager = "yarn" | "kubernetes" | "standalone" | "local";

/** `client`: the driver runs where the job is launched; `cluster`: in a container of the cluster. */
export type SparkDeployMode = "client" | "cluster";

const LOCAL_MASTER = /^local(\[(\*|\d+)(,\d+)?\])?$/;

/** The cluster manager a master URL names, as `spark-submit --master` reads it. */
export function clusterManagerOf(master: string): SparkClusterManager {
  if (master === "yarn") return "yarn";
  if (/^k8s:\/\/\S+$/.test(master)) return "kubernetes";
  if (/^spark:\/\/\S+$/.test(master)) return "standalone";
  if (LOCAL_MASTER.test(master)) return "local";
  throw new EnvUsageError(
    `unsupported Spark master: use yarn, k8s://https://<api-server>:<port>, spark://<host>:<port> or local[*]`,
    `master "${master}"`,
  );
}

/** Checks a deploy mode against what the cluster manager supports for Python applications. */
export function checkDeployMode(
  deployMode: string,
  clusterManager: SparkClusterManager,
): asserts deployMode is SparkDeployMode {
  if (deployMode !== "client" && deployMode !== "cluster")
    throw new EnvUsageError(`deploy mode must be client or cluster`, `deployMode "${deployMode}"`);
  if (deployMode === "cluster" && clusterManager === "local")
    throw new EnvUsageError("local mode runs the driver here: use client mode", "deployMode cluster");
  // spark-submit refuses it: "Cluster deploy mode is currently not supported for python applications on
  // standalone clusters".
  if (deployMode === "cluster" && clusterManager === "standalone")
    throw new EnvUsageError(
      "Spark standalone runs Python applications in client mode only",
      "deployMode cluster",
    );
}
