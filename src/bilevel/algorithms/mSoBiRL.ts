// M-SoBiRL, the model-based soft bilevel method (SoBiRL paper, Algorithm 1;
// docs/math.md#m-sobirl). Per outer iteration: one least-squares gradient step on w
// (tracking (I − γP_π)^{-T} Uᵀ v without a solve), the hypergradient estimate, an
// x step, then N warm-started soft Bellman sweeps at the new x.
import { DomainError } from "../../errors";
import { bellmanSweeps, ppi } from "../../wasm/routines/index";
import { combine, uTranspose, type CombineBuffers } from "../hypergradient";
import * as check from "../../validate";
import { Rng } from "../../util/random";
import type { BilevelProblem } from "../problem";
import type { TabularMDP } from "../../mdp";
import { norm2, parseProjection, projectX, startX, stepSize, steppedAlgorithm, type StepInfo, type Stepper, type XProjection, type StateTag } from "./common";
import { rowSoftmax } from "../../util/softmax";
import { arr, byName, count, describe, int, nonNeg, num, oneOf, positive, seedParam, str } from "../../util/params";

const params = [
  arr("w0", "w_0 (length S).", { defaultText: "N(0, I_S) drawn with seed", length: "S" }),
  num("beta", "Upper step β.", { default: 8e-3, ...positive }),
  num("zeta", "Step ζ of the w iteration.", { default: 0.5, ...positive }),
  int("N", "Soft Bellman sweeps per outer iteration.", { default: 10, ...count }),
  num("earlyStop", "Stop the sweeps when ‖ΔV‖∞ < earlyStop (0 = never).", { default: 1e-6, ...nonNeg }),
  str("wStep", "'least-squares' (the paper's) or 'richardson' (w ← b + γP_πᵀw).", ["least-squares", "richardson"], { default: "least-squares" }),
  seedParam("w_0"),
] as const;
const P = byName(params);

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
export interface MSoBiRLOptions {
  /** x_0 (default: N(0, I) drawn with `seed` when `randomInit`, else 0). */
  x0?: ArrayLike<number>;
  /** w_0 (default N(0, I_S) from `seed`, as in the authors' code). */
  w0?: ArrayLike<number>;
  /** Upper step β (default 8e-3). */
  beta?: number;
  /** Step ζ of the w iteration (default 0.5). */
  zeta?: number;
  /** Soft Bellman sweeps per outer iteration N (default 10). */
  N?: number;
  /** Early stop of the sweeps when ‖ΔV‖∞ < earlyStop (default 1e-6, as in the authors' code; 0 = never). */
  earlyStop?: number;
  /** 'least-squares' (faithful, default) or 'richardson' (w ← b + γP_π w·, not in the paper). */
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
  beta: number;
  zeta: number;
  N: number;
  earlyStop: number;
  wStep: "least-squares" | "richardson";
  project: XProjection;
  last?: StepInfo;
}

/** M-SoBiRL: one w step, the hypergradient estimate, an x step and N warm-started soft Bellman sweeps per iteration (docs/math.md#m-sobirl). */
export const mSoBiRL = steppedAlgorithm<MSoBiRLOptions, MSoBiRLState, "mSoBiRL">(
  mSoBiRLInfo,
  (problem, o) => {
    problem.requireSoft("M-SoBiRL");
    const { S, A } = problem.mdp;
    const seed = o.seed === undefined ? 0 : check.seed(o.seed);
    const w = o.w0 === undefined ? Array.from(new Rng(seed).normals(S)) : Array.from(check.float64("w0", o.w0, S, "S"));
    const wStep = oneOf(P.wStep, o.wStep);
    const project = parseProjection(o.project);
    const x = startX(problem, o.x0);
    projectX(x, project);
    return {
      k: 0,
      x,
      Q: new Array(S * A).fill(0), // V_0 = 0 ⇒ π_0 uniform
      V: new Array(S).fill(0),
      w,
      beta: stepSize("beta", o.beta, P.beta.default),
      zeta: stepSize("zeta", o.zeta, P.zeta.default),
      N: o.N === undefined ? P.N.default : check.positiveInt("N", o.N),
      earlyStop: o.earlyStop === undefined ? P.earlyStop.default : check.nonNegative("earlyStop", o.earlyStop),
      wStep,
      project,
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
  private readonly info: StepInfo = { f: 0, hnorm: 0, lowerResidual: 0 };
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
    trackW(mdp, pi, w, this.b, st.zeta, st.wStep, this.track);
    // 4. ĥ_k = ∇_x f + (1/τ) D_xᵀ (v − π ⊙ E w), with V_k for the transition part of D_x
    const h = combine(problem, x, this.low, v, w, this.comb);
    const f = problem.value(x, pi);
    // 5. x_{k+1} = x_k − β ĥ_k
    for (let k = 0; k < x.length; k++) x[k] -= st.beta * h[k];
    projectX(x, st.project);
    // 6. N warm-started sweeps at x_{k+1}, stopping once ‖ΔV‖∞ ≤ earlyStop, without π
    // (π_{k+1} = softmax(Q_{k+1}/τ) is taken at the start of the next step) and without
    // extrapolation; V and Q are updated in place
    const r = problem.rewardAt(x, this.r.fill(0));
    problem.moveTo(x);
    const sw = bellmanSweeps(mdp, r, V, Q, undefined, tau, st.earlyStop, st.N, false);
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
    const { f, hnorm, lowerResidual } = this.info;
    return {
      ...this.st,
      k: this.k,
      x: Array.from(this.x),
      Q: Array.from(this.Q),
      V: Array.from(this.V),
      w: Array.from(this.w),
      last: { f, hnorm, lowerResidual },
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
