// Model-free hypergradient of a trajectory objective (SoBiRL Prop. 5.1 and 5.2;
// docs/math.md#model-free, docs/math.md#sobirl). With groups (τ_1..τ_N) of H-step trajectories of M_U under π*:
//   ∇φ(x) = E[ ∇_x l(x; τ_{1:N}) ]                                              (13)
//         + E[ (l(x; τ_{1:N}) − b) · Σ_i Σ_t ∇_x log π*_x(a^i_t | s^i_t) ]          (14)
//   ∇_x log π*(a|s) = ( ∂Q*(s,a)/∂x − ∂V*(s)/∂x ) / τ
//   ∂Q*(s,a)/∂x = E_{π*}[ Σ_t γ^t ∇_x r_x(s_t,a_t) | s_0 = s, a_0 = a ],  ∂V*(s) = Σ_a π*(a|s) ∂Q*(s,a)
// Everything on the right is linear in R_x = ∂r_x/∂x, so the estimator works in
// state-action space: c_{s,a} = E[Σ_t γ^t e_{(s_t,a_t)} | s_0 = s, a_0 = a] (the discounted
// state-action occupancy from (s,a), length S·A) gives ∂Q*(s,a) = R_xᵀ c_{s,a}. The rows
// c_{s,a} come from M_d rollouts truncated at T_d (Prop. 5.1; 'rollout') or from the model
// ('exact': c_{s,a} = e_{(s,a)} + γ Σ_s' P(s'|s,a) d_{s'} ⊙ π, d_{s'} = (I − γP_π)^{-T} e_{s'}).
//
// Baselines (none biases the estimate, because E[Σ_t ∇ log π] = 0 and b is independent of the
// group it multiplies):
//   'leave-one-out' (default): b_g = mean of l over the other M_u − 1 groups. Then
//     (l_g − b_g) = M/(M−1)·(l_g − l̄), so the estimator is E[∇l] plus the unbiased sample
//     covariance of l and the score. Needs M_u ≥ 2.
//   'split': b = mean of l over a separate, independent set of `baselineGroups` groups.
//   a number: a constant b fixed before sampling (e.g. SoBiRL's running mean of past losses).
//   'none': b = 0.
//
// Randomness: one `seed` gives every draw (upper trajectories, baseline groups and one
// sub-seed per state-action row of the derivative rollouts), so the same seed gives the same
// estimate bit for bit; trajectories come from the seeded wasm sampler.
import { DomainError, NumericalError, ShapeError } from "../errors";
import { solveLinear } from "../lower";
import { sampleTrajectories } from "../sampling";
import { Rng } from "../util/random";
import * as check from "../validate";
import type { HypergradientResult } from "./hypergradient";
import { solveLower, type LowerOptions } from "./lowerSolve";
import type { BilevelProblem } from "./problem";
import {
  groupAt,
  gradXOf,
  lossOf,
  objectiveOf,
  successors,
  checkObjective,
  type TrajectoryContext,
  type TrajectoryObjective,
} from "./trajectory";
import { log } from "../util/math";

/** How the model-free estimator gets ∂Q*, ∂V*: Monte-Carlo rollouts or exactly from the model. */
export type DerivativeMode = "rollout" | "exact";
/** Baseline of the model-free estimator (or a constant number in its options). */
export type BaselineMode = "leave-one-out" | "split" | "none";

/** The estimator's settings (the `modelFree` field of `hypergradient` options). */
export interface ModelFreeSettings {
  /** The trajectory objective; default: the problem's `upper.trajectory` (see trajectoryUpper). */
  objective?: TrajectoryObjective;
  /** M_u, groups of N trajectories (default 64). */
  groups?: number;
  /** Non-negative safe integer (default 0): same seed, same estimate. */
  seed?: number;
  /** 'leave-one-out' (default), 'split', 'none', or a constant b. */
  baseline?: BaselineMode | number;
  /** Groups drawn for the 'split' baseline (default: `groups`). */
  baselineGroups?: number;
  /** ∂Q*, ∂V* by Monte-Carlo rollouts (default, Prop. 5.1) or exactly from the model (docs/math.md#fixed-point-derivative). */
  derivative?: DerivativeMode;
  /** M_d, rollouts per state-action pair (default 32). */
  Md?: number;
  /** T_d, rollout truncation (default ⌈log(1e-3)/log γ⌉; bias ≤ γ^{T_d}‖∇r‖∞/(1−γ)). */
  Td?: number;
}

