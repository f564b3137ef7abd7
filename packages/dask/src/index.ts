export type { DaskConfig, DaskOptions, DaskProcess } from "./dask-config.js";
export { daskConfig, toDaskCommandLine } from "./dask-config.js";
export type { DaskYarnDeployMode, DaskYarnSpecOptions } from "./dask-yarn-spec.js";
export { DASK_YARN_WORKER_CODE, daskYarnSpec } from "./dask-yarn-spec.js";
