// M-SoBiRL, the model-based soft bilevel method (SoBiRL paper, Algorithm 1;
// docs/math.md#m-sobirl). Per outer iteration: one least-squares gradient step on w
// (tracking (I − γP_π)^{-T} Uᵀ v without a solve), the hypergradient estimate, an
// x step, then N warm-started soft Bellman sweeps at the new x.
//
// Defaults (the paper preset restores the authors' E1 settings: β = 8e-3 fixed, one
// least-squares w step with ζ = 0.5, N = 10, w_0 ~ N(0, I)):
//   * w tracking: `wSteps` = ⌈1/(1−γ)⌉ Richardson steps w ← b + γP_πᵀw per iteration, from
//     w_0 = 0. Richardson contracts the error by γ per step in the weighted ‖·‖ of P_πᵀ (‖·‖₁),
//     so the error shrinks by γ^{⌈1/(1−γ)⌉} ≤ e^{−1} per iteration at every γ; the least-squares
//     step contracts only like 1 − ζσ_min(I − γP_π)² (≈ 0.995 at γ = 0.9), so ĥ lags ∇φ by
//     hundreds of iterations and points uphill (the shaping blow-up). Cost: one product with
//     P_πᵀ per w step, the price of a Bellman sweep.
//   * lower tracking: N = max(10, ⌈1/(1−γ)⌉) sweeps (early stop 1e-6), for the same reason.
//   * the merit test (stepRules 'spectral' and 'adaptive'): a safeguard on the merit the method
//     computes anyway, f_k = f(x_k, π_k). While the sweeps have not kept up with x (their bound
//     γ‖ΔV‖∞/(1−γ) on ‖V − V*‖∞ exceeds 0.2τ, i.e. the logits Q/τ of π may be off by more than
//     0.2; and at k = 0, before any sweep), f_k says nothing about φ(x_k): x waits, and β halves
//     once if a step caused the lag. Otherwise f_k is compared with a nonmonotone reference, the
//     largest merit at the last 5 points x stepped from (Grippo, Lampariello & Lucidi, SIAM J.
//     Numer. Anal. 1986): not above it, x_k is accepted and x steps from it; above it, x_k is
//     rejected: the step is retaken from x_{k−1} (tested like any other), and if that fails too x
//     returns to x_{k−1} (β/2) and steps along a fresh ĥ. Safe: only points whose merit passed the
//     test enter the reference, so it never rises; a rejection costs one or two iterations; no φ
//     evaluation, no solve (the method stays solve-free). Why nonmonotone: φ can carry a bounded
//     ripple of high curvature on a well-scaled trend (E1: ½‖x‖² plus a policy term in [1, S/2]);
//     with memory 1 β halved at every ripple and settled at 2–5e-3, far below the steps exact
//     descent's Armijo search accepts there (E1 seeds 0, 1: φ = 15.0, 19.3 after 200 iterations;
//     memory 5: 1.000 on seeds 0–31; memory 10 failed on seed 9). Why the retake is tested:
//     accepted untested, it let the merit ratchet up when ĥ was poor after a jump (incentive seed 1
//     with exact sweeps: merits 2.2 → 1700); retaken until a test passed, it stalled where d_{k−1}
//     did not descend (E1 seed 23: β → 1e-52).
//   * step (stepRule 'spectral', docs/math.md#m-sobirl-spectral): from β_0 = 1 (halved by the wait at
//     k = 0, so the first move is ½ĥ_0), after a pass the
//     Barzilai–Borwein step sᵀs/sᵀy of the move from x_{k−1} (update.ts spectralStep: ≤ 4β, 2β
//     without positive curvature), not above the halved β after a lag; a rejected move s is
//     retaken at the fraction θ ∈ [0.1, 0.5] of it that minimises the quadratic through f_{k−1},
//     ⟨ĥ_{k−1}, s⟩ and the rejected merit (SPG2's safeguarded interpolation). Why: the secant step
//     follows φ's curvature along the path and crosses the plateaus where ×1.25 growth crawled
//     (happyText: φ 0.435 at K = 200, adaptive 0.507); a rejection costs M-SoBiRL an iteration, so
//     the retake interpolates (plain halving: 0.461).
//   * step (stepRule 'adaptive'): from β_0 = 1e-2, β ×1.25 after a pass; a rejected step is
//     retaken at β/2 along d_{k−1}.
//   * result: a step's merit is tested at the next iteration, so while x_K is an untested trial a
//     run returns the last accepted point, the one the last step left from (`result()`;
//     docs/math.md#stopping).
// Convergence measure: ‖x − P(x − ĥ)‖₂ (‖ĥ‖₂ without a projection).
import { DomainError } from "../../errors";
import { bellmanSweeps, ppi } from "../../wasm/routines/index";
import { combine, uTranspose, type CombineBuffers } from "../hypergradient";
import * as check from "../../validate";
import { Rng } from "../../util/random";
import type { BilevelProblem } from "../problem";
import type { TabularMDP } from "../../mdp";
import { norm2, parseProjection, projectX, startX, stepSize, steppedAlgorithm, type StepInfo, type Stepper, type XProjection, type StateTag } from "./common";
import { rowSoftmax } from "../../util/softmax";
import { arr, byName, count, describe, int, nonNeg, num, oneOf, parsePreset, positive, presetOneOf, presetParam, presetValue, seedParam, str } from "../../util/params";
import { ARMIJO, direction, gradientMapping, initUpdate, spectralStep, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  arr("w0", "w_0 (length S).", { defaultText: "0 (paper: N(0, I_S) drawn with seed)", length: "S" }),
  num("beta", "Upper step β: the fixed step, or β_0 of the spectral or adaptive rule.", { defaultText: "1 ('spectral'), 1e-2 ('adaptive')", paper: 8e-3, ...positive }),
  str("stepRule", "'spectral': after a merit f(x_k, π_k) within the largest of the last 5, the Barzilai–Borwein step of the last move (≤ 4×, ≤ 1× after a lag of the sweeps); above it, the step is retaken at an interpolated fraction; 'adaptive': the same test, β ×1.25 after a pass and halved on a rejection; 'fixed': the constant β.", ["spectral", "adaptive", "fixed"], { default: "spectral", paper: "fixed" }),
  num("zeta", "Step ζ of the least-squares w iteration.", { default: 0.5, ...positive }),
  int("N", "Soft Bellman sweeps per outer iteration.", { defaultText: "max(10, ⌈1/(1−γ)⌉)", paper: 10, ...count }),
  int("wSteps", "w steps per outer iteration.", { defaultText: "⌈1/(1−γ)⌉", paper: 1, ...count }),
  num("earlyStop", "Stop the sweeps when ‖ΔV‖∞ < earlyStop (0 = never).", { default: 1e-6, ...nonNeg }),
  str("wStep", "'least-squares' (the paper's) or 'richardson' (w ← b + γP_πᵀw).", ["least-squares", "richardson"], { default: "richardson", paper: "least-squares" }),
  seedParam("w_0"),
  str("project", "Projection of x after each step, before the sweeps.", ["none", "nonnegative"], { default: "none" }),
  ...updateParams,
] as const;
const P = byName(params);

