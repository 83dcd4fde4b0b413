// Soft Bellman optimality sweep (docs/math.md#soft-bellman):
//   Q = r + γ P V,   V'(s) = τ·log Σ_a exp(Q(s,a)/τ)   (max-shifted; τ = 0 is the hard max).
// Called once per value-iteration sweep; returns ‖V' − V‖∞. When `pi` ≠ 0 the sweep also
// writes π(·|s) = softmax(Q(s,·)/τ) from the exponentials it already has (the same bits as
// softmaxPolicy on the Q it returns).
import { dot, csrDot } from "./vec";
import { expNeg, expNeg2 } from "./exp";

// pmax(a, b) = a < b ? b : a and pmin(a, b) = b < a ? b : a, wasm's pseudo-min/max. Engines
// compile f64.max/min with branches (for NaN and ±0), and the maximiser's position is
// random from state to state; f64x2.pmax/pmin are single maxpd/minpd instructions. The
// scalar build selects the bits as integers (a conditional move; a float select is a
// branch again), with the same results.
// @ts-ignore: decorator
@inline
function pmax(a: f64, b: f64): f64 {
  if (ASC_FEATURE_SIMD) return f64x2.extract_lane(f64x2.pmax(f64x2.splat(a), f64x2.splat(b)), 0);
  return reinterpret<f64>(select<i64>(reinterpret<i64>(b), reinterpret<i64>(a), a < b));
}
// @ts-ignore: decorator
@inline
function pmin(a: f64, b: f64): f64 {
  if (ASC_FEATURE_SIMD) return f64x2.extract_lane(f64x2.pmin(f64x2.splat(a), f64x2.splat(b)), 0);
  return reinterpret<f64>(select<i64>(reinterpret<i64>(b), reinterpret<i64>(a), b < a));
}

// max_a Q(s,·) over the A values at q: even and odd actions in two lanes, then the two lanes,
// then the last action when A is odd (the scalar build in the same order).
// @ts-ignore: decorator
@inline
function rowMax(q: usize, A: i32): f64 {
  if (A < 2) return load<f64>(q);
  let a = 2;
  let m: f64;
  if (ASC_FEATURE_SIMD) {
    let vm = v128.load(q);
    for (; a + 2 <= A; a += 2) vm = f64x2.pmax(vm, v128.load(q + (<usize>a << 3)));
    m = f64x2.extract_lane(f64x2.pmax(vm, v128.shuffle<f64>(vm, vm, 1, 0)), 0);
  } else {
    let m0 = load<f64>(q), m1 = load<f64>(q, 8);
    for (; a + 2 <= A; a += 2) {
      m0 = pmax(m0, load<f64>(q + (<usize>a << 3)));
      m1 = pmax(m1, load<f64>(q + (<usize>a << 3), 8));
    }
    m = pmax(m0, m1);
  }
  if (a < A) m = pmax(m, load<f64>(q + (<usize>a << 3)));
  return m;
}

// V'(s) from the A values at q; writes π(·|s) at p when p ≠ 0.
// @ts-ignore: decorator
@inline
function backupState(q: usize, p: usize, A: i32, tau: f64): f64 {
  const m = rowMax(q, A);
  if (tau > 0) {
    // z = Σ_a exp((Q(s,a) − m)/τ), added in action order in both builds
    let z: f64 = 0;
    let a = 0;
    if (ASC_FEATURE_SIMD) {
      const vm = f64x2.splat(m), vt = f64x2.splat(tau);
      for (; a + 2 <= A; a += 2) {
        const e = expNeg2(f64x2.div(f64x2.sub(v128.load(q + (<usize>a << 3)), vm), vt));
        if (p) v128.store(p + (<usize>a << 3), e);
        z += f64x2.extract_lane(e, 0);
        z += f64x2.extract_lane(e, 1);
      }
    }
    for (; a < A; a++) {
      const e = expNeg((load<f64>(q + (<usize>a << 3)) - m) / tau);
      if (p) store<f64>(p + (<usize>a << 3), e);
      z += e;
    }
    if (p) {
      const iz = 1.0 / z;
      for (let a = 0; a < A; a++) store<f64>(p + (<usize>a << 3), load<f64>(p + (<usize>a << 3)) * iz);
    }
    return m + tau * Math.log(z);
  }
  if (p) {
    // greedy: one-hot at the first maximiser
    let am = A - 1;
    for (let a = A - 1; a >= 0; a--) if (load<f64>(q + (<usize>a << 3)) == m) am = a;
    for (let a = 0; a < A; a++) store<f64>(p + (<usize>a << 3), a == am ? 1.0 : 0.0);
  }
  return m;
}

/** min_s and max_s of V'(s) − V(s) in the last sweep (the bounds of value iteration with
 *  error bounds, docs/math.md#error-bounds). */
export let deltaMin: f64 = 0;
export let deltaMax: f64 = 0;

