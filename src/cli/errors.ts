// The command line's failure kinds and their exit codes:
//   0 success · 1 a failed run (a run that threw, diverged, or could not write its output)
//   2 bad usage or a bad file (unknown option, JSON syntax error, invalid value)
//   130, 143, 129 stopped by SIGINT, SIGTERM, SIGHUP (signals.ts gives the code of each).
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** SIGINT's code: 128 + 2 (signals.ts has the others). */
export const EXIT_INTERRUPTED = 130;

/** A failure with a one-line (or few-line) message and an exit code; printed without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Extra lines printed after the message (e.g. one validation error per line). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Bad usage or a bad input file: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, EXIT_USAGE, details);
    this.name = "UsageError";
  }
}

/** A run that failed (threw, produced non-finite numbers, or could not write its output): exit code 1. */
export class RunFailure extends CliError {
  constructor(message: string, details: readonly string[] = [], readonly cause_?: unknown) {
    super(message, EXIT_FAILED, details);
    this.name = "RunFailure";
  }
}
