// Routines of the linear solvers for (I − γP_π) x = b and its transpose: the dense and
// banded LU (assembly/lu.ts: buildSystem, luFactor, luSolve, luSolveT, buildBand, bandFactor,
// bandSolve), the Krylov methods (assembly/krylov.ts: gmres, bicgstab, richardson) and
// systemResidual; soft policy evaluation on top (softRewardPi, then qFromV). No
// validation: callers pass checked arrays and parsed options.
import { NumericalError } from "../../errors";
import { bandwidth, instanceOf, type Instance } from "./instance";
import { record } from "./work";
import { WorkersLost, parallelLuWorth, parallelWorth, poolOf } from "../pool";

/** Linear solver for (I − γP_π)x = b: dense LU, GMRES, BiCGSTAB or Richardson (see `SolveOptions.method`). */
export type LinearMethod = "lu" | "krylov" | "bicgstab" | "richardson";

/** Parsed options of a solve. */
export interface SolveSettings {
  transpose: boolean;
  method: LinearMethod;
  tol: number;
  maxIter: number;
  /** GMRES restart length m. */
  restart: number;
}

export interface SolveInfo {
  /** Matrix-vector products of the iterative methods (1 for LU). */
  iterations: number;
  /** True relative residual ‖b − Ax‖₂/‖b‖₂ of the returned x. */
  residual: number;
  converged: boolean;
}

/**
 * x ← (I − γP_π)⁻¹ b, or the transpose's, with x read as the initial guess of the iterative
 * methods. Records one solve when it succeeds; throws a NumericalError when the LU meets a
 * zero pivot.
 */
export function solveSystem(mdp: object, pi: Float64Array, b: Float64Array, x: Float64Array, o: SolveSettings): SolveInfo {
  const inst = instanceOf(mdp);
  const { ws, S } = inst;
  const m0 = ws.mark();
  try {
    const pPi = ws.putF64(pi), pB = ws.putF64(b);
    const pX = ws.allocF64(S);
    ws.writeF64(pX, x);
    const info = solveAt(inst, mdp, pPi, pB, pX, o);
    record(inst.counters, "solves", 1);
    ws.readF64(pX, x, S);
    return info;
  } finally {
    ws.release(m0);
  }
}

/**
 * Soft policy evaluation: V ← (I − γP_π)⁻¹(r_π + τH_π) (softRewardPi, then the solve, V read
 * as the initial guess) and Q ← r + γPV (qFromV). Records one solve.
 */
export function evaluatePolicy(mdp: object, r: Float64Array, pi: Float64Array, tau: number, V: Float64Array, Q: Float64Array, o: SolveSettings): SolveInfo {
  const inst = instanceOf(mdp);
  const { ws, k, S, A, gamma } = inst;
  const m0 = ws.mark();
  try {
    const pr = ws.putF64(r), pPi = ws.putF64(pi);
    const pB = ws.allocF64(S), pV = ws.allocF64(S), pQ = ws.allocF64(S * A);
    ws.writeF64(pV, V);
    k.softRewardPi(pr, pPi, pB, S, A, tau);
    const info = solveAt(inst, mdp, pPi, pB, pV, o);
    record(inst.counters, "solves", 1);
    k.qFromV(inst.P, inst.indptr, inst.indices, pr, pV, pQ, S, A, gamma);
    ws.readF64(pV, V, S);
    ws.readF64(pQ, Q, S * A);
    return info;
  } finally {
    ws.release(m0);
  }
}

/** Solve in kernel memory: x (holding the initial guess) ← A⁻¹ b; scratch above the current mark. */
/**
 * Honest results at any scale of b (issue 12): the iterative kernels and systemResidual
 * work on σb, σ = pow2Scale(b) a power of two (1 unless max|b_i| lies outside
 * [2^-400, 2^400]), and scale x back. When σ ≠ 1 the residual is recomputed for the x
 * actually returned (scaling back can round subnormals). An x that is not finite (the
 * solution overflows f64) or a NaN residual is a NumericalError: no usable accuracy is
 * reachable.
 */
