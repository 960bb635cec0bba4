/** An error meant for the operator: one line, what is wrong and what to do, and an exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 4,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
