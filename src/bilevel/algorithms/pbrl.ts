// PBRL, penalty-based bilevel RL (Shen, Yang & Chen, ICML 2024; docs/math.md#pbrl).
// Gradient descent on F_λ(x, π) = f(x, π) + λ·pen(x, π) jointly in x and the policy:
//   (value penalty)  π̂_k ← T warm-started soft PMD steps on J_τ(x_k, ·) (docs/math.md#policy-mirror-descent), or an exact solve;
//                    pen = ρᵀ(V^{π̂_k} − V^π), whose x-gradient is the Danskin form at π̂_k;
//   (Bellman penalty) pen = ρᵀ(LSE_τ(Q^π) − V^π): closed form, no inner RL (single loop);
//   x_{k+1} = Proj_X(x_k − α g_x),
//   π_{k+1} = Proj_Δ(π_k − α g_π) per state (Euclidean, Duchi et al. 2008)  or  θ_{k+1} = θ_k − α g_θ.
// α by backtracking on F_λ (sufficient decrease of the projected step), restarting every
// iteration at `alpha` = 1/(1+λ) by default, or fixed. With the value penalty each trial
// point x⁺ gets its own inner estimate (warm-started from π̂_k): judging trials with π̂_k
// frozen ignores the curvature of V*_x and made x zig-zag. When no trial passes (an inner
// estimate too rough for the step), nothing moves and the next iteration refines π̂.
// Gradient direction's step memory ('carry'): each search starts at twice the step accepted at the last
// iteration when that one passed at its first trial, else at the accepted step (the paper
// preset, 'reset', restarts every search at `alpha` = 1/(1+λ)); a search that found no
// decrease halves the next start. The backtracking test is the same either way, so F_λ still
// decreases at every accepted step; carrying the step lets it grow to the curvature of F_λ
// (from 1/(1+λ), 30 halvings never reach a larger step, and PBRL crawled on the GridWorld, E1
// and the shaping problem).
// Default direction with the value penalty and logits ('lbfgs'; docs/math.md#pbrl-lbfgs): F_λ is a
// valley, curvature ∝ λ across the curve (x, π_λ(x)) and O(1) along it, so the gradient step
// (per-block or spectral steps alike) crawled along it (incentive seed 0: gap 0.39 at K = 200).
// L-BFGS on z = (x, θ) learns the x–π coupling from the last 20 pairs (s, y) of moves and
// gradient changes; coordinates held at the bound x_i = 0 (g_i > 0) stay fixed; Armijo backtracking
// from the unit step (F_λ(z⁺) ≤ F_λ(z) + 10⁻⁴⟨g, z⁺ − z⟩, ⟨g, z⁺ − z⟩ < 0), so every accepted step
// still decreases F_λ; the pairs are dropped when λ changes or a search fails.
// Penalty weight (default 'adaptive' with the value penalty; docs/math.md#pbrl-lambda): F_λ's
// x-iterates follow the proxy Φ_{1/λ}, biased by O(1/λ), while F_λ's curvature grows like λ, and
// no fixed λ suits every problem (λ = 10 crawled on the shaping problem, λ = 1 let π leave the
// lower optimum on the Stackelberg and incentive problems). Once per stage (10 iterations) λ
// doubles when π's measured gain from leaving the lower optimum, f(x_k, π̂_k) − f(x_k, π_k),
// exceeds 0.2 of the decrease f(x_0, π̂_0) − f(x_k, π̂_k) made so far, and halves below a tenth of
// that; λ ∈ [λ_0/20, 10⁴λ_0], λ_0 = 10. Safe: λ is fixed within an iteration, so each accepted
// step still decreases that iteration's F_λ; λ moves by at most a factor 2 per stage, bounded.
// The Bellman penalty (no π̂) and the paper preset keep λ fixed.
// Convergence measure: ‖(x − P(x − g_x), g_policy)‖₂ + pen(x_k, π_k): the penalised problem's
// projected stationarity plus the penalty residual (both vanish at a solution of the
// penalised problem with the lower level met).
// History rows: f = f(x_k, π_k), penalty = pen(x_k, π_k), hnorm = ‖(g_x, g_policy)‖₂ (F_λ's
// gradient), lowerResidual = ‖LSE_τ(Q^{π_k}) − V^{π_k}‖∞ (π_k's soft Bellman residual).
import { DomainError } from "../../errors";
import type { LinearMethod } from "../../lower";
import * as check from "../../validate";
import { bellmanPenalty, evaluate, tableToLogits, valuePenalty, type PenaltyResult } from "../penalties";
import type { BilevelProblem } from "../problem";
import { solveLower, type LowerSolver } from "../lowerSolve";
import { algorithm, startX, stepSize, type StepInfo, parseProjection, projectX, type XProjection, type StateTag } from "./common";
import { exp, log } from "../../util/math";
import { ARMIJO, direction, initUpdate, updateParams, type UpdateOptions, type UpdateState } from "./update";
import { LINEAR, arr, byName, count, describe, int, nonNeg, num, oneOf, parsePreset, positive, presetParam, presetValue, solverParam, str } from "../../util/params";

