/** A name or option that no emitter can use; the message is one line: `<where>: <what>`. */
export class EnvUsageError extends Error {
  override readonly name = "EnvUsageError";
  readonly code = "INVALID_ARGUMENT";
  readonly where: string | undefined;
  /** The message without its `<where>: ` prefix, for callers that report `where` their own way. */
  readonly detail: string;

  constructor(detail: string, where?: string) {
    super(where ? `${where}: ${detail}` : detail);
    this.where = where;
    this.detail = detail;
  }
}

export const isEnvUsageError = (error: unknown): error is EnvUsageError => error instanceof EnvUsageError;
