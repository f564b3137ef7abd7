// Ctrl-C (SIGINT) and SIGTERM during a command that writes: the façade is asked to stop and clean up (abort
// multipart uploads, remove temporary objects and files), the command waits for it, a bounded time, and exits with
// the shell's code for the signal.

import { setMaxListeners } from "node:events";

type StopSignal = "SIGINT" | "SIGTERM";

/** 128 + the signal's number: what a shell reports for a process the signal ended. */
const exitCodes: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** How long the façade may take to clean up after a signal before the command exits anyway. */
const CLEANUP_GRACE_MS = 10_000;

/** The command stopped on a signal; `message` is the one line it prints. */
export class Interrupted extends Error {
  override readonly name = "Interrupted";

  constructor(
    readonly signal: StopSignal,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): number {
    return exitCodes[this.signal];
  }
}

let received: StopSignal | undefined;

/** The exit code of the signal that interrupted a command which still finished, if one did. */
export const exitCodeOfLateSignal = () => (received ? exitCodes[received] : undefined);

export interface InterruptibleOptions {
  /** What was left undone, for the line printed: `nothing was published at s3://team/envs/env.pex`. */
  undone: string;
  graceMs?: number;
}

/**
 * Runs `work` with a signal that the first SIGINT or SIGTERM aborts. If `work` then fails, the command fails with
 * `Interrupted` (one line: what was left undone); if it finishes anyway, its result stands and the exit code still
 * says the signal. Should cleanup outlast the grace time, or a second signal come, the process exits at once.
 */
export async function interruptible<T>(
  work: (signal: AbortSignal) => Promise<T>,
  options: InterruptibleOptions,
): Promise<T> {
  received = undefined;
  const controller = new AbortController();
  // Every request in flight (parts of an upload, their retries) listens to this one signal.
  setMaxListeners(0, controller.signal);
  let deadline: NodeJS.Timeout | undefined;
  const exitNow = (signal: StopSignal, line: string) => {
    process.stderr.write(`${line}\n`);
    process.exit(exitCodes[signal]);
  };
  const onSignal = (signal: StopSignal) => {
    if (received) return exitNow(signal, `interrupted (${signal}) again: exiting without cleaning up`);
    received = signal;
    // The default reason, an AbortError: what the storage layer and Node's APIs recognise as a cancellation.
    controller.abort();
    const graceMs = options.graceMs ?? CLEANUP_GRACE_MS;
    deadline = setTimeout(
      () =>
        exitNow(
          signal,
          `interrupted (${signal}): cleaning up took over ${graceMs / 1000} s; temporary files or objects may remain`,
        ),
      graceMs,
    );
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (!received) throw error;
    throw new Interrupted(received, `interrupted (${received}): ${options.undone}`, { cause: error });
  } finally {
    clearTimeout(deadline);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
}
