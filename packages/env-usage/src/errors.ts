/** A name or option that no emitter can use; the message is one line: `<where>: <what>`. */
export class EnvUsageError extends Error {
  override readonly name = "EnvUsageError";
  readonly code = "INVALID_ARGUMENT";
  readonly where: string | undefined;

  constructor(detail: string, where?: string) {
    super(where ? `${where}: ${detail}` : detail);
    this.where = where;
  }
}

export const isEnvUsageError = (error: unknown): error is EnvUsageError => error instanceof EnvUsageError;
