// The lower level: soft value iteration, soft policy evaluation, occupancy measures and
// linear solves with (I − γP_π) or its transpose (docs/math.md#soft-values, docs/math.md#soft-bellman).
// Shapes: r, Q, pi (S·A) indexed s·A + a; V, rho, b, x (S).
import { DomainError, NumericalError } from "./errors";
import { requireMdp, type TabularMDP } from "./mdp";
import * as check from "./validate";

/** Options of `softValueIteration`. */
export interface SoftValueIterationOptions {
  /** Entropy temperature τ ≥ 0; τ = 0 is the hard max (greedy policy). */
  tau: number;
  /** Stop when ‖V_k − V_{k−1}‖∞ ≤ tol (default 1e-10). */
  tol?: number;
  /** Sweep cap (default 10 000). */
  maxIter?: number;
  /** Warm start V_0 (length S; default 0). */
  V0?: ArrayLike<number>;
  /**
   * Value iteration with error bounds (default false): since G(V + c) = G(V) + γc and G is
   * monotone, V* lies between G(V) + γ/(1−γ)·min ΔV and G(V) + γ/(1−γ)·max ΔV. Once
   * γ/(1−γ)·(max ΔV − min ΔV)/2 ≤ tol, V is moved to the middle of those bounds (so within
   * tol of V*), and one more sweep follows, whose residual is at most γ·(max ΔV − min ΔV)/2.
   * The span of ΔV shrinks at the rate the MDP mixes, often far faster than γ (50×50
   * GridWorld, γ = 0.99, tol 1e-10: 127 sweeps instead of 1759).
   */
  extrapolate?: boolean;
}

/** What `softValueIteration` returns. */
export interface SoftValueIterationResult {
  /** V(s) = τ·log Σ_a exp(Q(s,a)/τ), length S. */
  V: Float64Array;
  /** Q = r + γ P V_prev from the last sweep, length S·A. */
  Q: Float64Array;
  /** π = softmax(Q/τ) row-wise (greedy, first maximiser, for τ = 0), length S·A. */
  pi: Float64Array;
  /** Sweeps performed. */
  iterations: number;
  /** ‖V_k − V_{k−1}‖∞ at the last sweep. */
  residual: number;
  /** residual ≤ tol. */
  converged: boolean;
}

/**
 * Soft value iteration V ← G(V) = τ·log Σ_a exp((r + γPV)/τ) (SoBiRL eq. 6, 10),
 * a γ-contraction in ‖·‖∞, from V0 until ‖ΔV‖∞ ≤ tol or maxIter sweeps.
 */
export function softValueIteration(mdp: TabularMDP, r: ArrayLike<number>, options: SoftValueIterationOptions): SoftValueIterationResult {
  requireMdp(mdp);
  const { S, A, gamma, ws, at } = mdp;
  const rr = check.float64("r", r, S * A, "S·A, index s·A + a");
  const opts = options ?? ({} as SoftValueIterationOptions);
  const tau = check.nonNegative("tau", opts.tau);
  const tol = opts.tol === undefined ? 1e-10 : check.nonNegative("tol", opts.tol);
  const maxIter = opts.maxIter === undefined ? 10000 : check.positiveInt("maxIter", opts.maxIter);
  const V0 = opts.V0 === undefined ? undefined : check.float64("V0", opts.V0, S, "S");
  const extrapolate = check.flag("extrapolate", opts.extrapolate, false);
  const res = sweeps(mdp, rr, tau, tol, maxIter, V0, true, extrapolate);
  return { ...res, pi: res.pi!, converged: res.residual <= tol };
}

/**
 * The sweeps of softValueIteration on validated inputs; π only when asked (the
 * algorithms that take π = softmax(Q/τ) themselves skip its S·A exponentials).
 * @internal
 */
