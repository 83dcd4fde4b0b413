// Softmax and log-sum-exp of one row of Q at temperature τ, the host-side twin of the
// kernels' backup: shared by the algorithms that take π = softmax(Q/τ) themselves, and
// the row-wise log-softmax of logits the actor-critic and Φσ policies live on.
import { exp, log } from "./math";

/**
 * σ(·) = softmax(Q[off..off+A)/τ) into sigma[off..off+A) (greedy one-hot on the first
 * maximiser for τ = 0); returns τ·log Σ_a exp(Q/τ) (the max for τ = 0). Max-shifted.
 */
export function rowSoftmax(Q: ArrayLike<number>, off: number, A: number, tau: number, sigma: Float64Array): number {
  let m = -Infinity, am = 0;
  for (let a = 0; a < A; a++) if (Q[off + a] > m) { m = Q[off + a]; am = a; }
  if (!(tau > 0)) {
    for (let a = 0; a < A; a++) sigma[off + a] = a === am ? 1 : 0;
    return m;
  }
  let z = 0;
  for (let a = 0; a < A; a++) z += (sigma[off + a] = exp((Q[off + a] - m) / tau));
  for (let a = 0; a < A; a++) sigma[off + a] /= z;
  return m + tau * log(z);
}

/** τ·log Σ_a exp(Q[off+a]/τ) for τ > 0, max-shifted (the value rowSoftmax returns). */
export function rowLogSumExp(Q: ArrayLike<number>, off: number, A: number, tau: number): number {
  let m = -Infinity;
  for (let a = 0; a < A; a++) if (Q[off + a] > m) m = Q[off + a];
  let z = 0;
  for (let a = 0; a < A; a++) z += exp((Q[off + a] - m) / tau);
  return m + tau * log(z);
}

/** Row-wise log-softmax of logits θ (S rows of A), in place: θ(s,a) − log Σ_a' exp θ(s,a'). */
export function logSoftmaxRows(theta: Float64Array, S: number, A: number): Float64Array {
  for (let s = 0; s < S; s++) {
    const o = s * A;
    const l = rowLogSumExp(theta, o, A, 1);
    for (let a = 0; a < A; a++) theta[o + a] -= l;
  }
  return theta;
}
