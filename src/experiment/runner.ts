// Running an experiment: build the problem the document describes, run the algorithm, and
// return plain data whose JSON is byte-identical across runs and kernel builds (wall times go to
// the separate, non-enumerable `runInfo`). Also the lower solve and the hypergradient at the
// experiment's x_0, for the command line's `solve` and `hypergrad`.
// Every function here is synchronous and needs `await init()` to have completed.
import { DomainError, ShapeError } from "../errors";
import { TabularMDP } from "../mdp";
import { BilevelProblem, type PolicyObjective, type RewardModel } from "../bilevel/problem";
import { linearReward, policyL2, policyLinear, upperReturn } from "../bilevel/models";
import { preferenceBCE, trajectoryUpper } from "../bilevel/trajectory";
import { hypergradient, phi, type HypergradientMethod } from "../bilevel/hypergradient";
import { solveLower, type LowerSolver } from "../bilevel/lowerSolve";
import type { Algorithm, HistoryRecord, RunStart, RunStatus } from "../bilevel/algorithms/common";
import { ALGORITHM_LIST } from "../bilevel/algorithms/index";
import { contextual, sampledContexts, type ContextualProblem } from "../bilevel/contextual";
import { parlHypergradient } from "../bilevel/algorithms/parl";
import { phiSigmaGradient } from "../bilevel/algorithms/phiSigma";
import { e1 } from "../problems/e1";
import { garnet, gridworld } from "../problems/gridworld";
import { gridGoal, oneHotFeatures } from "../problems/gridGoal";
import { incentive } from "../problems/incentive";
import { gridIncentive } from "../problems/gridIncentive";
import { stackelberg } from "../problems/stackelberg";
import { rlhf } from "../problems/rlhf";
import { shaping, affineReward } from "../problems/shaping";
import { happyText } from "../problems/happyText";
import type { Backend } from "../wasm/module";
import { now } from "../bilevel/algorithms/common";
import { problemInfo } from "./registry";
import { validateExperiment } from "./validate";
import {
  ExperimentError,
  type AlgorithmName,
  type BuiltinProblemSpec,
  type CustomProblemSpec,
  type SingleProblemSpec,
  type Experiment,
  type ExperimentResult,
  type ProblemSummary,
  type RewardSpec,
  type RunInfo,
  type UpperSpec,
} from "./types";

type S = Record<string, unknown>;

const ALGORITHM_OBJECTS = Object.fromEntries(ALGORITHM_LIST.map((a) => [a.name, a])) as Record<AlgorithmName, (typeof ALGORITHM_LIST)[number]>;

/** Options of `buildExperiment`. */
export interface BuildOptions {
  /** Kernel build for the MDPs (default: the one chosen by the last `init()`). */
  backend?: Backend;
}

/** What `buildExperiment` returns: the problem an experiment describes and its x_0. */
export interface BuiltExperiment {
  /** The validated, normalised experiment. */
  experiment: Experiment;
  problem: BilevelProblem;
  summary: ProblemSummary;
  /** x_0 resolved ('problem' → the problem's own x_0, zeros for custom problems; a contextual problem's: its first context's). */
  x0: Float64Array;
  /** A contextual problem's contexts, blocks and φ by context (docs/math.md#contextual). */
  contextual?: ContextualProblem;
}

/** Options of `runExperiment`. */
export interface RunExperimentOptions extends BuildOptions {
  /** Called after each iteration with its history row, k and the total K; return false to stop (status 'interrupted'). */
  onIteration?: (row: HistoryRecord, k: number, total: number) => void | boolean;
  /** Aborting stops the run after the current iteration (status 'interrupted', history so far). */
  signal?: AbortSignal;
}

/** runExperiment's return: the result plus `runInfo` (non-enumerable: JSON.stringify and resultToJSON leave it out). */
export type ExperimentRun = ExperimentResult & { readonly runInfo: RunInfo };

// ---------------------------------------------------------------------------------------
// building

/** Strip "arg: " from a library error's message. */
function rule(e: ShapeError | DomainError): string {
  const m = e.message;
  return m.startsWith(`${e.argument}`) ? m.slice(m.indexOf(": ") + 2) : m;
}

/** Run fn; turn a library ShapeError/DomainError into an ExperimentError at `path(argument)`. */
function mapped<T>(fn: () => T, path: (argument: string) => string | undefined): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ShapeError || e instanceof DomainError) {
      const p = path(e.argument);
      if (p !== undefined) throw new ExperimentError([{ path: p, message: `${e.argument}: ${rule(e)}` }]);
    }
    throw e;
  }
}

