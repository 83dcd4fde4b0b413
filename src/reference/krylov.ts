// Plain-TypeScript reference for assembly/krylov.ts and the exact solves built on
// assembly/lu.ts: (I − γP_π) x = b or its transpose (docs/math.md#soft-values, docs/math.md#exact-descent).
import { buildSystem, ppi, ppiT, softRewardPi, qFromV } from './policy.js';
import { luFactor, luSolve } from './lu.js';
import { checkLength, type RefMDP } from './types.js';

export type SolveOptions = { transpose?: boolean; tol?: number; maxIter?: number; x0?: Float64Array };
export type SolveResult = { x: Float64Array; iterations: number; residual: number; converged: boolean };

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** y = x − γ P_π x (or with P_πᵀ). */
function apply(m: RefMDP, pi: Float64Array, x: Float64Array, transpose: boolean, y: Float64Array): Float64Array {
  if (transpose) ppiT(m, pi, x, y);
  else ppi(m, pi, x, y);
  for (let i = 0; i < m.S; i++) y[i] = x[i] - m.gamma * y[i];
  return y;
}

const SCALE_LO = 2 ** -400, SCALE_HI = 2 ** 400;

/**
 * assembly/vec.ts pow2Scale: σ = 2^k putting max|v_i| into [0.5, 1) (k clamped to ±1022), or 1
 * when max|v_i| is 0, not finite or within [2^-400, 2^400]. Solves work on σb and σx so their
 * norms neither overflow nor underflow; powers of two scale exactly.
 */
export function pow2Scale(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  if (!(m < Infinity) || m === 0 || (m >= SCALE_LO && m <= SCALE_HI)) return 1;
  const bits = new Float64Array([m]);
  const biased = (new Uint32Array(bits.buffer)[1] >>> 20) & 0x7ff;
  return 2 ** Math.min(1022, Math.max(-1022, 1022 - biased));
}

/** σ·v (a copy). */
function scaled(v: Float64Array, sigma: number): Float64Array {
  return sigma === 1 ? v : v.map((e) => sigma * e);
}

/** r = b − A x; returns ‖r‖₂. */
function residualInto(m: RefMDP, pi: Float64Array, b: Float64Array, x: Float64Array, transpose: boolean, r: Float64Array): number {
  apply(m, pi, x, transpose, r);
  for (let i = 0; i < m.S; i++) r[i] = b[i] - r[i];
  return Math.sqrt(dot(r, r));
}

function start(m: RefMDP, pi: Float64Array, b: Float64Array, x0: Float64Array | undefined): Float64Array {
  checkLength('pi', pi, m.S * m.A);
  checkLength('b', b, m.S);
  const x = new Float64Array(m.S);
  if (x0 !== undefined) {
    checkLength('x0', x0, m.S);
    x.set(x0);
  }
  return x;
}

/**
 * BiCGSTAB (van der Vorst 1992) on (I − γP_π) x = b (or the transpose), matrix-free, the same
 * iteration as assembly/krylov.ts: a breakdown (|ρ| ≤ ε‖r̂‖‖r‖, |(r̂, v)| ≤ ε‖r̂‖‖v‖ or ω = 0)
 * restarts from the current iterate with r̂ = r. residual is the true ‖b − Ax‖₂/‖b‖₂ (‖b‖
 * replaced by 1 when b = 0); converged = residual ≤ tol. Defaults: tol 1e-12, maxIter 1000, x0 = 0.
 */
export function bicgstab(m: RefMDP, pi: Float64Array, b: Float64Array, opts: SolveOptions = {}): SolveResult {
  const transpose = opts.transpose ?? false;
  const tol = opts.tol ?? 1e-12;
  const maxIter = opts.maxIter ?? 1000;
  const S = m.S;
  const sigma = pow2Scale(b);
  const x = scaled(start(m, pi, b, opts.x0), sigma);
  b = scaled(b, sigma);
  const bnorm = Math.sqrt(dot(b, b));
  const scale = bnorm > 0 ? bnorm : 1;
  const r = new Float64Array(S), rh = new Float64Array(S), p = new Float64Array(S);
  const v = new Float64Array(S), s = new Float64Array(S), t = new Float64Array(S);
  let rnorm = residualInto(m, pi, b, x, transpose, r);
  let it = 0;
  let rho = 1, alpha = 1, omega = 1, rhn = 0;
  let fresh = true;
  while (rnorm / scale > tol && it < maxIter) {
    if (fresh) {
      rh.set(r);
      p.fill(0);
      v.fill(0);
      rho = 1;
      alpha = 1;
      omega = 1;
      rhn = Math.sqrt(dot(rh, rh));
      fresh = false;
    }
    it++;
    const rho1 = dot(rh, r);
    if (Math.abs(rho1) <= BREAKDOWN * rhn * rnorm) {
      fresh = true;
      continue;
    }
    const beta = (rho1 / rho) * (alpha / omega);
    rho = rho1;
    for (let i = 0; i < S; i++) p[i] = r[i] + beta * (p[i] - omega * v[i]);
    apply(m, pi, p, transpose, v);
    const rv = dot(rh, v);
    if (Math.abs(rv) <= BREAKDOWN * rhn * Math.sqrt(dot(v, v))) {
      fresh = true;
      continue;
    }
    alpha = rho / rv;
    for (let i = 0; i < S; i++) s[i] = r[i] - alpha * v[i];
    for (let i = 0; i < S; i++) x[i] += alpha * p[i];
    const snorm = Math.sqrt(dot(s, s));
    if (snorm / scale <= tol) {
      r.set(s);
      rnorm = snorm;
      break;
    }
    apply(m, pi, s, transpose, t);
    const tt = dot(t, t);
    omega = tt > 0 ? dot(t, s) / tt : 0;
    for (let i = 0; i < S; i++) x[i] += omega * s[i];
    for (let i = 0; i < S; i++) r[i] = s[i] - omega * t[i];
    rnorm = Math.sqrt(dot(r, r));
    if (omega === 0) fresh = true;
  }
  // report the true residual, not the recursively updated one
  if (it > 0) rnorm = residualInto(m, pi, b, x, transpose, r);
  const residual = rnorm / scale;
  return { x: scaled(x, 1 / sigma), iterations: it, residual, converged: residual <= tol };
}

