// Iterative solves of (I − γP_π) x = b or its transpose, matrix-free through the P_π
// products (dense P when indptr == 0, CSR otherwise). Called once per solve; x holds
// the initial guess on entry and the answer on exit. info receives
// [iterations, relative residual ‖b − Ax‖₂/‖b‖₂] as two f64.
// Each solve works on σb and σx with σ = pow2Scale(b) (1 unless max|b_i| lies outside
// [2^-400, 2^400]), so its norms neither overflow nor underflow; x is scaled back on exit.
import { ppi } from "./policy";
import { dot, axpy, pow2Scale, scale as scaleBy, sumSquaresScaled } from "./vec";

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

// r = σb − A x; returns ‖r‖₂.
// @ts-ignore: decorator
@inline
function residual(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, sigma: f64, x: usize, r: usize, S: i32, A: i32, gamma: f64, transpose: bool): f64 {
  apply(P, indptr, indices, pi, x, r, S, A, gamma, transpose);
  for (let i = 0; i < S; i++) {
    const o = <usize>i << 3;
    store<f64>(r + o, sigma * load<f64>(b + o) - load<f64>(r + o));
  }
  return Math.sqrt(dot(r, r, S));
}

// Relative size below which BiCGSTAB's inner products count as a breakdown.
const BREAKDOWN: f64 = 1e-14;

// BiCGSTAB (van der Vorst 1992). work: 6·S doubles. A breakdown (|ρ| ≤ ε‖r̂‖‖r‖,
// |(r̂, v)| ≤ ε‖r̂‖‖v‖ or ω = 0) restarts the method from the current iterate with r̂ = r.
export function bicgstab(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool, tol: f64, maxIter: i32, info: usize): void {
  const len = <usize>S << 3;
  const r = work, rh = work + len, p = work + 2 * len, v = work + 3 * len, s = work + 4 * len, t = work + 5 * len;
  const sigma = pow2Scale(b, S);
  if (sigma != 1.0) scaleBy(x, sigma, S);
  const bnorm = Math.sqrt(sumSquaresScaled(b, sigma, S));
  const scale = bnorm > 0 ? bnorm : 1.0;
  let rnorm = residual(P, indptr, indices, pi, b, sigma, x, r, S, A, gamma, transpose);
  let it = 0;
  let rho: f64 = 1, alpha: f64 = 1, omega: f64 = 1, rhn: f64 = 0;
  let fresh = true;
  while (rnorm / scale > tol && it < maxIter) {
    if (fresh) {
      memory.copy(rh, r, len);
      memory.fill(p, 0, len);
      memory.fill(v, 0, len);
      rho = 1; alpha = 1; omega = 1;
      rhn = Math.sqrt(dot(rh, rh, S));
      fresh = false;
    }
    it++;
    const rho1 = dot(rh, r, S);
    if (abs(rho1) <= BREAKDOWN * rhn * rnorm) { fresh = true; continue; }
    const beta = (rho1 / rho) * (alpha / omega);
    rho = rho1;
    for (let i = 0; i < S; i++) {
      const o = <usize>i << 3;
      store<f64>(p + o, load<f64>(r + o) + beta * (load<f64>(p + o) - omega * load<f64>(v + o)));
    }
    apply(P, indptr, indices, pi, p, v, S, A, gamma, transpose);
    const rv = dot(rh, v, S);
    if (abs(rv) <= BREAKDOWN * rhn * Math.sqrt(dot(v, v, S))) { fresh = true; continue; }
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
    if (omega == 0) fresh = true;
  }
  // report the true residual, not the recursively updated one
  if (it > 0) rnorm = residual(P, indptr, indices, pi, b, sigma, x, r, S, A, gamma, transpose);
  if (sigma != 1.0) scaleBy(x, 1.0 / sigma, S);
  store<f64>(info, <f64>it);
  store<f64>(info, rnorm / scale, 8);
}

// Richardson (Neumann) iteration x ← x + (b − A x), a γ-contraction. work: S doubles.
export function richardson(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool, tol: f64, maxIter: i32, info: usize): void {
  const sigma = pow2Scale(b, S);
  if (sigma != 1.0) scaleBy(x, sigma, S);
  const bnorm = Math.sqrt(sumSquaresScaled(b, sigma, S));
  const scale = bnorm > 0 ? bnorm : 1.0;
  let rnorm = residual(P, indptr, indices, pi, b, sigma, x, work, S, A, gamma, transpose);
  let it = 0;
  while (rnorm / scale > tol && it < maxIter) {
    it++;
    axpy(x, 1.0, work, S);
    rnorm = residual(P, indptr, indices, pi, b, sigma, x, work, S, A, gamma, transpose);
  }
  if (sigma != 1.0) scaleBy(x, 1.0 / sigma, S);
  store<f64>(info, <f64>it);
  store<f64>(info, rnorm / scale, 8);
}

// Relative residual ‖b − A x‖₂/‖b‖₂ of any candidate x (used to report LU solves honestly).
// work: S doubles.
export function systemResidual(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool): f64 {
  // σ(b − Ax) = σb − A(σx), without scaling x in place (that could round it)
  const sigma = pow2Scale(b, S);
  const bnorm = Math.sqrt(sumSquaresScaled(b, sigma, S));
  apply(P, indptr, indices, pi, x, work, S, A, gamma, transpose);
  for (let i = 0; i < S; i++) {
    const o = <usize>i << 3;
    store<f64>(work + o, sigma * load<f64>(b + o) - sigma * load<f64>(work + o));
  }
  return Math.sqrt(dot(work, work, S)) / (bnorm > 0 ? bnorm : 1.0);
}