function solveAt(inst: Instance, mdp: object, pPi: number, pB: number, pX: number, o: SolveSettings): SolveInfo {
  const { ws, k, S, A, gamma } = inst;
  const sigma = k.pow2Scale(pB, S);
  // with threads, each P_π product of the solve is split over them (docs/math.md#threads): the same bits
  const split = poolOf(ws.backend) !== undefined && parallelWorth(inst.dense ? S * A * S : inst.nnz);
  let res: SolveInfo;
  if (split) k.productThreads.value = 1;
  try {
    res = solveAtScaled(inst, mdp, pPi, pB, pX, o);
  } finally {
    if (split) k.productThreads.value = 0;
  }
  if (sigma !== 1) {
    const pR = ws.allocF64(S);
    res.residual = k.systemResidual(inst.P, inst.indptr, inst.indices, pPi, pB, pX, pR, S, A, gamma, o.transpose ? 1 : 0);
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

function solveAtScaled(inst: Instance, mdp: object, pPi: number, pB: number, pX: number, o: SolveSettings): SolveInfo {
  const { ws, k, S, A, gamma } = inst;
  const tr = o.transpose ? 1 : 0;
  if (o.method === "lu") {
    const pPiv = ws.allocI32(S);
    const pW = ws.allocF64(S);
    const { kl, ku } = bandwidth(mdp);
    const w = 2 * kl + ku + 1;
    let bad: number;
    if (w * w * 4 < S * S) {
      // banded LU: the transpose swaps the lower and upper bandwidths
      const [l, u] = o.transpose ? [ku, kl] : [kl, ku];
      const pM = ws.alloc(S * (2 * l + u + 1) * 8, "the banded LU needs S·(2·kl + ku + 1) doubles: use method 'krylov'");
      k.buildBand(inst.P, inst.indptr, inst.indices, pPi, pM, S, A, gamma, tr, l, u);
      bad = k.bandFactor(pM, pPiv, S, l, u);
      if (bad === 0) {
        ws.f64(pX, S).set(ws.f64(pB, S));
        k.bandSolve(pM, pPiv, pX, S, l, u);
      }
    } else {
      const pM = ws.alloc(S * S * 8, "the dense LU needs S² doubles: use method 'krylov'");
      // dense LU: factor I − γP_π itself; the transpose is solved from the same factors
      k.buildSystem(inst.P, inst.indptr, inst.indices, pPi, pM, S, A, gamma, 0);
      bad = luFactorAt(ws, pM, pPiv, S, () => k.buildSystem(inst.P, inst.indptr, inst.indices, pPi, pM, S, A, gamma, 0));
      if (bad === 0) {
        ws.f64(pX, S).set(ws.f64(pB, S));
        if (tr) k.luSolveT(pM, pPiv, pX, S);
        else k.luSolve(pM, pPiv, pX, S);
      }
    }
    if (bad !== 0) throw new NumericalError(`solveLinear: I − γP_π is singular (zero pivot at column ${bad - 1})`);
    const residual = k.systemResidual(inst.P, inst.indptr, inst.indices, pPi, pB, pX, pW, S, A, gamma, tr);
    return { iterations: 1, residual, converged: residual <= Math.max(o.tol, 1e-10) };
  }
  const pInfo = ws.allocF64(2);
  if (o.method === "bicgstab") {
    const pWork = ws.allocF64(6 * S);
    k.bicgstab(inst.P, inst.indptr, inst.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, o.maxIter, pInfo);
    const used = ws.f64(pInfo, 2)[0];
    const info = ws.f64(pInfo, 2);
    if (!(info[1] <= o.tol) && used < o.maxIter) {
      // BiCGSTAB can stall or diverge on near-deterministic policies: hand over to
      // GMRES, from zero when the iterate is no longer finite.
      const x = ws.f64(pX, S);
      if (!x.every(Number.isFinite)) x.fill(0);
      gmresAt(inst, pPi, pB, pX, pInfo, o, tr, o.maxIter - used);
      ws.f64(pInfo, 2)[0] += used;
    }
  } else if (o.method === "krylov") {
    gmresAt(inst, pPi, pB, pX, pInfo, o, tr, o.maxIter);
  } else {
    const pWork = ws.allocF64(S);
    k.richardson(inst.P, inst.indptr, inst.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, o.maxIter, pInfo);
  }
  const info = ws.f64(pInfo, 2);
  const residual = info[1];
  return { iterations: info[0], residual, converged: residual <= o.tol };
}

/** GMRES(m), finished by Richardson when a restart cycle stagnates; info ← [its, residual]. */
function gmresAt(inst: Instance, pPi: number, pB: number, pX: number, pInfo: number, o: SolveSettings, tr: number, budget: number): void {
  const { ws, k, S, A, gamma } = inst;
  const m = o.restart;
  const pWork = ws.alloc(((m + 2) * S + (m + 1) * m + 3 * m + 2) * 8, "GMRES keeps m + 2 vectors of length S: lower the restart length or use 'bicgstab'");
  k.gmres(inst.P, inst.indptr, inst.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, budget, m, pInfo);
  const info = ws.f64(pInfo, 2);
  const used = info[0];
  if (info[1] > o.tol && used < budget) {
    // a whole cycle without progress: Richardson is a γ-contraction and always finishes
    k.richardson(inst.P, inst.indptr, inst.indices, pPi, pB, pX, pWork, S, A, gamma, tr, o.tol, budget - used, pInfo);
    ws.f64(pInfo, 2)[0] += used;
  }
}

/**
 * luFactor of the n × n matrix at M, its trailing updates split over the threads when there
 * are any and n is worth it (the same bits). When a worker is lost mid-update, refill()
 * writes the matrix at M again and one thread factors it.
 */
function luFactorAt(ws: Instance["ws"], M: number, piv: number, n: number, refill: () => void): number {
  const pool = poolOf(ws.backend);
  if (!pool || !parallelLuWorth(n)) return ws.k.luFactor(M, piv, n);
  try {
    return pool.luFactor(ws, M, piv, n);
  } catch (e) {
    if (!(e instanceof WorkersLost)) throw e;
    refill();
    return ws.k.luFactor(M, piv, n);
  }
}

/**
 * y ← M⁻¹ b for an m × m row-major matrix M (luFactor, luSolve) in an MDP's scratch memory;
 * returns 0, or the 1-based column of a zero pivot (y is then left unchanged).
 */
export function luSolveDense(mdp: object, M: Float64Array, b: Float64Array, m: number, y: Float64Array, advice: string): number {
  const { ws, k } = instanceOf(mdp);
  const m0 = ws.mark();
  try {
    const pM = ws.alloc(m * m * 8, advice);
    const pPiv = ws.allocI32(m);
    const pB = ws.allocF64(m);
    ws.writeF64(pM, M);
    ws.writeF64(pB, b);
    const bad = luFactorAt(ws, pM, pPiv, m, () => ws.writeF64(pM, M));
    if (bad !== 0) return bad;
    k.luSolve(pM, pPiv, pB, m);
    ws.readF64(pB, y, m);
    return 0;
  } finally {
    ws.release(m0);
  }
}
