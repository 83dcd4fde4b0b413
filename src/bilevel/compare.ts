// Side-by-side runs of bilevel algorithms on one problem (the docs' comparison tables and
// the CLI's `compare` command). Every entry runs on a fresh problem from the same x_0 and
// is scored by the true hyper-objective φ(x) = f(x, π*_x) at the start and at the end, with
// the work it did (Bellman sweeps, linear solves, sampled steps) and its wall time.
//
// Constraints: with a `project` map (e.g. the incentive problem's x ≥ 0), every iterate
// x_{k+1} is projected after the algorithm's step, i.e. each method runs as its projected
// version (methods with a native projection, PBRL and PARL's `project`, are unaffected).
//
// Also here: `returnLoss` and `withTrajectory`, which let the trajectory-based methods
// (SoBiRL, the alternating baseline) run on a problem whose upper level is a return:
// f(x, π) = −E[Σ_t γ^t r_U(s_t, a_t)] + (λ/2)‖x‖² is eq. (12) with N = 1 and the reward-
// shaping loss l = −Σ_t γ^t r_U(s_t, a_t) (docs/math.md#model-free).
import { DomainError, ShapeError } from "../errors";
import type { TabularMDP } from "../mdp";
import * as check from "../validate";
import type { Algorithm, HistoryRecord, RunStart, RunStatus } from "./algorithms/common";
import { now } from "./algorithms/common";
import { phi } from "./hypergradient";
import { BilevelProblem, type Counters, type RewardModel } from "./problem";
import { noWork, tally } from "../wasm/routines/index";
import { rewardValues, rewardVjp, type TrajectoryObjective, type TrajectoryPolicyObjective } from "./trajectory";
import { log } from "../util/math";

/** What a problem factory may return: a problem, or a built-in instance `{ problem, x0?, project? }`. */
export interface CompareInstance {
  problem: BilevelProblem;
  /** The instance's default start (used when CompareOptions.x0 is not given). */
  x0?: ArrayLike<number>;
  /** Projection onto the feasible set (used when CompareOptions.project is not given). */
  project?: (x: ArrayLike<number>) => ArrayLike<number>;
}

/** Builds a new, unused problem on every call (each algorithm gets its own). */
export type ProblemFactory = () => BilevelProblem | CompareInstance;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyAlgorithm = Algorithm<any, any>;

/** One row of `compareAlgorithms`: an algorithm with its options. */
export interface CompareEntry {
  /** Row label (unique within a comparison). */
  name: string;
  /** One of the algorithm modules (exactDescent, mSoBiRL, soBiRL, …). */
  algorithm: AnyAlgorithm;
  /** The algorithm's options, without `iterations` and `x0` (those come from the comparison). */
  options?: Record<string, unknown>;
  /** Outer iterations for this entry (default: CompareOptions.iterations). */
  iterations?: number;
}

/** Options of `compareAlgorithms`. */
export interface CompareOptions {
  /** Outer iterations of every entry without its own count. */
  iterations: number;
  /** The common start x_0 (default: the instance's x0, else 0). */
  x0?: ArrayLike<number>;
  /** Projection applied to every iterate (default: the instance's `project`, if any). */
  project?: (x: ArrayLike<number>) => ArrayLike<number>;
  /** Each run's `stopTol` (default 0: all iterations). */
  stopTol?: number;
  /** Lower-level tolerance of the φ evaluations (default 1e-10, as in the run histories). */
  phiTol?: number;
  /** Record φ(x_k) in the rows' histories every this many iterations (0 = never, default; not timed, not counted). */
  phiEvery?: number;
  /**
   * Record each row's cumulative run time after every iteration (`CompareRow.timeline`), for
   * time-to-target curves; runs one iteration per call, like a projection or a φ record does.
   */
  timeline?: boolean;
  /** 'throw' (default): an entry that throws aborts the comparison; 'record': its row carries the error. */
  onError?: "throw" | "record";
  /** Called with each row as soon as it is ready (progress output). */
  onRow?: (row: CompareRow) => void;
}

