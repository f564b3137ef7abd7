import {
  basenameOf,
  type EditableZip,
  EnvUsageError,
  fileSystemsToName,
  mergeCommaList,
  type PythonEnvDescription,
  splitCommaList,
  toHadoopUri,
} from "@cluster-pack/env-usage";
import {
  checkDeployMode,
  clusterManagerOf,
  type SparkClusterManager,
  type SparkDeployMode,
} from "./cluster-manager.js";
import { type ProcessEnv, type SparkS3Options, s3aProperties } from "./s3a-properties.js";

export interface SparkOptions {
  /** As `spark-submit --master`: `yarn`, `k8s://https://…`, `spark://host:7077`, `local[*]`. Default: the
   * `spark.master` of `properties`, else `yarn`. */
  master?: string;
  /** Default: the `spark.submit.deployMode` of `properties`, else `client`. */
  deployMode?: SparkDeployMode;
  /** Code under development, put on the executors' `sys.path` through `spark.submit.pyFiles`. */
  editable?: readonly EditableZip[];
  /**
   * The `editable_packages_index` beside the editable zips, shipped with them as a file: a job launched from inside
   * the job reads it to ship the same code again.
   */
  editableIndex?: string;
  /**
   * The driver's Python where the driver runs outside the cluster (client mode, local mode): a local
   * interpreter with the same packages, typically the one the environment was packed from. Default: the
   * `spark.pyspark.driver.python` of `properties`, else `python3`.
   */
  driverPython?: string;
  /** The properties the job already has: comma lists are extended, never replaced. */
  properties?: Readonly<Record<string, string>>;
  /** Used when the environment or the editable code is on S3. */
  s3?: SparkS3Options;
  /** Where AWS defaults (`AWS_ENDPOINT_URL_S3`, `AWS_REGION`, …) are read. Default: `process.env`. */
  processEnv?: ProcessEnv;
  /**
   * Hadoop's `fs.defaultFS`. When given, the file systems the environment and the editable code live on, other than
   * this one (and other than `file:`), are named in the property that gets the job delegation tokens for them on a
   * Kerberized cluster (`hadoopFileSystemsProperty`). Without it nothing is added.
   */
  defaultFileSystem?: string;
  /** The Spark major version, which names that property (default 3). */
  sparkVersion?: SparkVersion;
}

export type SparkVersion = 2 | 3;

/** What makes a Spark job use a shipped environment: plain data, rendered by the `to…` functions. */
export interface SparkConfig {
  master: string;
  clusterManager: SparkClusterManager;
  deployMode: SparkDeployMode;
  /** Every property of the job, the given ones included (`spark.master` and `spark.submit.deployMode` too). */
  properties: Record<string, string>;
  /** For the process that starts the driver: PySpark reads `PYSPARK_PYTHON` when a SparkContext starts. */
  environmentVariables: Record<string, string>;
}

// Inside the container's working directory: a zipapp's extraction must not depend on a writable home directory.
const PEX_ROOT = "./.pex";
const DEFAULT_DRIVER_PYTHON = "python3";

/** The name a resource is localized under: the `#alias` when there is one, else the file's name. */
const linkNameOf = (uri: string) => uri.split("#")[1] ?? basenameOf(uri);

const SPARK_3_FILE_SYSTEMS = "spark.kerberos.access.hadoopFileSystems";
const SPARK_2_FILE_SYSTEMS = "spark.yarn.access.hadoopFileSystems";

/**
 * The property listing the Hadoop file systems, besides the default one, that a job gets delegation tokens for:
 * `spark.kerberos.access.hadoopFileSystems` (Spark 3, YARN and Kubernetes), `spark.yarn.access.hadoopFileSystems`
 * (Spark 2, YARN only). Undefined where the cluster manager gets no Hadoop delegation tokens.
 */
export function hadoopFileSystemsProperty(
  clusterManager: SparkClusterManager,
  sparkVersion: SparkVersion = 3,
): string | undefined {
  if (sparkVersion === 2) return clusterManager === "yarn" ? SPARK_2_FILE_SYSTEMS : undefined;
  return clusterManager === "yarn" || clusterManager === "kubernetes" ? SPARK_3_FILE_SYSTEMS : undefined;
}

/**
 * The Spark properties and environment variables that make the driver and executors run `env`'s Python, with the
 * editable code on their path, for one cluster manager and deploy mode.
 *
 * - The environment is shipped as YARN's `spark.yarn.dist.files`/`archives`, elsewhere `spark.files`/`archives`
 *   (Spark ≥ 3.1): a zipapp as a file (Spark must not unpack it), an unpack layout or venv archive as an archive
 *   under its alias.
 * - `spark.pyspark.python` is the container path. `spark.pyspark.driver.python` is the container path too in
 *   cluster mode (the driver runs in a container) and the local `driverPython` in client mode. Nothing sets
 *   `PYSPARK_DRIVER_PYTHON`: YARN copies it from the launching shell into the driver's container.
 * - A zipapp extracts into `PEX_ROOT=./.pex` inside each container, executors and cluster-mode driver alike.
 * - `s3://` becomes `s3a://`, with the `spark.hadoop.fs.s3a.*` settings S3A needs.
 * - On YARN and Kubernetes, with `defaultFileSystem`, the file systems the environment and the editable code live
 *   on other than the default one are added to `hadoopFileSystemsProperty`, after the ones the job already lists.
 * - Local mode runs everything here: driver and workers use `driverPython`, nothing is shipped.
 */