export interface ModelFreeOptions extends ModelFreeSettings {
  /** The lower solve that gives π*_x (tol, solver, V0). */
  lower?: LowerOptions;
}

/** What `modelFreeHypergradient` returns: the estimate and its standard errors. */
export interface ModelFreeResult extends HypergradientResult {
  /** Standard error of each coordinate of grad: sd of the per-group terms / √M_u (derivative noise, shared by the groups, not included). */
  stdError: Float64Array;
  /** `value` is the Monte-Carlo mean of l over the groups (an unbiased estimate of φ(x)); this is its standard error. */
  valueStdError: number;
  /** The mean baseline used. */
  baseline: number;
  /** M_u. */
  groups: number;
  /** Environment steps sampled for this estimate (also recorded by the work meter). */
  sampledSteps: number;
}

/** Parsed settings. @internal */
export interface ParsedModelFree {
  objective: TrajectoryObjective;
  groups: number;
  baseline: BaselineMode | number;
  baselineGroups: number;
  derivative: DerivativeMode;
  Md: number;
  Td: number;
}

/** T_d = ⌈log(1e-3)/log γ⌉ (1 for γ = 0). */
export function defaultTd(gamma: number): number {
  return gamma > 0 ? Math.max(1, Math.ceil(log(1e-3) / log(gamma))) : 1;
}

/** @internal */
export function parseModelFree(problem: BilevelProblem, o: ModelFreeSettings | undefined, allowNumberBaseline = true): ParsedModelFree {
  const opts = o ?? {};
  if (typeof opts !== "object") throw new ShapeError("modelFree", "must be an options object", opts);
  const objective = objectiveOf(problem, opts.objective);
  const groups = opts.groups === undefined ? 64 : check.positiveInt("groups", opts.groups);
  const baseline = opts.baseline ?? "leave-one-out";
  if (typeof baseline === "number") {
    if (!allowNumberBaseline || !Number.isFinite(baseline)) throw new DomainError("baseline", "must be a finite number, 'leave-one-out', 'split' or 'none'", baseline);
  } else if (baseline !== "leave-one-out" && baseline !== "split" && baseline !== "none") {
    throw new DomainError("baseline", "must be 'leave-one-out', 'split', 'none' or a finite number", baseline);
  }
  if (baseline === "leave-one-out" && groups < 2) throw new DomainError("groups", "the leave-one-out baseline needs at least 2 groups", groups);
  const baselineGroups = opts.baselineGroups === undefined ? groups : check.positiveInt("baselineGroups", opts.baselineGroups);
  const derivative = opts.derivative ?? "rollout";
  if (derivative !== "rollout" && derivative !== "exact") throw new DomainError("derivative", "must be 'rollout' or 'exact'", derivative);
  const Md = opts.Md === undefined ? 32 : check.positiveInt("Md", opts.Md);
  const Td = opts.Td === undefined ? defaultTd(problem.mdp.gamma) : check.positiveInt("Td", opts.Td);
  return { objective, groups, baseline, baselineGroups, derivative, Md, Td };
}

/** The model-free method's preconditions. @internal */
export function requireModelFree(problem: BilevelProblem, method: string): void {
  problem.requireSoft(method);
  if (problem.transitions) throw new DomainError("transitions", `${method} assumes x-independent transitions (Prop. 5.1 differentiates the reward only)`, "x-dependent");
}

/**
 * ∇φ(x) by the model-free estimator of Prop. 5.2 at π*_x (solved to tolerance by
 * `options.lower`). Returns HypergradientResult's fields plus standard errors.
 */
