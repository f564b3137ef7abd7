import { ClusterPackError } from "cluster-pack";

/** A mistake in how the command was called (flags, arguments, configuration): exit code 2. */
export class UsageError extends ClusterPackError<"INVALID_ARGUMENT"> {
  override readonly name = "UsageError";

  constructor(message: string, hint?: string) {
    super("INVALID_ARGUMENT", message, { hint });
  }
}
