/** Exit codes and the error a command throws for bad input (printed as one line, no stack trace). */

export const EXIT = {
  /** The run completed, every test passed, every document is valid. */
  OK: 0,
  /** The run FAILED or was CANCELLED, a test failed, a document has errors. */
  FAILED: 1,
  /** Bad input or usage: a missing file, invalid JSON, an invalid document, a bad flag. */
  USAGE: 2,
  /** `weft runs wait` timed out: the run is still running. */
  PENDING: 3,
  /** A second Ctrl-C: exited at once. */
  INTERRUPTED: 130,
} as const;

/** Bad input or usage. `main` prints `weft: <message>` (and `lines` under it) and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /** Extra lines printed under the message (problems of a document, …). */
  readonly lines: readonly string[];

  constructor(
    message: string,
    options: { exitCode?: number; lines?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT.USAGE;
    this.lines = options.lines ?? [];
  }
}