export function modelFreeHypergradient(problem: BilevelProblem, x: ArrayLike<number>, options: ModelFreeOptions = {}): ModelFreeResult {
  const xx = problem.checkX(x);
  requireModelFree(problem, "the model-free hypergradient");
  const opts = options ?? {};
  const o = parseModelFree(problem, opts);
  const seed = opts.seed === undefined ? 0 : check.seed(opts.seed);
  const low = solveLower(problem, xx, opts.lower);
  const est = estimateAt(problem, xx, low.pi, o, seed);
  return {
    value: est.value,
    grad: est.grad,
    pi: low.pi,
    V: low.V,
    diagnostics: {
      method: "model-free",
      lowerIterations: low.iterations,
      lowerResidual: low.residual,
      lowerConverged: low.converged,
      linearIterations: est.solves,
      linearResidual: est.linearResidual,
      linearConverged: est.linearConverged,
    },
    stdError: est.stdError,
    valueStdError: est.valueStdError,
    baseline: est.baseline,
    groups: o.groups,
    sampledSteps: est.sampledSteps,
  };
}

/** One estimate at a given policy. @internal */
export interface Estimate {
  grad: Float64Array;
  stdError: Float64Array;
  value: number;
  valueStdError: number;
  baseline: number;
  sampledSteps: number;
  solves: number;
  linearResidual: number;
  linearConverged: boolean;
}

/**
 * Eq. (13) + (14) at the policy π (π*_x, or SoBiRL's approximation of it). Draws the upper
 * groups, the baseline and the derivative rows from `seed`. @internal
 */
export function estimateAt(problem: BilevelProblem, x: Float64Array, pi: Float64Array, o: ParsedModelFree, seed: number): Estimate {
  const { mdp, n } = problem;
  const { S, A } = mdp;
  const obj = o.objective;
  const mdpU = checkObjective(obj, mdp);
  const N = obj.groupSize, H = obj.horizon, M = o.groups;
  const rng = new Rng(seed);
  const seedUpper = rng.fork(), seedBase = rng.fork(), seedDeriv = rng.fork();
  let steps = 0;
  // upper groups
  const tr = sampleTrajectories(mdpU, pi, { episodes: M * N, horizon: H, seed: seedUpper });
  steps += taken(tr.lengths);
  const ctx: TrajectoryContext = { reward: problem.reward, mdp: mdpU };
  const losses = new Float64Array(M);
  const gradL = new Float64Array(M * n);
  const tmp = new Float64Array(n);
  for (let g = 0; g < M; g++) {
    const grp = groupAt(tr.states, tr.actions, g, N, H);
    losses[g] = lossOf(obj, x, grp, ctx, { group: g });
    gradL.set(gradXOf(obj, x, grp, ctx, tmp, { group: g }), g * n);
  }
  let lsum = 0;
  for (let g = 0; g < M; g++) lsum += losses[g];
  // baselines
  const b = new Float64Array(M);
  if (o.baseline === "leave-one-out") {
    for (let g = 0; g < M; g++) b[g] = (lsum - losses[g]) / (M - 1);
  } else if (o.baseline === "split") {
    const MB = o.baselineGroups;
    const tb = sampleTrajectories(mdpU, pi, { episodes: MB * N, horizon: H, seed: seedBase });
    steps += taken(tb.lengths);
    let acc = 0;
    for (let g = 0; g < MB; g++) acc += lossOf(obj, x, groupAt(tb.states, tb.actions, g, N, H), ctx, { baselineGroup: g });
    b.fill(acc / MB);
  } else if (typeof o.baseline === "number") {
    b.fill(o.baseline);
  }
  // ∇ log π at the visited state-action pairs
  const visitedS = new Uint8Array(S), visitedSA = new Uint8Array(S * A);
  for (let i = 0; i < tr.states.length; i++) {
    if (tr.states[i] < 0) continue; // after the end of an episode (docs/math.md#terminal-states)
    visitedS[tr.states[i]] = 1;
    visitedSA[tr.states[i] * A + tr.actions[i]] = 1;
  }
  const rows: number[] = [];
  for (let s = 0; s < S; s++) if (visitedS[s]) for (let a = 0; a < A; a++) rows.push(s * A + a);
  const occ = occupancyRows(problem, pi, rows, o.derivative, o.Md, o.Td, seedDeriv, false);
  steps += occ.sampledSteps;
  const dlog = scoreVectors(problem, x, pi, occ.mean, visitedSA);
  // per-group terms t_g = ∇l_g + (l_g − b_g) Σ_steps ∇ log π
  const mean = new Float64Array(n), m2 = new Float64Array(n);
  const term = new Float64Array(n);
  for (let g = 0; g < M; g++) {
    term.set(gradL.subarray(g * n, g * n + n));
    const w = losses[g] - b[g];
    if (w !== 0) {
      const o0 = g * N * H;
      for (let i = o0; i < o0 + N * H; i++) {
        if (tr.states[i] < 0) continue;
        const d = dlog.get(tr.states[i] * A + tr.actions[i])!;
        for (let k = 0; k < n; k++) term[k] += w * d[k];
      }
    }
    // Welford
    for (let k = 0; k < n; k++) {
      const delta = term[k] - mean[k];
      mean[k] += delta / (g + 1);
      m2[k] += delta * (term[k] - mean[k]);
    }
  }
  const stdError = new Float64Array(n);
  for (let k = 0; k < n; k++) stdError[k] = M > 1 ? Math.sqrt(m2[k] / (M - 1) / M) : Infinity;
  const value = lsum / M;
  let lv = 0;
  for (let g = 0; g < M; g++) lv += (losses[g] - value) ** 2;
  let bmean = 0;
  for (let g = 0; g < M; g++) bmean += b[g];
  return {
    grad: mean,
    stdError,
    value,
    valueStdError: M > 1 ? Math.sqrt(lv / (M - 1) / M) : Infinity,
    baseline: bmean / M,
    sampledSteps: steps,
    solves: occ.solves,
    linearResidual: occ.linearResidual,
    linearConverged: occ.linearConverged,
  };
}