export function sweeps(mdp: TabularMDP, r: Float64Array, tau: number, tol: number, maxIter: number, V0: Float64Array | undefined, policy: boolean, extrapolate = false): { V: Float64Array; Q: Float64Array; pi?: Float64Array; iterations: number; residual: number } {
  const { S, A, ws } = mdp;
  const k = ws.k;
  const m0 = ws.mark();
  try {
    const pr = ws.putF64(r);
    const pV = ws.allocF64(S), pW = ws.allocF64(S);
    const pQ = ws.allocF64(S * A);
    if (V0) ws.f64(pV, S).set(V0);
    else ws.f64(pV, S).fill(0);
    const pPi = policy ? ws.allocF64(S * A) : 0;
    const o = sweepLoop(mdp, pr, pV, pW, pQ, pPi, tau, tol, maxIter, extrapolate);
    let pi: Float64Array | undefined;
    if (policy) {
      if (!o.piWritten) k.softmaxPolicy(pQ, pPi, S, A, tau);
      pi = ws.copyF64(pPi, S * A);
    }
    return { V: ws.copyF64(o.pV, S), Q: ws.copyF64(pQ, S * A), pi, iterations: o.iterations, residual: o.residual };
  } finally {
    ws.release(m0);
  }
}

/**
 * The sweep loop on workspace pointers (r at pr; V_0 at pV; pW, pQ and, when pPi ≠ 0, π
 * scratch): sweeps until ‖ΔV‖∞ ≤ tol or maxIter, counts them in mdp.counters, and throws a
 * NumericalError when the residual stops being finite. Returns the pointer (pV or pW)
 * holding the final V; Q at pQ is the last sweep's. π is written by the sweep that is
 * certain to be the last: the cap's, or the one after a residual that the γ-contraction
 * bound γ·‖ΔV‖ (or, after a shift to the middle of the error bounds, γ·span(ΔV)/2) puts at
 * tol or below; piWritten is false when a sweep converged earlier than its bound said.
 * @internal
 */
export function sweepLoop(mdp: TabularMDP, pr: number, pV: number, pW: number, pQ: number, pPi: number, tau: number, tol: number, maxIter: number, extrapolate: boolean): { pV: number; iterations: number; residual: number; piWritten: boolean } {
  const { S, A, gamma, ws, at } = mdp;
  const k = ws.k;
  const dense = mdp.kind === "dense";
  let residual = Infinity, it = 0, piAt = -1, shifted = false;
  while (it < maxIter) {
    const pp = pPi && (it === maxIter - 1 || gamma * residual <= tol || shifted) ? pPi : 0;
    residual = dense
      ? k.bellmanDense(at.P, pr, pV, pQ, pW, S, A, gamma, tau, pp)
      : k.bellmanCsr(at.indptr, at.indices, at.P, pr, pV, pQ, pW, S, A, gamma, tau, pp);
    if (pp) piAt = it;
    it++;
    const t = pV; pV = pW; pW = t;
    if (!(residual > tol) || residual === Infinity) break; // NaN and ∞ are reported below
    shifted = false;
    if (extrapolate && it < maxIter) {
      const lo = k.deltaMin.value as number, hi = k.deltaMax.value as number;
      // shift once the bounds pin V* itself to within tol: V + c is then within γ/(1−γ)·span/2
      // of V*, and the next sweep's residual is at most γ·span/2
      const g = gamma / (1 - gamma);
      if (g * (hi - lo) / 2 <= tol) {
        const c = g * ((lo + hi) / 2);
        const V = ws.f64(pV, S);
        for (let s = 0; s < S; s++) V[s] += c;
        shifted = true;
      }
    }
  }
  mdp.counters.sweeps += it;
  if (!Number.isFinite(residual)) throw new NumericalError(`softValueIteration: the residual became ${residual} at sweep ${it}; rewards too large for τ = ${tau}?`);
  return { pV, iterations: it, residual, piWritten: piAt === it - 1 };
}