/** One result row of `compareAlgorithms`. */
export interface CompareRow {
  /** The entry's name. */
  algorithm: string;
  /** φ(x_0), the same for every row. */
  phi0: number;
  /** φ at the run's result `x` (NaN when the entry failed or diverged). */
  phiFinal: number;
  /** Why the run ended ('max-iterations', 'converged', 'diverged'; 'interrupted' when it threw). */
  status: RunStatus;
  /** The run's message when it converged or diverged. */
  message?: string;
  /** Outer iterations run. */
  iterations: number;
  /** Wall time of the run (ms), without the two φ evaluations. */
  timeMs: number;
  /** Soft Bellman sweeps. */
  sweeps: number;
  /** Linear solves with (I − γP_π) or its transpose. */
  solves: number;
  /** Environment steps sampled. */
  sampledSteps: number;
  /**
   * The part of `solves` made inside evaluations of the upper objective f, ∂f/∂x, ∂f/∂π:
   * the objective's own cost (a return-type f needs a policy evaluation), not the method's.
   */
  upperSolves: number;
  /** The run's result (its `RunResult.x`): x_K, or the last accepted point of a method whose x_K can be an untested trial. */
  x: Float64Array;
  /** The run's history rows. */
  history: HistoryRecord[];
  /** With `timeline`: the run's time (ms, cumulative, no φ evaluations) after each iteration; x_{k+1} was reached at timeline[k]. */
  timeline?: number[];
  /** The error message, when the entry threw and onError is 'record'. */
  error?: string;
}

/**
 * Run every entry on a fresh problem from `makeProblem()` from the same x_0 and report, per
 * entry, φ(x_0), φ(x_K), the iterations, the wall time and the work counters.
 */
