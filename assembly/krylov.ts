// Iterative solves of (I − γP_π) x = b or its transpose, matrix-free through the P_π
// products (dense P when indptr == 0, CSR otherwise). Called once per solve; x holds
// the initial guess on entry and the answer on exit. info receives
// [iterations, relative residual ‖b − Ax‖₂/‖b‖₂] as two f64.
import { ppi } from "./policy";
import { dot, axpy } from "./vec";

// y = x − γ·P_π x  (or the transpose).
// @ts-ignore: decorator
@inline
function apply(P: usize, indptr: usize, indices: usize, pi: usize, x: usize, y: usize, S: i32, A: i32, gamma: f64, transpose: bool): void {
  ppi(P, indptr, indices, pi, x, y, S, A, transpose);
  for (let i = 0; i < S; i++) {
    const o = <usize>i << 3;
    store<f64>(y + o, load<f64>(x + o) - gamma * load<f64>(y + o));
  }
}

// r = b − A x; returns ‖r‖₂.
// @ts-ignore: decorator
@inline
function residual(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, r: usize, S: i32, A: i32, gamma: f64, transpose: bool): f64 {
  apply(P, indptr, indices, pi, x, r, S, A, gamma, transpose);
  for (let i = 0; i < S; i++) {
    const o = <usize>i << 3;
    store<f64>(r + o, load<f64>(b + o) - load<f64>(r + o));
  }
  return Math.sqrt(dot(r, r, S));
}

// BiCGSTAB (van der Vorst 1992). work: 6·S doubles.
export function bicgstab(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool, tol: f64, maxIter: i32, info: usize): void {
  const len = <usize>S << 3;
  const r = work, rh = work + len, p = work + 2 * len, v = work + 3 * len, s = work + 4 * len, t = work + 5 * len;
  const bnorm = Math.sqrt(dot(b, b, S));
  const scale = bnorm > 0 ? bnorm : 1.0;
  let rnorm = residual(P, indptr, indices, pi, b, x, r, S, A, gamma, transpose);
  let it = 0;
  if (rnorm / scale > tol) {
    memory.copy(rh, r, len);
    memory.fill(p, 0, len);
    memory.fill(v, 0, len);
    let rho: f64 = 1, alpha: f64 = 1, omega: f64 = 1;
    while (it < maxIter) {
      it++;
      let rho1 = dot(rh, r, S);
      if (rho1 == 0) {
        // breakdown: restart the shadow residual from the current residual
        memory.copy(rh, r, len);
        memory.fill(p, 0, len);
        memory.fill(v, 0, len);
        rho = 1; alpha = 1; omega = 1;
        rho1 = dot(rh, r, S);
        if (rho1 == 0) break;
      }
      const beta = (rho1 / rho) * (alpha / omega);
      rho = rho1;
      for (let i = 0; i < S; i++) {
        const o = <usize>i << 3;
        store<f64>(p + o, load<f64>(r + o) + beta * (load<f64>(p + o) - omega * load<f64>(v + o)));
      }
      apply(P, indptr, indices, pi, p, v, S, A, gamma, transpose);
      const rv = dot(rh, v, S);
      if (rv == 0) break;
      alpha = rho / rv;
      memory.copy(s, r, len);
      axpy(s, -alpha, v, S);
      axpy(x, alpha, p, S);
      const snorm = Math.sqrt(dot(s, s, S));
      if (snorm / scale <= tol) { memory.copy(r, s, len); rnorm = snorm; break; }
      apply(P, indptr, indices, pi, s, t, S, A, gamma, transpose);
      const tt = dot(t, t, S);
      omega = tt > 0 ? dot(t, s, S) / tt : 0;
      axpy(x, omega, s, S);
      memory.copy(r, s, len);
      axpy(r, -omega, t, S);
      rnorm = Math.sqrt(dot(r, r, S));
      if (rnorm / scale <= tol || omega == 0) break;
    }
    // report the true residual, not the recursively updated one
    rnorm = residual(P, indptr, indices, pi, b, x, r, S, A, gamma, transpose);
  }
  store<f64>(info, <f64>it);
  store<f64>(info, rnorm / scale, 8);
}

// Richardson (Neumann) iteration x ← x + (b − A x), a γ-contraction. work: S doubles.
export function richardson(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool, tol: f64, maxIter: i32, info: usize): void {
  const bnorm = Math.sqrt(dot(b, b, S));
  const scale = bnorm > 0 ? bnorm : 1.0;
  let rnorm = residual(P, indptr, indices, pi, b, x, work, S, A, gamma, transpose);
  let it = 0;
  while (rnorm / scale > tol && it < maxIter) {
    it++;
    axpy(x, 1.0, work, S);
    rnorm = residual(P, indptr, indices, pi, b, x, work, S, A, gamma, transpose);
  }
  store<f64>(info, <f64>it);
  store<f64>(info, rnorm / scale, 8);
}

// Relative residual ‖b − A x‖₂/‖b‖₂ of any candidate x (used to report LU solves honestly).
// work: S doubles.
export function systemResidual(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool): f64 {
  const bnorm = Math.sqrt(dot(b, b, S));
  return residual(P, indptr, indices, pi, b, x, work, S, A, gamma, transpose) / (bnorm > 0 ? bnorm : 1.0);
}
