// M-SoBiRL, the model-based soft bilevel method (SoBiRL paper, Algorithm 1;
// ALGORITHMS.md §3.1). Per outer iteration: one least-squares gradient step on w
// (tracking (I − γP_π)^{-T} Uᵀ v without a solve), the hypergradient estimate, an
// x step, then N warm-started soft Bellman sweeps at the new x.
import { DomainError } from "../../errors";
import { applyPpi, sweeps } from "../../lower";
import * as check from "../../validate";
import { Rng } from "../../util/random";
import { combine, uTranspose } from "../hypergradient";
import type { BilevelProblem } from "../problem";
import type { TabularMDP } from "../../mdp";
import { algorithm, norm2, parseProjection, projectX, startX, stepSize, type StepInfo, type XProjection } from "./common";
import { rowSoftmax } from "../../util/softmax";

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

export interface MSoBiRLState {
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

export const mSoBiRL = algorithm<MSoBiRLOptions, MSoBiRLState>(
  "mSoBiRL",
  (problem, o) => {
    problem.requireSoft("M-SoBiRL");
    const { S, A } = problem.mdp;
    const seed = o.seed === undefined ? 0 : check.seed(o.seed);
    const w = o.w0 === undefined ? Array.from(new Rng(seed).normals(S)) : Array.from(check.float64("w0", o.w0, S, "S"));
    const wStep = o.wStep ?? "least-squares";
    if (wStep !== "least-squares" && wStep !== "richardson") throw new DomainError("wStep", "must be 'least-squares' or 'richardson'", wStep);
    const project = parseProjection(o.project);
    const x = startX(problem, o.x0);
    projectX(x, project);
    return {
      k: 0,
      x,
      Q: new Array(S * A).fill(0), // V_0 = 0 ⇒ π_0 uniform
      V: new Array(S).fill(0),
      w,
      beta: stepSize("beta", o.beta, 8e-3),
      zeta: stepSize("zeta", o.zeta, 0.5),
      N: o.N === undefined ? 10 : check.positiveInt("N", o.N),
      earlyStop: o.earlyStop === undefined ? 1e-6 : check.nonNegative("earlyStop", o.earlyStop),
      wStep,
      project,
    };
  },
  (problem, st) => {
    const { mdp, tau } = problem;
    const { S, A } = mdp;
    const x = Float64Array.from(st.x);
    const Q = Float64Array.from(st.Q);
    // 1. π_k = softmax(Q_k/τ) and V_k = τ·LSE(Q_k/τ), in one pass
    const pi = new Float64Array(S * A), Vk = new Float64Array(S);
    for (let s = 0; s < S; s++) Vk[s] = rowSoftmax(Q, s * A, A, tau, pi);
    if (problem.transitions) problem.rewardAt(x); // P_{x_k} for the products below
    // 2. v = π ⊙ ∇_π f,  b = Uᵀ v
    const gPi = problem.gradPi(x, pi);
    const v = new Float64Array(S * A);
    for (let i = 0; i < v.length; i++) v[i] = pi[i] * gPi[i];
    const b = uTranspose(problem, v);
    // 3. one step of the w iteration
    const w = trackW(mdp, pi, Float64Array.from(st.w), b, st.zeta, st.wStep);
    // 4. ĥ_k with V_k = LSE(Q_k) for the transition part of D_x
    const h = combine(problem, x, { pi, V: Vk }, v, w);
    const f = problem.value(x, pi);
    // 5. x_{k+1} = x_k − β ĥ_k
    for (let k = 0; k < x.length; k++) x[k] -= st.beta * h[k];
    projectX(x, st.project);
    // 6. N warm-started sweeps at x_{k+1}
    const r = problem.rewardAt(x);
    // π_{k+1} = softmax(Q_{k+1}/τ) is taken at the start of the next step: no π here
    const vi = sweeps(mdp, r, tau, st.earlyStop, st.N, Float64Array.from(st.V), false);
    problem.counters.sweeps += vi.iterations;
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(x),
      Q: Array.from(vi.Q),
      V: Array.from(vi.V),
      w: Array.from(w),
      last: { f, hnorm: norm2(h), lowerResidual: vi.residual },
    };
  },
);

/**
 * One step of M-SoBiRL's w iteration towards w* = (I − γP_π)^{-T} b (in place):
 * least squares  w ← w − ζ Aᵀ(A w − b), A = (I − γP_π)ᵀ  (Algorithm 1, line 4), or
 * Richardson     w ← b + γ P_πᵀ w (a γ-contraction in ‖·‖₁; not in the paper).
 */
export function trackW(mdp: TabularMDP, pi: Float64Array, w: Float64Array, b: Float64Array, zeta: number, mode: "least-squares" | "richardson"): Float64Array {
  const { S, gamma } = mdp;
  const Ptw = applyPpi(mdp, pi, w, true);
  if (mode === "richardson") {
    for (let s = 0; s < S; s++) w[s] = b[s] + gamma * Ptw[s];
    return w;
  }
  const res = new Float64Array(S);
  for (let s = 0; s < S; s++) res[s] = w[s] - gamma * Ptw[s] - b[s];
  const Pres = applyPpi(mdp, pi, res, false);
  for (let s = 0; s < S; s++) w[s] -= zeta * (res[s] - gamma * Pres[s]);
  return w;
}