/**
 * ∇_x log π(a|s) = R_xᵀ (c_{s,a} − Σ_a' π(a'|s) c_{s,a'}) / τ for the flagged pairs (length n
 * each); the occupancy rows of every action of their states must be present. @internal
 */
export function scoreVectors(problem: BilevelProblem, x: Float64Array, pi: Float64Array, occ: Map<number, Float64Array>, want: Uint8Array): Map<number, Float64Array> {
  const { S, A } = problem.mdp;
  const SA = S * A, tau = problem.tau;
  const out = new Map<number, Float64Array>();
  const u = new Float64Array(SA);
  for (let s = 0; s < S; s++) {
    let any = false;
    for (let a = 0; a < A; a++) if (want[s * A + a]) any = true;
    if (!any) continue;
    const cbar = new Float64Array(SA);
    for (let a = 0; a < A; a++) {
      const p = pi[s * A + a];
      if (p === 0) continue;
      const c = occ.get(s * A + a)!;
      for (let j = 0; j < SA; j++) cbar[j] += p * c[j];
    }
    for (let a = 0; a < A; a++) {
      if (!want[s * A + a]) continue;
      const c = occ.get(s * A + a)!;
      for (let j = 0; j < SA; j++) u[j] = (c[j] - cbar[j]) / tau;
      out.set(s * A + a, problem.vjp(x, u));
    }
  }
  return out;
}

/** Discounted state-action occupancy rows c_{s,a} (length S·A each). @internal */
export interface OccupancyRows {
  mean: Map<number, Float64Array>;
  /** Per-rollout rows (M_d × S·A), when asked ('rollout' only). */
  each?: Map<number, Float64Array>;
  sampledSteps: number;
  solves: number;
  linearResidual: number;
  linearConverged: boolean;
}

/**
 * c_{s,a} = E_π[Σ_t γ^t e_{(s_t,a_t)} | s_0 = s, a_0 = a] for the given rows (flat s·A + a):
 * by M_d rollouts truncated at T_d ('rollout'), or exactly ('exact'). Each row's rollouts use
 * their own sub-seed derived from `seed` and the row index, so a row's estimate does not
 * depend on which other rows were asked for. @internal
 */