const params = [
  presetParam,
  arr("pi0", "π_0 (S·A policy table).", { defaultText: "π*_{x_0}, by a lower solve at x_0 (paper preset: uniform)", length: "S·A", policy: true }),
  str("penalty", "Penalty.", ["value", "bellman"], { default: "value" }),
  num("lambda", "Penalty weight λ (λ_0 with the adaptive rule).", { default: 10, ...positive }),
  str("lambdaRule", "'adaptive': λ doubles or halves between stages by the penalty's measured bias (value penalty only); 'fixed': λ throughout.", ["adaptive", "fixed"], { defaultText: "'adaptive' with the value penalty, 'fixed' with the Bellman penalty", paper: "fixed" }),
  num("lambdaTol", "'adaptive': bias tolerance, as a share of the decrease of f(x, π̂) made so far (λ halves below a tenth of it).", { default: 0.2, exclusiveMinimum: 0 }),
  int("lambdaEvery", "'adaptive': iterations per stage (λ changes at most once per stage).", { default: 10, ...count }),
  num("alpha", "First trial step of each backtracking search, or the fixed step.", { defaultText: "1/(1+λ)", ...positive }),
  str("stepRule", "Step rule.", ["backtracking", "fixed"], { default: "backtracking" }),
  str("trialStep", "First trial of each search: 'carry' (2× or 1× the last accepted step) or 'reset' (always `alpha`).", ["carry", "reset"], { defaultText: "'carry' with the value penalty, 'reset' with the Bellman penalty", paper: "reset" }),
  str("direction", "Search direction of the backtracking step: 'lbfgs' (limited-memory BFGS on the joint (x, θ); logits only) or 'gradient' (−∇F_λ).", ["lbfgs", "gradient"], { defaultText: "'lbfgs' with the value penalty, logits, backtracking and the 'plain' update; else 'gradient'", paper: "gradient" }),
  int("memory", "'lbfgs': the number of (step, gradient change) pairs kept.", { default: 20, ...count }),
  num("shrink", "Backtracking shrink factor in (0, 1).", { default: 0.5, exclusiveMinimum: 0, exclusiveMaximum: 1 }),
  int("maxBacktracks", "Trials per search.", { default: 30, ...count }),
  str("param", "Policy parameterisation.", ["logits", "simplex"], { default: "logits" }),
  num("floor", "'simplex': lower bound on every π(a|s), < 1/A.", { defaultText: "1e-10 when τ > 0, else 0", ...nonNeg }),
  str("inner", "Value penalty: inner solver.", ["pmd", "exact"], { default: "pmd" }),
  int("T", "Value penalty: PMD steps per outer iteration.", { default: 5, ...count }),
  num("eta", "Value penalty: PMD step η.", { defaultText: "1/τ (1 when τ = 0)", ...positive }),
  num("innerTol", "Value penalty, inner 'exact': tolerance.", { default: 1e-10, ...positive }),
  solverParam,
  str("project", "Projection of x.", ["none", "nonnegative"], { default: "none" }),
  str("linear", "Linear solver of the evaluations.", LINEAR, { defaultText: "'lu' for S ≤ 500, else 'krylov'" }),
  ...updateParams,
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const pbrlInfo = describe({
  name: "pbrl",
  stepParam: "alpha",
  source: "docs/math.md#pbrl (seed 003)",
  description: "PBRL: joint (x, π) descent on the value or Bellman penalty F_λ, with backtracking.",
  needsSoft: false,
  needsTrajectory: false,
  params,
});

/** PBRL's penalty: the value penalty or the Bellman penalty. */
export type PenaltyKind = "value" | "bellman";
/** PBRL's policy variable: softmax logits or the policy table on the simplex. */
export type PolicyParam = "logits" | "simplex";
export type { XProjection } from "./common";

/** Options of `pbrl`. */
export interface PBRLOptions extends UpdateOptions {
  /** x_0 (default 0; projected when `project` is set). */
  x0?: ArrayLike<number>;
  /** π_0 (S·A; default π*_{x_0} by a lower solve when τ > 0, else uniform; paper: uniform). With 'logits' every entry must be > 0 (θ_0 = log π_0). */
  pi0?: ArrayLike<number>;
  /** 'value' (default) or 'bellman'. */
  penalty?: PenaltyKind;
  /** Penalty weight λ > 0 (default 10); with `lambdaRule: 'adaptive'` the start λ_0. */
  lambda?: number;
  /** 'adaptive' (default with the value penalty): λ doubles or halves between stages by the penalty's measured bias; 'fixed' (Bellman penalty, paper). */
  lambdaRule?: "adaptive" | "fixed";
  /** 'adaptive': the bias tolerance, a share of the decrease of f(x, π̂) made so far (default 0.2). */
  lambdaTol?: number;
  /** 'adaptive': iterations per stage; λ changes at most once per stage (default 10). */
  lambdaEvery?: number;
  /** First trial step of every backtracking search, or the fixed step (default 1/(1+λ)). */
  alpha?: number;
  /** 'backtracking' (default) or 'fixed'. */
  stepRule?: "backtracking" | "fixed";
  /** 'default' or 'paper' (every search restarts at `alpha`). */
  preset?: "default" | "paper";
  /** 'carry' (default): each search starts from the last accepted step (doubled after a first-trial pass); 'reset' (paper): from `alpha`. */
  trialStep?: "carry" | "reset";
  /** 'lbfgs' (default with the value penalty, logits, backtracking and update 'plain'): limited-memory BFGS direction on (x, θ); 'gradient' (paper): −∇F_λ. */
  direction?: "lbfgs" | "gradient";
  /** 'lbfgs': pairs kept (default 20). */
  memory?: number;
  /** Step shrink factor of the backtracking search, in (0, 1) (default 0.5). */
  shrink?: number;
  /** Trials per search before giving up on the iteration (no move; default 30). */
  maxBacktracks?: number;
  /** 'logits' (softmax, default) or 'simplex' (policy table, Euclidean projection per state). */
  param?: PolicyParam;
  /** 'simplex': lower bound on every π(a|s), 0 ≤ floor < 1/A (default 1e-10 when τ > 0, else 0). */
  floor?: number;
  /** Value penalty: inner lower-level solver, 'pmd' (default) or 'exact' (soft VI to `innerTol`). */
  inner?: "pmd" | "exact";
  /** Value penalty: PMD steps per outer iteration T (default 5). */
  T?: number;
  /** Value penalty: PMD step η (default 1/τ, or 1 when τ = 0). */
  eta?: number;
  /** Value penalty with inner 'exact': tolerance of the lower solve (default 1e-10). */
  innerTol?: number;
  /** Value penalty with inner 'exact': the lower solver (default 'value-iteration'). */
  solver?: LowerSolver;
  /** Projection of x: 'none' (default) or 'nonnegative' (e.g. incentive design). */
  project?: XProjection;
  /** Linear solver for the evaluations (default: 'lu' for S ≤ 500, else 'krylov'). */
  linear?: LinearMethod;
}

/** State of `pbrl` (plain data: JSON-safe). */
export interface PBRLState extends StateTag {
  k: number;
  x: number[];
  /** The policy variable: θ (full logits, S·A) for 'logits', the table π (S·A) for 'simplex'. */
  policy: number[];
  /** Value penalty: π̂, the inner iterate (warm start); [] for the Bellman penalty. */
  piHat: number[];
  /** Value penalty with inner 'exact': V̂* (warm start); [] otherwise. */
  Vhat: number[];
  penalty: PenaltyKind;
  /** λ_k, the penalty weight of iteration k. */
  lambda: number;
  /** The λ rule (absent in older states: 'fixed'). */
  lambdaRule?: "adaptive" | "fixed";
  /** 'adaptive': λ_0 (λ stays in [λ_0/20, 10⁴λ_0]). */
  lambda0?: number;
  lambdaTol?: number;
  lambdaEvery?: number;
  /** 'adaptive': f(x_0, π̂_0), set at the first iteration. */
  phiHat0?: number;
  /** 'adaptive': the iteration of λ's last change. */
  lambdaSince?: number;
  alpha: number;
  stepRule: "backtracking" | "fixed";
  trialStep: "carry" | "reset";
  /** 'carry': the next search's first trial. */
  nextAlpha: number;
  /** The update rule of the x part of the step (update.ts). */
  update: UpdateState;
  /** The search direction (absent in older states: 'gradient'). */
  direction?: "lbfgs" | "gradient";
  /** 'lbfgs': pairs kept. */
  memory?: number;
  /**
   * 'lbfgs': the pairs s = z_{j+1} − z_j, y = ∇F(z_{j+1}) − ∇F(z_j) of z = (x, θ), oldest first, the
   * last point z and its gradient g ([] after a search that found no decrease), and the λ they belong to.
   */
  lbfgs?: { s: number[][]; y: number[][]; z: number[]; g: number[]; lambda: number };
  shrink: number;
  maxBacktracks: number;
  param: PolicyParam;
  floor: number;
  inner: "pmd" | "exact";
  T: number;
  eta: number;
  innerTol: number;
  solver: LowerSolver;
  project: XProjection;
  linear?: LinearMethod;
  /** The step accepted at the last iteration (0 when the search found no decrease and nothing moved). */
  lastAlpha?: number;
  /** F_λ(x_k, π_k) at the last iteration (with π̂_k for the value penalty). */
  lastF?: number;
  last?: StepInfo;
}

/** The adaptive λ's range, relative to λ_0. */
const LAMBDA_MIN = 1 / 20, LAMBDA_MAX = 1e4;

/** PBRL: joint (x, π) descent on the value or Bellman penalty, with backtracking (docs/math.md#pbrl). */
export const pbrl = algorithm<PBRLOptions, PBRLState, "pbrl">(
  pbrlInfo,
  (problem, o) => {
    const { S, A } = problem.mdp;
    const tau = problem.tau;
    const penalty = oneOf(P.penalty, o.penalty);
    const lambda = stepSize("lambda", o.lambda, P.lambda.default);
    const stepRule = oneOf(P.stepRule, o.stepRule);
    const preset = parsePreset(o.preset);
    // the bias test needs π̂ (value penalty); the Bellman penalty keeps its λ
    const lambdaRule = oneOf(P.lambdaRule, presetValue(P.lambdaRule, o.lambdaRule, preset), penalty === "value" ? "adaptive" : "fixed");
    if (lambdaRule === "adaptive" && penalty !== "value") throw new DomainError("lambdaRule", "'adaptive' needs the value penalty (its bias test uses π̂): use 'fixed' with 'bellman'", lambdaRule);
    const lambdaTol = stepSize("lambdaTol", o.lambdaTol, P.lambdaTol.default);
    // carrying the step lets the Bellman penalty's search reach steps where F_λ still decreases
    // but the lower level is traded away (φ rose to 16 on a Stackelberg instance): reset there
    const trialStep = oneOf(P.trialStep, presetValue(P.trialStep, o.trialStep, preset), penalty === "value" ? "carry" : "reset");
    const param0 = oneOf(P.param, o.param);
    const plain = o.update === undefined || o.update === "plain";
    const dir = oneOf(P.direction, presetValue(P.direction, o.direction, preset), penalty === "value" && param0 === "logits" && stepRule === "backtracking" && plain ? "lbfgs" : "gradient");
    if (dir === "lbfgs" && !(param0 === "logits" && stepRule === "backtracking" && plain)) throw new DomainError("direction", "'lbfgs' needs param 'logits' (unconstrained θ), stepRule 'backtracking' and update 'plain'", dir);
    const shrink = o.shrink === undefined ? P.shrink.default : check.finiteNumber("shrink", o.shrink);
    if (!(shrink > 0 && shrink < 1)) throw new DomainError("shrink", "must lie in (0, 1)", shrink);
    const param = oneOf(P.param, o.param);
    const floor = o.floor === undefined ? (tau > 0 ? 1e-10 : 0) : check.nonNegative("floor", o.floor);
    if (!(floor * A < 1)) throw new DomainError("floor", `must satisfy 0 ≤ floor < 1/A = ${1 / A}`, floor);
    const inner = oneOf(P.inner, o.inner);
    const project = oneOf(P.project, o.project);
    const solver = oneOf(P.solver, o.solver);
    const x = startX(problem, o.x0);
    projectX(x, project);
    // π_0: the lower optimum at x_0 by default (from a uniform π_0 the penalty's x-gradient
    // first bends the lower problem towards π_0 instead of π towards π*_x), uniform in the paper preset
    const pi0 = o.pi0 !== undefined
      ? check.policy("pi0", o.pi0, S, A)
      : preset === "paper" || tau === 0 ? new Float64Array(S * A).fill(1 / A) : solveLower(problem, Float64Array.from(x), { tol: 1e-8, solver }).pi.map((p) => Math.max(p, 1e-300));
    let policy: number[];
    if (param === "logits") {
      policy = new Array(S * A);
      for (let i = 0; i < S * A; i++) {
        if (!(pi0[i] > 0)) throw new DomainError("pi0", "entries must be > 0 with 'logits' (θ_0 = log π_0)", pi0[i], { s: Math.floor(i / A), a: i % A });
        policy[i] = log(pi0[i]);
      }
    } else {
      const p = new Float64Array(S * A);
      projectPolicy(pi0, floor, S, A, p);
      policy = Array.from(p);
    }
    return {
      k: 0,
      x,
      policy,
      piHat: penalty === "value" ? (o.pi0 === undefined ? Array.from(pi0) : new Array(S * A).fill(1 / A)) : [],
      Vhat: penalty === "value" && inner === "exact" ? new Array(S).fill(0) : [],
      penalty,
      lambda,
      lambdaRule,
      lambda0: lambda,
      lambdaTol,
      lambdaEvery: o.lambdaEvery === undefined ? P.lambdaEvery.default : check.positiveInt("lambdaEvery", o.lambdaEvery),
      alpha: stepSize("alpha", o.alpha, 1 / (1 + lambda)),
      stepRule,
      trialStep,
      nextAlpha: stepSize("alpha", o.alpha, 1 / (1 + lambda)),
      update: initUpdate(o, problem.n),
      direction: dir,
      memory: o.memory === undefined ? P.memory.default : check.positiveInt("memory", o.memory),
      ...(dir === "lbfgs" ? { lbfgs: { s: [], y: [], z: [], g: [], lambda } } : {}),
      shrink,
      maxBacktracks: o.maxBacktracks === undefined ? P.maxBacktracks.default : check.positiveInt("maxBacktracks", o.maxBacktracks),
      param,
      floor,
      inner,
      T: o.T === undefined ? P.T.default : check.positiveInt("T", o.T),
      eta: stepSize("eta", o.eta, tau > 0 ? 1 / tau : 1),
      innerTol: stepSize("innerTol", o.innerTol, P.innerTol.default),
      solver,
      project,
      linear: o.linear,
    };
  },
  (problem, st) => {
    const { S, A } = problem.mdp;
    const x = Float64Array.from(st.x);
    const y = Float64Array.from(st.policy);
    const pi = policyOf(y, st.param, S, A);
    // inner estimate π̂_k of π*_{x_k} (value penalty)
    let inner = st.penalty === "value" ? innerAt(problem, x, st, Float64Array.from(st.piHat), st.Vhat) : undefined;
    const piHatK = inner ? Float64Array.from(inner.piHat) : undefined;
    const at = objective(problem, x, pi, st, inner?.piHat, true);
    const gx = at.gx!, gy = at.gy!;
    // projected step with backtracking on F_λ
    const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
    const dx = direction(update, gx, new Float64Array(gx.length));
    // 'lbfgs' (docs/math.md#pbrl-lbfgs): the quasi-Newton direction d = H g, searched from the
    // unit step with an Armijo test; 'gradient': d = g from the carried or reset step
    const qn = st.direction === "lbfgs" ? lbfgsDirection(st, x, y, gx, gy) : undefined;
    const dy = qn ? qn.dy : gy;
    if (qn) dx.set(qn.dx);
    const alpha0 = qn ? 1 : st.stepRule === "backtracking" && st.trialStep === "carry" ? st.nextAlpha : st.alpha;
    let alpha = alpha0, accepted = 0;
    let xn = x, yn = y;
    for (let b = 0; b <= st.maxBacktracks; b++) {
      const xt = new Float64Array(x.length);
      for (let k = 0; k < x.length; k++) xt[k] = x[k] - alpha * dx[k];
      projectX(xt, st.project);
      const yt = new Float64Array(y.length);
      for (let i = 0; i < y.length; i++) yt[i] = y[i] - alpha * dy[i];
      if (st.param === "simplex") projectPolicy(yt, st.floor, S, A, yt);
      if (st.stepRule === "fixed") {
        xn = xt; yn = yt; accepted = alpha;
        break;
      }
      // sufficient decrease: F(z⁺) ≤ F(z) + ⟨∇F, z⁺ − z⟩ + ‖z⁺ − z‖²/(2α)
      let lin = 0, sq = 0;
      for (let k = 0; k < x.length; k++) { const d = xt[k] - x[k]; lin += gx[k] * d; sq += d * d; }
      for (let i = 0; i < y.length; i++) { const d = yt[i] - y[i]; lin += gy[i] * d; sq += d * d; }
      if (sq === 0) { accepted = alpha; break; } // stationary for this projection
      if (qn && !(lin < 0)) { alpha *= st.shrink; continue; } // the projection turned the step uphill
      // value penalty: V*_{x⁺} re-estimated at the trial point (warm-started from π̂_k), since
      // the frozen V^{π̂_k}_x under-estimates the curvature of V*_x in x
      const innerT = inner ? innerAt(problem, xt, st, Float64Array.from(inner.piHat), inner.Vhat) : undefined;
      const trial = objective(problem, xt, policyOf(yt, st.param, S, A), st, innerT?.piHat, false);
      // 'lbfgs': Armijo, F(z⁺) ≤ F(z) + c⟨∇F, z⁺ − z⟩ with ⟨∇F, z⁺ − z⟩ < 0
      if (qn ? trial.F <= at.F + ARMIJO.c * lin : trial.F <= at.F + lin + sq / (2 * alpha)) {
        xn = xt; yn = yt; accepted = alpha;
        if (innerT) inner = innerT;
        break;
      }
      alpha *= st.shrink;
    }
    let hsq = 0, msq = 0;
    for (let k = 0; k < gx.length; k++) {
      hsq += gx[k] * gx[k];
      const y = st.project === "nonnegative" ? Math.max(x[k] - gx[k], 0) : x[k] - gx[k];
      msq += (x[k] - y) * (x[k] - y);
    }
    for (let i = 0; i < gy.length; i++) hsq += gy[i] * gy[i];
    for (let i = 0; i < gy.length; i++) msq += gy[i] * gy[i];
    // 'lbfgs': nextAlpha is the scale of H_0 when no pair is kept (halved after a failed search)
    let nextAlpha = qn ? (accepted === 0 ? 0.5 * qn.gamma : qn.gamma) : accepted === 0 ? 0.5 * alpha0 : accepted === alpha0 ? Math.min(2 * accepted, 1e6) : accepted;
    // adaptive λ (docs/math.md#pbrl-lambda): π lowers f by leaving the lower optimum, by
    // b_k = f(x_k, π̂_k) − f(x_k, π_k); once per stage, λ doubles when b_k > lambdaTol·Δ_k and
    // halves when b_k < lambdaTol·Δ_k/10, Δ_k = f(x_0, π̂_0) − f(x_k, π̂_k) the decrease made
    let lambda = st.lambda, phiHat0 = st.phiHat0, lambdaSince = st.lambdaSince ?? 0;
    if (st.lambdaRule === "adaptive" && piHatK) {
      const phiHat = problem.value(x, piHatK);
      if (phiHat0 === undefined) phiHat0 = phiHat;
      const bias = phiHat - at.f;
      const progress = Math.max(phiHat0 - phiHat, 0);
      const l0 = st.lambda0!;
      if (st.k - lambdaSince >= st.lambdaEvery!) {
        if (bias > st.lambdaTol! * progress && bias > 0) lambda = Math.min(2 * st.lambda, LAMBDA_MAX * l0);
        else if (bias < 0.1 * st.lambdaTol! * progress) lambda = Math.max(st.lambda / 2, LAMBDA_MIN * l0);
        if (lambda !== st.lambda) lambdaSince = st.k;
      }
    }
    // F_λ's curvature grows like λ: the carried step follows 1/(1+λ)
    nextAlpha *= (1 + st.lambda) / (1 + lambda);
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(xn),
      policy: Array.from(yn),
      piHat: inner ? Array.from(inner.piHat) : st.piHat,
      Vhat: inner ? inner.Vhat : st.Vhat,
      lastAlpha: accepted,
      ...(qn ? { lbfgs: accepted === 0 ? { s: [], y: [], z: [], g: [], lambda: st.lambda } : { s: qn.pairs.s, y: qn.pairs.y, z: [...x, ...y], g: [...gx, ...gy], lambda: st.lambda } } : {}),
      nextAlpha,
      lambda,
      ...(phiHat0 !== undefined ? { phiHat0, lambdaSince } : {}),
      update,
      lastF: at.F,
      last: { f: at.f, hnorm: Math.sqrt(hsq), lowerResidual: at.residual, penalty: at.pen, measure: Math.sqrt(msq) + Math.abs(at.pen) },
    };
  },
);

