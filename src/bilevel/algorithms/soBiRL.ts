// SoBiRL, the model-free soft bilevel method (SoBiRL paper, Algorithm 2;
// docs/math.md#sobirl). Per outer iteration k:
//   1. T warm-started soft policy-mirror-descent steps at x_k (docs/math.md#policy-mirror-descent):
//        π(·|s) ← normalise( π(·|s)^{1/(1+ητ)} exp(η Q^π(s,·)/(1+ητ)) ),
//      with the soft Q^π exact (one policy evaluation, the tabular default) or by Monte-Carlo
//      rollouts (M_q per state-action pair, truncated at T_q);
//   2. ∂Q̂, ∂V̂ under π_k by rollouts (Prop. 5.1) or exactly;
//   3. the Monte-Carlo hypergradient of eq. (15) over M_u groups with a baseline;
//   4. x_{k+1} = x_k − β ĝ_k.
// The trajectory objective comes from the problem: build it with
// `upper: trajectoryUpper(objective, reward)`. The state is plain data, including the four
// words of the generator, so a state resumed from JSON continues the same trajectory.
// Step (default): Adam on ĝ_k with β = 0.05 (docs/math.md#sobirl-step). The estimate is sampled,
// so no merit is available to backtrack on, and its scale is not informative: on the incentive
// problem (a return of 88 steps of N(0, 1) rewards at τ = 0.1) ‖ĝ_k‖ is 2–3× ‖∇φ‖ with cos ≈ 0.4
// to it, and the paper's plain x − 0.1ĝ_k climbs φ. Adam's per-coordinate normalisation makes
// the move per iteration about β in each coordinate whatever the gradient's scale (|m̂/√v̂| ≤ 1
// up to the bias corrections), and its first moment averages the noise over ~1/(1−β₁) = 10
// iterations. Preset 'paper': the plain constant β = 0.1 of the paper (its theory takes
// constant steps) and the earlier 64 groups. Groups M_u = 128 (docs/math.md#sobirl-groups): at
// a constant step the iterate wanders about the descent path by an amount set by the estimate's
// variance; 64 groups left
// incentive seed 0 swinging between φ = −1.2 and −2.4 over iterations 100–300, 128 keep it
// within −2.22…−2.49. Convergence measure: ‖ĝ_k‖₂ (a sampled estimate: use stopTol with care).
// History rows: f is the Monte-Carlo mean loss of the iteration's groups (an estimate of
// f(x_k, π_k)); lowerResidual is τ·KL(π ‖ softmax(Q^π/τ)) (max over states) of the last
// policy the inner loop evaluated, 0 exactly at π*_{x_k}.
import { DomainError } from "../../errors";
import { policyEvaluation } from "../../lower";
import { Rng } from "../../util/random";
import * as check from "../../validate";
import { defaultTd, estimateAt, occupancyRows, parseModelFree, requireModelFree, type DerivativeMode } from "../modelFree";
import type { BilevelProblem } from "../problem";
import { algorithm, norm2, startX, stepSize, type StepInfo, type StateTag } from "./common";
import { exp, log } from "../../util/math";
import { arr, byName, count, describe, int, num, oneOf, parsePreset, positive, presetParam, presetValue, seedParam, str } from "../../util/params";
import { direction, initUpdate, updateParamsWith, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  arr("pi0", "π_{−1}, the first warm start of the inner loop (S·A policy table).", { defaultText: "uniform", length: "S·A", policy: true }),
  num("beta", "Upper step β (with the default Adam update: about the move per iteration in each coordinate).", { default: 0.05, paper: 0.1, ...positive }),
  num("eta", "PMD step η.", { defaultText: "1/τ", ...positive }),
  int("T", "PMD steps per outer iteration.", { default: 5, ...count }),
  str("evaluation", "Soft Q inside PMD.", ["exact", "monte-carlo"], { default: "exact" }),
  int("Mq", "Rollouts per (s, a) of the Monte-Carlo soft Q.", { default: 32, ...count }),
  int("Tq", "Truncation of those rollouts.", { defaultText: "⌈log(1e-3)/log γ⌉", ...count }),
  int("groups", "M_u, groups per hypergradient.", { default: 128, paper: 64, ...count }),
  str("derivative", "∂Q̂, ∂V̂ by rollouts or exactly.", ["rollout", "exact"], { default: "rollout" }),
  int("Md", "M_d, rollouts of the derivative estimates.", { default: 32, ...count }),
  int("Td", "T_d, their truncation.", { defaultText: "⌈log(1e-3)/log γ⌉", ...count }),
  str("baseline", "Baseline of the score-function term.", ["running", "leave-one-out", "split", "none"], { default: "running" }),
  num("baselineDecay", "Decay of the running-mean baseline.", { default: 0.9, minimum: 0, exclusiveMaximum: 1 }),
  seedParam("every draw"),
  ...updateParamsWith({ update: "adam", paper: "plain" }),
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const soBiRLInfo = describe({
  name: "soBiRL",
  stepParam: "beta",
  source: "docs/math.md#sobirl (SoBiRL paper, Alg. 2)",
  description: "SoBiRL, model-free: T soft policy-mirror-descent steps, then the Monte-Carlo hypergradient of eq. (15).",
  needsSoft: true,
  needsTrajectory: true,
  params,
});

/** Baseline of SoBiRL's hypergradient estimates (see `SoBiRLOptions.baseline`). */
export type SoBiRLBaseline = "running" | "leave-one-out" | "split" | "none";

/** Options of `soBiRL`. */
export interface SoBiRLOptions extends UpdateOptions {
  /** 'default' (Adam with β = 0.05) or 'paper' (plain steps with the paper's β = 0.1). */
  preset?: "default" | "paper";
  /** x_0 (default 0). */
  x0?: ArrayLike<number>;
  /** π_{−1}, the first warm start of the inner loop (default uniform). */
  pi0?: ArrayLike<number>;
  /** Upper step β (default 0.05 with the default update 'adam'; preset 'paper': 0.1 with 'plain'). */
  beta?: number;
  /** PMD step η (default 1/τ, so 1/(1+ητ) = ½). */
  eta?: number;
  /** PMD steps per outer iteration T (default 5). */
  T?: number;
  /** Soft evaluation inside PMD: 'exact' (one linear solve; default) or 'monte-carlo'. */
  evaluation?: "exact" | "monte-carlo";
  /** Rollouts per state-action pair for the Monte-Carlo soft Q (default 32). */
  Mq?: number;
  /** Truncation of those rollouts (default ⌈log(1e-3)/log γ⌉). */
  Tq?: number;
  /** M_u, groups per hypergradient (default 128, docs/math.md#sobirl-groups; paper preset 64). */
  groups?: number;
  /** ∂Q̂, ∂V̂ by 'rollout' (default) or 'exact'. */
  derivative?: DerivativeMode;
  /** M_d (default 32). */
  Md?: number;
  /** T_d (default ⌈log(1e-3)/log γ⌉). */
  Td?: number;
  /**
   * 'running' (default): b = exponential running mean of the past iterations' mean losses
   * (fixed before the iteration samples, so unbiased; leave-one-out at k = 0);
   * or any baseline of modelFreeHypergradient.
   */
  baseline?: SoBiRLBaseline;
  /** Decay of the running mean (default 0.9). */
  baselineDecay?: number;
  /** Seed of every draw (default 0). */
  seed?: number;
}

/** State of `soBiRL` (plain data: JSON-safe). */
export interface SoBiRLState extends StateTag {
  /** The update rule and its state (update.ts). */
  update: UpdateState;
  k: number;
  x: number[];
  /** π_{k−1}: the warm start of the next inner loop (S·A). */
  pi: number[];
  /** xoshiro128** state words of the host generator. */
  rng: number[];
  beta: number;
  eta: number;
  T: number;
  evaluation: "exact" | "monte-carlo";
  Mq: number;
  Tq: number;
  groups: number;
  derivative: DerivativeMode;
  Md: number;
  Td: number;
  baseline: SoBiRLBaseline;
  baselineDecay: number;
  /** Running mean of the losses (null before the first iteration). */
  runningMean: number | null;
  last?: StepInfo;
}

/** SoBiRL, model-free: T soft policy-mirror-descent steps, then a Monte-Carlo hypergradient on trajectory objectives (docs/math.md#sobirl). */
export const soBiRL = algorithm<SoBiRLOptions, SoBiRLState, "soBiRL">(
  soBiRLInfo,
  (problem, o) => {
    requireModelFree(problem, "SoBiRL");
    const { S, A, gamma } = problem.mdp;
    const evaluation = oneOf(P.evaluation, o.evaluation);
    const baseline = oneOf(P.baseline, o.baseline);
    const baselineDecay = o.baselineDecay === undefined ? P.baselineDecay.default : check.nonNegative("baselineDecay", o.baselineDecay);
    if (baselineDecay >= 1) throw new DomainError("baselineDecay", "must lie in [0, 1)", baselineDecay);
    // validate the sampling settings (and that the problem carries a trajectory objective)
    const preset = parsePreset(o.preset);
    const mf = parseModelFree(problem, { groups: presetValue(P.groups, o.groups, preset) as number, derivative: o.derivative ?? P.derivative.default, Md: o.Md === undefined ? P.Md.default : o.Md, Td: o.Td, baseline: baseline === "running" ? "none" : baseline });
    const pi = o.pi0 === undefined ? new Array(S * A).fill(1 / A) : Array.from(check.policy("pi0", o.pi0, S, A));
    return {
      k: 0,
      x: startX(problem, o.x0),
      pi,
      rng: [...new Rng(o.seed === undefined ? 0 : check.seed(o.seed)).s],
      beta: stepSize("beta", presetValue(P.beta, o.beta, preset), P.beta.default),
      eta: stepSize("eta", o.eta, 1 / problem.tau),
      T: o.T === undefined ? P.T.default : check.positiveInt("T", o.T),
      evaluation,
      Mq: o.Mq === undefined ? P.Mq.default : check.positiveInt("Mq", o.Mq),
      Tq: o.Tq === undefined ? defaultTd(gamma) : check.positiveInt("Tq", o.Tq),
      groups: mf.groups,
      derivative: mf.derivative,
      Md: mf.Md,
      Td: mf.Td,
      baseline,
      baselineDecay,
      runningMean: null,
      update: initUpdate({ ...o, update: presetValue(P.update, o.update, preset) as UpdateOptions["update"] }, problem.n),
    };
  },
  (problem, st) => {
    requireModelFree(problem, "SoBiRL");
    const { mdp, tau } = problem;
    const { S, A } = mdp;
    const x = problem.checkX(Float64Array.from(st.x));
    const pi = check.policy("state.pi", Float64Array.from(st.pi), S, A);
    if (!Array.isArray(st.rng) || st.rng.length !== 4) throw new DomainError("state.rng", "must hold the 4 generator words", st.rng);
    const rng = new Rng(st.rng as [number, number, number, number]);
    // 1. inner loop: T soft PMD steps at x_k, warm-started from π_{k−1}
    const r = problem.rewardAt(x);
    problem.moveTo(x);
    let residual = Infinity;
    const keep = 1 / (1 + st.eta * tau), gain = st.eta / (1 + st.eta * tau);
    const allRows = Array.from({ length: S * A }, (_, i) => i);
    for (let t = 0; t < st.T; t++) {
      let Q: Float64Array;
      if (st.evaluation === "exact") {
        Q = policyEvaluation(mdp, r, pi, { tau }).Q;
      } else {
        Q = monteCarloSoftQ(problem, r, pi, allRows, st.Mq, st.Tq, rng.fork());
      }
      residual = softResidual(Q, pi, S, A, tau);
      // log π ← (log π + η Q)/(1 + ητ), normalised
      for (let s = 0; s < S; s++) {
        const o = s * A;
        let m = -Infinity;
        const logits = new Float64Array(A);
        for (let a = 0; a < A; a++) {
          logits[a] = pi[o + a] > 0 ? keep * log(pi[o + a]) + gain * Q[o + a] : -Infinity;
          m = Math.max(m, logits[a]);
        }
        let z = 0;
        for (let a = 0; a < A; a++) z += (logits[a] = exp(logits[a] - m));
        for (let a = 0; a < A; a++) pi[o + a] = logits[a] / z;
      }
    }
    // 2.–3. derivatives and the Monte-Carlo hypergradient under π_k
    let baseline: "leave-one-out" | "split" | "none" | number;
    if (st.baseline === "running") baseline = st.runningMean ?? (st.groups >= 2 ? "leave-one-out" : "none");
    else baseline = st.baseline;
    const mf = parseModelFree(problem, { groups: st.groups, derivative: st.derivative, Md: st.Md, Td: st.Td, baseline });
    const est = estimateAt(problem, x, pi, mf, rng.fork());
    // 4. x step (the update rule's direction; plain: ĝ_k)
    const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
    const d = direction(update, est.grad, new Float64Array(x.length));
    for (let k = 0; k < x.length; k++) x[k] -= st.beta * d[k];
    const runningMean = st.runningMean === null ? est.value : st.baselineDecay * st.runningMean + (1 - st.baselineDecay) * est.value;
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(x),
      pi: Array.from(pi),
      rng: [...rng.s],
      runningMean,
      update,
      last: { f: est.value, hnorm: norm2(est.grad), lowerResidual: residual },
    };
  },
);

