// The shape every algorithm shares: `init(problem, options) → state`,
// `step(problem, state) → state`, and `run(problem, options)`, a driver with an
// `onIteration` callback, an AbortSignal and a history. States are plain data (numbers
// and number arrays) so JSON.stringify/parse resumes the same trajectory.
import { DomainError } from "../../errors";
import * as check from "../../validate";
import { phi } from "../hypergradient";
import type { BilevelProblem, Counters } from "../problem";
import type { AlgorithmInfo } from "../../util/params";
import { closeReading, noWork, openReading, tally } from "../../wasm/routines/index";
import { checkState, tagState, type StateTag } from "./stateSchema";

export type { StateTag } from "./stateSchema";

/** One row of a run's history. */
export interface HistoryRecord {
  /** Outer iteration index k (the record describes x_k before the step). */
  k: number;
  /** f(x_k, π_k) with the algorithm's current lower policy. */
  f: number;
  /** ‖ĥ_k‖₂, the norm of the step direction actually used. */
  hnorm: number;
  /** The lower-level residual the algorithm sees (‖G(V) − V‖∞ or its analogue). */
  lowerResidual: number;
  /** The true hyper-objective φ(x_k), when recorded (costs one tight lower solve). */
  phi?: number;
  /** Penalty value, for penalty methods. */
  penalty?: number;
  /** The method's convergence measure at x_k when it is not ‖ĥ_k‖ (see `StepInfo.measure`). */
  measure?: number;
  /** x_k, when `record.x` is set. */
  x?: number[];
}

/** What `run` records in the history besides the default columns. */
export interface RecordOptions {
  /** Record φ(x_k) every this many iterations (0 = never; default 0). */
  phiEvery?: number;
  /** Record x_k in each history row (default false). */
  x?: boolean;
}

/**
 * Why a run ended (docs/math.md#stopping):
 * - `converged`: the method's convergence measure fell to `stopTol` or below;
 * - `max-iterations`: all `iterations` were done;
 * - `diverged`: a non-finite value, or f or ‖x‖ grew past the divergence bound;
 * - `interrupted`: the signal aborted or `onIteration` returned false.
 */
export type RunStatus = "converged" | "max-iterations" | "diverged" | "interrupted";

/** Reference values of the divergence test: f and ‖x‖ at the run's first iterate. */
export interface RunStart {
  /** f(x_0, π_0), the first history row's f. */
  f: number;
  /** ‖x_0‖₂. */
  xnorm: number;
}

/** Default growth factor of the divergence test (docs/math.md#stopping). */
export const DIVERGENCE_FACTOR = 1e4;

/** Options every algorithm's `run` takes besides its own. */
export interface RunOptionsBase {
  /** The most outer iterations K to do. */
  iterations: number;
  /**
   * Stop with status 'converged' once the method's convergence measure at x_k (its
   * `measure`, else ‖ĥ_k‖; each module's doc comment names it) is ≤ stopTol. Default 0: never.
   */
  stopTol?: number;
  /**
   * Divergence test: stop with status 'diverged' when f_k, ĥ_k or x_k is not finite, or
   * |f_k − f_0| > factor·(1 + |f_0|), or ‖x_k‖ > factor·(1 + ‖x_0‖). Default factor 1e4;
   * `start` gives f_0 and ‖x_0‖ when resuming (default: this run's first iterate).
   */
  divergence?: { factor?: number; start?: RunStart };
  /** Called after each iteration; return false to stop early (status 'interrupted'). */
  onIteration?: (record: HistoryRecord, k: number) => void | boolean;
  /** Aborting stops the run before the next iteration (status 'interrupted'). */
  signal?: AbortSignal;
  record?: RecordOptions;
}

