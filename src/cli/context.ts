// What every command receives: where to write (injectable for tests and examples/start.ts),
// whether --verbose was given, and the slot for its exit code.

/** Where the command writes; injectable for tests and for examples/start.ts. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (progress bar) or not (plain lines). */
  isTTY: boolean;
  columns?: number;
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  get isTTY() {
    return !!process.stdout.isTTY;
  },
  get columns() {
    return process.stdout.columns;
  },
};

export interface Ctx {
  io: CliIO;
  verbose: boolean;
  /** The code of the command that ran (set by its action). */
  code: number;
}
