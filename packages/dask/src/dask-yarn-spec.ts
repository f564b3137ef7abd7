import type { EditableCode, PythonEnvDescription } from "@cluster-pack/env-usage";
import {
  type ApplicationSpec,
  applicationSpec,
  type FileVisibility,
  pythonService,
  type Resources,
  type Service,
} from "@cluster-pack/yarn";

/** dask-yarn's `remote` runs the scheduler in a container; `local`, in the process that starts the application. */
export type DaskYarnDeployMode = "remote" | "local";

export interface DaskYarnSpecOptions extends EditableCode {
  /** Default `dask`, as dask-yarn. */
  name?: string;
  queue?: string;
  user?: string;
  tags?: readonly string[];
  /** Default `remote`. */
  deployMode?: DaskYarnDeployMode;
  /** Workers started with the application (default 0, as dask-yarn: `cluster.scale(n)` adds them). */
  workers?: number;
  /** Per worker container (default 2 GiB, 1 vcore: dask-yarn's); the worker uses all of it. */
  workerResources?: Resources;
  /** The scheduler's container (default 2 GiB, 1 vcore). */
  schedulerResources?: Resources;
  /** Default -1: a failed worker is always replaced. */
  workerRestarts?: number;
  /** The workers' environment variables. */
  workerEnv?: Readonly<Record<string, string>>;
  /** More `dask-worker` flags (`--nthreads 4`, `--no-nanny`); they win over the container-derived ones. */
  workerArgs?: readonly string[];
  visibility?: FileVisibility;
  /** The launching user's `KRB5CCNAME`, shipped to the containers (see `@cluster-pack/yarn`). */
  krb5ccname?: string;
  /** File systems to get delegation tokens for; those the environment and the editable code live on are added. */
  fileSystems?: readonly string[];
  /**
   * Hadoop's `fs.defaultFS`: with it, the store's file system is named in `file_systems` whenever it is another one
   * (see `applicationSpec` of `@cluster-pack/yarn`).
   */
  defaultFileSystem?: string;
}

const DASK_YARN_RESOURCES: Resources = { memory: "2 GiB", vcores: 1 };

// The scheduler service is dask-yarn's own: it posts the scheduler's address in skein's key-value store, where
// dask-yarn's YarnCluster (and our workers) wait for it.
const SCHEDULER_MODULE = "dask_yarn.cli";

/**
 * The worker, as dask-yarn's (`dask_yarn.cli services worker`) but run in this interpreter: dask-yarn's starts the
 * worker as a subprocess of `sys.executable`, which is the host's Python when the environment is a zipapp or an
 * unpack layout, so the shipped packages would be lost. Threads and memory come from the container, its skein
 * name becomes the worker's name (dask-yarn retires workers by that name); later flags win.
 */
export const DASK_YARN_WORKER_CODE = `import os, runpy, sys
import skein
scheduler = skein.ApplicationClient.from_current().kv.wait("dask.scheduler").decode()
sys.argv = ["dask-worker", scheduler, "--name", os.environ["SKEIN_CONTAINER_ID"],
            "--nthreads", os.environ["SKEIN_RESOURCE_VCORES"],
            "--memory-limit", os.environ["SKEIN_RESOURCE_MEMORY"] + "MiB"] + sys.argv[1:]
runpy.run_module("distributed.cli.dask_worker", run_name="__main__", alter_sys=True)
`;

/**
 * A skein ApplicationSpec shaped as dask-yarn's: a `dask.scheduler` service (remote deploy mode) and a
 * `dask.worker` service, both running in the shipped environment with the editable code, for
 * `YarnCluster.from_specification(spec)`. The environment must hold `dask-yarn` (and with it `skein`), as
 * dask-yarn requires of the environments it ships.
 */
export function daskYarnSpec(env: PythonEnvDescription, options: DaskYarnSpecOptions = {}): ApplicationSpec {
  const shipped = {
    ...(options.editable && { editable: options.editable }),
    ...(options.editableIndex && { editableIndex: options.editableIndex }),
    ...(options.visibility && { visibility: options.visibility }),
    ...(options.krb5ccname && { krb5ccname: options.krb5ccname }),
  };
  const remote = (options.deployMode ?? "remote") === "remote";
  const services: Record<string, Service> = {};
  if (remote)
    services["dask.scheduler"] = pythonService(env, {
      ...shipped,
      run: { module: SCHEDULER_MODULE, args: ["services", "scheduler"] },
      resources: options.schedulerResources ?? DASK_YARN_RESOURCES,
      instances: 1,
      maxRestarts: 0,
    });
  services["dask.worker"] = pythonService(env, {
    ...shipped,
    run: { code: DASK_YARN_WORKER_CODE, args: options.workerArgs ?? [] },
    resources: options.workerResources ?? DASK_YARN_RESOURCES,
    instances: options.workers ?? 0,
    maxRestarts: options.workerRestarts ?? -1,
    ...(remote && { depends: ["dask.scheduler"] }),
    ...(options.workerEnv && { env: options.workerEnv }),
  });
  return applicationSpec({
    name: options.name ?? "dask",
    ...(options.queue && { queue: options.queue }),
    ...(options.user && { user: options.user }),
    ...(options.tags && { tags: options.tags }),
    ...(options.fileSystems && { fileSystems: options.fileSystems }),
    ...(options.defaultFileSystem !== undefined && { defaultFileSystem: options.defaultFileSystem }),
    services,
  });
}