const top = (argument: string) => argument.split(/[.[ ]/)[0];

function buildReward(spec: RewardSpec, S: number, A: number): RewardModel {
  const SA = S * A;
  if ("table" in spec || "state" in spec) {
    const isTable = "table" in spec;
    const offset = isTable ? spec.table.offset : (spec as { state: { offset?: number[] } }).state.offset;
    const n = isTable ? SA : S;
    let Phi;
    if (isTable) {
      const indptr = new Int32Array(SA + 1), indices = new Int32Array(SA);
      for (let i = 0; i < SA; i++) { indptr[i + 1] = i + 1; indices[i] = i; }
      Phi = { indptr, indices, values: new Float64Array(SA).fill(1) };
    } else Phi = oneHotFeatures(S, A);
    return offset ? affineReward(offset, Phi as never, n) : linearReward(Phi, n);
  }
  const { Phi, n, offset } = spec.linear;
  let F: Float64Array | { indptr: number[]; indices: number[]; values: number[] };
  if (Array.isArray(Phi)) F = Array.isArray(Phi[0]) ? Float64Array.from((Phi as number[][]).flat()) : Float64Array.from(Phi as number[]);
  else F = Phi;
  if (!offset) return linearReward(F, n);
  return affineReward(offset, F instanceof Float64Array ? F : (F as never), n);
}

function buildUpper(spec: UpperSpec, reward: RewardModel, S: number, A: number, defaultR?: Float64Array, base = "/problem"): PolicyObjective {
  if ("policyL2" in spec) return policyL2();
  if ("policyLinear" in spec) return policyLinear(spec.policyLinear.c, spec.policyLinear.lambda ?? 0);
  if ("upperReturn" in spec) {
    const u = spec.upperReturn;
    if (u.reward) {
      if (u.r) throw new ExperimentError([{ path: `${base}/upper/upperReturn/reward`, message: "expected either r (a fixed upper reward) or reward (an x-dependent one), got both" }]);
      const model = mapped(() => buildReward(u.reward!, S, A), () => `${base}/upper/upperReturn/reward/${Object.keys(u.reward!)[0]}`);
      if (model.dim !== reward.dim) throw new ExperimentError([{ path: `${base}/upper/upperReturn/reward`, message: `expected an upper reward of the lower reward's dimension n = ${reward.dim}, got n = ${model.dim}` }]);
      return upperReturn({ r: model, rho: u.rho, lambda: u.lambda, linear: u.linear });
    }
    const r = u.r ?? defaultR;
    if (!r) throw new ExperimentError([{ path: `${base}/upper/upperReturn/r`, message: "missing (required); expected S·A numbers" }]);
    return upperReturn({ r, rho: u.rho, lambda: u.lambda, linear: u.linear });
  }
  const p = spec.preference;
  return trajectoryUpper(preferenceBCE({ rTrue: p.rTrue, horizon: p.horizon, pairs: p.pairs, labels: p.labels, gammaU: p.gammaU, lambda: p.lambda }), reward);
}

function customMdp(mdp: CustomProblemSpec["mdp"], backend: Backend | undefined): TabularMDP {
  const { S, A, gamma, rho, terminal } = mdp;
  if (mdp.csr) return TabularMDP.sparse({ S, A, gamma, rho, terminal, backend, ...mdp.csr });
  const P = mdp.P!;
  if (Array.isArray(P[0])) return TabularMDP.fromNested(P as number[][][], { gamma, rho, terminal, backend });
  return TabularMDP.dense({ S, A, gamma, rho, terminal, backend, P: P as number[] });
}

function summaryOf(name: string, problem: BilevelProblem): ProblemSummary {
  return { name, S: problem.mdp.S, A: problem.mdp.A, n: problem.n, tau: problem.tau, gamma: problem.mdp.gamma };
}

/** Validate (throwing an ExperimentError) and normalise, or pass a normalised experiment through. */
function normalised(experiment: unknown): Experiment {
  const v = validateExperiment(experiment);
  if (!v.ok) throw new ExperimentError(v.errors);
  return v.experiment;
}

function buildBuiltin(spec: BuiltinProblemSpec, backend: Backend | undefined, base = "/problem"): { problem: BilevelProblem; x0?: Float64Array } {
  const info = problemInfo(spec.builtin)!;
  const params = { ...spec.params, backend } as S;
  const at = (argument: string) => {
    const t = top(argument);
    return info.params.some((p) => p.name === t) ? `${base}/params/${t}` : `${base}/params`;
  };
  return mapped(() => {
    switch (spec.builtin) {
      case "e1": return e1(params);
      case "gridGoal": return gridGoal(params);
      case "gridIncentive": return gridIncentive(params);
      case "incentive": return incentive(params);
      case "stackelberg": return stackelberg(params);
      case "rlhf": return rlhf(params);
      case "shaping": return shaping(params);
      case "happyText": return happyText(params);
      case "gridworld":
      case "garnet": {
        let mdp: TabularMDP, defaultR: Float64Array;
        if (spec.builtin === "garnet") {
          const g = garnet(params);
          mdp = g.mdp;
          defaultR = g.reward;
        } else {
          const g = gridworld(params);
          mdp = g.mdp;
          // the return of time spent in the 'G' cells, else in the last state
          defaultR = new Float64Array(g.S * g.A);
          const goals = g.goals.length > 0 ? Array.from(g.goals) : [g.S - 1];
          for (const s of goals) for (let a = 0; a < g.A; a++) defaultR[s * g.A + a] = 1;
        }
        const reward = mapped(() => buildReward(spec.reward!, mdp.S, mdp.A), (a) => `${base}/reward/${Object.keys(spec.reward!)[0]}${a === "Phi" || a === "offset" || a === "n" ? `/${a}` : ""}`);
        const upper = mapped(() => buildUpper(spec.upper!, reward, mdp.S, mdp.A, defaultR, base), () => `${base}/upper/${Object.keys(spec.upper!)[0]}`);
        return { problem: mapped(() => new BilevelProblem({ mdp, tau: spec.tau!, reward, upper }), () => base) };
      }
    }
  }, at);
}

/**
 * Build the problem an experiment describes and resolve its x_0. Validates first (throws an
 * ExperimentError with JSON pointers for invalid documents and for what only building can
 * reveal, such as an x0 of the wrong length for a built-in problem).
 */
export function buildExperiment(experiment: Experiment | unknown, options: BuildOptions = {}): BuiltExperiment {
  const exp = normalised(experiment);
  const backend = options.backend;
  let problem: BilevelProblem, own: Float64Array | undefined, name: string, ctx: ContextualProblem | undefined;
  if ("contexts" in exp.problem) {
    const spec = exp.problem;
    const built = spec.contexts.map((c, i) => buildSingle(c.problem, backend, `/problem/contexts/${i}/problem`));
    // contextual's errors name contexts[i].<part> or contexts.weight
    const at = (a: string) => {
      const m = /^contexts\[(\d+)\]\.?(\w*)/.exec(a);
      if (!m) return "/problem/contexts";
      return m[2] === "weight" ? `/problem/contexts/${m[1]}/weight` : `/problem/contexts/${m[1]}/problem`;
    };
    ctx = mapped(() => contextual(spec.contexts.map((c, i) => ({ problem: built[i].problem, weight: c.weight, name: c.name }))), at);
    problem = ctx.problem;
    own = built[0].x0;
    name = "contextual";
  } else {
    const built = buildSingle(exp.problem, backend, "/problem");
    ({ problem, name } = built);
    own = built.x0;
  }
  const n = problem.n;
  let x0: Float64Array;
  if (exp.x0 === "problem") x0 = own ? Float64Array.from(own) : new Float64Array(n);
  else {
    if (exp.x0.length !== n) throw new ExperimentError([{ path: "/x0", message: `expected n = ${n} numbers (the dimension of x for this problem), got an array of length ${exp.x0.length}` }]);
    x0 = Float64Array.from(exp.x0);
  }
  const summary = summaryOf(name, problem);
  if (ctx) summary.contexts = ctx.contexts.map((b) => ({ name: b.name, weight: b.weight, S: b.S, offset: b.offset }));
  return ctx ? { experiment: exp, problem, summary, x0, contextual: ctx } : { experiment: exp, problem, summary, x0 };
}

/** A built-in or custom problem, its own x_0 and its name; errors point under `base`. */
function buildSingle(spec: SingleProblemSpec, backend: Backend | undefined, base: string): { problem: BilevelProblem; x0?: Float64Array; name: string } {
  if ("builtin" in spec) {
    const built = buildBuiltin(spec, backend, base);
    return { problem: built.problem, x0: built.x0, name: spec.builtin };
  }
  const mdp = mapped(() => customMdp(spec.mdp, backend), (a) => `${base}/mdp${["rho", "P", "terminal"].includes(top(a)) ? `/${top(a) === "P" && spec.mdp.csr ? "csr" : top(a)}` : ""}`);
  const reward = mapped(() => buildReward(spec.reward, mdp.S, mdp.A), () => `${base}/reward/${Object.keys(spec.reward)[0]}`);
  const upper = mapped(() => buildUpper(spec.upper, reward, mdp.S, mdp.A, undefined, base), () => `${base}/upper/${Object.keys(spec.upper)[0]}`);
  return { problem: mapped(() => new BilevelProblem({ mdp, tau: spec.tau, reward, upper }), () => base), name: "custom" };
}

// ---------------------------------------------------------------------------------------
// running

/** A history row with its keys in a fixed order. */
function orderedRow(r: HistoryRecord): HistoryRecord {
  const o: HistoryRecord = { k: r.k, f: r.f, hnorm: r.hnorm, lowerResidual: r.lowerResidual };
  if (r.phi !== undefined) o.phi = r.phi;
  if (r.penalty !== undefined) o.penalty = r.penalty;
  if (r.measure !== undefined) o.measure = r.measure;
  if (r.x !== undefined) o.x = r.x.slice();
  return o;
}

/** How far `ExperimentSession.advance` goes: until onIteration returns false, the signal aborts or the run is complete. */
export interface AdvanceOptions {
  /** Called after each iteration with its history row, k and the total K; return false to stop. */
  onIteration?: (row: HistoryRecord, k: number, total: number) => void | boolean;
  /** Aborting stops after the current iteration. */
  signal?: AbortSignal;
}

/**
 * An experiment run that can stop between any two iterations and continue later, with the
 * same result, byte for byte, however it was sliced (runExperiment is one slice; the demo
 * page's worker drives one in time slices so that pause and resume work).
 */
export interface ExperimentSession {
  /** The validated, normalised experiment. */
  readonly experiment: Experiment;
  readonly summary: ProblemSummary;
  /** The problem being optimised (call nothing on it between slices: build another instance for pictures). */
  readonly problem: BilevelProblem;
  /** Iterations K of the experiment. */
  readonly total: number;
  /** Iterations done so far. */
  readonly done: number;
  /** The run has ended: all K iterations done, converged or diverged (an interrupted run is not finished). */
  readonly finished: boolean;
  /** The last advance was cut short by its signal or onIteration. */
  readonly stopped: boolean;
  /** Why the run ended so far: 'max-iterations', 'converged', 'diverged', or 'interrupted' while unfinished. */
  readonly status: RunStatus;
  /** Every history row so far. */
  readonly history: readonly HistoryRecord[];
  /** The current result (a copy): the last slice's `RunResult.x` (x_k, or the last accepted point of a method whose x_k can be an untested trial); x_0 before any step. */
  x(): Float64Array;
  /**
   * Run the remaining iterations until onIteration returns false or the signal aborts;
   * returns the new history rows. Throws an ExperimentError (JSON pointers) when the
   * algorithm rejects an option.
   */
  advance(options?: AdvanceOptions): HistoryRecord[];
  /** The result so far, with φ at the current x and the session's status. */
  result(): ExperimentRun;
  /** `resultToJSON(result())`. */
  resultJSON(): string;
}

/**
 * Build an experiment (validated and normalised first; throws an ExperimentError with JSON
 * pointers) and return its run, not started. Synchronous; needs `await init()`.
 *
 * How slices join up: the algorithm's own `run(problem, { state, iterations })` resumes a
 * trajectory from its plain-data state. Every slice asks for all the remaining iterations
 * (so the driver's "record φ at the last iteration" rule sees the true end) and is cut
 * short by its onIteration or signal; history rows, work counters and times add up.
 */
export function startExperiment(experiment: Experiment | unknown, options: BuildOptions = {}): ExperimentSession {
  const t0 = now();
  const built = buildExperiment(experiment, options);
  const { experiment: exp, problem, summary, x0 } = built;
  const { name, ...hyper } = exp.algorithm;
  const sample = "contexts" in exp.problem ? exp.problem.sample : undefined;
  // one sampled context per iteration: the algorithm's own step on context c_k (docs/math.md#contextual)
  const alg: Algorithm<any, any> = sample && built.contextual ? sampledContexts(ALGORITHM_OBJECTS[name] as Algorithm<any, any>, built.contextual, { seed: sample.seed }) : ALGORITHM_OBJECTS[name];
  const params = ALGORITHM_OBJECTS[name].info.params;
  const total = exp.iterations;
  const history: HistoryRecord[] = [];
  const counters = { sweeps: 0, solves: 0, sampledSteps: 0 };
  let state: { k: number; x: number[] } | undefined;
  let xResult: Float64Array | undefined; // the last slice's result (RunResult.x)
  let stopped = false;
  let ended: { status: RunStatus; message?: string } | undefined; // converged or diverged
  let start: RunStart | undefined; // the divergence test's reference, kept across slices
  let timeMs = 0;
  /** Where a library error thrown by the algorithm points in the document. */
  const at = (a: string) => {
    const t = top(a);
    if (params.some((p) => p.name === t)) return `/algorithm/${t}`;
    if (t === "tau") return "/problem/tau";
    if (t === "x") return "/x0";
    return undefined;
  };

  const session: ExperimentSession = {
    experiment: exp,
    summary,
    problem,
    total,
    get done() {
      return history.length;
    },
    get finished() {
      return ended !== undefined || history.length >= total;
    },
    get stopped() {
      return stopped;
    },
    get status(): RunStatus {
      return ended ? ended.status : history.length >= total ? "max-iterations" : "interrupted";
    },
    history,
    x() {
      return xResult ? Float64Array.from(xResult) : Float64Array.from(x0);
    },
    advance(o = {}) {
      if (session.finished) return [];
      const run = mapped(
        () =>
          alg.run(problem, {
            ...hyper,
            x0,
            iterations: total - history.length,
            stopTol: exp.stopTol,
            ...(start ? { divergence: { start } } : {}),
            record: { phiEvery: exp.record.phiEvery, x: exp.record.x },
            ...(state ? { state } : {}),
            signal: o.signal,
            onIteration: o.onIteration ? (row: HistoryRecord, k: number) => o.onIteration!(row, k, total) : undefined,
          }),
        at,
      );
      state = run.state;
      xResult = run.x;
      stopped = run.stopped;
      start ??= run.start;
      if (run.status === "converged" || run.status === "diverged") ended = run.message === undefined ? { status: run.status } : { status: run.status, message: run.message };
      timeMs += run.timeMs;
      history.push(...run.history);
      counters.sweeps += run.counters.sweeps;
      counters.solves += run.counters.solves;
      counters.sampledSteps += run.counters.sampledSteps;
      return run.history;
    },
    result() {
      const xK = session.x();
      const x = Array.from(xK);
      let phiFinal: number | undefined;
      if (ended?.status !== "diverged" && xK.every(Number.isFinite)) {
        try {
          phiFinal = phi(problem, xK, { tol: 1e-10 }).value; // after the slices: not in their counters
        } catch {
          phiFinal = undefined; // e.g. a trajectory objective built without exact enumeration
        }
      }
      const last = history[history.length - 1];
      const final: ExperimentResult["final"] = phiFinal !== undefined ? { x, phi: phiFinal, f: null, hnorm: null } : { x, f: null, hnorm: null };
      final.f = last ? last.f : null;
      final.hnorm = last ? last.hnorm : null;
      if (phiFinal !== undefined && built.contextual) {
        try {
          final.phiByContext = built.contextual.phiByContext(xK, { tol: 1e-10 }).byContext;
        } catch {
          // left out, like φ
        }
      }
      const result: ExperimentResult = {
        version: 1,
        experiment: exp,
        problem: summary,
        algorithm: name,
        seed: exp.seed,
        status: session.status,
        ...(ended?.message !== undefined ? { message: ended.message } : {}),
        iterations: history.length,
        history: history.map(orderedRow),
        final,
        counters: { ...counters },
      };
      const runInfo: RunInfo = { timeMs, totalMs: now() - t0, simd: problem.mdp.simd };
      Object.defineProperty(result, "runInfo", { value: runInfo, enumerable: false });
      return result as ExperimentRun;
    },
    resultJSON() {
      return resultToJSON(session.result());
    },
  };
  return session;
}

/**
 * Run an experiment (validated and normalised first). Synchronous; needs `await init()`.
 * The result holds no wall times: `runInfo` (non-enumerable) has them. An aborted signal
 * or onIteration returning false ends the run after the current iteration with status
 * 'interrupted' and the history so far.
 */
export function runExperiment(experiment: Experiment | unknown, options: RunExperimentOptions = {}): ExperimentRun {
  const session = startExperiment(experiment, options);
  session.advance({ signal: options.signal, onIteration: options.onIteration });
  const result = session.result();
  if (session.stopped) result.status = "interrupted"; // also when stopped at the very last iteration
  // (a run stopped by onIteration at the very iteration it converged is reported converged: the driver tests convergence first)
  return result;
}

/** The result as JSON: fixed key order, 2-space indent, numbers as JavaScript prints them (no trailing newline). Non-finite numbers become null. */
export function resultToJSON(result: ExperimentResult): string {
  const final: Record<string, unknown> = { x: result.final.x };
  if (result.final.phi !== undefined) final.phi = result.final.phi;
  final.f = result.final.f;
  final.hnorm = result.final.hnorm;
  if (result.final.phiByContext !== undefined) final.phiByContext = result.final.phiByContext;
  const p = result.problem;
  const problem: Record<string, unknown> = { name: p.name, S: p.S, A: p.A, n: p.n, tau: p.tau, gamma: p.gamma };
  if (p.contexts !== undefined) problem.contexts = p.contexts.map((c) => ({ name: c.name, weight: c.weight, S: c.S, offset: c.offset }));
  const ordered = {
    version: result.version,
    experiment: result.experiment,
    problem,
    algorithm: result.algorithm,
    seed: result.seed,
    status: result.status,
    ...(result.message !== undefined ? { message: result.message } : {}),
    iterations: result.iterations,
    history: result.history.map(orderedRow),
    final,
    counters: { sweeps: result.counters.sweeps, solves: result.counters.solves, sampledSteps: result.counters.sampledSteps },
  };
  return JSON.stringify(ordered, null, 2);
}

/**
 * The history as CSV: header `k,f,hnorm,lowerResidual,phi,penalty` (plus `measure` when an
 * algorithm reports its own convergence measure, and `x0,…,x{n−1}` when x was recorded), one line per iteration, empty cells for values not recorded, numbers as
 * JavaScript prints them, '\n' line ends (final newline included).
 */
export function historyToCSV(result: ExperimentResult): string {
  const withX = result.history.some((r) => r.x !== undefined);
  const n = result.problem.n;
  const withMeasure = result.history.some((r) => r.measure !== undefined);
  const header = ["k", "f", "hnorm", "lowerResidual", "phi", "penalty"];
  if (withMeasure) header.push("measure");
  if (withX) for (let i = 0; i < n; i++) header.push(`x${i}`);
  const cell = (v: number | undefined) => (v === undefined ? "" : String(v));
  const lines = [header.join(",")];
  for (const r of result.history) {
    const row = [cell(r.k), cell(r.f), cell(r.hnorm), cell(r.lowerResidual), cell(r.phi), cell(r.penalty)];
    if (withMeasure) row.push(cell(r.measure));
    if (withX) for (let i = 0; i < n; i++) row.push(cell(r.x?.[i]));
    lines.push(row.join(","));
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------
// single evaluations at x_0

/** The methods `hypergradientOf` accepts: `hypergradient`'s and the PARL and Φ_σ gradients. */
export type HypergradientOfMethod = HypergradientMethod | "parl" | "phi-sigma";

/** Options of `hypergradientOf`. */
export interface HypergradientOfOptions extends BuildOptions {
  /** 'finite-difference': the central-difference step (default 1e-5). */
  h?: number;
  /** 'model-free': groups M_u (default 64); its seed is the experiment's seed. */
  groups?: number;
  /** 'phi-sigma': σ (default 0.01). */
  sigma?: number;
}

/** The hypergradient at the experiment's x_0, as plain JSON-able data. */
export interface HypergradientReport {
  method: HypergradientOfMethod;
  problem: ProblemSummary;
  x: number[];
  /** φ(x_0) (model-free: its Monte-Carlo estimate; parl: f(x, π_θ); phi-sigma: Φσ(x)). */
  value: number;
  grad: number[];
  /** ‖grad‖₂. */
  norm: number;
  /** Model-free: the standard error of each coordinate. */
  stdError?: number[];
  /** The method's diagnostics (iterations, residuals, …), plain numbers, booleans and strings. */
  diagnostics: Record<string, number | boolean | string>;
}

function plain(d: object | undefined): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  if (!d) return out;
  for (const [k, v] of Object.entries(d)) if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") out[k] = v;
  return out;
}

const HG_METHODS: readonly HypergradientOfMethod[] = ["exact", "amd", "finite-difference", "model-free", "parl", "phi-sigma"];

/** ∇φ at the experiment's x_0 by one method (the command line's `hypergrad`). */
export function hypergradientOf(experiment: Experiment | unknown, method: HypergradientOfMethod = "exact", options: HypergradientOfOptions = {}): HypergradientReport {
  if (!HG_METHODS.includes(method)) throw new ExperimentError([{ path: "", message: `unknown hypergradient method ${JSON.stringify(method)}: expected one of ${HG_METHODS.map((m) => `'${m}'`).join(", ")}` }]);
  const { experiment: exp, problem, summary, x0 } = buildExperiment(experiment, options);
  const at = (a: string) => (top(a) === "tau" ? "/problem/tau" : top(a) === "method" || top(a) === "upper" || top(a) === "objective" ? "/problem" : undefined);
  let value: number, grad: Float64Array, diagnostics: Record<string, number | boolean | string>, stdError: number[] | undefined;
  if (method === "parl") {
    const r = mapped(() => parlHypergradient(problem, x0), at);
    ({ value, grad } = r);
    diagnostics = plain(r.diagnostics);
  } else if (method === "phi-sigma") {
    const r = mapped(() => phiSigmaGradient(problem, x0, options.sigma ?? 0.01), at);
    ({ value, grad } = r);
    diagnostics = { method: "phi-sigma", sigma: options.sigma ?? 0.01, residual: r.residual, hSigma: r.hSigma, h0: r.h0 };
  } else {
    const r = mapped(() => hypergradient(problem, x0, { method, h: options.h, modelFree: { seed: exp.seed, groups: options.groups } }), at);
    ({ value, grad } = r);
    diagnostics = plain(r.diagnostics);
    const se = (r as { stdError?: Float64Array }).stdError;
    if (se) stdError = Array.from(se);
  }
  let sq = 0;
  for (const g of grad) sq += g * g;
  const report: HypergradientReport = { method, problem: summary, x: Array.from(x0), value, grad: Array.from(grad), norm: Math.sqrt(sq), diagnostics };
  if (stdError) report.stdError = stdError;
  return report;
}

/** Options of `solveLowerOf`. */
export interface SolveLowerOfOptions extends BuildOptions {
  /** 'value-iteration' (default) or 'policy-iteration'. */
  solver?: LowerSolver;
  /** Target ‖G(V) − V‖∞ (default 1e-10). */
  tol?: number;
  maxIter?: number;
  /** Value iteration with error bounds (default true; false: plain value iteration). */
  extrapolate?: boolean;
}

/** The lower level at the experiment's x_0, as plain arrays (the command line's `solve`). */
export interface LowerReport {
  problem: ProblemSummary;
  x: number[];
  /** r_x (S·A). */
  r: number[];
  V: number[];
  Q: number[];
  pi: number[];
  iterations: number;
  residual: number;
  converged: boolean;
  /** f(x_0, π*) = φ(x_0), when the upper objective can be evaluated exactly. */
  phi?: number;
}

/** Solve the lower problem of an experiment at its x_0 (what `bilevel-rl solve` prints). */
export function solveLowerOf(experiment: Experiment | unknown, options: SolveLowerOfOptions = {}): LowerReport {
  const { problem, summary, x0 } = buildExperiment(experiment, options);
  const low = mapped(() => solveLower(problem, x0, { solver: options.solver, tol: options.tol ?? 1e-10, maxIter: options.maxIter, extrapolate: options.extrapolate }), () => undefined);
  const report: LowerReport = {
    problem: summary,
    x: Array.from(x0),
    r: Array.from(low.r),
    V: Array.from(low.V),
    Q: Array.from(low.Q),
    pi: Array.from(low.pi),
    iterations: low.iterations,
    residual: low.residual,
    converged: low.converged,
  };
  try {
    report.phi = problem.value(x0, low.pi);
  } catch {
    // not exactly evaluable: left out
  }
  return report;
}