/** The adaptive rule: growth factor after a decrease, the cap on β, the tracking tolerance on γ‖ΔV‖∞/((1−γ)τ). */
const GROW = 1.25, MAX_STEP = 1e6, TRACK = 0.2;
/** The tested rules' nonmonotone memory: a merit is compared with the largest of the last MEMORY. */
const MEMORY = 5;
/** The spectral rule's bounds on the secant step: [1e-10, MAX_STEP], growth ≤ SPECTRAL_GROWTH× (update.ts). */
const SECANT = { ...ARMIJO, maxStep: MAX_STEP };
/** β_0 of the spectral and of the adaptive rule (docs/math.md#m-sobirl-spectral: from 1e-2 the secant steps saw E1's ripple). */
const SPECTRAL_BETA0 = 1, ADAPTIVE_BETA0 = 1e-2;
/** The spectral rule's safeguard on the retaken fraction θ of a rejected move (SPG2's σ₁; at most a halving). */
const THETA_MIN = 0.1, THETA_MAX = 0.5;

/** What an experiment file can set (x0 is the experiment's). */
export const mSoBiRLInfo = describe({
  name: "mSoBiRL",
  stepParam: "beta",
  source: "docs/math.md#m-sobirl (SoBiRL paper, Alg. 1)",
  description: "M-SoBiRL: one w step, the hypergradient estimate, an x step and N warm-started soft Bellman sweeps per iteration.",
  needsSoft: true,
  needsTrajectory: false,
  params,
});