// Restarted GMRES(m) with modified Gram–Schmidt and Givens rotations (Saad & Schultz
// 1986): the residual never grows, so it does not stall the way BiCGSTAB can on the
// strongly non-normal systems of near-deterministic policies at γ → 1.
// work: (m + 1)·S + S doubles for the basis and A·v, plus (m + 1)·m + 3m + 2 for H,
// the rotations, g and y. info as for bicgstab (iterations = matrix-vector products).
export function gmres(P: usize, indptr: usize, indices: usize, pi: usize, b: usize, x: usize, work: usize, S: i32, A: i32, gamma: f64, transpose: bool, tol: f64, maxIter: i32, m: i32, info: usize): void {
  const len = <usize>S << 3;
  const Vb = work;                                  // (m + 1) × S basis
  const w = Vb + <usize>(m + 1) * len;              // S
  const H = w + len;                                // (m + 1) × m, row-major
  const cs = H + (<usize>((m + 1) * m) << 3);       // m
  const sn = cs + (<usize>m << 3);                  // m
  const g = sn + (<usize>m << 3);                   // m + 1
  const y = g + (<usize>(m + 1) << 3);              // m
  const sigma = pow2Scale(b, S);
  if (sigma != 1.0) scaleBy(x, sigma, S);
  const bnorm = Math.sqrt(sumSquaresScaled(b, sigma, S));
  const scale = bnorm > 0 ? bnorm : 1.0;
  let beta = residual(P, indptr, indices, pi, b, sigma, x, Vb, S, A, gamma, transpose);
  let it = 0;
  while (beta / scale > tol && it < maxIter) {
    // v_0 = r / β (the residual already sits in the first basis slot)
    const ib = 1.0 / beta;
    for (let i = 0; i < S; i++) store<f64>(Vb + (<usize>i << 3), load<f64>(Vb + (<usize>i << 3)) * ib);
    memory.fill(g, 0, <usize>(m + 1) << 3);
    store<f64>(g, beta);
    let k = 0;
    for (let j = 0; j < m && it < maxIter; j++) {
      it++;
      const vj = Vb + <usize>j * len;
      apply(P, indptr, indices, pi, vj, w, S, A, gamma, transpose);
      for (let i = 0; i <= j; i++) {
        const vi = Vb + <usize>i * len;
        const h = dot(w, vi, S);
        store<f64>(H + (<usize>(i * m + j) << 3), h);
        axpy(w, -h, vi, S);
      }
      const hn = Math.sqrt(dot(w, w, S));
      store<f64>(H + (<usize>((j + 1) * m + j) << 3), hn);
      if (hn > 0) {
        const vn = Vb + <usize>(j + 1) * len, ih = 1.0 / hn;
        for (let i = 0; i < S; i++) store<f64>(vn + (<usize>i << 3), load<f64>(w + (<usize>i << 3)) * ih);
      }
      // apply the earlier rotations to column j, then make a new one
      for (let i = 0; i < j; i++) {
        const a = H + (<usize>(i * m + j) << 3), c = H + (<usize>((i + 1) * m + j) << 3);
        const ci = load<f64>(cs + (<usize>i << 3)), si = load<f64>(sn + (<usize>i << 3));
        const t = ci * load<f64>(a) + si * load<f64>(c);
        store<f64>(c, -si * load<f64>(a) + ci * load<f64>(c));
        store<f64>(a, t);
      }
      const hjj = load<f64>(H + (<usize>(j * m + j) << 3));
      const r = Math.sqrt(hjj * hjj + hn * hn);
      const cj = r > 0 ? hjj / r : 1.0, sj = r > 0 ? hn / r : 0.0;
      store<f64>(cs + (<usize>j << 3), cj);
      store<f64>(sn + (<usize>j << 3), sj);
      store<f64>(H + (<usize>(j * m + j) << 3), r);
      store<f64>(H + (<usize>((j + 1) * m + j) << 3), 0);
      const gj = load<f64>(g + (<usize>j << 3));
      store<f64>(g + (<usize>(j + 1) << 3), -sj * gj);
      store<f64>(g + (<usize>j << 3), cj * gj);
      k = j + 1;
      if (abs(sj * gj) / scale <= tol || hn == 0) break;
    }
    // y = H[0:k, 0:k]⁻¹ g[0:k] (upper triangular), x += V y
    for (let i = k - 1; i >= 0; i--) {
      let acc = load<f64>(g + (<usize>i << 3));
      for (let l = i + 1; l < k; l++) acc -= load<f64>(H + (<usize>(i * m + l) << 3)) * load<f64>(y + (<usize>l << 3));
      const d = load<f64>(H + (<usize>(i * m + i) << 3));
      store<f64>(y + (<usize>i << 3), d != 0 ? acc / d : 0);
    }
    for (let i = 0; i < k; i++) axpy(x, load<f64>(y + (<usize>i << 3)), Vb + <usize>i * len, S);
    const prev = beta;
    beta = residual(P, indptr, indices, pi, b, sigma, x, Vb, S, A, gamma, transpose);
    if (!(beta < prev)) break; // no progress over a whole cycle: stop honestly
  }
  if (sigma != 1.0) scaleBy(x, 1.0 / sigma, S);
  store<f64>(info, <f64>it);
  store<f64>(info, beta / scale, 8);
}