export function compareAlgorithms(makeProblem: ProblemFactory, entries: readonly CompareEntry[], options: CompareOptions): CompareRow[] {
  if (typeof makeProblem !== "function") throw new ShapeError("makeProblem", "must be a function returning a new problem (or { problem, x0?, project? })", makeProblem);
  if (!Array.isArray(entries) || entries.length === 0) throw new ShapeError("entries", "must be a non-empty array of { name, algorithm, options? }", entries);
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object with at least { iterations }", options);
  const K = check.positiveInt("iterations", options.iterations);
  const phiTol = options.phiTol === undefined ? 1e-10 : check.nonNegative("phiTol", options.phiTol);
  const phiEvery = options.phiEvery === undefined || options.phiEvery === 0 ? 0 : check.positiveInt("phiEvery", options.phiEvery);
  const stopTol = options.stopTol === undefined ? 0 : check.nonNegative("stopTol", options.stopTol);
  if (options.timeline !== undefined && typeof options.timeline !== "boolean") throw new DomainError("timeline", "must be true or false", options.timeline);
  const timeline = options.timeline === true;
  const onError = options.onError ?? "throw";
  if (onError !== "throw" && onError !== "record") throw new DomainError("onError", "must be 'throw' or 'record'", onError);
  const names = new Set<string>();
  entries.forEach((e, i) => {
    if (typeof e !== "object" || e === null || typeof e.name !== "string" || e.name === "") throw new ShapeError("entries", "each entry needs a non-empty string name", e, i);
    if (names.has(e.name)) throw new DomainError("entries", "names must be unique", e.name, i);
    names.add(e.name);
    const alg = e.algorithm as Partial<AnyAlgorithm> | undefined;
    if (typeof alg !== "object" || alg === null || typeof alg.run !== "function" || typeof alg.init !== "function") {
      throw new ShapeError("entries", "each entry's algorithm must be an algorithm module { init, step, run }", alg, i);
    }
    if (e.iterations !== undefined) check.positiveInt(`entries[${i}].iterations`, e.iterations);
  });

  const seen = new Set<BilevelProblem>();
  const fresh = (): CompareInstance => {
    const made = makeProblem();
    const inst: CompareInstance = made instanceof BilevelProblem ? { problem: made } : made;
    if (typeof inst !== "object" || inst === null || !(inst.problem instanceof BilevelProblem)) {
      throw new ShapeError("makeProblem", "must return a BilevelProblem or { problem, x0?, project? }", made);
    }
    if (seen.has(inst.problem)) throw new DomainError("makeProblem", "must return a new problem on every call (each algorithm runs on its own)", "the same problem twice");
    seen.add(inst.problem);
    return inst;
  };

  // the common start, and φ there (on a problem of its own, so no run's counters see it)
  const first = fresh();
  const project = options.project ?? first.project;
  if (project !== undefined && typeof project !== "function") throw new ShapeError("project", "must be a function x → projected x", project);
  let x0: Float64Array = Float64Array.from(first.problem.checkX(options.x0 ?? first.x0 ?? new Float64Array(first.problem.n)));
  if (project) x0 = projectChecked(first.problem, project, x0);
  const phi0 = phi(first.problem, x0, { tol: phiTol }).value;

  const rows: CompareRow[] = [];
  for (const entry of entries) {
    const iterations = entry.iterations ?? K;
    const { problem } = fresh();
    // the runs' work and the part of it inside the objective, read even when a run throws
    const work = noWork(), upperWork = noWork();
    let row: CompareRow;
    try {
      const run = runEntry(problem, entry, iterations, x0, project, phiEvery, phiTol, stopTol, timeline, work, upperWork);
      const upperSolves = upperWork.solves;
      row = {
        algorithm: entry.name,
        phi0,
        phiFinal: run.status === "diverged" ? NaN : phi(problem, run.x, { tol: phiTol }).value,
        status: run.status,
        ...(run.message !== undefined ? { message: run.message } : {}),
        iterations: run.iterations,
        timeMs: run.timeMs,
        ...work,
        upperSolves,
        x: run.x,
        history: run.history,
        ...(run.timeline ? { timeline: run.timeline } : {}),
      };
    } catch (err) {
      if (onError === "throw") throw err;
      row = {
        algorithm: entry.name,
        phi0,
        phiFinal: NaN,
        status: "interrupted",
        iterations: 0,
        timeMs: NaN,
        ...work,
        upperSolves: upperWork.solves,
        x: Float64Array.from(x0),
        history: [],
        error: err instanceof Error ? err.message : String(err),
      };
    }
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}

interface EntryRun {
  x: Float64Array;
  status: RunStatus;
  message?: string;
  iterations: number;
  timeMs: number;
  history: HistoryRecord[];
  timeline?: number[];
}

/**
 * One entry's run: a single `run` call, or, with a projection or a φ record, one
 * iteration per call (the state is plain data), projecting x and evaluating φ(x_k) in
 * between. The work of the run calls goes to `work`, the part of it done inside the upper
 * objective to `upperWork`; φ evaluations are neither timed nor counted.
 */
function runEntry(problem: BilevelProblem, entry: CompareEntry, K: number, x0: Float64Array, project: CompareOptions["project"], phiEvery: number, phiTol: number, stopTol: number, timeline: boolean, work: Counters, upperWork: Counters): EntryRun {
  const base = { ...(entry.options ?? {}), x0: Float64Array.from(x0), stopTol };
  // a run's own work, and what its objective evaluations added to the problem's reading
  const runOnce = (options: Record<string, unknown>) => {
    const u0 = problem.upperWork;
    try {
      return tally(work, () => entry.algorithm.run(problem, { ...base, ...options }));
    } finally {
      const u1 = problem.upperWork;
      upperWork.sweeps += u1.sweeps - u0.sweeps;
      upperWork.solves += u1.solves - u0.solves;
      upperWork.sampledSteps += u1.sampledSteps - u0.sampledSteps;
    }
  };
  if (!project && phiEvery === 0 && !timeline) {
    const r = runOnce({ iterations: K });
    return { x: r.x, status: r.status, ...(r.message !== undefined ? { message: r.message } : {}), iterations: r.history.length, timeMs: r.timeMs, history: r.history };
  }
  const history: HistoryRecord[] = [];
  const times: number[] | undefined = timeline ? [] : undefined;
  let timeMs = 0;
  let state: { k: number; x: number[] } | undefined;
  let start: RunStart | undefined; // the divergence test's reference: the first iterate's, across the one-step calls
  let x: Float64Array = Float64Array.from(x0); // x_k, the live iterate (history, resumption)
  let result: Float64Array = Float64Array.from(x0); // the run's result (RunResult.x: the last accepted point)
  for (let k = 0; k < K; k++) {
    let phiK: number | undefined;
    if (phiEvery > 0 && (k % phiEvery === 0 || k === K - 1)) {
      phiK = phi(problem, x, { tol: phiTol }).value;
    }
    const r = runOnce({ iterations: 1, ...(state ? { state } : {}), ...(start ? { divergence: { start } } : {}) });
    start ??= r.start;
    for (const row of r.history) history.push(phiK === undefined ? row : { ...row, phi: phiK });
    if (r.status === "diverged" || r.status === "converged") {
      const t0 = now();
      const xK = r.status === "converged" && project ? projectChecked(problem, project, r.x) : r.x;
      timeMs += r.timeMs + (now() - t0);
      times?.push(timeMs);
      return { x: xK, status: r.status, ...(r.message !== undefined ? { message: r.message } : {}), iterations: history.length, timeMs, history, ...(times ? { timeline: times } : {}) };
    }
    const t0 = now();
    x = project ? projectChecked(problem, project, r.state.x) : Float64Array.from(r.state.x);
    result = project ? projectChecked(problem, project, r.x) : r.x;
    state = { ...r.state, x: Array.from(x) };
    timeMs += r.timeMs + (now() - t0);
    times?.push(timeMs);
  }
  return { x: result, status: "max-iterations", iterations: K, timeMs, history, ...(times ? { timeline: times } : {}) };
}

function projectChecked(problem: BilevelProblem, project: NonNullable<CompareOptions["project"]>, x: ArrayLike<number>): Float64Array {
  const out = project(Float64Array.from(x));
  try {
    return Float64Array.from(problem.checkX(out));
  } catch (err) {
    throw new ShapeError("project", `must return a finite x of length n = ${problem.n} (${(err as Error).message})`, out);
  }
}

// ---------------------------------------------------------------------------------------
// Markdown table

/** Options of `formatTable`. */
export interface FormatTableOptions {
  /** Decimals of φ and Δφ (default 5; values below 1e-3 or from 1e6 in magnitude use exponents). */
  digits?: number;
}

/**
 * A Markdown table, one row per entry: algorithm, φ(x_0), final φ, Δφ = φ(x_K) − φ(x_0),
 * iterations, wall time (ms), sweeps, solves, solves inside f, sampled steps.
 */
export function formatTable(rows: readonly CompareRow[], options: FormatTableOptions = {}): string {
  if (!Array.isArray(rows)) throw new ShapeError("rows", "must be an array of comparison rows", rows);
  const digits = options.digits === undefined ? 5 : check.nonNegative("digits", options.digits);
  const num = (v: number) => {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? "—" : String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
    return v.toFixed(digits);
  };
  const int = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : "—");
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const header = ["algorithm", "φ(x₀)", "final φ", "Δφ", "iterations", "time (ms)", "sweeps", "solves", "solves in f", "sampled steps"];
  const align = ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"];
  const lines = [`| ${header.join(" | ")} |`, `| ${align.join(" | ")} |`];
  for (const r of rows) {
    const name = r.error ? `${r.algorithm} (failed: ${r.error})` : r.algorithm;
    const cells = [
      cell(name),
      num(r.phi0),
      num(r.phiFinal),
      num(r.phiFinal - r.phi0),
      int(r.iterations),
      Number.isFinite(r.timeMs) ? r.timeMs.toFixed(1) : "—",
      int(r.sweeps),
      int(r.solves),
      int(r.upperSolves),
      int(r.sampledSteps),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------
// Return-type upper levels as trajectory objectives (reward shaping, eq. 12 with N = 1)

/** Options of `returnLoss`. */
export interface ReturnLossSpec {
  /** The upper reward r_U: a fixed table (length S·A), or a reward model r_U(x) (with vjp or jacobian). */
  reward: ArrayLike<number> | RewardModel;
  /** Discount of the return (an upperReturn-type objective uses the lower MDP's γ). */
  gamma: number;
  /** Truncation H (default ⌈log(1e-4)/log γ⌉; the bias of E[l] is at most γ^H‖r_U‖∞/(1−γ)). */
  horizon?: number;
  /** Weight λ of (λ/2)‖x‖² added to l (default 0). */
  lambda?: number;
  /** M_U, the MDP the trajectories come from (default: the lower MDP). */
  upperMDP?: TabularMDP;
}

/** The trajectory objective that `returnLoss` returns. */
export interface ReturnLoss extends TrajectoryObjective {
  readonly gamma: number;
  readonly lambda: number;
}

/**
 * The reward-shaping loss of one H-step trajectory (N = 1):
 *   l(x; τ) = −Σ_{t<H} γ^t r_U(x)(s_t, a_t) + (λ/2)‖x‖²,
 *   ∇_x l   = −R_U(x)ᵀ c(τ) + λx,   c(τ) = Σ_{t<H} γ^t e_{(s_t, a_t)}   (0 for a fixed r_U).
 * Its expectation under π is −ρ_Uᵀ V_U^π[r_U(x)] + (λ/2)‖x‖² up to the truncation: the
 * upper objective of `upperReturn` (r_U fixed) or of the incentive problem (r_U = r_D − κx).
 */
export function returnLoss(spec: ReturnLossSpec): ReturnLoss {
  if (typeof spec !== "object" || spec === null) throw new ShapeError("returnLoss", "takes { reward, gamma, horizon?, lambda?, upperMDP? }", spec);
  const gamma = check.discount(spec.gamma);
  const lambda = spec.lambda === undefined ? 0 : check.nonNegative("lambda", spec.lambda);
  const H = spec.horizon === undefined ? Math.max(1, gamma > 0 ? Math.ceil(log(1e-4) / log(gamma)) : 1) : check.positiveInt("horizon", spec.horizon);
  const rw = spec.reward;
  let table: Float64Array | undefined, model: RewardModel | undefined;
  if (typeof rw === "object" && rw !== null && typeof (rw as RewardModel).reward === "function") {
    model = rw as RewardModel;
    check.positiveInt("reward.dim", model.dim);
    if (typeof model.vjp !== "function" && typeof model.jacobian !== "function") throw new ShapeError("reward", "must provide vjp(x, u, out) or jacobian(x, out)", rw);
  } else {
    table = check.float64("reward", rw, (rw as ArrayLike<number>)?.length ?? -1).slice();
  }
  const gpow = new Float64Array(H);
  for (let t = 0; t < H; t++) gpow[t] = t === 0 ? 1 : gpow[t - 1] * gamma;
  const SAof = (ctx: { mdp: TabularMDP }) => ctx.mdp.S * ctx.mdp.A;
  const rewardAt = (x: Float64Array, SA: number): Float64Array => {
    const r = table ?? rewardValues(model!, x, SA);
    if (r.length !== SA) throw new ShapeError("reward", `must have length S·A = ${SA}`, r.length);
    return r;
  };
  const steps = (group: { states: Int32Array }) => {
    if (group.states.length !== H) throw new ShapeError("group", `must hold N·H = ${H} steps`, group.states.length);
  };
  return {
    groupSize: 1,
    horizon: H,
    upperMDP: spec.upperMDP,
    gamma,
    lambda,
    loss(x, group, ctx) {
      steps(group);
      const A = ctx.mdp.A;
      const r = rewardAt(x, SAof(ctx));
      let l = 0;
      for (let t = 0; t < H && group.states[t] >= 0; t++) l -= gpow[t] * r[group.states[t] * A + group.actions[t]]; // −1: ended (docs/math.md#terminal-states)
      if (lambda > 0) {
        let sq = 0;
        for (let k = 0; k < x.length; k++) sq += x[k] * x[k];
        l += 0.5 * lambda * sq;
      }
      return l;
    },
    gradX(x, group, out, ctx) {
      steps(group);
      out.fill(0);
      if (model) {
        const A = ctx.mdp.A;
        const c = new Float64Array(SAof(ctx));
        for (let t = 0; t < H && group.states[t] >= 0; t++) c[group.states[t] * A + group.actions[t]] -= gpow[t];
        const g = rewardVjp(model, x, c);
        if (g.length !== out.length) throw new ShapeError("reward", `has dim ${g.length} but x has length ${out.length}`, g.length);
        out.set(g);
      }
      if (lambda > 0) for (let k = 0; k < x.length; k++) out[k] += lambda * x[k];
    },
  };
}

/**
 * The same problem (MDP, τ, reward, transitions, upper objective with its exact derivatives)
 * with `objective` attached as `upper.trajectory`, so that SoBiRL, the alternating baseline
 * and the 'model-free' hypergradient can use it while φ stays exact. `objective`'s
 * expectation should equal f (e.g. `returnLoss` for a return-type f).
 */
export function withTrajectory(problem: BilevelProblem, objective: TrajectoryObjective): BilevelProblem {
  if (!(problem instanceof BilevelProblem)) throw new ShapeError("problem", "must be a BilevelProblem", problem);
  if (typeof objective !== "object" || objective === null || typeof objective.loss !== "function" || typeof objective.gradX !== "function") {
    throw new ShapeError("objective", "must be a trajectory objective { groupSize, horizon, loss, gradX }", objective);
  }
  // inherit every field of the original objective (rU, rhoU, … that other engines read)
  const upper = Object.create(problem.upper, { trajectory: { value: objective, enumerable: true } }) as TrajectoryPolicyObjective;
  return new BilevelProblem({ mdp: problem.mdp, tau: problem.tau, reward: problem.reward, upper, transitions: problem.transitions });
}