/** Options of `mSoBiRL`. */
export interface MSoBiRLOptions extends UpdateOptions {
  /** x_0 (default 0). */
  x0?: ArrayLike<number>;
  /** 'default' or 'paper' (the authors' E1 settings). */
  preset?: "default" | "paper";
  /** w_0 (default 0; paper N(0, I_S) from `seed`, as in the authors' code). */
  w0?: ArrayLike<number>;
  /** The fixed step, or β_0 of the spectral or adaptive rule (default 1 with 'spectral', 1e-2 with 'adaptive'; paper 8e-3). */
  beta?: number;
  /**
   * 'spectral' (default): Barzilai–Borwein steps while the merit stays within the largest of the
   * last 5, a retake at an interpolated fraction when it exceeds it (docs/math.md#m-sobirl-spectral);
   * 'adaptive': the same test, β ×1.25 after a pass and halved on a rejection; 'fixed' (paper): β.
   */
  stepRule?: "spectral" | "adaptive" | "fixed";
  /** Step ζ of the least-squares w iteration (default 0.5). */
  zeta?: number;
  /** Soft Bellman sweeps per outer iteration N (default max(10, ⌈1/(1−γ)⌉); paper 10). */
  N?: number;
  /** w steps per outer iteration (default ⌈1/(1−γ)⌉; paper 1). */
  wSteps?: number;
  /** Early stop of the sweeps when ‖ΔV‖∞ < earlyStop (default 1e-6, as in the authors' code; 0 = never). */
  earlyStop?: number;
  /** 'richardson' (default; w ← b + γP_πᵀw, not in the paper) or 'least-squares' (the paper's). */
  wStep?: "least-squares" | "richardson";
  /** Seed for w_0 (default 0). */
  seed?: number;
  /** Project x after each step, before the sweeps: 'none' (default) or 'nonnegative'. */
  project?: XProjection;
}

/** State of `mSoBiRL` (plain data: JSON-safe). */
export interface MSoBiRLState extends StateTag {
  k: number;
  x: number[];
  /** Q_k (S·A) from the last sweep; π_k = softmax(Q_k/τ). */
  Q: number[];
  /** Warm start of the next sweeps. */
  V: number[];
  w: number[];
  /** The fixed step, or the tested rules' last step β_{k−1}. */
  beta: number;
  stepRule: "spectral" | "adaptive" | "fixed";
  /** The tested rules' merit f(x_{k−1}, π_{k−1}) at xPrev (0 before the first step). */
  fPrev: number;
  /** The tested rules' merits at the last MEMORY points stepped from, oldest first (the nonmonotone reference; absent in older states). */
  fHist?: number[];
  /** What the tested rules did at the last iteration: a regular step, a retaken step or a return to x_{k−1} after a rejection, or a wait (absent in older states: 'step'). */
  lastMove?: "step" | "retake" | "return" | "wait";
  /**
   * The tested rules' x_{k−1} and d_{k−1}, to step again from on a rejection ([] before the
   * first step, after a return, or with 'fixed'). x_{k−1} is the last accepted point: the run's
   * result while x is an untested trial.
   */
  xPrev: number[];
  dPrev: number[];
  /** The tested rules' ĥ_{k−1}, the estimate at x_{k−1} (the spectral rule's secant pair and retake slope; [] when xPrev is; absent in older states). */
  hPrev?: number[];
  zeta: number;
  N: number;
  wSteps: number;
  earlyStop: number;
  wStep: "least-squares" | "richardson";
  project: XProjection;
  update: UpdateState;
  last?: StepInfo;
}