/** Linear solver for (I − γP_π)x = b: dense LU, GMRES, BiCGSTAB or Richardson (see `SolveOptions.method`). */
export type LinearMethod = "lu" | "krylov" | "bicgstab" | "richardson";

/** Options of `solveLinear`. */
export interface SolveOptions {
  /** Solve with (I − γP_π)ᵀ instead of (I − γP_π). */
  transpose?: boolean;
  /**
   * 'lu' (dense LU with partial pivoting, S² doubles), 'krylov' (restarted GMRES(m),
   * matrix-free, residual never grows; finished by Richardson if a restart cycle
   * stagnates), 'bicgstab' (matrix-free, 6 vectors; it can stall or diverge on
   * near-deterministic policies at γ → 1, and then hands over to GMRES) or 'richardson' (x ← b + γP_π x, rate γ).
   * Default: 'lu' for S ≤ 500 or when the banded LU is cheap (S·kl·(kl + ku) ≤ 2e8), else 'krylov'.
   * 'lu' stores the band only when 2·kl + ku + 1 < S/2 (grid-like MDPs).
   */
  method?: LinearMethod;
  /** GMRES restart length m (default: defaultRestart(S), 100 for S ≤ 8·10⁴, down to 10 at 10⁶). */
  restart?: number;
  /** Relative residual target ‖b − Ax‖₂/‖b‖₂ (default 1e-12; LU reports converged when its residual meets max(tol, 1e-10)). */
  tol?: number;
  /** Iteration cap (matrix-vector products) for the iterative methods (default 5000 for Krylov and BiCGSTAB, 100 000 for Richardson). */
  maxIter?: number;
  /** Initial guess for the iterative methods (length S; default 0). */
  x0?: ArrayLike<number>;
}

/** What `solveLinear` returns: x with (I − γP_π)x = b (or the transposed system). */
export interface SolveResult {
  x: Float64Array;
  /** Matrix-vector products of the iterative methods (1 for LU). */
  iterations: number;
  /** True relative residual ‖b − Ax‖₂/‖b‖₂ of the returned x. */
  residual: number;
  converged: boolean;
}

/**
 * GMRES's default restart length: as long as its m + 2 basis vectors fit in 64 MiB, between
 * 10 and 100. Short restarts stall on the transport-like systems of near-deterministic
 * policies at γ → 1 (restart 30 needed 3301 products where 100 needed 102 on the 50 × 50
 * GridWorld), so the basis is as long as memory allows.
 */
export function defaultRestart(S: number): number {
  return Math.max(10, Math.min(100, Math.floor(2 ** 26 / (8 * S)) - 2));
}

/** Default threshold between the dense LU and the Krylov solver. */
export const LU_MAX_S = 500;
/** The default picks the banded LU when its flop count S·kl·(kl + ku) stays below this. */
export const BAND_MAX_FLOPS = 2e8;

/** The default method: dense LU for small S, banded LU for narrow bands, else GMRES. */
export function defaultMethod(mdp: TabularMDP): LinearMethod {
  if (mdp.S <= LU_MAX_S) return "lu";
  const { kl, ku } = mdp.bandwidth();
  return mdp.S * (kl + 1) * (kl + ku + 1) <= BAND_MAX_FLOPS ? "lu" : "krylov";
}

/** Solve (I − γP_π) x = b, or its transpose, for one right-hand side b of length S. */
export function solveLinear(mdp: TabularMDP, pi: ArrayLike<number>, b: ArrayLike<number>, options: SolveOptions = {}): SolveResult {
  requireMdp(mdp);
  const { S, A, ws } = mdp;
  const p = check.policy("pi", pi, S, A);
  const bb = check.float64("b", b, S, "S");
  const o = parseSolve(options, mdp);
  const m0 = ws.mark();
  try {
    const pPi = ws.putF64(p), pB = ws.putF64(bb);
    const pX = ws.allocF64(S);
    // scratch is reused between calls: the initial guess must be written explicitly
    if (o.x0) ws.f64(pX, S).set(o.x0);
    else ws.f64(pX, S).fill(0);
    const info = solveAt(mdp, pPi, pB, pX, o);
    mdp.counters.solves += 1;
    return { ...info, x: ws.copyF64(pX, S) };
  } finally {
    ws.release(m0);
  }
}

