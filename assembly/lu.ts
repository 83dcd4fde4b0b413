// Dense LU with partial pivoting, PA = LU, stored in place (row-major n × n), for
// I − γP_π at small and medium S and for the Newton systems of φ-Σ. Called once per exact
// solve; luSolve and luSolveT then solve with A or Aᵀ from the same factors.
//
// Blocked and right-looking, as LAPACK's dgetrf with a recursive panel (dgetrf2): factor a
// panel of NB columns, solve for the NB rows of U to its right, and subtract L₂₁·U₁₂ from the
// trailing rows with a register-blocked kernel. Each entry is still updated as
// a ← a − l_p·u_p for p = 0, 1, 2, … in turn, the order of textbook elimination, so the
// blocked factors equal the unblocked ones bit for bit, and the SIMD lanes (two columns)
// and the scalar twin do the same operations in the same order.
import { dot, axpy } from "./vec";

/** Panel width: the trailing update reads NB·NC doubles of U per pass. */
const NB = 64;
/** The recursive panel splits down to this many columns. */
const BASE = 8;
/** Columns per pass of the trailing update: NB × NC doubles of U (32 KB) stay in L1. */
const NC = 64;
/** Rows per pass of the trailing update: MC × NB doubles of L stay in L2. */
const MC = 128;

// Factor M in place; piv[k] is the row swapped with row k. Returns 0, or k + 1 when the
// k-th pivot is exactly zero (singular matrix).
export function luFactor(M: usize, piv: usize, n: i32): i32 {
  const row = <usize>n << 3;
  for (let k0 = 0; k0 < n; k0 += NB) {
    const k1 = min(k0 + NB, n);
    const bad = factorPanel(M, piv, row, n, k0, k1, 0, n);
    if (bad != 0) return bad;
    if (k1 < n) {
      solveUnitLower(M, row, k0, k1, k1, n);
      subtractProduct(M, row, k1, n, k1, n, k0, k1);
    }
  }
  return 0;
}

// The threaded factorisation's steps (docs/math.md#threads), driven by the host one panel
// at a time: luPanel factors the panel at k0 (the caller's thread), then luUpdateCols, on
// each thread's share [j0, j1) of the columns right of the panel, solves for those columns
// of U₁₂ and subtracts L₂₁·U₁₂ from them. Every entry takes the updates luFactor gives it,
// in the same order, so the factors are luFactor's bit for bit. Only the shared-memory
// builds have a body.
//
// Row swaps are moves, so they may come late: luPanel swaps rows only within the panel's own
// columns, luUpdateCols first applies the panel's swaps to its columns, and luSwapCols applies
// them to the columns left of the panel. Each column still receives every swap, in order,
// before any arithmetic that reads it. This lets the host factor the next panel while the
// threads update the columns right of it (a look-ahead of one panel).
export function luPanel(M: usize, piv: usize, n: i32, k0: i32): i32 {
  if (!ASC_FEATURE_THREADS) unreachable();
  const k1 = min(k0 + NB, n);
  return factorPanel(M, piv, <usize>n << 3, n, k0, k1, k0, k1);
}

export function luUpdateCols(M: usize, piv: usize, n: i32, k0: i32, j0: i32, j1: i32): void {
  if (!ASC_FEATURE_THREADS) unreachable();
  const row = <usize>n << 3;
  const k1 = min(k0 + NB, n);
  swapCols(M, piv, row, k0, k1, j0, j1);
  solveUnitLower(M, row, k0, k1, j0, j1);
  subtractProduct(M, row, k1, n, j0, j1, k0, k1);
}

export function luSwapCols(M: usize, piv: usize, n: i32, k0: i32, j0: i32, j1: i32): void {
  if (!ASC_FEATURE_THREADS) unreachable();
  swapCols(M, piv, <usize>n << 3, k0, min(k0 + NB, n), j0, j1);
}

