// M-SoBiRL, the model-based soft bilevel method (SoBiRL paper, Algorithm 1;
// docs/math.md#m-sobirl). Per outer iteration: one least-squares gradient step on w
// (tracking (I − γP_π)^{-T} Uᵀ v without a solve), the hypergradient estimate, an
// x step, then N warm-started soft Bellman sweeps at the new x.
import { DomainError } from "../../errors";
import { applyPpi, sweepLoop } from "../../lower";
import * as check from "../../validate";
import { Rng } from "../../util/random";
import type { BilevelProblem } from "../problem";
import type { TabularMDP } from "../../mdp";
import { norm2, parseProjection, projectX, startX, stepSize, steppedAlgorithm, type StepInfo, type Stepper, type XProjection, type StateTag } from "./common";
import { rowSoftmax } from "../../util/softmax";

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
export const mSoBiRL = steppedAlgorithm<MSoBiRLOptions, MSoBiRLState>(
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
  (problem, st) => new MSoBiRLStepper(problem, st),
);

/**
 * M-SoBiRL's steps on typed working copies of the state: `advance()` is one outer
 * iteration with no allocation (E1 is all per-iteration overhead: S = 10, A = 5), the
 * kernels run on scratch above the workspace mark, taken and released around each group
 * of kernel calls so no objective or reward callback runs while it is held.
 * The arithmetic is, operation for operation, that of uTranspose and combine
 * (hypergradient.ts) and trackW below, which the step used to call on fresh arrays: same
 * kernels on the same values, same bits. Keep them in step. The sweeps are lower.ts's own
 * sweepLoop.
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
  private readonly gPi: Float64Array;
  private readonly v: Float64Array;
  private readonly u: Float64Array;
  private readonly b: Float64Array;
  private readonly res: Float64Array;
  private readonly h: Float64Array;
  private readonly gx: Float64Array;
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
    this.gPi = new Float64Array(SA);
    this.v = new Float64Array(SA);
    this.u = new Float64Array(SA);
    this.b = new Float64Array(S);
    this.res = new Float64Array(S);
    this.h = new Float64Array(n);
    this.gx = new Float64Array(n);
    this.r = new Float64Array(SA);
  }

  advance(): StepInfo {
    const { problem, st, x, Q, pi, Vk, v, w } = this;
    const { mdp, tau } = problem;
    const { S, A } = mdp;
    // 1. π_k = softmax(Q_k/τ) and V_k = τ·LSE(Q_k/τ), in one pass
    for (let s = 0; s < S; s++) Vk[s] = rowSoftmax(Q, s * A, A, tau, pi);
    if (problem.transitions) problem.rewardAt(x, this.r.fill(0)); // P_{x_k} for the products below
    // 2. v = π ⊙ ∇_π f,  b = Uᵀ v;  3. one step of the w iteration
    const gPi = problem.gradPi(x, pi, this.gPi);
    for (let i = 0; i < v.length; i++) v[i] = pi[i] * gPi[i];
    this.bAndW();
    // 4. ĥ_k = ∇_x f + (1/τ) D_xᵀ (v − π ⊙ E w), with V_k for the transition part of D_x
    const u = this.u;
    for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] = (v[s * A + a] - pi[s * A + a] * w[s]) / tau;
    const h = problem.vjp(x, u, Vk, this.h);
    const gx = problem.gradX(x, pi, this.gx);
    for (let k = 0; k < h.length; k++) h[k] += gx[k];
    const f = problem.value(x, pi);
    // 5. x_{k+1} = x_k − β ĥ_k
    for (let k = 0; k < x.length; k++) x[k] -= st.beta * h[k];
    projectX(x, st.project);
    // 6. N warm-started sweeps at x_{k+1}
    const r = problem.rewardAt(x, this.r.fill(0));
    // π_{k+1} = softmax(Q_{k+1}/τ) is taken at the start of the next step: no π here
    const it = this.sweeps(r);
    problem.counters.sweeps += it;
    this.k++;
    this.steps++;
    const info = this.info;
    info.f = f;
    info.hnorm = norm2(h);
    return info;
  }

  /**
   * b = Uᵀ v (U = E − γP: b(s') = Σ_a v(s',a) − γ Σ_{s,a} v(s,a) P(s'|s,a), the P_πᵀ kernel
   * with π := v on a vector of ones), then one step of the w iteration in place (trackW).
   */
  private bAndW(): void {
    const { mdp } = this.problem;
    const { S, A, gamma, ws, at } = mdp;
    const k = ws.k;
    const { v, pi, w, b, res } = this;
    const SA = S * A;
    const m0 = ws.mark();
    try {
      const pv = ws.allocF64(SA), pOnes = ws.allocF64(S), pPi = ws.allocF64(SA), pW = ws.allocF64(S), pRes = ws.allocF64(S), pOut = ws.allocF64(S);
      const mem = ws.f64(pv, (ws.mark() - pv) >>> 3); // one view: no allocation below
      const oOnes = (pOnes - pv) >>> 3, oOut = (pOut - pv) >>> 3;
      mem.set(v, 0);
      mem.fill(1, oOnes, oOnes + S);
      k.ppi(at.P, at.indptr, at.indices, pv, pOnes, pOut, S, A, 1);
      for (let s = 0; s < S; s++) {
        let acc = 0;
        for (let a = 0; a < A; a++) acc += v[s * A + a];
        b[s] = acc - gamma * mem[oOut + s];
      }
      // P_πᵀ w
      mem.set(pi, (pPi - pv) >>> 3);
      mem.set(w, (pW - pv) >>> 3);
      k.ppi(at.P, at.indptr, at.indices, pPi, pW, pOut, S, A, 1);
      if (this.st.wStep === "richardson") {
        for (let s = 0; s < S; s++) w[s] = b[s] + gamma * mem[oOut + s];
        return;
      }
      for (let s = 0; s < S; s++) res[s] = w[s] - gamma * mem[oOut + s] - b[s];
      mem.set(res, (pRes - pv) >>> 3);
      k.ppi(at.P, at.indptr, at.indices, pPi, pRes, pOut, S, A, 0);
      const zeta = this.st.zeta;
      for (let s = 0; s < S; s++) w[s] -= zeta * (res[s] - gamma * mem[oOut + s]);
    } finally {
      ws.release(m0);
    }
  }

  /**
   * N warm-started sweeps by lower.ts's sweepLoop, without π and without extrapolation
   * (Q = r + γPV, V ← τ·LSE(Q/τ), at most N, stopping once ‖ΔV‖∞ ≤ earlyStop), with V and
   * Q copied back into the working state.
   * Returns the sweeps done; leaves the residual in info.
   */
  private sweeps(r: Float64Array): number {
    const { mdp, tau } = this.problem;
    const { S, A, ws } = mdp;
    const { V, Q } = this;
    const tol = this.st.earlyStop, maxIter = this.st.N;
    const m0 = ws.mark();
    try {
      const pr = ws.allocF64(S * A);
      const pV = ws.allocF64(S), pW = ws.allocF64(S);
      const pQ = ws.allocF64(S * A);
      const mem = ws.f64(pr, (ws.mark() - pr) >>> 3);
      mem.set(r, 0);
      mem.set(V, (pV - pr) >>> 3);
      // π pointer 0: no policy (π_{k+1} is taken host-side at the next step), no extrapolation
      const o = sweepLoop(mdp, pr, pV, pW, pQ, 0, tau, tol, maxIter, false);
      const oV = (o.pV - pr) >>> 3, oQ = (pQ - pr) >>> 3;
      for (let s = 0; s < S; s++) V[s] = mem[oV + s];
      for (let i = 0; i < Q.length; i++) Q[i] = mem[oQ + i];
      this.info.lowerResidual = o.residual;
      return o.iterations;
    } finally {
      ws.release(m0);
    }
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