/**
 * Soft Q^π by rollouts: with c_{s,a} the Monte-Carlo discounted occupancy from (s,a) and the
 * soft reward r̃ = r − τ log π (no entropy term at t = 0 of Q),
 *   Q̂(s,a) = c_{s,a} · r̃ + τ log π(a|s).
 */
function monteCarloSoftQ(problem: BilevelProblem, r: Float64Array, pi: Float64Array, rows: number[], M: number, T: number, seed: number): Float64Array {
  const { S, A } = problem.mdp;
  const SA = S * A, tau = problem.tau;
  const soft = new Float64Array(SA);
  for (let i = 0; i < SA; i++) soft[i] = pi[i] > 0 ? r[i] - tau * log(pi[i]) : r[i];
  const occ = occupancyRows(problem, pi, rows, "rollout", M, T, seed, false);
  const Q = new Float64Array(SA);
  for (const i of rows) {
    const c = occ.mean.get(i)!;
    let acc = 0;
    for (let j = 0; j < SA; j++) acc += c[j] * soft[j];
    Q[i] = acc - (soft[i] - r[i]);
  }
  return Q;
}

/** max_s |τ log Σ_a exp(Q(s,a)/τ) − Σ_a π(a|s)(Q(s,a) − τ log π(a|s))|: zero exactly at π*. */
function softResidual(Q: Float64Array, pi: Float64Array, S: number, A: number, tau: number): number {
  let res = 0;
  for (let s = 0; s < S; s++) {
    const o = s * A;
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, Q[o + a]);
    let z = 0, v = 0;
    for (let a = 0; a < A; a++) {
      z += exp((Q[o + a] - m) / tau);
      const p = pi[o + a];
      if (p > 0) v += p * (Q[o + a] - tau * log(p));
    }
    res = Math.max(res, Math.abs(m + tau * log(z) - v));
  }
  return res;
}