/** M-SoBiRL: one w step, the hypergradient estimate, an x step and N warm-started soft Bellman sweeps per iteration (docs/math.md#m-sobirl). */
export const mSoBiRL = steppedAlgorithm<MSoBiRLOptions, MSoBiRLState, "mSoBiRL">(
  mSoBiRLInfo,
  (problem, o) => {
    problem.requireSoft("M-SoBiRL");
    const { S, A, gamma } = problem.mdp;
    const preset = parsePreset(o.preset);
    const seed = o.seed === undefined ? 0 : check.seed(o.seed);
    const w = o.w0 !== undefined ? Array.from(check.float64("w0", o.w0, S, "S")) : preset === "paper" ? Array.from(new Rng(seed).normals(S)) : new Array(S).fill(0);
    const wStep = presetOneOf(P.wStep, o.wStep, preset);
    const stepRule = presetOneOf(P.stepRule, o.stepRule, preset);
    const horizon = Math.ceil(1 / (1 - gamma) - 1e-9); // ⌈1/(1−γ)⌉ (10, not 11, at γ = 0.9)
    const project = parseProjection(o.project);
    const x = startX(problem, o.x0);
    projectX(x, project);
    return {
      k: 0,
      x,
      Q: new Array(S * A).fill(0), // V_0 = 0 ⇒ π_0 uniform
      V: new Array(S).fill(0),
      w,
      beta: stepSize("beta", presetValue(P.beta, o.beta, preset), stepRule === "spectral" ? SPECTRAL_BETA0 : ADAPTIVE_BETA0),
      stepRule,
      fPrev: 0,
      fHist: [],
      xPrev: [],
      dPrev: [],
      hPrev: [],
      zeta: stepSize("zeta", o.zeta, P.zeta.default),
      N: check.positiveInt("N", presetValue(P.N, o.N, preset) ?? Math.max(10, horizon)),
      wSteps: check.positiveInt("wSteps", presetValue(P.wSteps, o.wSteps, preset) ?? horizon),
      earlyStop: o.earlyStop === undefined ? P.earlyStop.default : check.nonNegative("earlyStop", o.earlyStop),
      wStep,
      project,
      update: initUpdate(o, problem.n),
    };
  },
  (problem, st) => new MSoBiRLStepper(problem, st),
);

/**
 * M-SoBiRL's steps on typed working copies of the state: `advance()` is one outer
 * iteration with no allocation of working arrays (E1 is all per-iteration overhead:
 * S = 10, A = 5). It calls the same uTranspose and combine as the exact hypergradient
 * and the same trackW as below, on buffers it keeps, and the routines' Bellman sweeps.
 */
class MSoBiRLStepper implements Stepper<MSoBiRLState> {
  k: number;
  readonly x: Float64Array;
  private readonly Q: Float64Array;
  private readonly V: Float64Array;
  private readonly w: Float64Array;
  // scratch
  private readonly pi: Float64Array;
  private readonly Vk: Float64Array;
  /** π_k and V_k, as combine takes them. */
  private readonly low: { pi: Float64Array; V: Float64Array };
  private readonly gPi: Float64Array;
  private readonly v: Float64Array;
  private readonly b: Float64Array;
  private readonly track: TrackBuffers;
  private readonly comb: CombineBuffers;
  private readonly r: Float64Array;
  private readonly d: Float64Array;
  private readonly xPrev: Float64Array;
  private readonly dPrev: Float64Array;
  private readonly hPrev: Float64Array;
  /** hPrev holds ĥ_{k−1} (states written before the spectral rule have none). */
  private hasSecant: boolean;
  private hasPrev: boolean;
  private beta: number;
  private fPrev: number;
  /** What the adaptive rule did at the last iteration. */
  private lastMove: "step" | "retake" | "return" | "wait";
  private readonly fHist: number[];
  /** The sweeps' last ‖ΔV‖∞ (did the lower level keep up with the last x step?). */
  private residual: number;
  private readonly update: UpdateState;
  private readonly info: StepInfo = { f: 0, hnorm: 0, lowerResidual: 0, measure: 0 };
  private steps = 0;