export interface ParsedSolve {
  transpose: boolean;
  method: LinearMethod;
  tol: number;
  maxIter: number;
  x0?: Float64Array;
  restart: number;
}

export function parseSolve(options: SolveOptions | undefined, mdp: TabularMDP): ParsedSolve {
  const o = options ?? {};
  const S = mdp.S;
  const method = o.method ?? defaultMethod(mdp);
  if (method !== "lu" && method !== "krylov" && method !== "bicgstab" && method !== "richardson") {
    throw new DomainError("method", "must be 'lu', 'krylov', 'bicgstab' or 'richardson'", method);
  }
  if (o.transpose !== undefined && typeof o.transpose !== "boolean") throw new DomainError("transpose", "must be a boolean", o.transpose);
  const tol = o.tol === undefined ? 1e-12 : check.nonNegative("tol", o.tol);
  const maxIter = o.maxIter === undefined ? (method === "richardson" ? 100000 : 5000) : check.positiveI32("maxIter", o.maxIter);
  const x0 = o.x0 === undefined ? undefined : check.float64("x0", o.x0, S, "S");
  const restart = Math.min(S, o.restart === undefined ? defaultRestart(S) : check.positiveI32("restart", o.restart));
  return { transpose: o.transpose ?? false, method, tol, maxIter, x0, restart };
}

/**
 * Solve in kernel memory: x (holding the initial guess) ← A⁻¹ b, where the policy,
 * b and x already live at the given pointers. Uses scratch above the current mark.
 * @internal
 */
export function solveAt(mdp: TabularMDP, pPi: number, pB: number, pX: number, o: ParsedSolve): Omit<SolveResult, "x"> {
  // ---- issue 12: honest results at any scale of b (begin) ----
  // The iterative kernels and systemResidual work on σb, σ = pow2Scale(b) a power of two
  // (1 unless max|b_i| lies outside [2^-400, 2^400]), and scale x back. When σ ≠ 1 the
  // residual is recomputed for the x actually returned (scaling back can round
  // subnormals). An x that is not finite (the solution overflows f64) or a NaN residual is
  // a NumericalError: no usable accuracy is reachable.
  const { S, A, gamma, ws, at } = mdp;
  const sigma = ws.k.pow2Scale(pB, S);
  const res = solveAtUnchecked(mdp, pPi, pB, pX, o);
  if (sigma !== 1) {
    const pR = ws.allocF64(S);
    res.residual = ws.k.systemResidual(at.P, at.indptr, at.indices, pPi, pB, pX, pR, S, A, gamma, o.transpose ? 1 : 0);
    res.converged = res.residual <= (o.method === "lu" ? Math.max(o.tol, 1e-10) : o.tol);
  }
  const x = ws.f64(pX, S);
  for (let i = 0; i < S; i++) {
    if (!Number.isFinite(x[i])) {
      const bmax = ws.f64(pB, S).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      throw new NumericalError(`solveLinear (${o.method}): no usable accuracy: x[${i}] = ${x[i]} with max|b| = ${bmax}; the solution does not fit in f64: rescale b`);
    }
  }
  if (Number.isNaN(res.residual)) throw new NumericalError(`solveLinear (${o.method}): no usable accuracy: the residual of the returned x is NaN`);
  return res;
}

