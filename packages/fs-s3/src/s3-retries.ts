import type { S3Client } from "@aws-sdk/client-s3";
import { StorageError } from "@cluster-pack/fs";
import { toStorageError } from "./errors.js";
import type { S3Settings } from "./s3-options.js";

/** What a command's input names: its object, and its part for UploadPart. */
interface ObjectInput {
  Bucket?: string;
  Key?: string;
  PartNumber?: number;
}

/**
 * Makes each retry of the SDK (5xx, throttling, resets, stalls) a `--verbose` line: what is retried, which attempt,
 * and why, as the error message would say it; and ends the retries once the policy's time budget is spent. The
 * middleware runs inside the SDK's retry loop, once per attempt; the lines name URIs and the endpoint without
 * credentials, never a header or a signature.
 */
export function boundRetries(client: S3Client, settings: S3Settings, toUri: (path: string) => string): void {
  const { log, policy } = settings;
  client.middlewareStack.add(
    (next, context) => {
      let attempt = 0;
      let lastFailure: unknown;
      const started = Date.now();
      return async (args) => {
        attempt += 1;
        if (attempt > 1) {
          const { Bucket = "", Key = "", PartNumber } = args.input as ObjectInput;
          const uri = toUri(Key ? `${Bucket}/${Key}` : Bucket);
          const operation = context.commandName?.replace(/Command$/, "") ?? "request";
          const part = PartNumber === undefined ? "" : ` (part ${PartNumber})`;
          const reason = toStorageError(lastFailure, {
            uri,
            bucket: Bucket,
            endpointLabel: settings.endpointLabel,
          }).detail;
          if (Date.now() - started > policy.retryBudgetMs) {
            // Without a cause, the SDK takes it for final and sends nothing more.
            const budget = policy.retryBudgetMs / 1000;
            throw new StorageError("TRANSIENT", `${reason} (gave up retrying after ${budget} s)`, { uri });
          }
          log?.(
            `retrying ${operation} ${uri}${part} (attempt ${attempt} of ${policy.maxAttempts}): ${reason}`,
          );
        }
        try {
          return await next(args);
        } catch (error) {
          lastFailure = error;
          throw error;
        }
      };
    },
    { step: "finalizeRequest", priority: "low", name: "clusterPackBoundRetries" },
  );
}