  constructor(
    private readonly problem: BilevelProblem,
    private readonly st: MSoBiRLState,
  ) {
    const { S, A } = problem.mdp;
    const SA = S * A, n = problem.n;
    this.k = st.k;
    this.x = Float64Array.from(st.x);
    this.Q = Float64Array.from(st.Q);
    this.V = Float64Array.from(st.V);
    this.w = Float64Array.from(st.w);
    this.pi = new Float64Array(SA);
    this.Vk = new Float64Array(S);
    this.low = { pi: this.pi, V: this.Vk };
    this.gPi = new Float64Array(SA);
    this.v = new Float64Array(SA);
    this.b = new Float64Array(S);
    this.track = { res: new Float64Array(S), out: new Float64Array(S) };
    this.comb = { u: new Float64Array(SA), g: new Float64Array(n), gx: new Float64Array(n) };
    this.r = new Float64Array(SA);
    this.d = new Float64Array(n);
    this.hasPrev = st.xPrev.length === n;
    this.xPrev = this.hasPrev ? Float64Array.from(st.xPrev) : new Float64Array(n);
    this.dPrev = this.hasPrev ? Float64Array.from(st.dPrev) : new Float64Array(n);
    this.hasSecant = this.hasPrev && st.hPrev !== undefined && st.hPrev.length === n;
    this.hPrev = this.hasSecant ? Float64Array.from(st.hPrev!) : new Float64Array(n);
    this.beta = st.beta;
    this.fPrev = st.fPrev;
    this.lastMove = st.lastMove ?? "step";
    this.fHist = st.fHist !== undefined ? st.fHist.slice() : this.hasPrev ? [st.fPrev] : [];
    this.residual = st.last?.lowerResidual ?? 0;
    this.update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
  }

