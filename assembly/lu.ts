// Dense LU with partial pivoting, PA = LU, stored in place (row-major n × n), for
// (I − γP_π) and its transpose at small and medium S. Called once per exact solve.
import { dot, axpy, axpy2 } from "./vec";

// Factor M in place; piv[k] is the row swapped with row k. Returns 0, or k + 1 when the
// k-th pivot is exactly zero (singular matrix). Columns are eliminated two at a time: the
// trailing rows are swept once per pair (half the memory traffic of one column at a time)
// with exactly the arithmetic of the one-column algorithm, so the results are identical.
export function luFactor(M: usize, piv: usize, n: i32): i32 {
  const row = <usize>n << 3;
  let k = 0;
  for (; k + 1 < n; k += 2) {
    const ck = <usize>k << 3, c1 = ck + 8;
    // step k: pivot, full-row swap, multipliers; update column k + 1 only
    let p = pivotRow(M, row, ck, k, n);
    store<i32>(piv + (<usize>k << 2), p);
    if (load<f64>(M + <usize>p * row + ck) == 0) return k + 1;
    swapRows(M, row, k, p, n);
    const mk = M + <usize>k * row;
    const inv = 1.0 / load<f64>(mk + ck);
    const u1 = load<f64>(mk + c1);
    for (let i = k + 1; i < n; i++) {
      const mi = M + <usize>i * row;
      const l = load<f64>(mi + ck) * inv;
      store<f64>(mi + ck, l);
      store<f64>(mi + c1, load<f64>(mi + c1) + -l * u1);
    }
    // step k + 1: pivot on the updated column k + 1 (the rows still owe step k's update
    // of columns ≥ k + 2, which a full-row swap carries along)
    p = pivotRow(M, row, c1, k + 1, n);
    store<i32>(piv + (<usize>(k + 1) << 2), p);
    if (load<f64>(M + <usize>p * row + c1) == 0) return k + 2;
    swapRows(M, row, k + 1, p, n);
    const m1 = M + <usize>(k + 1) * row;
    const len = n - k - 2;
    const lk1 = load<f64>(m1 + ck);
    if (lk1 != 0) axpy(m1 + c1 + 8, -lk1, mk + c1 + 8, len);
    const inv1 = 1.0 / load<f64>(m1 + c1);
    // both rank-1 updates in one sweep over each trailing row
    for (let i = k + 2; i < n; i++) {
      const mi = M + <usize>i * row;
      const l1 = load<f64>(mi + c1) * inv1;
      store<f64>(mi + c1, l1);
      axpy2(mi + c1 + 8, -load<f64>(mi + ck), mk + c1 + 8, -l1, m1 + c1 + 8, len);
    }
  }
  if (k < n) {
    // the last column when n is odd
    const ck = <usize>k << 3;
    const p = pivotRow(M, row, ck, k, n);
    store<i32>(piv + (<usize>k << 2), p);
    if (load<f64>(M + <usize>p * row + ck) == 0) return k + 1;
  }
  return 0;
}

// Row of the largest |M[i, c]| for i ≥ k (the first one on ties).
// @ts-ignore: decorator
@inline
function pivotRow(M: usize, row: usize, c: usize, k: i32, n: i32): i32 {
  let p = k;
  let best = abs(load<f64>(M + <usize>k * row + c));
  for (let i = k + 1; i < n; i++) {
    const v = abs(load<f64>(M + <usize>i * row + c));
    if (v > best) { best = v; p = i; }
  }
  return p;
}

// @ts-ignore: decorator
@inline
function swapRows(M: usize, row: usize, a: i32, b: i32, n: i32): void {
  if (a == b) return;
  const ma = M + <usize>a * row, mb = M + <usize>b * row;
  for (let j = 0; j < n; j++) {
    const o = <usize>j << 3;
    const t = load<f64>(ma + o);
    store<f64>(ma + o, load<f64>(mb + o));
    store<f64>(mb + o, t);
  }
}

// Solve M x = b in place in b, given luFactor's output.
export function luSolve(M: usize, piv: usize, b: usize, n: i32): void {
  const row = <usize>n << 3;
  for (let k = 0; k < n; k++) {
    const p = load<i32>(piv + (<usize>k << 2));
    if (p != k) {
      const a = b + (<usize>k << 3), c = b + (<usize>p << 3);
      const t = load<f64>(a);
      store<f64>(a, load<f64>(c));
      store<f64>(c, t);
    }
  }
  for (let i = 1; i < n; i++) {
    const o = b + (<usize>i << 3);
    store<f64>(o, load<f64>(o) - dot(M + <usize>i * row, b, i));
  }
  for (let i = n - 1; i >= 0; i--) {
    const mi = M + <usize>i * row;
    const o = b + (<usize>i << 3);
    const tail = <usize>(i + 1) << 3;
    store<f64>(o, (load<f64>(o) - dot(mi + tail, b + tail, n - i - 1)) / load<f64>(mi + (<usize>i << 3)));
  }
}

// ---- Banded LU (row-major band storage) --------------------------------------------
// Row i keeps columns [i − kl, i + kl + ku] in a window of w = 2·kl + ku + 1 doubles at
// M + i·w·8 (column j at offset j − i + kl): the extra kl columns hold the fill-in that
// partial pivoting moves into U. Grid-like MDPs have kl, ku ≈ the grid width, so a
// factorisation costs O(S·kl·(kl + ku)) instead of O(S³).