// The swaps of pivots k0..k1−1, in order, on columns [j0, j1) only.
function swapCols(M: usize, piv: usize, row: usize, k0: i32, k1: i32, j0: i32, j1: i32): void {
  if (j1 <= j0) return;
  const o = <usize>j0 << 3;
  for (let k = k0; k < k1; k++) {
    const p = load<i32>(piv + (<usize>k << 2));
    if (p != k) swapRows(M + <usize>k * row + o, M + <usize>p * row + o, j1 - j0);
  }
}

/** The panel width luFactor and luPanel step by. */
export const LU_PANEL: i32 = NB;

// Factor columns [c0, c1) over rows [c0, n), whose updates by the columns before c0 are
// done. Rows are swapped over columns [s0, s1) (whole rows in luFactor; it includes
// [c0, c1)); other columns get only the swaps. Splits in halves (the left half's U and
// Schur update are ordinary blocked steps) down to BASE columns.
function factorPanel(M: usize, piv: usize, row: usize, n: i32, c0: i32, c1: i32, s0: i32, s1: i32): i32 {
  const w = c1 - c0;
  if (w <= BASE) return factorNarrow(M, piv, row, n, c0, c1, s0, s1);
  const mid = c0 + (((w >> 1) + 3) & ~3);
  const bad = factorPanel(M, piv, row, n, c0, mid, s0, s1);
  if (bad != 0) return bad;
  solveUnitLower(M, row, c0, mid, mid, c1);
  subtractProduct(M, row, mid, n, mid, c1, c0, mid);
  return factorPanel(M, piv, row, n, mid, c1, s0, s1);
}