/** Relative size below which BiCGSTAB's inner products count as a breakdown. */
const BREAKDOWN = 1e-14;

/**
 * Restarted GMRES(m) with modified Gram–Schmidt and Givens rotations, the same iteration as
 * assembly/krylov.ts `gmres` (iterations = matrix-vector products; a cycle that does not
 * lower the residual stops it). Defaults: tol 1e-12, maxIter 5000, restart as the library's defaultRestart(S), x0 = 0.
 */
export function gmres(m: RefMDP, pi: Float64Array, b: Float64Array, opts: SolveOptions & { restart?: number } = {}): SolveResult {
  const transpose = opts.transpose ?? false;
  const tol = opts.tol ?? 1e-12;
  const maxIter = opts.maxIter ?? 5000;
  const S = m.S;
  // the library's default restart (src/lower.ts defaultRestart)
  const mm = Math.min(S, opts.restart ?? Math.max(10, Math.min(100, Math.floor(2 ** 26 / (8 * S)) - 2)));
  const sigma = pow2Scale(b);
  const x = scaled(start(m, pi, b, opts.x0), sigma);
  b = scaled(b, sigma);
  const bnorm = Math.sqrt(dot(b, b));
  const scale = bnorm > 0 ? bnorm : 1;
  const V = Array.from({ length: mm + 1 }, () => new Float64Array(S));
  const w = new Float64Array(S);
  const H = new Float64Array((mm + 1) * mm), cs = new Float64Array(mm), sn = new Float64Array(mm);
  const g = new Float64Array(mm + 1), y = new Float64Array(mm);
  let beta = residualInto(m, pi, b, x, transpose, V[0]);
  let it = 0;
  while (beta / scale > tol && it < maxIter) {
    for (let i = 0; i < S; i++) V[0][i] /= beta;
    g.fill(0);
    g[0] = beta;
    let k = 0;
    for (let j = 0; j < mm && it < maxIter; j++) {
      it++;
      apply(m, pi, V[j], transpose, w);
      for (let i = 0; i <= j; i++) {
        const h = dot(w, V[i]);
        H[i * mm + j] = h;
        for (let l = 0; l < S; l++) w[l] -= h * V[i][l];
      }
      const hn = Math.sqrt(dot(w, w));
      H[(j + 1) * mm + j] = hn;
      if (hn > 0) for (let l = 0; l < S; l++) V[j + 1][l] = w[l] / hn;
      for (let i = 0; i < j; i++) {
        const a = H[i * mm + j], c = H[(i + 1) * mm + j];
        H[i * mm + j] = cs[i] * a + sn[i] * c;
        H[(i + 1) * mm + j] = -sn[i] * a + cs[i] * c;
      }
      const hjj = H[j * mm + j];
      const rr = Math.sqrt(hjj * hjj + hn * hn);
      cs[j] = rr > 0 ? hjj / rr : 1;
      sn[j] = rr > 0 ? hn / rr : 0;
      H[j * mm + j] = rr;
      H[(j + 1) * mm + j] = 0;
      const gj = g[j];
      g[j + 1] = -sn[j] * gj;
      g[j] = cs[j] * gj;
      k = j + 1;
      if (Math.abs(sn[j] * gj) / scale <= tol || hn === 0) break;
    }
    for (let i = k - 1; i >= 0; i--) {
      let acc = g[i];
      for (let l = i + 1; l < k; l++) acc -= H[i * mm + l] * y[l];
      const d = H[i * mm + i];
      y[i] = d !== 0 ? acc / d : 0;
    }
    for (let i = 0; i < k; i++) for (let l = 0; l < S; l++) x[l] += y[i] * V[i][l];
    const prev = beta;
    beta = residualInto(m, pi, b, x, transpose, V[0]);
    if (!(beta < prev)) break;
  }
  const residual = beta / scale;
  return { x: scaled(x, 1 / sigma), iterations: it, residual, converged: residual <= tol };
}

