// Softmax and log-sum-exp of one row of Q at temperature τ, the host-side twin of the
// kernels' backup: shared by the algorithms that take π = softmax(Q/τ) themselves.
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