/**
 * The L-BFGS direction d = H_k g of F_λ on z = (x, θ) (docs/math.md#pbrl-lbfgs; Nocedal & Wright,
 * Numerical Optimization, Algorithm 7.4, two-loop recursion): the pair (z_k − z_{k−1},
 * g_k − g_{k−1}) joins the kept ones when its curvature sᵀy is positive; the pairs are dropped when
 * λ changed (F_λ is another function) or the last search failed. H_0 = γI with γ = sᵀy/yᵀy of the
 * newest pair, else `nextAlpha`. With x ≥ 0, the coordinates held at the bound (x_i = 0, g_i > 0)
 * are fixed: d_i = 0 there and the recursion runs on the others.
 */
function lbfgsDirection(st: PBRLState, x: Float64Array, y: Float64Array, gx: Float64Array, gy: Float64Array): { dx: Float64Array; dy: Float64Array; gamma: number; pairs: { s: number[][]; y: number[][] } } {
  const n = x.length, N = n + y.length;
  const prev = st.lbfgs;
  const same = prev !== undefined && prev.lambda === st.lambda;
  const S = same ? prev.s.slice() : [], Y = same ? prev.y.slice() : [];
  if (same && prev.z.length === N) {
    const s = new Array<number>(N), v = new Array<number>(N);
    let sy = 0, ss = 0, yy = 0;
    for (let i = 0; i < N; i++) {
      s[i] = (i < n ? x[i] : y[i - n]) - prev.z[i];
      v[i] = (i < n ? gx[i] : gy[i - n]) - prev.g[i];
      sy += s[i] * v[i]; ss += s[i] * s[i]; yy += v[i] * v[i];
    }
    // curvature condition (BFGS keeps H positive definite only with sᵀy > 0)
    if (sy > 1e-10 * Math.sqrt(ss * yy)) {
      S.push(s); Y.push(v);
      if (S.length > st.memory!) { S.shift(); Y.shift(); }
    }
  }
  const free = new Uint8Array(N).fill(1);
  if (st.project === "nonnegative") for (let k = 0; k < n; k++) if (x[k] <= 0 && gx[k] > 0) free[k] = 0;
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let t = 0;
    for (let i = 0; i < N; i++) if (free[i]) t += a[i] * b[i];
    return t;
  };
  const q = new Float64Array(N);
  for (let i = 0; i < N; i++) q[i] = free[i] ? (i < n ? gx[i] : gy[i - n]) : 0;
  const m = S.length, a = new Float64Array(m), rho = new Float64Array(m);
  for (let j = m - 1; j >= 0; j--) {
    const sy = dot(S[j], Y[j]);
    rho[j] = sy > 0 ? 1 / sy : 0; // a pair without curvature on the free coordinates is skipped
    a[j] = rho[j] * dot(S[j], q);
    for (let i = 0; i < N; i++) if (free[i]) q[i] -= a[j] * Y[j][i];
  }
  let gamma = st.nextAlpha;
  for (let j = m - 1; j >= 0; j--) {
    const sy = dot(S[j], Y[j]), yy = dot(Y[j], Y[j]);
    if (sy > 0 && yy > 0) { gamma = sy / yy; break; }
  }
  for (let i = 0; i < N; i++) q[i] *= gamma;
  for (let j = 0; j < m; j++) {
    const b = rho[j] * dot(Y[j], q);
    for (let i = 0; i < N; i++) if (free[i]) q[i] += (a[j] - b) * S[j][i];
  }
  return { dx: q.slice(0, n), dy: q.slice(n), gamma, pairs: { s: S, y: Y } };
}

