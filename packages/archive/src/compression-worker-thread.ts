import { Worker } from "node:worker_threads";

/**
 * Starts one compression worker from the built `compression-worker.js` beside this code. One-file builds replace
 * this module with one that starts the worker from inlined code.
 */
export function startCompressionWorker(): Worker {
  // No inherited execArgv: flags such as --input-type (for `node -e`) would make the worker fail to load.
  return new Worker(new URL("./compression-worker.js", import.meta.url), { execArgv: [] });
}