// Textbook elimination of columns [c0, c1), updating only those columns; rows swapped over [s0, s1).
function factorNarrow(M: usize, piv: usize, row: usize, n: i32, c0: i32, c1: i32, s0: i32, s1: i32): i32 {
  for (let k = c0; k < c1; k++) {
    const ck = <usize>k << 3;
    const p = pivotRow(M, row, ck, k, n);
    store<i32>(piv + (<usize>k << 2), p);
    if (load<f64>(M + <usize>p * row + ck) == 0) return k + 1;
    if (p != k) swapRows(M + <usize>k * row + (<usize>s0 << 3), M + <usize>p * row + (<usize>s0 << 3), s1 - s0);
    const mk = M + <usize>k * row;
    const inv = 1.0 / load<f64>(mk + ck);
    for (let i = k + 1; i < n; i++) {
      const mi = M + <usize>i * row;
      const l = load<f64>(mi + ck) * inv;
      store<f64>(mi + ck, l);
      for (let j = k + 1; j < c1; j++) {
        const o = <usize>j << 3;
        store<f64>(mi + o, load<f64>(mi + o) - l * load<f64>(mk + o));
      }
    }
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

// Exchange n doubles at a and b (moves only: both builds give the same bits).
// @ts-ignore: decorator
@inline
function swapRows(a: usize, b: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 2 <= n; j += 2) {
      const o = <usize>j << 3;
      const t = v128.load(a + o);
      v128.store(a + o, v128.load(b + o));
      v128.store(b + o, t);
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 3;
    const t = load<f64>(a + o);
    store<f64>(a + o, load<f64>(b + o));
    store<f64>(b + o, t);
  }
}

// U₁₂ of a panel: rows (r0, r1), columns [j0, j1) ← L₁₁⁻¹ · (those rows), L₁₁ the unit-lower
// block of rows and columns [r0, r1). Four rows at a time: first the product with the rows
// above the four, then the small triangle among them, so each entry still takes its
// updates in the order p = r0, r0 + 1, ….
function solveUnitLower(M: usize, row: usize, r0: i32, r1: i32, j0: i32, j1: i32): void {
  const len = j1 - j0;
  const cj = <usize>j0 << 3;
  for (let i = r0; i < r1; i += 4) {
    const ie = min(i + 4, r1);
    subtractProduct(M, row, i, ie, j0, j1, r0, i);
    for (let q = i + 1; q < ie; q++) {
      const mq = M + <usize>q * row;
      for (let p = i; p < q; p++) axpy(mq + cj, -load<f64>(mq + (<usize>p << 3)), M + <usize>p * row + cj, len);
    }
  }
}

// C ← C − L·U on rows [i0, i1) and columns [j0, j1) of M, with L = M[i0:i1, p0:p1] and
// U = M[p0:p1, j0:j1]: each entry subtracts l_p·u_p for p = p0, p0 + 1, … in turn (no
// partial sums), held in registers across p.
function subtractProduct(M: usize, row: usize, i0: i32, i1: i32, j0: i32, j1: i32, p0: i32, p1: i32): void {
  const K = p1 - p0;
  if (K <= 0 || i0 >= i1) return;
  const u = M + <usize>p0 * row;
  const cp = <usize>p0 << 3;
  for (let ic = i0; ic < i1; ic += MC) {
    const ie = min(ic + MC, i1);
    for (let jc = j0; jc < j1; jc += NC) {
      const je = min(jc + NC, j1);
      let i = ic;
      for (; i + 4 <= ie; i += 4) tile4Rows(M + <usize>i * row, cp, u, row, K, jc, je);
      for (; i < ie; i++) tile1Row(M + <usize>i * row, cp, u, row, K, jc, je);
    }
  }
}

// Four rows starting at c (their L at c + cp), columns [j0, j1): tiles of 4 × 4 in the SIMD
// build (8 accumulators, two columns per lane pair), 4 × 2 in the scalar one, then a
// 4 × 1 tail.
// @ts-ignore: decorator
@inline
function tile4Rows(c: usize, cp: usize, u: usize, row: usize, K: i32, j0: i32, j1: i32): void {
  const l0 = c + cp, l1 = l0 + row, l2 = l1 + row, l3 = l2 + row;
  let j = j0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= j1; j += 4) {
      const o = <usize>j << 3;
      const c0 = c + o, c1 = c0 + row, c2 = c1 + row, c3 = c2 + row;
      let a0 = v128.load(c0), b0 = v128.load(c0, 16);
      let a1 = v128.load(c1), b1 = v128.load(c1, 16);
      let a2 = v128.load(c2), b2 = v128.load(c2, 16);
      let a3 = v128.load(c3), b3 = v128.load(c3, 16);
      let up = u + o;
      for (let p = 0; p < K; p++) {
        const q = <usize>p << 3;
        const u0 = v128.load(up), u1 = v128.load(up, 16);
        let s = v128.load64_splat(l0 + q);
        a0 = f64x2.sub(a0, f64x2.mul(s, u0)); b0 = f64x2.sub(b0, f64x2.mul(s, u1));
        s = v128.load64_splat(l1 + q);
        a1 = f64x2.sub(a1, f64x2.mul(s, u0)); b1 = f64x2.sub(b1, f64x2.mul(s, u1));
        s = v128.load64_splat(l2 + q);
        a2 = f64x2.sub(a2, f64x2.mul(s, u0)); b2 = f64x2.sub(b2, f64x2.mul(s, u1));
        s = v128.load64_splat(l3 + q);
        a3 = f64x2.sub(a3, f64x2.mul(s, u0)); b3 = f64x2.sub(b3, f64x2.mul(s, u1));
        up += row;
      }
      v128.store(c0, a0); v128.store(c0, b0, 16);
      v128.store(c1, a1); v128.store(c1, b1, 16);
      v128.store(c2, a2); v128.store(c2, b2, 16);
      v128.store(c3, a3); v128.store(c3, b3, 16);
    }
    for (; j + 2 <= j1; j += 2) {
      const o = <usize>j << 3;
      const c0 = c + o, c1 = c0 + row, c2 = c1 + row, c3 = c2 + row;
      let a0 = v128.load(c0), a1 = v128.load(c1), a2 = v128.load(c2), a3 = v128.load(c3);
      let up = u + o;
      for (let p = 0; p < K; p++) {
        const q = <usize>p << 3;
        const u0 = v128.load(up);
        a0 = f64x2.sub(a0, f64x2.mul(v128.load64_splat(l0 + q), u0));
        a1 = f64x2.sub(a1, f64x2.mul(v128.load64_splat(l1 + q), u0));
        a2 = f64x2.sub(a2, f64x2.mul(v128.load64_splat(l2 + q), u0));
        a3 = f64x2.sub(a3, f64x2.mul(v128.load64_splat(l3 + q), u0));
        up += row;
      }
      v128.store(c0, a0); v128.store(c1, a1); v128.store(c2, a2); v128.store(c3, a3);
    }
  } else {
    for (; j + 2 <= j1; j += 2) {
      const o = <usize>j << 3;
      const c0 = c + o, c1 = c0 + row, c2 = c1 + row, c3 = c2 + row;
      let a0 = load<f64>(c0), b0 = load<f64>(c0, 8);
      let a1 = load<f64>(c1), b1 = load<f64>(c1, 8);
      let a2 = load<f64>(c2), b2 = load<f64>(c2, 8);
      let a3 = load<f64>(c3), b3 = load<f64>(c3, 8);
      let up = u + o;
      for (let p = 0; p < K; p++) {
        const q = <usize>p << 3;
        const u0 = load<f64>(up), u1 = load<f64>(up, 8);
        let s = load<f64>(l0 + q);
        a0 = a0 - s * u0; b0 = b0 - s * u1;
        s = load<f64>(l1 + q);
        a1 = a1 - s * u0; b1 = b1 - s * u1;
        s = load<f64>(l2 + q);
        a2 = a2 - s * u0; b2 = b2 - s * u1;
        s = load<f64>(l3 + q);
        a3 = a3 - s * u0; b3 = b3 - s * u1;
        up += row;
      }
      store<f64>(c0, a0); store<f64>(c0, b0, 8);
      store<f64>(c1, a1); store<f64>(c1, b1, 8);
      store<f64>(c2, a2); store<f64>(c2, b2, 8);
      store<f64>(c3, a3); store<f64>(c3, b3, 8);
    }
  }
  if (j < j1) {
    const o = <usize>j << 3;
    const c0 = c + o, c1 = c0 + row, c2 = c1 + row, c3 = c2 + row;
    let a0 = load<f64>(c0), a1 = load<f64>(c1), a2 = load<f64>(c2), a3 = load<f64>(c3);
    let up = u + o;
    for (let p = 0; p < K; p++) {
      const q = <usize>p << 3;
      const u0 = load<f64>(up);
      a0 = a0 - load<f64>(l0 + q) * u0;
      a1 = a1 - load<f64>(l1 + q) * u0;
      a2 = a2 - load<f64>(l2 + q) * u0;
      a3 = a3 - load<f64>(l3 + q) * u0;
      up += row;
    }
    store<f64>(c0, a0); store<f64>(c1, a1); store<f64>(c2, a2); store<f64>(c3, a3);
  }
}