export function occupancyRows(problem: BilevelProblem, pi: Float64Array, rows: number[], mode: DerivativeMode, Md: number, Td: number, seed: number, keepEach: boolean): OccupancyRows {
  const mdp = problem.mdp;
  const { S, A, gamma } = mdp;
  const SA = S * A;
  const mean = new Map<number, Float64Array>();
  if (mode === "exact") {
    const next = successors(mdp);
    const dCache = new Map<number, Float64Array>();
    let solves = 0, worst = 0, conv = true;
    const e = new Float64Array(S);
    const occFrom = (s1: number): Float64Array => {
      let d = dCache.get(s1);
      if (d) return d;
      e.fill(0);
      e[s1] = 1;
      const sol = solveLinear(mdp, pi, e, { transpose: true });
      solves++;
      worst = Math.max(worst, sol.residual);
      conv = conv && sol.converged;
      if (!sol.converged) throw new NumericalError(`model-free 'exact' derivative: the solve from state ${s1} stopped at relative residual ${sol.residual}`);
      d = sol.x;
      dCache.set(s1, d);
      return d;
    };
    for (const row of rows) {
      const c = new Float64Array(SA);
      c[row] = 1;
      const { to, p } = next[row];
      for (let k = 0; k < to.length; k++) {
        const d = occFrom(to[k]);
        const w = gamma * p[k];
        for (let s2 = 0; s2 < S; s2++) {
          const ds = w * d[s2];
          if (ds === 0) continue;
          for (let a2 = 0; a2 < A; a2++) c[s2 * A + a2] += ds * pi[s2 * A + a2];
        }
      }
      mean.set(row, c);
    }
    return { mean, sampledSteps: 0, solves, linearResidual: worst, linearConverged: conv };
  }
  // rollouts: the first transition from (s, a) with a policy whose row s is one-hot at a,
  // then T_d − 1 steps of π from each sampled s_1
  const base = new Rng(seed);
  const rowSeed = new Array<number>(SA);
  for (let i = 0; i < SA; i++) rowSeed[i] = base.fork();
  const gp = new Float64Array(Td);
  for (let t = 0; t < Td; t++) gp[t] = t === 0 ? 1 : gp[t - 1] * gamma;
  const each = keepEach ? new Map<number, Float64Array>() : undefined;
  let steps = 0;
  const rhoS = new Float64Array(S);
  for (const row of rows) {
    const s = Math.floor(row / A), a = row % A;
    const rng = new Rng(rowSeed[row]);
    const c = new Float64Array(SA);
    const per = keepEach ? new Float64Array(Md * SA) : undefined;
    c[row] = Md;
    if (per) for (let j = 0; j < Md; j++) per[j * SA + row] = 1;
    if (Td > 1) {
      const piMod = Float64Array.from(pi);
      for (let b = 0; b < A; b++) piMod[s * A + b] = b === a ? 1 : 0;
      rhoS.fill(0);
      rhoS[s] = 1;
      const first = sampleTrajectories(mdp, piMod, { episodes: Md, horizon: 2, seed: rng.fork(), rho: rhoS });
      steps += taken(first.lengths);
      const buckets: number[][] = Array.from({ length: S }, () => []);
      // from a terminal s the rollout ends at once: c_{s,a} = e_{(s,a)} (docs/math.md#terminal-states)
      for (let j = 0; j < Md; j++) if (first.states[2 * j + 1] >= 0) buckets[first.states[2 * j + 1]].push(j);
      for (let s1 = 0; s1 < S; s1++) {
        const js = buckets[s1];
        if (js.length === 0) continue;
        rhoS.fill(0);
        rhoS[s1] = 1;
        const L = Td - 1;
        const t2 = sampleTrajectories(mdp, pi, { episodes: js.length, horizon: L, seed: rng.fork(), rho: rhoS });
        steps += taken(t2.lengths);
        for (let q = 0; q < js.length; q++) {
          const o = q * L;
          for (let t = 0; t < t2.lengths[q]; t++) {
            const i = t2.states[o + t] * A + t2.actions[o + t];
            const w = gp[t + 1];
            c[i] += w;
            if (per) per[js[q] * SA + i] += w;
          }
        }
      }
    }
    for (let j = 0; j < SA; j++) c[j] /= Md;
    mean.set(row, c);
    if (each && per) each.set(row, per);
  }
  return { mean, each, sampledSteps: steps, solves: 0, linearResidual: 0, linearConverged: true };
}

/** Steps the sampled episodes took (fewer than episodes × horizon when some ended at a terminal state). */
function taken(lengths: Int32Array): number {
  let n = 0;
  for (let e = 0; e < lengths.length; e++) n += lengths[e];
  return n;
}