function solveAtUnchecked(mdp: TabularMDP, pPi: number, pB: number, pX: number, o: ParsedSolve): Omit<SolveResult, "x"> {
  // ---- issue 12 (end) ----
  const { S, A, gamma, ws, at } = mdp;
  const k = ws.k;
  const tr = o.transpose ? 1 : 0;
  if (o.method === "lu") {
    const pPiv = ws.allocI32(S);
    const pW = ws.allocF64(S);
    const { kl, ku } = mdp.bandwidth();
    const w = 2 * kl + ku + 1;
    let bad: number;
    if (w * w * 4 < S * S) {
      // banded LU: the transpose swaps the lower and upper bandwidths
      const [l, u] = o.transpose ? [ku, kl] : [kl, ku];
      const pM = ws.alloc(S * (2 * l + u + 1) * 8, "the banded LU needs S·(2·kl + ku + 1) doubles: use method 'krylov'");
      k.buildBand(at.P, at.indptr, at.indices, pPi, pM, S, A, gamma, tr, l, u);
      bad = k.bandFactor(pM, pPiv, S, l, u);
      if (bad === 0) {
        ws.f64(pX, S).set(ws.f64(pB, S));
        k.bandSolve(pM, pPiv, pX, S, l, u);
      }
    } else {
      const pM = ws.alloc(S * S * 8, "the dense LU needs S² doubles: use method 'krylov'");
      k.buildSystem(at.P, at.indptr, at.indices, pPi, pM, S, A, gamma, tr);
      bad = k.luFactor(pM, pPiv, S);
      if (bad === 0) {
        ws.f64(pX, S).set(ws.f64(pB, S));
        k.luSolve(pM, pPiv, pX, S);
      }
    }
    if (bad !== 0) throw new NumericalError(`solveLinear: I − γP_π is singular (zero pivot at column ${bad - 1})`);
    const residual = k.systemResidual(at.P, at.indptr, at.indices, pPi, pB, pX, pW, S, A, gamma, tr);
    return { iterations: 1, residual, converged: residual <= Math.max(o.tol, 1e-10) };
  }
  const pInfo = ws.allocF64(2);
  if (o.method === "bicgstab") {
    const pWork = ws.allocF64(6 * S);
    k.bicgstab(at.P, at.indptr, at.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, o.maxIter, pInfo);
    const used = ws.f64(pInfo, 2)[0];
    const info = ws.f64(pInfo, 2);
    if (!(info[1] <= o.tol) && used < o.maxIter) {
      // BiCGSTAB can stall or diverge on near-deterministic policies: hand over to
      // GMRES, from zero when the iterate is no longer finite.
      const x = ws.f64(pX, S);
      if (!x.every(Number.isFinite)) x.fill(0);
      gmresAt(mdp, pPi, pB, pX, pInfo, o, tr, o.maxIter - used);
      ws.f64(pInfo, 2)[0] += used;
    }
  } else if (o.method === "krylov") {
    gmresAt(mdp, pPi, pB, pX, pInfo, o, tr, o.maxIter);
  } else {
    const pWork = ws.allocF64(S);
    k.richardson(at.P, at.indptr, at.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, o.maxIter, pInfo);
  }
  const info = ws.f64(pInfo, 2);
  const residual = info[1];
  return { iterations: info[0], residual, converged: residual <= o.tol };
}

/** GMRES(m), finished by Richardson when a restart cycle stagnates; info ← [its, residual]. */
function gmresAt(mdp: TabularMDP, pPi: number, pB: number, pX: number, pInfo: number, o: ParsedSolve, tr: number, budget: number): void {
  const { S, A, gamma, ws, at } = mdp;
  const k = ws.k;
  const m = o.restart;
  const pWork = ws.alloc(((m + 2) * S + (m + 1) * m + 3 * m + 2) * 8, "GMRES keeps m + 2 vectors of length S: lower the restart length or use 'bicgstab'");
  k.gmres(at.P, at.indptr, at.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, budget, m, pInfo);
  const info = ws.f64(pInfo, 2);
  const used = info[0];
  if (info[1] > o.tol && used < budget) {
    // a whole cycle without progress: Richardson is a γ-contraction and always finishes
    k.richardson(at.P, at.indptr, at.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, budget - used, pInfo);
    ws.f64(pInfo, 2)[0] += used;
  }
}