// One row starting at c (its L at c + cp), columns [j0, j1): 1 × 8 tiles in the SIMD build,
// 1 × 4 in the scalar one, then pairs and a last column.
// @ts-ignore: decorator
@inline
function tile1Row(c: usize, cp: usize, u: usize, row: usize, K: i32, j0: i32, j1: i32): void {
  const l = c + cp;
  let j = j0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 8 <= j1; j += 8) {
      const c0 = c + (<usize>j << 3);
      let a0 = v128.load(c0), a1 = v128.load(c0, 16), a2 = v128.load(c0, 32), a3 = v128.load(c0, 48);
      let up = u + (<usize>j << 3);
      for (let p = 0; p < K; p++) {
        const s = v128.load64_splat(l + (<usize>p << 3));
        a0 = f64x2.sub(a0, f64x2.mul(s, v128.load(up)));
        a1 = f64x2.sub(a1, f64x2.mul(s, v128.load(up, 16)));
        a2 = f64x2.sub(a2, f64x2.mul(s, v128.load(up, 32)));
        a3 = f64x2.sub(a3, f64x2.mul(s, v128.load(up, 48)));
        up += row;
      }
      v128.store(c0, a0); v128.store(c0, a1, 16); v128.store(c0, a2, 32); v128.store(c0, a3, 48);
    }
    for (; j + 2 <= j1; j += 2) {
      const c0 = c + (<usize>j << 3);
      let a0 = v128.load(c0);
      let up = u + (<usize>j << 3);
      for (let p = 0; p < K; p++) {
        a0 = f64x2.sub(a0, f64x2.mul(v128.load64_splat(l + (<usize>p << 3)), v128.load(up)));
        up += row;
      }
      v128.store(c0, a0);
    }
  } else {
    for (; j + 4 <= j1; j += 4) {
      const c0 = c + (<usize>j << 3);
      let a0 = load<f64>(c0), a1 = load<f64>(c0, 8), a2 = load<f64>(c0, 16), a3 = load<f64>(c0, 24);
      let up = u + (<usize>j << 3);
      for (let p = 0; p < K; p++) {
        const s = load<f64>(l + (<usize>p << 3));
        a0 = a0 - s * load<f64>(up);
        a1 = a1 - s * load<f64>(up, 8);
        a2 = a2 - s * load<f64>(up, 16);
        a3 = a3 - s * load<f64>(up, 24);
        up += row;
      }
      store<f64>(c0, a0); store<f64>(c0, a1, 8); store<f64>(c0, a2, 16); store<f64>(c0, a3, 24);
    }
  }
  for (; j < j1; j++) {
    const c0 = c + (<usize>j << 3);
    let a0 = load<f64>(c0);
    let up = u + (<usize>j << 3);
    for (let p = 0; p < K; p++) {
      a0 = a0 - load<f64>(l + (<usize>p << 3)) * load<f64>(up);
      up += row;
    }
    store<f64>(c0, a0);
  }
}

