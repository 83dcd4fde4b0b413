// Routines of the soft Bellman kernels (assembly/bellman.ts): the sweep loop of value
// iteration and the row softmax. No validation: callers pass checked arrays of the
// right lengths.
import { NumericalError } from "../../errors";
import { instanceOf } from "./instance";
import { record } from "./work";
import { parallelWorth, poolOf } from "../pool";

export interface SweepsResult {
  /** Sweeps performed (also recorded as work). */
  iterations: number;
  /** ‖V_k − V_{k−1}‖∞ at the last sweep. */
  residual: number;
}

/**
 * Soft Bellman sweeps V ← τ·log Σ_a exp((r + γPV)/τ) (the bellmanDense/bellmanCsr kernel)
 * from V (read as V_0, overwritten with the final V) until ‖ΔV‖∞ ≤ tol or maxIter sweeps;
 * Q ← the last sweep's r + γPV, and, when `pi` is given, π ← softmax(Q/τ).
 *
 * π is written by the sweep that is certain to be the last: the cap's, or the one after a
 * residual that the γ-contraction bound γ·‖ΔV‖ (or, after a shift to the middle of the
 * error bounds, γ·span(ΔV)/2) puts at tol or below; when a sweep converges earlier than its
 * bound said, the softmaxPolicy kernel takes π from Q. With `extrapolate`, V moves to the
 * middle of the bounds on V* once they are within tol (see softValueIteration).
 * Records the sweeps, then throws a NumericalError when the residual stops being finite.
 */
export function bellmanSweeps(mdp: object, r: Float64Array, V: Float64Array, Q: Float64Array, pi: Float64Array | undefined, tau: number, tol: number, maxIter: number, extrapolate: boolean): SweepsResult {
  const inst = instanceOf(mdp);
  const { ws, k, S, A, gamma } = inst;
  // with threads, each sweep is split by states (docs/math.md#threads): the same bits
  const pool = poolOf(ws.backend);
  const par = pool && parallelWorth(inst.dense ? S * A * S : inst.nnz) ? pool : undefined;
  const m0 = ws.mark();
  try {
    const pr = ws.allocF64(S * A);
    let pV = ws.allocF64(S), pW = ws.allocF64(S);
    const pQ = ws.allocF64(S * A);
    const pPi = pi ? ws.allocF64(S * A) : 0;
    ws.writeF64(pr, r);
    ws.writeF64(pV, V);
    let residual = Infinity, it = 0, piAt = -1, shifted = false;
    while (it < maxIter) {
      const pp = pPi && (it === maxIter - 1 || gamma * residual <= tol || shifted) ? pPi : 0;
      let lo: number, hi: number;
      if (par) {
        ({ residual, deltaMin: lo, deltaMax: hi } = par.sweep(ws, { dense: inst.dense, indptr: inst.indptr, indices: inst.indices, P: inst.P, r: pr, V: pV, Q: pQ, Vout: pW, S, A, gamma, tau, pi: pp }));
      } else {
        residual = inst.dense
          ? k.bellmanDense(inst.P, pr, pV, pQ, pW, S, A, gamma, tau, pp)
          : k.bellmanCsr(inst.indptr, inst.indices, inst.P, pr, pV, pQ, pW, S, A, gamma, tau, pp);
        lo = k.deltaMin.value as number;
        hi = k.deltaMax.value as number;
      }
      if (pp) piAt = it;
      it++;
      const t = pV; pV = pW; pW = t;
      if (!(residual > tol) || residual === Infinity) break; // NaN and ∞ are reported below
      shifted = false;
      // the bounds need stochastic rows (P·1 = 1): not with terminal states (docs/math.md#terminal-states)
      if (extrapolate && it < maxIter && !inst.term) {
        // shift once the bounds pin V* itself to within tol: V + c is then within γ/(1−γ)·span/2
        // of V*, and the next sweep's residual is at most γ·span/2
        const g = gamma / (1 - gamma);
        if (g * (hi - lo) / 2 <= tol) {
          const c = g * ((lo + hi) / 2);
          const heap = ws.heap(), o = pV >>> 3;
          for (let s = 0; s < S; s++) heap[o + s] += c;
          shifted = true;
        }
      }
    }
    record(inst.counters, "sweeps", it);
    if (!Number.isFinite(residual)) throw new NumericalError(`softValueIteration: the residual became ${residual} at sweep ${it}; rewards too large for τ = ${tau}?`);
    if (pi) {
      if (piAt !== it - 1) k.softmaxPolicy(pQ, pPi, S, A, tau);
      ws.readF64(pPi, pi, S * A);
    }
    ws.readF64(pV, V, S);
    ws.readF64(pQ, Q, S * A);
    return { iterations: it, residual };
  } finally {
    ws.release(m0);
  }
}
