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
//   * step (stepRule 'adaptive'): a safeguarded step on the merit the method computes anyway,
//     f_k = f(x_k, π_k): from β_0 = `beta` (1e-2). While the sweeps have not kept up with x
//     (their bound γ‖ΔV‖∞/(1−γ) on ‖V − V*‖∞ exceeds 0.2τ, i.e. the logits Q/τ of π may be off by
//     more than 0.2; and at k = 0, before any sweep), f_k says nothing about φ(x_k): x waits, and
//     β halves once if a step caused the lag. Otherwise f_k is compared with a nonmonotone
//     reference, the largest merit at the last 5 points x stepped from (Grippo, Lampariello &
//     Lucidi, SIAM J. Numer. Anal. 1986): not above it, β grows by 1.25; above it, β halves and
//     x_k is rejected: the step is retaken from x_{k−1} along d_{k−1} (tested like any other),
//     and if that fails too x returns to x_{k−1} and steps along a fresh ĥ. Safe: only points
//     whose merit passed the test enter the reference, so it never rises; a rejection costs one
//     or two iterations; no φ evaluation, no solve (the method stays solve-free). Why
//     nonmonotone: φ can carry a bounded ripple of high curvature on a well-scaled trend (E1:
//     ½‖x‖² plus a policy term in [1, S/2]); with memory 1 β halved at every ripple and settled at
//     2–5e-3, far below the steps exact descent's Armijo search accepts there (E1 seeds 0, 1:
//     φ = 15.0, 19.3 after 200 iterations; memory 5: 1.000 on seeds 0–31; memory 10 failed on
//     seed 9). Why the retake is tested: accepted untested, it let the merit ratchet up when ĥ
//     was poor after a jump (incentive seed 1 with exact sweeps: merits 2.2 → 1700); retaken
//     until a test passed, it stalled where d_{k−1} did not descend (E1 seed 23: β → 1e-52).
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
import { direction, gradientMapping, initUpdate, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  arr("w0", "w_0 (length S).", { defaultText: "0 (paper: N(0, I_S) drawn with seed)", length: "S" }),
  num("beta", "Upper step β: the fixed step, or β_0 of the adaptive rule.", { default: 1e-2, paper: 8e-3, ...positive }),
  str("stepRule", "'adaptive': β grows ×1.25 while the merit f(x_k, π_k) stays within the largest of the last 5, halves (and the step is retaken) when it exceeds it; 'fixed': the constant β.", ["adaptive", "fixed"], { default: "adaptive", paper: "fixed" }),
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
/** The adaptive rule's nonmonotone memory: a merit is compared with the largest of the last MEMORY. */
const MEMORY = 5;

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
  /** The fixed step, or β_0 of the adaptive rule (default 1e-2; paper 8e-3). */
  beta?: number;
  /** 'adaptive' (default): β grows while the merit stays within the largest of the last 5, halves when it exceeds it; 'fixed' (paper): β. */
  stepRule?: "adaptive" | "fixed";
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
  /** The fixed step, or the adaptive rule's last step β_{k−1}. */
  beta: number;
  stepRule: "adaptive" | "fixed";
  /** The adaptive rule's merit f(x_{k−1}, π_{k−1}) at xPrev (0 before the first step). */
  fPrev: number;
  /** The adaptive rule's merits at the last MEMORY points stepped from, oldest first (the nonmonotone reference; absent in older states). */
  fHist?: number[];
  /** What the adaptive rule did at the last iteration: a regular step, a retaken step or a return to x_{k−1} after a rejection, or a wait (absent in older states: 'step'). */
  lastMove?: "step" | "retake" | "return" | "wait";
  /** The adaptive rule's x_{k−1} and d_{k−1}, to step again from on a rejection ([] before the first step or with 'fixed'). */
  xPrev: number[];
  dPrev: number[];
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
      beta: stepSize("beta", presetValue(P.beta, o.beta, preset), P.beta.default),
      stepRule,
      fPrev: 0,
      fHist: [],
      xPrev: [],
      dPrev: [],
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
    if (st.stepRule === "adaptive") {
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
          this.beta = Math.min(GROW * this.beta, MAX_STEP);
        } else {
          // the merit rose above the reference: reject x_k and halve β; retake the step along
          // d_{k−1} once, then return to x_{k−1} (d_{k−1} may not descend: w and π moved on)
          this.beta *= 0.5;
          if (this.lastMove === "retake") {
            x.set(this.xPrev);
            this.hasPrev = false;
            this.lastMove = "return";
          } else {
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
    if (st.stepRule === "adaptive") {
      this.xPrev.set(x);
      this.dPrev.set(d);
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
      ...(this.st.stepRule === "adaptive" ? { lastMove: this.lastMove } : {}),
      xPrev: this.hasPrev ? Array.from(this.xPrev) : [],
      dPrev: this.hasPrev ? Array.from(this.dPrev) : [],
      update: { ...this.update, m: this.update.m.slice(), v: this.update.v.slice() },
      last: { f, hnorm, lowerResidual, measure },
    };
  }
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
