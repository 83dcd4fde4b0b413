// Products with the policy-induced transition matrix P_π = Π_π P (S × S) and the
// pieces of soft policy evaluation (docs/math.md#soft-values). Called once per solver
// iteration by the Krylov and Richardson solves, and by M-SoBiRL's tracking step.
import { dot, axpy, csrDot, fill } from "./vec";

// out = P_π v  (dense P).
export function ppiDense(P: usize, pi: usize, v: usize, out: usize, S: i32, A: i32): void {
  ppiDenseRows(P, pi, v, out, S, A, 0, S);
}

// out = P_πᵀ v  (dense P): out += π(a|s)·v(s)·P[(s,a),:] row by row.
export function ppiTDense(P: usize, pi: usize, v: usize, out: usize, S: i32, A: i32): void {
  const row = <usize>S << 3;
  fill(out, 0, S);
  for (let s = 0; s < S; s++) {
    const vs = load<f64>(v + (<usize>s << 3));
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const w = load<f64>(pi + (<usize>i << 3)) * vs;
      if (w != 0) axpy(out, w, P + <usize>i * row, S);
    }
  }
}

// out = P_π v  (CSR P).
export function ppiCsr(indptr: usize, indices: usize, probs: usize, pi: usize, v: usize, out: usize, S: i32, A: i32): void {
  ppiCsrRows(indptr, indices, probs, pi, v, out, S, A, 0, S);
}

// out = P_πᵀ v  (CSR P): a scatter, in row order.
export function ppiTCsr(indptr: usize, indices: usize, probs: usize, pi: usize, v: usize, out: usize, S: i32, A: i32): void {
  fill(out, 0, S);
  for (let s = 0; s < S; s++) {
    const vs = load<f64>(v + (<usize>s << 3));
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const w = load<f64>(pi + (<usize>i << 3)) * vs;
      if (w != 0) {
        const k1 = load<i32>(indptr + (<usize>i << 2), 4);
        for (let k = load<i32>(indptr + (<usize>i << 2)); k < k1; k++) {
          const o = <usize>load<i32>(indices + (<usize>k << 2)) << 3;
          store<f64>(out + o, load<f64>(out + o) + w * load<f64>(probs + (<usize>k << 3)));
        }
      }
    }
  }
}

// The host's split of P_π v over threads (docs/math.md#threads): set by the host around
// solves worth splitting; the import runs ppiRows on every thread's share of the rows and
// returns when all are done. P_πᵀ v is not split: a split by entries of the result makes
// every thread read all of P (CSR) or a slice of every row (dense, which breaks the one long
// stream a single thread reads); both measured slower than one thread. Only the
// shared-memory builds import it.
export let productThreads: i32 = 0;
// @ts-ignore: decorator
@external("env", "parallelProduct")
declare function parallelProduct(P: usize, indptr: usize, indices: usize, pi: usize, v: usize, out: usize, S: i32, A: i32): void;

// Dispatch used by the iterative solvers: indptr == 0 means P is dense.
export function ppi(P: usize, indptr: usize, indices: usize, pi: usize, v: usize, out: usize, S: i32, A: i32, transpose: bool): void {
  if (ASC_FEATURE_THREADS) {
    if (productThreads != 0 && !transpose) {
      parallelProduct(P, indptr, indices, pi, v, out, S, A);
      return;
    }
  }
  if (indptr == 0) {
    if (transpose) ppiTDense(P, pi, v, out, S, A); else ppiDense(P, pi, v, out, S, A);
  } else {
    if (transpose) ppiTCsr(indptr, indices, P, pi, v, out, S, A); else ppiCsr(indptr, indices, P, pi, v, out, S, A);
  }
}

// One thread's share of P_π v: rows s0..s1−1, each with ppi's arithmetic, so the shares
// together are ppi bit for bit. Only the shared-memory builds have a body.
export function ppiRows(P: usize, indptr: usize, indices: usize, pi: usize, v: usize, out: usize, S: i32, A: i32, s0: i32, s1: i32): void {
  if (!ASC_FEATURE_THREADS) unreachable();
  if (indptr == 0) ppiDenseRows(P, pi, v, out, S, A, s0, s1);
  else ppiCsrRows(indptr, indices, P, pi, v, out, S, A, s0, s1);
}