export function sparkConfig(env: PythonEnvDescription, options: SparkOptions = {}): SparkConfig {
  const given = options.properties ?? {};
  const master = options.master ?? given["spark.master"] ?? "yarn";
  const clusterManager = clusterManagerOf(master);
  const deployMode = options.deployMode ?? given["spark.submit.deployMode"] ?? "client";
  checkDeployMode(deployMode, clusterManager);
  const driverPython = options.driverPython ?? given["spark.pyspark.driver.python"] ?? DEFAULT_DRIVER_PYTHON;

  const properties: Record<string, string> = { ...given };
  const appendTo = (key: string, entries: readonly string[]) => {
    properties[key] = mergeCommaList(properties[key], entries);
  };
  properties["spark.master"] = master;
  properties["spark.submit.deployMode"] = deployMode;

  if (clusterManager === "local") {
    properties["spark.pyspark.python"] = driverPython;
    properties["spark.pyspark.driver.python"] = driverPython;
    return {
      master,
      clusterManager,
      deployMode,
      properties,
      environmentVariables: { PYSPARK_PYTHON: driverPython },
    };
  }

  const onYarn = clusterManager === "yarn";
  const archive = toHadoopUri(env.pathToArchive);
  const shipped =
    env.mustUnpack || basenameOf(archive) !== env.destPath ? `${archive}#${env.destPath}` : archive;
  const editableZips = (options.editable ?? []).map((editable) => toHadoopUri(editable.uri));
  checkLinkNames(shipped, editableZips);

  if (env.mustUnpack) appendTo(onYarn ? "spark.yarn.dist.archives" : "spark.archives", [shipped]);
  else appendTo(onYarn ? "spark.yarn.dist.files" : "spark.files", [shipped]);
  if (editableZips.length > 0) {
    appendTo("spark.submit.pyFiles", editableZips);
    if (options.editableIndex)
      appendTo(onYarn ? "spark.yarn.dist.files" : "spark.files", [toHadoopUri(options.editableIndex)]);
  }

  const fileSystemsKey = hadoopFileSystemsProperty(clusterManager, options.sparkVersion);
  if (fileSystemsKey && options.defaultFileSystem !== undefined) {
    // Either name may already list them: Spark 3 still reads the Spark 2 one.
    const listed = [SPARK_3_FILE_SYSTEMS, SPARK_2_FILE_SYSTEMS].flatMap((key) => splitCommaList(given[key]));
    const named = fileSystemsToName([archive, ...editableZips], options.defaultFileSystem, listed);
    if (named.length > 0) appendTo(fileSystemsKey, named);
  }

  const python = env.interpreterCmd;
  properties["spark.pyspark.python"] = python;
  properties["spark.pyspark.driver.python"] = deployMode === "cluster" ? python : driverPython;
  if (deployMode === "cluster" && onYarn) properties["spark.yarn.appMasterEnv.PYSPARK_PYTHON"] = python;

  if (!env.mustUnpack) {
    properties["spark.executorEnv.PEX_ROOT"] ??= PEX_ROOT;
    if (deployMode === "cluster") {
      const driverEnv = onYarn ? "spark.yarn.appMasterEnv" : "spark.kubernetes.driverEnv";
      properties[`${driverEnv}.PEX_ROOT`] ??= PEX_ROOT;
    }
  }

  // toHadoopUri writes every S3 scheme, whatever its case, as a lower-case s3a://.
  if ([archive, ...editableZips].some((uri) => uri.startsWith("s3a://")))
    Object.assign(properties, s3aProperties(options.s3 ?? {}, options.processEnv ?? process.env, given));

  return { master, clusterManager, deployMode, properties, environmentVariables: { PYSPARK_PYTHON: python } };
}

/**
 * Two resources localized under one name would overwrite each other in the container. The error says which
 * arguments clash: `env` when the environment archive is one of the two, else `editable`.
 */
function checkLinkNames(shipped: string, editableZips: readonly string[]) {
  const byName = new Map<string, string>([[linkNameOf(shipped), shipped]]);
  for (const uri of editableZips) {
    const name = linkNameOf(uri);
    const other = byName.get(name);
    if (other !== undefined)
      throw new EnvUsageError(
        `${other} and ${uri} would both be localized as "${name}" in the container; rename one`,
        other === shipped ? "env" : "editable",
      );
    byName.set(name, uri);
  }
}