/** What an algorithm's `run` returns. */
export interface RunResult<S> {
  /** The state after the last step: `state.x` is the live iterate x_K, the one to resume from. */
  state: S;
  /**
   * The run's result: x_K, except for a method whose iterate can be a trial point not yet
   * tested (its stepper's `result`, e.g. M-SoBiRL's adaptive rule): there, the last point that
   * passed the method's acceptance test (docs/math.md#stopping).
   */
  x: Float64Array;
  history: HistoryRecord[];
  /** Why the run ended. */
  status: RunStatus;
  /** One line on why it ended, for 'converged' and 'diverged' (naming the iteration and, when diverged, the hyperparameter most likely at fault). */
  message?: string;
  /** True when stopped by the signal or by onIteration returning false (status 'interrupted'). */
  stopped: boolean;
  /** The divergence test's reference values (pass them back as `divergence.start` to resume). */
  start?: RunStart;
  /** Work done during the run. */
  counters: Counters;
  timeMs: number;
}

/** Per-step output an algorithm hands to the driver. */
export interface StepInfo {
  f: number;
  hnorm: number;
  lowerResidual: number;
  penalty?: number;
  /**
   * The method's convergence measure at x_k when ‖ĥ_k‖ is not the right one (e.g. the
   * projected-gradient mapping ‖x_k − x_{k+1}‖/β_k under a projection). `stopTol` compares
   * it; the history records it.
   */
  measure?: number;
}

/**
 * An algorithm module: `init` makes the state, `step` advances it one outer iteration and
 * `run` drives K iterations with a history.
 */
export interface Algorithm<O, S extends { k: number; x: number[] }> {
  // init writes the algorithm's name and the state format in front (StateTag); step and
  // run({ state }) check a state against the algorithm's schema (stateSchema.ts) first
  readonly name: string;
  /** Its parameters (type, default, range, description): the library's algorithms all carry it. */
  readonly info?: AlgorithmInfo;
  /** The state before the first iteration (x_0 and the algorithm's warm starts). */
  init(problem: BilevelProblem, options?: O): S;
  /** One outer iteration: a new state (the given one is not modified). */
  step(problem: BilevelProblem, state: S): S;
  /** `options.iterations` steps from `options.state` (default `init`), with a history row per iteration. */
  run(problem: BilevelProblem, options: O & RunOptionsBase & { state?: S }): RunResult<S>;
}

/**
 * A step loop that keeps its working state in typed arrays between steps (no conversion
 * to and from the plain-data state, no allocation per step): `advance()` performs exactly
 * the arithmetic of one `step`, `state()` writes the plain-data state back out.
 */
export interface Stepper<S> {
  /** k of the current iterate. */
  readonly k: number;
  /** x_k, live (changed by advance). */
  readonly x: Float64Array;
  /** One step in place; the returned record is reused by the next call. */
  advance(): StepInfo;
  /** The plain-data state after the steps so far (the input state when there were none). */
  state(): S;
  /**
   * The point a run reports (`RunResult.x`), for a method whose x_k can be a trial point that
   * its acceptance test has not passed yet: the last accepted point (a copy). Absent: x_k is
   * the result (every step of the method ends on an accepted point, or there is no test).
   */
  result?(): Float64Array;
}

/** An algorithm with its parameter specification; `name` is `info.name`. */
export type DescribedAlgorithm<O, S extends { k: number; x: number[] }, N extends string = string> = Algorithm<O, S> & {
  readonly name: N;
  readonly info: AlgorithmInfo & { name: N };
};

/** Build an algorithm object from its specification, init and a step that also reports StepInfo. */
export function algorithm<O, S extends StateTag & { k: number; x: number[]; last?: StepInfo }, N extends string = string>(
  info: AlgorithmInfo & { name: N },
  init: (problem: BilevelProblem, options: O) => Omit<S, keyof StateTag>,
  step: (problem: BilevelProblem, state: S) => S,
): DescribedAlgorithm<O, S, N> {
  return steppedAlgorithm(info, init, (problem, state) => new PlainStepper(problem, state, step), step);
}

/**
 * Build an algorithm object from init and a stepper; `step` is one `advance()` of a fresh
 * stepper unless given. `run` drives one stepper for the whole run.
 */