/** π for the state's policy variable: row-wise softmax(θ) or the table itself. */
export function pbrlPolicy(state: Pick<PBRLState, "policy" | "param">, S: number, A: number): Float64Array {
  return policyOf(Float64Array.from(state.policy), state.param, S, A);
}

interface Objective {
  F: number;
  f: number;
  pen: number;
  residual: number;
  gx?: Float64Array;
  gy?: Float64Array;
}

/** F_λ = f + λ pen at (x, π) and, when asked, its gradient in x and in the policy variable. */
function objective(problem: BilevelProblem, x: Float64Array, pi: Float64Array, st: PBRLState, piHat: Float64Array | undefined, gradient: boolean): Objective {
  const { S, A } = problem.mdp;
  const pen: PenaltyResult = st.penalty === "value"
    ? valuePenalty(problem, x, pi, { star: piHat, gradient, linear: st.linear })
    : bellmanPenalty(problem, x, pi, { gradient, linear: st.linear });
  // after the penalty: it has moved x-dependent transitions to P_x
  const f = problem.value(x, pi);
  const out: Objective = { F: f + st.lambda * pen.value, f, pen: pen.value, residual: pen.residual };
  if (!gradient) return out;
  const gx = problem.gradX(x, pi);
  for (let k = 0; k < gx.length; k++) gx[k] += st.lambda * pen.gradX![k];
  const gPi = problem.gradPi(x, pi);
  for (let i = 0; i < gPi.length; i++) gPi[i] += st.lambda * pen.gradPi![i];
  out.gx = gx;
  out.gy = st.param === "logits" ? tableToLogits(pi, gPi, S, A) : gPi;
  return out;
}