  advance(): StepInfo {
    const { problem, st, x, Q, V, pi, Vk, v, w } = this;
    const { mdp, tau } = problem;
    const { S, A } = mdp;
    // 1. π_k = softmax(Q_k/τ) and V_k = τ·LSE(Q_k/τ), in one pass
    for (let s = 0; s < S; s++) Vk[s] = rowSoftmax(Q, s * A, A, tau, pi);
    problem.moveTo(x); // P_{x_k} for the products below
    // 2. v = π ⊙ ∇_π f,  b = Uᵀ v;  3. one step of the w iteration
    const gPi = problem.gradPi(x, pi, this.gPi);
    for (let i = 0; i < v.length; i++) v[i] = pi[i] * gPi[i];
    uTranspose(problem, v, this.b);
    for (let j = 0; j < st.wSteps; j++) trackW(mdp, pi, w, this.b, st.zeta, st.wStep, this.track);
    // 4. ĥ_k = ∇_x f + (1/τ) D_xᵀ (v − π ⊙ E w), with V_k for the transition part of D_x
    const h = combine(problem, x, this.low, v, w, this.comb);
    const f = problem.value(x, pi);
    this.info.measure = gradientMapping(x, h, st.project);
    // 5. x_{k+1} = x_k − β_k d_k (d_k = ĥ_k with the plain update)
    const tested = st.stepRule !== "fixed";
    if (tested) {
      // did the sweeps keep up with x? If not, f_k is not a measure of φ(x_k): x waits (no
      // step) while the sweeps catch up, and β halves when a step caused the lag. The sweeps'
      // bound on ‖V − V*‖∞ is γ‖ΔV‖∞/(1 − γ), which moves the logits Q/τ of π by at most that
      // over τ: kept up when that is ≤ TRACK. Before the first sweeps (k = 0, π_0 uniform) the
      // merit is unrelated to φ(x_0): x waits for one round of sweeps
      const { gamma } = mdp;
      if (this.k === 0 || !((gamma * this.residual) / (1 - gamma) <= TRACK * problem.tau)) {
        // halve once per lag that a regular step caused (not on every waiting iteration, nor
        // for the lag of a retake or a return, which jump back by design; those stay marked,
        // so that a retaken point is retaken at most once)
        if (this.lastMove === "step") {
          this.beta *= 0.5;
          this.lastMove = "wait";
        }
        return this.sweep(f, h);
      }
      if (this.hasPrev) {
        // nonmonotone reference (Grippo, Lampariello & Lucidi 1986): the largest of the last
        // MEMORY merits, so that β can grow past the curvature of a bounded ripple of φ
        let ref = this.fPrev;
        for (const v of this.fHist) if (v > ref) ref = v;
        if (f <= ref) {
          // passed: 'spectral' takes the secant step of the move from x_{k−1} (≤ 4β;
          // docs/math.md#m-sobirl-spectral), 'adaptive' grows β
          const bb = st.stepRule === "spectral" && this.hasSecant ? spectralStep(x, h, this.xPrev, this.hPrev, this.beta, SECANT) : null;
          // (after a lag, not above the halved β: the sweeps could not follow a longer step)
          this.beta = bb === null ? Math.min(GROW * this.beta, MAX_STEP) : this.lastMove === "wait" ? Math.min(bb, this.beta) : bb;
        } else {
          // the merit rose above the reference: reject x_k and shorten β; retake the step once
          // ('adaptive': β/2 along d_{k−1}; 'spectral': the interpolated fraction θ of the move),
          // then return to x_{k−1} with β/2 (d_{k−1} may not descend: w and π moved on)
          if (this.lastMove === "retake") {
            this.beta *= 0.5;
            x.set(this.xPrev);
            this.hasPrev = false;
            this.lastMove = "return";
          } else if (st.stepRule === "spectral" && this.hasSecant) {
            // on the segment from x_{k−1} to x_k: feasible when both are (x ≥ 0 is convex)
            const theta = retakeFraction(this.fPrev, f, this.hPrev, this.xPrev, x);
            this.beta *= theta;
            for (let k = 0; k < x.length; k++) x[k] = this.xPrev[k] + theta * (x[k] - this.xPrev[k]);
            this.lastMove = "retake";
          } else {
            this.beta *= 0.5;
            for (let k = 0; k < x.length; k++) x[k] = this.xPrev[k] - this.beta * this.dPrev[k];
            projectX(x, st.project);
            this.lastMove = "retake";
          }
          return this.sweep(f, h);
        }
      }
      this.lastMove = "step";
    }
    const d = direction(this.update, h, this.d);
    if (tested) {
      this.xPrev.set(x);
      this.dPrev.set(d);
      this.hPrev.set(h);
      this.hasSecant = true;
      this.fPrev = f;
      this.fHist.push(f);
      if (this.fHist.length > MEMORY) this.fHist.shift();
      this.hasPrev = true;
    }
    for (let k = 0; k < x.length; k++) x[k] -= this.beta * d[k];
    projectX(x, st.project);
    return this.sweep(f, h);
  }

  /** 6. N warm-started sweeps at x_{k+1}, and the step's record. */
  private sweep(f: number, h: Float64Array): StepInfo {
    const { problem, st, x, Q, V } = this;
    const { mdp, tau } = problem;
    // N warm-started sweeps at x_{k+1}, stopping once ‖ΔV‖∞ ≤ earlyStop, without π
    // (π_{k+1} = softmax(Q_{k+1}/τ) is taken at the start of the next step) and without
    // extrapolation; V and Q are updated in place
    const r = problem.rewardAt(x, this.r.fill(0));
    problem.moveTo(x);
    const sw = bellmanSweeps(mdp, r, V, Q, undefined, tau, st.earlyStop, st.N, false);
    this.residual = sw.residual;
    this.k++;
    this.steps++;
    const info = this.info;
    info.f = f;
    info.hnorm = norm2(h);
    info.lowerResidual = sw.residual;
    return info;
  }