export function steppedAlgorithm<O, S extends StateTag & { k: number; x: number[]; last?: StepInfo }, N extends string = string>(
  info: AlgorithmInfo & { name: N },
  init: (problem: BilevelProblem, options: O) => Omit<S, keyof StateTag>,
  stepper: (problem: BilevelProblem, state: S) => Stepper<S>,
  step: (problem: BilevelProblem, state: S) => S = (problem, state) => {
    const st = stepper(problem, state);
    st.advance();
    return st.state();
  },
): DescribedAlgorithm<O, S, N> {
  const name = info.name;
  const spec = info;
  const initTagged = (problem: BilevelProblem, options: O): S => tagState(name, init(problem, options)) as S;
  return {
    name,
    info,
    init: (problem, options) => initTagged(problem, (options ?? {}) as O),
    step: (problem, state) => step(problem, checkState(name, problem, state)),
    run(problem, options) {
      if (typeof options !== "object" || options === null) throw new DomainError("options", "must be an object with at least { iterations }", options);
      const K = check.positiveInt("iterations", options.iterations);
      const rec = options.record ?? {};
      const phiEvery = rec.phiEvery === undefined ? 0 : check.nonNegative("record.phiEvery", rec.phiEvery);
      const stopTol = options.stopTol === undefined ? 0 : check.nonNegative("stopTol", options.stopTol);
      const factor = options.divergence?.factor === undefined ? DIVERGENCE_FACTOR : check.finiteNumber("divergence.factor", options.divergence.factor);
      if (!(factor > 0)) throw new DomainError("divergence.factor", "must be > 0", factor);
      if (options.divergence?.start !== undefined) {
        const st = options.divergence.start;
        if (typeof st !== "object" || st === null) throw new DomainError("divergence.start", "must be { f, xnorm } (a RunResult's start)", st);
        check.finiteNumber("divergence.start.f", st.f);
        check.nonNegative("divergence.start.xnorm", st.xnorm);
      }
      // the run's work: init and the steps, not the φ diagnostics in between
      const counters = noWork();
      const t0 = now();
      const it = tally(counters, () => stepper(problem, options.state === undefined ? initTagged(problem, options) : checkState(name, problem, options.state)));
      if (!Number.isSafeInteger(it.k + K)) throw new DomainError("iterations", `must keep k + iterations a safe integer (k = ${it.k})`, K);
      const history: HistoryRecord[] = [];
      let status: RunStatus = "max-iterations";
      let message: string | undefined;
      let start = options.divergence?.start;
      const end = it.k + K;
      const keepX = phiEvery > 0 || rec.x === true;
      while (it.k < end) {
        if (options.signal?.aborted) { status = "interrupted"; break; }
        const k = it.k;
        const xk = keepX ? Float64Array.from(it.x) : undefined;
        if (start === undefined) start = { f: NaN, xnorm: norm2(it.x) };
        let info: StepInfo;
        openReading();
        try {
          info = it.advance();
        } finally {
          closeReading(counters);
        }
        if (Number.isNaN(start.f)) start.f = info.f;
        const row: HistoryRecord = { k, f: info.f, hnorm: info.hnorm, lowerResidual: info.lowerResidual };
        if (info.penalty !== undefined) row.penalty = info.penalty;
        if (info.measure !== undefined) row.measure = info.measure;
        const bad = divergenceOf(info, it.x, start, factor);
        if (phiEvery > 0 && !bad && (k % phiEvery === 0 || it.k === end)) {
          row.phi = phi(problem, xk!, { tol: 1e-10 }).value; // a diagnostic: not the algorithm's work
        }
        if (rec.x) row.x = Array.from(xk!);
        history.push(row);
        if (bad) {
          status = "diverged";
          message = `diverged at iteration k = ${k}: ${bad}; ${blame(spec, it.state() as unknown as Record<string, unknown>)}`;
          break;
        }
        const measure = info.measure ?? info.hnorm;
        if (stopTol > 0 && measure <= stopTol) {
          status = "converged";
          message = `converged at iteration k = ${k}: ${info.measure === undefined ? "‖ĥ‖" : "the convergence measure"} = ${measure} ≤ stopTol = ${stopTol}`;
          break;
        }
        if (options.onIteration && options.onIteration(row, k) === false) { status = "interrupted"; break; }
      }
      const state = it.state();
      // the result: the last accepted point when x_K may be an untested trial (docs/math.md#stopping)
      const x = it.result ? it.result() : Float64Array.from(state.x);
      if (status !== "diverged") problem.moveTo(Float64Array.from(x)); // leave the MDP at P_x of the result
      const result: RunResult<S> = { state, x, history, status, stopped: status === "interrupted", counters, timeMs: now() - t0 };
      if (message !== undefined) result.message = message;
      if (start !== undefined && !Number.isNaN(start.f)) result.start = start;
      return result;
    },
  };
}