// Structural bandwidths of I − γP_π over every (s, a) row (π-independent):
// out[0] = kl = max(s − s'), out[1] = ku = max(s' − s).
export function bandwidth(P: usize, indptr: usize, indices: usize, S: i32, A: i32, out: usize): void {
  let kl = 0, ku = 0;
  const row = <usize>S << 3;
  for (let i = 0; i < S * A; i++) {
    const s = i / A;
    if (indptr == 0) {
      const p = P + <usize>i * row;
      for (let j = 0; j < S; j++) {
        if (load<f64>(p + (<usize>j << 3)) != 0) {
          if (s - j > kl) kl = s - j;
          if (j - s > ku) ku = j - s;
        }
      }
    } else {
      const k1 = load<i32>(indptr + (<usize>i << 2), 4);
      for (let k = load<i32>(indptr + (<usize>i << 2)); k < k1; k++) {
        const j = load<i32>(indices + (<usize>k << 2));
        if (s - j > kl) kl = s - j;
        if (j - s > ku) ku = j - s;
      }
    }
  }
  store<i32>(out, kl);
  store<i32>(out, ku, 4);
}

// M = I − γP_π in band storage (kl, ku of the untransposed matrix; when transposed the
// caller passes them swapped and this writes the transpose).
export function buildBand(P: usize, indptr: usize, indices: usize, pi: usize, M: usize, S: i32, A: i32, gamma: f64, transpose: bool, kl: i32, ku: i32): void {
  const w = 2 * kl + ku + 1;
  const rowb = <usize>w << 3;
  const row = <usize>S << 3;
  memory.fill(M, 0, <usize>S * rowb);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const c = -gamma * load<f64>(pi + (<usize>i << 3));
      if (c == 0) continue;
      if (indptr == 0) {
        const p = P + <usize>i * row;
        for (let j = 0; j < S; j++) {
          const v = load<f64>(p + (<usize>j << 3));
          if (v != 0) bandAdd(M, rowb, kl, transpose ? j : s, transpose ? s : j, c * v);
        }
      } else {
        const k1 = load<i32>(indptr + (<usize>i << 2), 4);
        for (let k = load<i32>(indptr + (<usize>i << 2)); k < k1; k++) {
          const j = load<i32>(indices + (<usize>k << 2));
          bandAdd(M, rowb, kl, transpose ? j : s, transpose ? s : j, c * load<f64>(P + (<usize>k << 3)));
        }
      }
    }
  }
  for (let s = 0; s < S; s++) bandAdd(M, rowb, kl, s, s, 1.0);
}

// @ts-ignore: decorator
@inline
function bandAdd(M: usize, rowb: usize, kl: i32, i: i32, j: i32, v: f64): void {
  const p = M + <usize>i * rowb + (<usize>(j - i + kl) << 3);
  store<f64>(p, load<f64>(p) + v);
}

// Factor in place with partial pivoting; piv[k] is the row swapped with k.
// Returns 0, or k + 1 at an exactly zero pivot.
export function bandFactor(M: usize, piv: usize, n: i32, kl: i32, ku: i32): i32 {
  const w = 2 * kl + ku + 1;
  const rowb = <usize>w << 3;
  for (let k = 0; k < n; k++) {
    const last = min(n - 1, k + kl);
    // column k of row i sits at offset k − i + kl
    let p = k;
    let best = abs(load<f64>(M + <usize>k * rowb + (<usize>kl << 3)));
    for (let i = k + 1; i <= last; i++) {
      const v = abs(load<f64>(M + <usize>i * rowb + (<usize>(k - i + kl) << 3)));
      if (v > best) { best = v; p = i; }
    }
    store<i32>(piv + (<usize>k << 2), p);
    if (best == 0) return k + 1;
    const span = min(n - 1, k + kl + ku) - k + 1; // columns k .. k + kl + ku
    const rk = M + <usize>k * rowb + (<usize>kl << 3); // column k of row k
    if (p != k) {
      const rp = M + <usize>p * rowb + (<usize>(k - p + kl) << 3);
      for (let j = 0; j < span; j++) {
        const o = <usize>j << 3;
        const t = load<f64>(rk + o);
        store<f64>(rk + o, load<f64>(rp + o));
        store<f64>(rp + o, t);
      }
    }
    const inv = 1.0 / load<f64>(rk);
    for (let i = k + 1; i <= last; i++) {
      const ri = M + <usize>i * rowb + (<usize>(k - i + kl) << 3); // column k of row i
      const l = load<f64>(ri) * inv;
      store<f64>(ri, l);
      if (l != 0) axpy(ri + 8, -l, rk + 8, span - 1);
    }
  }
  return 0;
}

// Solve in place in b after bandFactor.
export function bandSolve(M: usize, piv: usize, b: usize, n: i32, kl: i32, ku: i32): void {
  const w = 2 * kl + ku + 1;
  const rowb = <usize>w << 3;
  for (let k = 0; k < n; k++) {
    const p = load<i32>(piv + (<usize>k << 2));
    const bk0 = b + (<usize>k << 3);
    if (p != k) {
      const bp = b + (<usize>p << 3);
      const t = load<f64>(bk0);
      store<f64>(bk0, load<f64>(bp));
      store<f64>(bp, t);
    }
    const bk = load<f64>(bk0);
    if (bk != 0) {
      const last = min(n - 1, k + kl);
      for (let i = k + 1; i <= last; i++) {
        const o = b + (<usize>i << 3);
        store<f64>(o, load<f64>(o) - load<f64>(M + <usize>i * rowb + (<usize>(k - i + kl) << 3)) * bk);
      }
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = M + <usize>i * rowb + (<usize>kl << 3); // diagonal of row i
    const cnt = min(n - 1, i + kl + ku) - i;
    const o = b + (<usize>i << 3);
    store<f64>(o, (load<f64>(o) - dot(ri + 8, o + 8, cnt)) / load<f64>(ri));
  }
}