/** The inner estimate π̂ of π*_x: T PMD steps or a tight solve, warm-started. */
function innerAt(problem: BilevelProblem, x: Float64Array, st: PBRLState, piHat: Float64Array, Vhat: number[]): { piHat: Float64Array; Vhat: number[] } {
  if (st.inner === "pmd") {
    const r = problem.rewardAt(x);
    problem.moveTo(x);
    return { piHat: pmdSteps(problem, r, piHat, st.T, st.eta, st.linear), Vhat };
  }
  const low = solveLower(problem, x, { solver: st.solver, tol: st.innerTol, V0: Vhat, linear: st.linear });
  return { piHat: low.pi, Vhat: Array.from(low.V) };
}

/**
 * T soft PMD steps (docs/math.md#policy-mirror-descent) from π̂ at reward r:
 * π̂(·|s) ∝ exp((log π̂(·|s) + η Q^{π̂}(s,·)) / (1 + ητ)), each after one soft evaluation.
 */
function pmdSteps(problem: BilevelProblem, r: Float64Array, piHat: Float64Array, T: number, eta: number, linear?: LinearMethod): Float64Array {
  const { S, A } = problem.mdp;
  const c = 1 / (1 + eta * problem.tau);
  const l = new Float64Array(A);
  for (let t = 0; t < T; t++) {
    const { Q } = evaluate(problem, r, piHat, linear);
    for (let s = 0; s < S; s++) {
      const off = s * A;
      let m = -Infinity;
      for (let a = 0; a < A; a++) {
        l[a] = (log(piHat[off + a]) + eta * Q[off + a]) * c;
        if (l[a] > m) m = l[a];
      }
      let z = 0;
      for (let a = 0; a < A; a++) z += (piHat[off + a] = exp(l[a] - m));
      for (let a = 0; a < A; a++) piHat[off + a] /= z;
    }
  }
  return piHat;
}

