// Replaces archive's compression-worker-thread.ts in the one-file build: the workers run from the worker's code,
// inlined at build time, as there is no compression-worker.js beside the one file.
import { Worker } from "node:worker_threads";
import workerSource from "compression-worker-source";

export function startCompressionWorker(): Worker {
  return new Worker(workerSource, { eval: true, execArgv: [] });
}