  /**
   * The last accepted point: x_{k−1}, the point the last step left from, while x_k is a trial
   * not yet tested (its merit is tested at the next iteration, after the sweeps); x_k itself
   * before the first step, after a return, and with the fixed step (no test).
   */
  result(): Float64Array {
    return Float64Array.from(this.hasPrev ? this.xPrev : this.x);
  }

  state(): MSoBiRLState {
    if (this.steps === 0) return this.st;
    const { f, hnorm, lowerResidual, measure } = this.info;
    return {
      ...this.st,
      k: this.k,
      x: Array.from(this.x),
      Q: Array.from(this.Q),
      V: Array.from(this.V),
      w: Array.from(this.w),
      beta: this.beta,
      fPrev: this.fPrev,
      fHist: this.fHist.slice(),
      ...(this.st.stepRule !== "fixed" ? { lastMove: this.lastMove } : {}),
      xPrev: this.hasPrev ? Array.from(this.xPrev) : [],
      dPrev: this.hasPrev ? Array.from(this.dPrev) : [],
      hPrev: this.hasPrev ? Array.from(this.hPrev) : [],
      update: { ...this.update, m: this.update.m.slice(), v: this.update.v.slice() },
      last: { f, hnorm, lowerResidual, measure },
    };
  }
}

/**
 * The fraction θ of a rejected move s = x_t − x_{k−1} to retake (docs/math.md#m-sobirl-spectral):
 * the minimiser of the quadratic q with q(0) = f_{k−1}, q'(0) = ⟨ĥ_{k−1}, s⟩ and q(1) = f_t, kept in
 * [THETA_MIN, THETA_MAX]; THETA_MAX when q has no minimiser in (0, ∞) (the safeguarded
 * interpolation of SPG2, Birgin, Martínez & Raydan, SIAM J. Optim. 10, 2000).
 */
export function retakeFraction(f0: number, ft: number, h0: ArrayLike<number>, x0: ArrayLike<number>, xt: ArrayLike<number>): number {
  let g = 0;
  for (let i = 0; i < x0.length; i++) g += h0[i] * (xt[i] - x0[i]);
  const c = ft - f0 - g; // q(θ) = f0 + gθ + cθ²
  const theta = g < 0 && c > 0 ? -g / (2 * c) : THETA_MAX;
  return Math.min(Math.max(theta, THETA_MIN), THETA_MAX);
}

/** Scratch of `trackW` (fresh arrays when omitted): two S-vectors. */
export interface TrackBuffers {
  res: Float64Array;
  out: Float64Array;
}

/**
 * One step of M-SoBiRL's w iteration towards w* = (I − γP_π)^{-T} b (in place):
 * least squares  w ← w − ζ Aᵀ(A w − b), A = (I − γP_π)ᵀ  (Algorithm 1, line 4), or
 * Richardson     w ← b + γ P_πᵀ w (a γ-contraction in ‖·‖₁; not in the paper).
 */
export function trackW(mdp: TabularMDP, pi: Float64Array, w: Float64Array, b: Float64Array, zeta: number, mode: "least-squares" | "richardson", scratch?: TrackBuffers): Float64Array {
  const { S, gamma } = mdp;
  const res = scratch ? scratch.res : new Float64Array(S), out = scratch ? scratch.out : new Float64Array(S);
  const Ptw = ppi(mdp, pi, w, true, out);
  if (mode === "richardson") {
    for (let s = 0; s < S; s++) w[s] = b[s] + gamma * Ptw[s];
    return w;
  }
  for (let s = 0; s < S; s++) res[s] = w[s] - gamma * Ptw[s] - b[s];
  const Pres = ppi(mdp, pi, res, false, out);
  for (let s = 0; s < S; s++) w[s] -= zeta * (res[s] - gamma * Pres[s]);
  return w;
}