/**
 * Richardson (Neumann) iteration x ← x + (b − Ax) = b + γP_π x, a γ-contraction, until the
 * true relative residual is ≤ tol. Defaults: tol 1e-12, maxIter 100000, x0 = 0.
 */
export function richardson(m: RefMDP, pi: Float64Array, b: Float64Array, opts: SolveOptions = {}): SolveResult {
  const transpose = opts.transpose ?? false;
  const tol = opts.tol ?? 1e-12;
  const maxIter = opts.maxIter ?? 100000;
  const sigma = pow2Scale(b);
  const x = scaled(start(m, pi, b, opts.x0), sigma);
  b = scaled(b, sigma);
  const bnorm = Math.sqrt(dot(b, b));
  const scale = bnorm > 0 ? bnorm : 1;
  const r = new Float64Array(m.S);
  let rnorm = residualInto(m, pi, b, x, transpose, r);
  let it = 0;
  while (rnorm / scale > tol && it < maxIter) {
    it++;
    for (let i = 0; i < m.S; i++) x[i] += r[i];
    rnorm = residualInto(m, pi, b, x, transpose, r);
  }
  const residual = rnorm / scale;
  return { x: scaled(x, 1 / sigma), iterations: it, residual, converged: residual <= tol };
}

/** True relative residual ‖b − Ax‖₂/‖b‖₂ (‖b‖ replaced by 1 when b = 0). */
export function systemResidual(m: RefMDP, pi: Float64Array, b: Float64Array, x: Float64Array, transpose: boolean): number {
  const sigma = pow2Scale(b);
  const bs = scaled(b, sigma);
  const bnorm = Math.sqrt(dot(bs, bs));
  const r = apply(m, pi, x, transpose, new Float64Array(m.S));
  for (let i = 0; i < m.S; i++) r[i] = sigma * b[i] - sigma * r[i];
  return Math.sqrt(dot(r, r)) / (bnorm > 0 ? bnorm : 1);
}

/** Exact solve by dense LU of I − γP_π (or its transpose). b is not modified. */
function luSolveSystem(m: RefMDP, pi: Float64Array, b: Float64Array, transpose: boolean): Float64Array {
  const M = buildSystem(m, pi, transpose);
  const piv = luFactor(M, m.S);
  return luSolve(M, piv, Float64Array.from(b));
}

/**
 * Solve (I − γP_π) x = b (or the transpose) with the named method (default 'lu').
 * 'lu': iterations = 0, residual = true relative residual, converged = residual is finite
 * (a direct solve; tol and maxIter are ignored). 'krylov' = gmres (without the library's
 * Richardson finish), 'bicgstab' = bicgstab (without its GMRES hand-over), 'richardson' = richardson,
 * both from x0 = 0 with their own defaults.
 */
export function solveLinear(
  m: RefMDP,
  pi: Float64Array,
  b: Float64Array,
  opts: { transpose?: boolean; method?: 'lu' | 'krylov' | 'bicgstab' | 'richardson'; tol?: number; maxIter?: number } = {},
): SolveResult {
  const method = opts.method ?? 'lu';
  const transpose = opts.transpose ?? false;
  const sub = { transpose, tol: opts.tol, maxIter: opts.maxIter };
  if (method === 'krylov') return gmres(m, pi, b, sub);
  if (method === 'bicgstab') return bicgstab(m, pi, b, sub);
  if (method === 'richardson') return richardson(m, pi, b, sub);
  if (method !== 'lu') throw new RangeError(`method must be 'lu', 'krylov' or 'richardson'; got ${String(method)}`);
  checkLength('pi', pi, m.S * m.A);
  checkLength('b', b, m.S);
  const x = luSolveSystem(m, pi, b, transpose);
  const residual = systemResidual(m, pi, b, x, transpose);
  return { x, iterations: 0, residual, converged: Number.isFinite(residual) };
}

/** Soft policy evaluation (docs/math.md#soft-values): V = (I − γP_π)⁻¹(r_π + τH_π) by LU, Q = r + γPV. */
export function policyEvaluation(m: RefMDP, r: Float64Array, pi: Float64Array, tau: number): { V: Float64Array; Q: Float64Array } {
  checkLength('pi', pi, m.S * m.A);
  const b = softRewardPi(r, pi, m.S, m.A, tau);
  const V = luSolveSystem(m, pi, b, false);
  return { V, Q: qFromV(m, r, V) };
}

/** Unnormalised discounted occupancy d = (I − γP_πᵀ)⁻¹ρ by LU; it sums to Σρ/(1−γ). */
export function occupancy(m: RefMDP, pi: Float64Array, rho: Float64Array): Float64Array {
  checkLength('pi', pi, m.S * m.A);
  checkLength('rho', rho, m.S);
  return luSolveSystem(m, pi, rho, true);
}
