import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import type { BatchResult, BatchTask } from "./compression-task.js";
import { startCompressionWorker } from "./compression-worker-thread.js";

type Done = Exclude<BatchResult, { error: unknown }>;

/** The default number of compression workers: one per core. */
export const defaultConcurrency = (): number => Math.max(1, availableParallelism());

/**
 * A fixed set of compression workers fed from a queue. Tasks may finish out of order; callers await each task's
 * own promise, so the archive is still written in entry order.
 */
export class CompressionPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: BatchTask[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (result: Done) => void; reject: (error: Error) => void }
  >();
  private readonly running = new Map<Worker, number>();
  private nextId = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = startCompressionWorker();
      worker.on("message", (result: BatchResult) => this.settle(worker, result));
      worker.on("error", (error) => this.fail(worker, error));
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  run(work: Omit<BatchTask, "id">): Promise<Done> {
    const task: BatchTask = { id: this.nextId++, ...work };
    return new Promise<Done>((resolve, reject) => {
      this.waiting.set(task.id, { resolve, reject });
      this.queue.push(task);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      const task = this.queue.shift() as BatchTask;
      this.running.set(worker, task.id);
      worker.postMessage(task);
    }
  }

  private settle(worker: Worker, result: BatchResult): void {
    this.running.delete(worker);
    this.idle.push(worker);
    const waiter = this.waiting.get(result.id);
    this.waiting.delete(result.id);
    if ("error" in result) {
      const error = Object.assign(new Error(result.error.message), { path: result.error.path });
      waiter?.reject(error);
    } else waiter?.resolve(result);
    this.dispatch();
  }

  private fail(worker: Worker, error: Error): void {
    const id = this.running.get(worker);
    this.running.delete(worker);
    if (id !== undefined) {
      this.waiting.get(id)?.reject(error);
      this.waiting.delete(id);
    }
  }
}
