// The work meter: the one place where work is counted. Routines record Bellman sweeps,
// linear solves and sampled environment steps as they happen, on the MDP's own counters
// and on a running total; a scoped reading (`meter`, `tally`) is the difference of the
// total across a call, so nested readings and readings of calls that throw need no
// bookkeeping of their own.

/** Work counters: Bellman sweeps, linear solves and sampled steps. */
export interface Work {
  sweeps: number;
  solves: number;
  sampledSteps: number;
}

/** Every routine's work since this module loaded, on every MDP (only ever grows). */
const total: Work = { sweeps: 0, solves: 0, sampledSteps: 0 };
/** > 0 inside `unmetered`: work is kept off the running total (not off the MDP's counters). */
let hidden = 0;

/** Zero work. */
export function noWork(): Work {
  return { sweeps: 0, solves: 0, sampledSteps: 0 };
}

/** Record `n` units of one kind of work on an MDP's counters and on the running total. Routines only. */
export function record(counters: Work, kind: keyof Work, n: number): void {
  counters[kind] += n;
  if (hidden === 0) total[kind] += n;
}

/** The running total at each open reading (three numbers per reading, innermost last). */
const opened: number[] = [];

/**
 * Open a reading of the meter; `closeReading(into)` adds the work done since to `into`.
 * Pair them with try/finally (the closure-free form of `tally`, for inner loops).
 */
export function openReading(): void {
  opened.push(total.sweeps, total.solves, total.sampledSteps);
}

/** Close the innermost open reading, adding the work done since it opened to `into`. */
export function closeReading(into: Work): void {
  const n0 = opened.pop()!, v0 = opened.pop()!, s0 = opened.pop()!;
  into.sweeps += total.sweeps - s0;
  into.solves += total.solves - v0;
  into.sampledSteps += total.sampledSteps - n0;
}

/** Run fn and add the work done inside it (also when it throws) to `into`; returns fn's value. */
export function tally<T>(into: Work, fn: () => T): T {
  openReading();
  try {
    return fn();
  } finally {
    closeReading(into);
  }
}

/** fn's value and the work (sweeps, solves, sampled steps, on any MDP) done inside the call. */
export function meter<T>(fn: () => T): { value: T; work: Work } {
  const work = noWork();
  const value = tally(work, fn);
  return { value, work };
}

/**
 * Run fn with its work kept off every reading of `meter`/`tally` (it still shows in the
 * MDPs' own counters): for private helper MDPs whose work is not the caller's to report.
 */
export function unmetered<T>(fn: () => T): T {
  hidden++;
  try {
    return fn();
  } finally {
    hidden--;
  }
}