/** Options of `policyEvaluation` (the linear-solver options of `solveLinear`, plus τ and V0). */
export interface PolicyEvaluationOptions extends Omit<SolveOptions, "transpose" | "x0"> {
  /** Entropy temperature τ ≥ 0 of the soft values. */
  tau: number;
  /** Initial guess for V^π (iterative methods only; length S). */
  V0?: ArrayLike<number>;
}

/** What `policyEvaluation` returns. */
export interface PolicyEvaluationResult {
  /** V^π = (I − γP_π)⁻¹(r_π + τH_π), length S. */
  V: Float64Array;
  /** Q^π = r + γ P V^π, length S·A. */
  Q: Float64Array;
  iterations: number;
  residual: number;
  converged: boolean;
}

/** Soft values of a fixed policy π by one linear solve (docs/math.md#soft-values). */
export function policyEvaluation(mdp: TabularMDP, r: ArrayLike<number>, pi: ArrayLike<number>, options: PolicyEvaluationOptions): PolicyEvaluationResult {
  requireMdp(mdp);
  const { S, A, gamma, ws, at } = mdp;
  const rr = check.float64("r", r, S * A, "S·A, index s·A + a");
  const p = check.policy("pi", pi, S, A);
  const tau = check.nonNegative("tau", (options ?? ({} as PolicyEvaluationOptions)).tau);
  const V0 = options?.V0 === undefined ? undefined : check.float64("V0", options.V0, S, "S");
  const o = parseSolve({ ...options, transpose: false, x0: V0 }, mdp);
  const m0 = ws.mark();
  try {
    const pr = ws.putF64(rr), pPi = ws.putF64(p);
    const pB = ws.allocF64(S), pV = ws.allocF64(S), pQ = ws.allocF64(S * A);
    if (o.x0) ws.f64(pV, S).set(o.x0);
    else ws.f64(pV, S).fill(0);
    ws.k.softRewardPi(pr, pPi, pB, S, A, tau);
    const info = solveAt(mdp, pPi, pB, pV, o);
    mdp.counters.solves += 1;
    ws.k.qFromV(at.P, at.indptr, at.indices, pr, pV, pQ, S, A, gamma);
    return { V: ws.copyF64(pV, S), Q: ws.copyF64(pQ, S * A), ...info };
  } finally {
    ws.release(m0);
  }
}

/**
 * Unnormalised discounted state visitation d = (I − γP_πᵀ)⁻¹ ρ (sums to 1/(1−γ)).
 * ρ defaults to the MDP's initial distribution.
 */
export function occupancy(mdp: TabularMDP, pi: ArrayLike<number>, rho?: ArrayLike<number>, options: Omit<SolveOptions, "transpose"> = {}): Float64Array {
  requireMdp(mdp);
  const d0 = rho === undefined ? mdp.rho0 : check.distribution("rho", rho, mdp.S);
  const res = solveLinear(mdp, pi, d0, { ...options, transpose: true });
  if (!res.converged) throw new NumericalError(`occupancy: the solve stopped at relative residual ${res.residual} after ${res.iterations} iterations; raise maxIter or use method 'lu'`);
  return res.x;
}

/**
 * out = P_π v (or P_πᵀ v) for an S-vector v. Internal: callers have validated π and v.
 * @internal
 */
export function applyPpi(mdp: TabularMDP, pi: Float64Array, v: Float64Array, transpose: boolean): Float64Array {
  const { S, A, ws, at } = mdp;
  const m0 = ws.mark();
  try {
    const pPi = ws.putF64(pi), pV = ws.putF64(v), pOut = ws.allocF64(S);
    ws.k.ppi(at.P, at.indptr, at.indices, pPi, pV, pOut, S, A, transpose ? 1 : 0);
    return ws.copyF64(pOut, S);
  } finally {
    ws.release(m0);
  }
}