function policyOf(y: Float64Array, param: PolicyParam, S: number, A: number): Float64Array {
  if (param === "simplex") return y;
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    const off = s * A;
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, y[off + a]);
    let z = 0;
    for (let a = 0; a < A; a++) z += (pi[off + a] = exp(y[off + a] - m));
    for (let a = 0; a < A; a++) pi[off + a] /= z;
  }
  return pi;
}

/** Per state: the closest point of {π(·|s) ≥ floor, Σ_a π(a|s) = 1} (= floor + Proj_{Δ(1 − A·floor)}(v − floor)). */
function projectPolicy(v: Float64Array, floor: number, S: number, A: number, out: Float64Array): void {
  const row = new Float64Array(A), tmp = new Float64Array(A);
  const z = 1 - A * floor;
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) row[a] = v[s * A + a] - floor;
    projectRow(row, z, tmp, row);
    for (let a = 0; a < A; a++) out[s * A + a] = row[a] + floor;
  }
}

/**
 * Euclidean projection onto the simplex {w ≥ 0, Σw = z} (Duchi, Shalev-Shwartz, Singer &
 * Chandra, ICML 2008, Fig. 1; sort-based, O(n log n)): w = max(v − θ, 0) with the θ that
 * makes Σw = z. v (length n) must be finite and z > 0. Returns out (a new array by default;
 * out may be v itself).
 */
