import pRetry from "p-retry";
import { isAbort } from "./errors.js";

/**
 * How a network store bounds its waits and retries. Every adapter that talks to a server reads the same keys from
 * `StorageOptions.network`, so one setting (a CLI flag, a config key) covers every store.
 */
export interface NetworkPolicy {
  /** Give up connecting to a server after this long, in ms (default 10 s). */
  connectTimeoutMs?: number;
  /** Give up on a request when no byte moved for this long, in ms (default 120 s): a stalled transfer. */
  stallTimeoutMs?: number;
  /** Attempts per request, the first included (default 5); 1 turns retries off. */
  maxAttempts?: number;
  /** Stop retrying one request once this long has passed since its first attempt, in ms (default 5 min). */
  retryBudgetMs?: number;
}

export const DEFAULT_NETWORK_POLICY: Readonly<Required<NetworkPolicy>> = {
  connectTimeoutMs: 10_000,
  stallTimeoutMs: 120_000,
  maxAttempts: 5,
  retryBudgetMs: 300_000,
};

/** The policy with every default filled in. */
export function networkPolicyOf(policy: NetworkPolicy | undefined): Required<NetworkPolicy> {
  return { ...DEFAULT_NETWORK_POLICY, ...stripUndefined(policy ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A line for `--verbose` (never a secret: adapters log URIs without credentials and error details only). */
export type StorageLog = (message: string) => void;

export interface RetryOptions {
  policy: Required<NetworkPolicy>;
  /** Whether this failure may go away when the same request is sent again. */
  isRetriable: (error: unknown) => boolean;
  /** What is being done, for the retry line: `PUT s3://bucket/key (part 3)`. */
  what: string;
  log?: StorageLog | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the policy's attempts or time budget run out, waiting
 * between attempts with exponential backoff and jitter (0.5 s, 1 s, 2 s… capped at 15 s, each randomised up to
 * twice as long) so that many clients hit by one outage do not come back in step. Each retry is logged.
 */
export function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { policy } = options;
  return pRetry(attempt, {
    retries: Math.max(0, policy.maxAttempts - 1),
    factor: 2,
    minTimeout: 500,
    maxTimeout: 15_000,
    randomize: true,
    maxRetryTime: policy.retryBudgetMs,
    ...(options.signal && { signal: options.signal }),
    shouldRetry: (error) => !isAbort(error) && !options.signal?.aborted && options.isRetriable(error),
    onFailedAttempt: (error) => {
      if (error.retriesLeft > 0 && !isAbort(error) && options.isRetriable(error))
        options.log?.(
          `retrying ${options.what} (attempt ${error.attemptNumber + 1} of ${policy.maxAttempts}): ${oneLine(error.message)}`,
        );
    },
  });
}

function oneLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}