/** Why step k diverged (docs/math.md#stopping), or undefined: a non-finite f, ĥ, measure or x_{k+1}, or growth of f or ‖x‖ past the bound. */
function divergenceOf(info: StepInfo, x: Float64Array, start: RunStart, factor: number): string | undefined {
  if (!Number.isFinite(info.f)) return `f = ${info.f}`;
  if (!Number.isFinite(info.hnorm)) return `‖ĥ‖ = ${info.hnorm}`;
  if (info.measure !== undefined && !Number.isFinite(info.measure)) return `the convergence measure is ${info.measure}`;
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return `x[${i}] = ${x[i]} after the step`;
  if (Math.abs(info.f - start.f) > factor * (1 + Math.abs(start.f))) return `f = ${info.f} moved more than ${factor}·(1 + |f_0|) from f_0 = ${start.f}`;
  const xn = norm2(x);
  if (xn > factor * (1 + start.xnorm)) return `‖x‖ = ${xn} grew past ${factor}·(1 + ‖x_0‖) (‖x_0‖ = ${start.xnorm})`;
  return undefined;
}

/** The hyperparameter most likely at fault when a run diverges: the algorithm's step parameter and its value. */
function blame(info: AlgorithmInfo, state: Record<string, unknown>): string {
  const p = info.stepParam;
  if (p === undefined) return "the upper step size is the likely cause";
  const v = state[p];
  return `the step '${p}'${typeof v === "number" ? ` (= ${v})` : ""} is the likely cause: use a smaller one, or leave it unset for the default step rule`;
}

/** The stepper of an algorithm given by its plain-state step. */
class PlainStepper<S extends { k: number; x: number[]; last?: StepInfo }> implements Stepper<S> {
  constructor(
    private readonly problem: BilevelProblem,
    private st: S,
    private readonly step: (problem: BilevelProblem, state: S) => S,
  ) {}

  get k(): number {
    return this.st.k;
  }

  get x(): Float64Array {
    return Float64Array.from(this.st.x);
  }

  advance(): StepInfo {
    this.st = this.step(this.problem, this.st);
    return this.st.last!;
  }

  state(): S {
    return this.st;
  }
}

export function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s < Infinity && (s > 1e-290 || s === 0)) return Math.sqrt(s);
  // the squares overflowed or underflowed (|v_i| beyond ~1e154 or below ~1e-145): scale by max|v_i|
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  if (!(m < Infinity)) return m; // NaN or ±∞ entries
  let t = 0;
  for (let i = 0; i < v.length; i++) t += (v[i] / m) * (v[i] / m);
  return m * Math.sqrt(t);
}

/** Positive finite step size option. */
export function stepSize(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  const x = check.finiteNumber(name, v);
  if (x <= 0) throw new DomainError(name, "must be > 0", v);
  return x;
}

/** x_0 from options (validated) or zeros. */
export function startX(problem: BilevelProblem, x0: ArrayLike<number> | undefined): number[] {
  return x0 === undefined ? new Array(problem.n).fill(0) : Array.from(problem.checkX(x0));
}

/** Projection of x after each upper step: none, or onto x ≥ 0 (e.g. incentives). */
export type XProjection = "none" | "nonnegative";

export function parseProjection(v: unknown): XProjection {
  const p = v ?? "none";
  if (p !== "none" && p !== "nonnegative") throw new DomainError("project", "must be 'none' or 'nonnegative'", v);
  return p;
}

/** Project x in place. */
export function projectX(x: Float64Array | number[], project: XProjection): void {
  if (project === "nonnegative") for (let k = 0; k < x.length; k++) if (x[k] < 0) x[k] = 0;
}
