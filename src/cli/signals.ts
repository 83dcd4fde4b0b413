// Stopping a run from outside: SIGINT (Ctrl-C), SIGTERM (kill, timeout, a batch scheduler's
// cancel) and SIGHUP (a closed terminal) all stop it cleanly: the worker finishes the current
// iteration, the history so far is written with status "interrupted", and the command exits
// with 128 + the signal's number (130, 143, 129). A second signal within REPEAT_WINDOW_MS of
// the first is the same stop: `timeout -s INT` and a terminal's Ctrl-C may deliver one
// signal twice (to the process, then to its group). A signal after that window quits at
// once, without writing.
import type { CliIO } from "./context";

/** What a stop signal interrupts: one experiment worker, or a pool of them (pool.ts). */
export interface Interruptible {
  /** Stop the running experiments after their current iteration, and start no more. */
  interrupt(): void;
  readonly interrupted: boolean;
}

export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The conventional exit status of a process stopped by the signal: 128 + its number. */
export const SIGNAL_EXIT: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Signals closer than this to the first are one stop, not a request to quit at once. */
export const REPEAT_WINDOW_MS = 1000;

/**
 * What a received signal means, given the first one: `stop` (the first), `repeat` (within
 * the window of the first: ignored) or `abort` (later: quit now). A plain state machine, so
 * that tests can drive it with their own clock.
 */
export class StopDecision {
  first: { signal: StopSignal; at: number } | undefined;

  constructor(private readonly windowMs = REPEAT_WINDOW_MS) {}

  receive(signal: StopSignal, at: number): "stop" | "repeat" | "abort" {
    if (!this.first) {
      this.first = { signal, at };
      return "stop";
    }
    return at - this.first.at < this.windowMs ? "repeat" : "abort";
  }

  /** The exit code of the stop: 128 + the first signal's number, or undefined when none came. */
  get exitCode(): number | undefined {
    return this.first ? SIGNAL_EXIT[this.first.signal] : undefined;
  }
}

export interface StopHandler {
  /** 128 + the number of the first signal received, or undefined when none came. */
  readonly exitCode: number | undefined;
  remove(): void;
}

/**
 * Listen for SIGINT, SIGTERM and SIGHUP while `worker` (or a pool of workers) runs: the first
 * interrupts it (the command then writes what it has and exits with `exitCode`), a repeat
 * within the window is ignored, a later one exits the process at once.
 */
export function onStopSignals(io: CliIO, worker: Interruptible, beforeMessage?: () => void): StopHandler {
  const decision = new StopDecision();
  const handler = (signal: StopSignal) => {
    const what = decision.receive(signal, performance.now());
    if (what === "stop") {
      worker.interrupt();
      beforeMessage?.();
      io.err(
        signal === "SIGINT"
          ? "\nbilevel-rl: interrupted (Ctrl-C): stopping after the current iteration and writing the history so far; Ctrl-C again to quit at once\n"
          : `\nbilevel-rl: ${signal} received: stopping after the current iteration and writing the history so far; a second signal quits at once\n`,
      );
    } else if (what === "abort") {
      io.err(`bilevel-rl: ${signal === "SIGINT" ? "interrupted twice" : `${signal} after ${decision.first!.signal}`}: exiting without writing\n`);
      process.exit(SIGNAL_EXIT[signal]);
    }
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return {
    get exitCode() {
      return decision.exitCode;
    },
    remove: () => {
      for (const s of STOP_SIGNALS) process.off(s, handler);
    },
  };
}