// V'(s) for every s from Q (and π when pi ≠ 0); returns max |V'(s) − V(s)|.
// @ts-ignore: decorator
@inline
function backup(Q: usize, V: usize, Vout: usize, S: i32, A: i32, tau: f64, pi: usize): f64 {
  return backupRows(Q, V, Vout, 0, S, A, tau, pi);
}
// Dense P (S·A × S, row-major).
export function bellmanDense(P: usize, r: usize, V: usize, Q: usize, Vout: usize, S: i32, A: i32, gamma: f64, tau: f64, pi: usize): f64 {
  const n = S * A;
  const row = <usize>S << 3;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(Q + o, load<f64>(r + o) + gamma * dot(P + <usize>i * row, V, S));
  }
  return backup(Q, V, Vout, S, A, tau, pi);
}

// CSR P: indptr (i32, S·A + 1), indices (i32, nnz), probs (f64, nnz). The rows are one
// pass and the backups another: a pass with nothing but row products keeps many of the
// random V[indices[k]] loads in flight, which fusing in the exp/log work would stall.
export function bellmanCsr(indptr: usize, indices: usize, probs: usize, r: usize, V: usize, Q: usize, Vout: usize, S: i32, A: i32, gamma: f64, tau: f64, pi: usize): f64 {
  const n = S * A;
  let k0 = load<i32>(indptr);
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const k1 = load<i32>(indptr + (<usize>i << 2), 4);
    store<f64>(Q + o, load<f64>(r + o) + gamma * csrDot(indices, probs, V, k0, k1));
    k0 = k1;
  }
  return backup(Q, V, Vout, S, A, tau, pi);
}

// The threaded sweep's share (docs/math.md#threads): the Q rows and backups of the states
// s0..s1−1 only, each with the arithmetic of bellmanDense/bellmanCsr, so the union of the
// shares is that sweep bit for bit. Sets deltaMin/deltaMax over the share (NaN when any d
// is NaN); the host combines the shares' bounds in state order. Only the shared-memory
// builds have a body (the default builds, which never thread, stay as small as before).
export function bellmanDenseRows(P: usize, r: usize, V: usize, Q: usize, Vout: usize, S: i32, A: i32, gamma: f64, tau: f64, pi: usize, s0: i32, s1: i32): f64 {
  if (!ASC_FEATURE_THREADS) unreachable();
  const row = <usize>S << 3;
  for (let i = s0 * A, n = s1 * A; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(Q + o, load<f64>(r + o) + gamma * dot(P + <usize>i * row, V, S));
  }
  return backupRows(Q, V, Vout, s0, s1, A, tau, pi);
}

export function bellmanCsrRows(indptr: usize, indices: usize, probs: usize, r: usize, V: usize, Q: usize, Vout: usize, S: i32, A: i32, gamma: f64, tau: f64, pi: usize, s0: i32, s1: i32): f64 {
  if (!ASC_FEATURE_THREADS) unreachable();
  const i0 = s0 * A, n = s1 * A;
  let k0 = load<i32>(indptr + (<usize>i0 << 2));
  for (let i = i0; i < n; i++) {
    const o = <usize>i << 3;
    const k1 = load<i32>(indptr + (<usize>i << 2), 4);
    store<f64>(Q + o, load<f64>(r + o) + gamma * csrDot(indices, probs, V, k0, k1));
    k0 = k1;
  }
  return backupRows(Q, V, Vout, s0, s1, A, tau, pi);
}

// V'(s) for s0 ≤ s < s1 (and π when pi ≠ 0); sets deltaMin/deltaMax over them, returns max |V'(s) − V(s)|.
// @ts-ignore: decorator
@inline
function backupRows(Q: usize, V: usize, Vout: usize, s0: i32, s1: i32, A: i32, tau: f64, pi: usize): f64 {
  let dmin = Infinity, dmax = -Infinity;
  let nan = false; // pmin/pmax drop NaN: it is tracked here
  for (let s = s0; s < s1; s++) {
    const o = <usize>(s * A) << 3;
    const v = backupState(Q + o, pi ? pi + o : 0, A, tau);
    store<f64>(Vout + (<usize>s << 3), v);
    const d = v - load<f64>(V + (<usize>s << 3));
    dmin = pmin(dmin, d);
    dmax = pmax(dmax, d);
    nan = nan | (d != d);
  }
  deltaMin = nan ? NaN : dmin;
  deltaMax = nan ? NaN : dmax;
  return nan ? NaN : max(dmax, -dmin);
}

// π(·|s) = softmax(Q(s,·)/τ); for τ = 0 the greedy policy (first maximiser).
export function softmaxPolicy(Q: usize, pi: usize, S: i32, A: i32, tau: f64): void {
  for (let s = 0; s < S; s++) {
    const o = <usize>(s * A) << 3;
    backupState(Q + o, pi + o, A, tau);
  }
}