// @ts-ignore: decorator
@inline
function ppiDenseRows(P: usize, pi: usize, v: usize, out: usize, S: i32, A: i32, s0: i32, s1: i32): void {
  const row = <usize>S << 3;
  for (let s = s0; s < s1; s++) {
    let acc: f64 = 0;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const p = load<f64>(pi + (<usize>i << 3));
      if (p != 0) acc += p * dot(P + <usize>i * row, v, S);
    }
    store<f64>(out + (<usize>s << 3), acc);
  }
}

// @ts-ignore: decorator
@inline
function ppiCsrRows(indptr: usize, indices: usize, probs: usize, pi: usize, v: usize, out: usize, S: i32, A: i32, s0: i32, s1: i32): void {
  for (let s = s0; s < s1; s++) {
    let acc: f64 = 0;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const p = load<f64>(pi + (<usize>i << 3));
      if (p != 0) {
        const k0 = load<i32>(indptr + (<usize>i << 2)), k1 = load<i32>(indptr + (<usize>i << 2), 4);
        acc += p * csrDot(indices, probs, v, k0, k1);
      }
    }
    store<f64>(out + (<usize>s << 3), acc);
  }
}

// out(s) = Σ_a π(a|s)·(r(s,a) − τ log π(a|s)) = r_π + τ H_π  (terms with π = 0 vanish).
export function softRewardPi(r: usize, pi: usize, out: usize, S: i32, A: i32, tau: f64): void {
  for (let s = 0; s < S; s++) {
    let acc: f64 = 0;
    for (let a = 0; a < A; a++) {
      const o = <usize>(s * A + a) << 3;
      const p = load<f64>(pi + o);
      if (p > 0) acc += p * (load<f64>(r + o) - (tau > 0 ? tau * Math.log(p) : 0));
    }
    store<f64>(out + (<usize>s << 3), acc);
  }
}

// Q = r + γ P V for all (s,a) (dense or CSR, as in ppi).
export function qFromV(P: usize, indptr: usize, indices: usize, r: usize, V: usize, Q: usize, S: i32, A: i32, gamma: f64): void {
  const n = S * A;
  const row = <usize>S << 3;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    let pv: f64;
    if (indptr == 0) pv = dot(P + <usize>i * row, V, S);
    else pv = csrDot(indices, P, V, load<i32>(indptr + (<usize>i << 2)), load<i32>(indptr + (<usize>i << 2), 4));
    store<f64>(Q + o, load<f64>(r + o) + gamma * pv);
  }
}

// M = I − γ P_π as a dense S × S row-major matrix (transposed when asked), for LU.
export function buildSystem(P: usize, indptr: usize, indices: usize, pi: usize, M: usize, S: i32, A: i32, gamma: f64, transpose: bool): void {
  const row = <usize>S << 3;
  fill(M, 0, S * S);
  for (let s = 0; s < S; s++) {
    const m = M + <usize>s * row;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const w = -gamma * load<f64>(pi + (<usize>i << 3));
      if (w == 0) continue;
      if (indptr == 0) axpy(m, w, P + <usize>i * row, S);
      else {
        const k1 = load<i32>(indptr + (<usize>i << 2), 4);
        for (let k = load<i32>(indptr + (<usize>i << 2)); k < k1; k++) {
          const o = <usize>load<i32>(indices + (<usize>k << 2)) << 3;
          store<f64>(m + o, load<f64>(m + o) + w * load<f64>(P + (<usize>k << 3)));
        }
      }
    }
    store<f64>(m + (<usize>s << 3), load<f64>(m + (<usize>s << 3)) + 1.0);
  }
  if (transpose) {
    for (let i = 0; i < S; i++) {
      for (let j = i + 1; j < S; j++) {
        const a = M + <usize>i * row + (<usize>j << 3), b = M + <usize>j * row + (<usize>i << 3);
        const t = load<f64>(a);
        store<f64>(a, load<f64>(b));
        store<f64>(b, t);
      }
    }
  }
}

// y = M x for a dense rows × cols row-major M: the matrix products of dense reward models
// (called once per outer iteration by models that keep their matrix in a kernel instance).
export function matvec(M: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  const row = <usize>cols << 3;
  for (let i = 0; i < rows; i++) store<f64>(y + (<usize>i << 3), dot(M + <usize>i * row, x, cols));
}
