// Soft Bellman optimality sweep (ALGORITHMS.md §1.2):
//   Q = r + γ P V,   V'(s) = τ·log Σ_a exp(Q(s,a)/τ)   (max-shifted; τ = 0 is the hard max).
// Called once per value-iteration sweep; returns ‖V' − V‖∞.
import { dot, csrDot } from "./vec";

// V'(s) from Q(s,·) for every s; returns max |V'(s) − V(s)|.
// @ts-ignore: decorator
@inline
function backup(Q: usize, V: usize, Vout: usize, S: i32, A: i32, tau: f64): f64 {
  let res: f64 = 0;
  for (let s = 0; s < S; s++) {
    const q = Q + (<usize>(s * A) << 3);
    let m = load<f64>(q);
    for (let a = 1; a < A; a++) m = max(m, load<f64>(q + (<usize>a << 3)));
    let v = m;
    if (tau > 0) {
      let z: f64 = 0;
      for (let a = 0; a < A; a++) z += Math.exp((load<f64>(q + (<usize>a << 3)) - m) / tau);
      v = m + tau * Math.log(z);
    }
    store<f64>(Vout + (<usize>s << 3), v);
    res = max(res, abs(v - load<f64>(V + (<usize>s << 3))));
  }
  return res;
}

// Dense P (S·A × S, row-major).
export function bellmanDense(P: usize, r: usize, V: usize, Q: usize, Vout: usize, S: i32, A: i32, gamma: f64, tau: f64): f64 {
  const n = S * A;
  const row = <usize>S << 3;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(Q + o, load<f64>(r + o) + gamma * dot(P + <usize>i * row, V, S));
  }
  return backup(Q, V, Vout, S, A, tau);
}

// CSR P: indptr (i32, S·A + 1), indices (i32, nnz), probs (f64, nnz).
export function bellmanCsr(indptr: usize, indices: usize, probs: usize, r: usize, V: usize, Q: usize, Vout: usize, S: i32, A: i32, gamma: f64, tau: f64): f64 {
  const n = S * A;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const k0 = load<i32>(indptr + (<usize>i << 2)), k1 = load<i32>(indptr + (<usize>i << 2), 4);
    store<f64>(Q + o, load<f64>(r + o) + gamma * csrDot(indices, probs, V, k0, k1));
  }
  return backup(Q, V, Vout, S, A, tau);
}

// π(·|s) = softmax(Q(s,·)/τ); for τ = 0 the greedy policy (first maximiser).
export function softmaxPolicy(Q: usize, pi: usize, S: i32, A: i32, tau: f64): void {
  for (let s = 0; s < S; s++) {
    const q = Q + (<usize>(s * A) << 3), p = pi + (<usize>(s * A) << 3);
    let m = load<f64>(q), am = 0;
    for (let a = 1; a < A; a++) {
      const qa = load<f64>(q + (<usize>a << 3));
      if (qa > m) { m = qa; am = a; }
    }
    if (tau > 0) {
      let z: f64 = 0;
      for (let a = 0; a < A; a++) {
        const e = Math.exp((load<f64>(q + (<usize>a << 3)) - m) / tau);
        store<f64>(p + (<usize>a << 3), e);
        z += e;
      }
      const iz = 1.0 / z;
      for (let a = 0; a < A; a++) store<f64>(p + (<usize>a << 3), load<f64>(p + (<usize>a << 3)) * iz);
    } else {
      for (let a = 0; a < A; a++) store<f64>(p + (<usize>a << 3), a == am ? 1.0 : 0.0);
    }
  }
}