export function projectSimplex(v: ArrayLike<number>, z = 1, out?: Float64Array): Float64Array {
  const vv = check.float64("v", v, (v as ArrayLike<number>)?.length ?? -1);
  if (vv.length === 0) throw new DomainError("v", "must have at least one entry", 0);
  const zz = check.finiteNumber("z", z);
  if (!(zz > 0)) throw new DomainError("z", "must be > 0", z);
  const o = out ?? new Float64Array(vv.length);
  if (o.length !== vv.length) throw new DomainError("out", `must have length ${vv.length}`, o.length);
  return projectRow(vv, zz, new Float64Array(vv.length), o);
}

/** projectSimplex without checks; tmp is scratch of the same length. */
function projectRow(v: Float64Array, z: number, tmp: Float64Array, out: Float64Array): Float64Array {
  const n = v.length;
  tmp.set(v);
  tmp.sort();
  // descending scan: the largest j with u_j − (Σ_{i≤j} u_i − z)/j > 0
  let cum = 0, theta = 0;
  for (let j = 1; j <= n; j++) {
    const u = tmp[n - j];
    cum += u;
    const t = (cum - z) / j;
    if (u - t > 0) theta = t;
  }
  for (let i = 0; i < n; i++) out[i] = Math.max(v[i] - theta, 0);
  return out;
}