export interface LowerDerivativeOptions {
  /** 'rollout' (default) or 'exact'. */
  mode?: DerivativeMode;
  /** M_d (default 32). */
  Md?: number;
  /** T_d (default ⌈log(1e-3)/log γ⌉). */
  Td?: number;
  /** Seed of the rollouts (default 0). */
  seed?: number;
  /** Also return per-entry standard errors of the rollout means (default false). */
  standardErrors?: boolean;
}

export interface LowerDerivatives {
  /** ∂Q/∂x under π, (S·A × n) row-major. */
  dQ: Float64Array;
  /** ∂V/∂x = Σ_a π(a|s) ∂Q(s,a)/∂x, (S × n). */
  dV: Float64Array;
  /** Standard errors of dQ and dV ('rollout' with standardErrors; zeros for 'exact'). */
  dQse?: Float64Array;
  dVse?: Float64Array;
  sampledSteps: number;
}

/**
 * ∂Q^π/∂x and ∂V^π/∂x, the values of the vector reward ∇_x r_x under π (Prop. 5.1; at π = π*_x
 * these are the derivatives ∂Q* and ∂V* of docs/math.md#fixed-point-derivative), by rollouts or exactly.
 */
export function lowerDerivatives(problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>, options: LowerDerivativeOptions = {}): LowerDerivatives {
  const xx = problem.checkX(x);
  if (problem.transitions) throw new DomainError("transitions", "lowerDerivatives differentiates the reward only (x-independent transitions)", "x-dependent");
  const { S, A } = problem.mdp;
  const SA = S * A, n = problem.n;
  const p = check.policy("pi", pi, S, A);
  const o = options ?? {};
  const mode = o.mode ?? "rollout";
  if (mode !== "rollout" && mode !== "exact") throw new DomainError("mode", "must be 'rollout' or 'exact'", mode);
  const Md = o.Md === undefined ? 32 : check.positiveInt("Md", o.Md);
  const Td = o.Td === undefined ? defaultTd(problem.mdp.gamma) : check.positiveInt("Td", o.Td);
  const seed = o.seed === undefined ? 0 : check.seed(o.seed);
  const rows = Array.from({ length: SA }, (_, i) => i);
  const se = !!o.standardErrors;
  const occ = occupancyRows(problem, p, rows, mode, Md, Td, seed, se && mode === "rollout");
  const J = problem.jacobianAt(xx).slice();
  const dQ = new Float64Array(SA * n), dV = new Float64Array(S * n);
  const proj = (c: Float64Array, out: Float64Array, off: number) => {
    for (let j = 0; j < SA; j++) {
      const cj = c[j];
      if (cj === 0) continue;
      for (let k = 0; k < n; k++) out[off + k] += cj * J[j * n + k];
    }
  };
  for (let i = 0; i < SA; i++) proj(occ.mean.get(i)!, dQ, i * n);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) {
    const w = p[s * A + a];
    for (let k = 0; k < n; k++) dV[s * n + k] += w * dQ[(s * A + a) * n + k];
  }
  const res: LowerDerivatives = { dQ, dV, sampledSteps: occ.sampledSteps };
  if (se) {
    const dQse = new Float64Array(SA * n), dVse = new Float64Array(S * n);
    if (occ.each) {
      const v = new Float64Array(n);
      const varQ = new Float64Array(SA * n);
      for (let i = 0; i < SA; i++) {
        const per = occ.each.get(i)!;
        for (let j = 0; j < Md; j++) {
          v.fill(0);
          proj(per.subarray(j * SA, j * SA + SA), v, 0);
          for (let k = 0; k < n; k++) varQ[i * n + k] += (v[k] - dQ[i * n + k]) ** 2;
        }
        for (let k = 0; k < n; k++) {
          varQ[i * n + k] = Md > 1 ? varQ[i * n + k] / (Md - 1) / Md : Infinity;
          dQse[i * n + k] = Math.sqrt(varQ[i * n + k]);
        }
      }
      // rows of different actions use independent rollouts
      for (let s = 0; s < S; s++) for (let k = 0; k < n; k++) {
        let acc = 0;
        for (let a = 0; a < A; a++) acc += p[s * A + a] ** 2 * varQ[(s * A + a) * n + k];
        dVse[s * n + k] = Math.sqrt(acc);
      }
    }
    res.dQse = dQse;
    res.dVse = dVse;
  }
  return res;
}
