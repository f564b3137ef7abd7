import { ClusterPackError } from "@cluster-pack/errors";

/** A name or option that no emitter can use; the message is one line: `<location>: <what>`. */
export class EnvUsageError extends ClusterPackError<"INVALID_ARGUMENT"> {
  override readonly name = "EnvUsageError";

  constructor(detail: string, location?: string) {
    super("INVALID_ARGUMENT", detail, { location });
  }
}

export const isEnvUsageError = (error: unknown): error is EnvUsageError => error instanceof EnvUsageError;