// Solve A x = b in place in b, given luFactor's output (PA = LU): swap, forward with L, back with U.
export function luSolve(M: usize, piv: usize, b: usize, n: i32): void {
  const row = <usize>n << 3;
  for (let k = 0; k < n; k++) {
    const p = load<i32>(piv + (<usize>k << 2));
    if (p != k) swapEntries(b, k, p);
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

// Solve Aᵀ x = b in place in b from the same factors: Aᵀ = Uᵀ Lᵀ P, so forward with Uᵀ,
// back with Lᵀ, then the swaps in reverse. Both triangles are read by rows (an axpy per
// row of U or L), so no transposed copy is built. Called once per adjoint solve.
export function luSolveT(M: usize, piv: usize, b: usize, n: i32): void {
  const row = <usize>n << 3;
  for (let j = 0; j < n; j++) {
    const d = M + <usize>j * row + (<usize>j << 3);
    const o = b + (<usize>j << 3);
    const y = load<f64>(o) / load<f64>(d);
    store<f64>(o, y);
    axpy(o + 8, -y, d + 8, n - j - 1);
  }
  for (let j = n - 1; j > 0; j--) axpy(b, -load<f64>(b + (<usize>j << 3)), M + <usize>j * row, j);
  for (let k = n - 1; k >= 0; k--) {
    const p = load<i32>(piv + (<usize>k << 2));
    if (p != k) swapEntries(b, k, p);
  }
}

// @ts-ignore: decorator
@inline
function swapEntries(b: usize, k: i32, p: i32): void {
  const a = b + (<usize>k << 3), c = b + (<usize>p << 3);
  const t = load<f64>(a);
  store<f64>(a, load<f64>(c));
  store<f64>(c, t);
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
