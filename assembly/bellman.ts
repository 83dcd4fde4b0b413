// Soft Bellman optimality sweep (ALGORITHMS.md §1.2):
//   Q = r + γ P V,   V'(s) = τ·log Σ_a exp(Q(s,a)/τ)   (max-shifted; τ = 0 is the hard max).
// Called once per value-iteration sweep; returns ‖V' − V‖∞.
import { dot, csrDot } from "./vec";
import { expNeg, expNeg2 } from "./exp";

// Σ_a e^{(Q(s,a) − m)/τ} for one state's A values at q: lanes (even a, odd a) in the SIMD
// build, the same two running sums in the scalar twin, then lane 0 + lane 1 + the odd
// last action. When out != 0 each term is also stored there (for the softmax).
// @ts-ignore: decorator
@inline
function sumExp(q: usize, A: i32, m: f64, invTau: f64, out: usize): f64 {
  let a = 0;
  let z: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    const vm = f64x2.splat(m), vt = f64x2.splat(invTau);
    for (; a + 2 <= A; a += 2) {
      const o = <usize>a << 3;
      const e = expNeg2(f64x2.mul(f64x2.sub(v128.load(q + o), vm), vt));
      if (out != 0) v128.store(out + o, e);
      acc = f64x2.add(acc, e);
    }
    z = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  } else {
    let l0: f64 = 0, l1: f64 = 0;
    for (; a + 2 <= A; a += 2) {
      const o = <usize>a << 3;
      const e0 = expNeg((load<f64>(q + o) - m) * invTau), e1 = expNeg((load<f64>(q + o, 8) - m) * invTau);
      if (out != 0) { store<f64>(out + o, e0); store<f64>(out + o, e1, 8); }
      l0 += e0;
      l1 += e1;
    }
    z = l0 + l1;
  }
  if (a < A) {
    const e = expNeg((load<f64>(q + (<usize>a << 3)) - m) * invTau);
    if (out != 0) store<f64>(out + (<usize>a << 3), e);
    z += e;
  }
  return z;
}

// V'(s) from Q(s,·) for every s; returns max |V'(s) − V(s)|.
// @ts-ignore: decorator
@inline
function backup(Q: usize, V: usize, Vout: usize, S: i32, A: i32, tau: f64): f64 {
  let res: f64 = 0;
  const invTau = tau > 0 ? 1.0 / tau : 0;
  for (let s = 0; s < S; s++) {
    const q = Q + (<usize>(s * A) << 3);
    let m = load<f64>(q);
    for (let a = 1; a < A; a++) m = max(m, load<f64>(q + (<usize>a << 3)));
    let v = m;
    if (tau > 0) v = m + tau * Math.log(sumExp(q, A, m, invTau, 0));
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
      const iz = 1.0 / sumExp(q, A, m, 1.0 / tau, p);
      for (let a = 0; a < A; a++) store<f64>(p + (<usize>a << 3), load<f64>(p + (<usize>a << 3)) * iz);
    } else {
      for (let a = 0; a < A; a++) store<f64>(p + (<usize>a << 3), a == am ? 1.0 : 0.0);
    }
  }
}
