// Plain-TypeScript reference for assembly/bellman.ts (docs/math.md#soft-bellman).
import { checkLength, rowDot, type RefMDP } from './types.js';

/**
 * One soft Bellman optimality sweep:
 *   Q = r + γ P V,   Vout(s) = τ log Σ_a exp(Q(s,a)/τ)   (max-shifted; τ = 0 is the hard max).
 * Writes Q and Vout; returns max_s |Vout(s) − V(s)|.
 */
export function bellmanSweep(
  m: RefMDP,
  r: Float64Array,
  V: Float64Array,
  Q: Float64Array,
  Vout: Float64Array,
  tau: number,
): number {
  const { S, A, gamma } = m;
  checkLength('r', r, S * A);
  checkLength('V', V, S);
  checkLength('Q', Q, S * A);
  checkLength('Vout', Vout, S);
  for (let i = 0; i < S * A; i++) Q[i] = r[i] + gamma * rowDot(m, i, V);
  let res = 0;
  for (let s = 0; s < S; s++) {
    let mx = Q[s * A];
    for (let a = 1; a < A; a++) mx = Math.max(mx, Q[s * A + a]);
    let v = mx;
    if (tau > 0) {
      let z = 0;
      for (let a = 0; a < A; a++) z += Math.exp((Q[s * A + a] - mx) / tau);
      v = mx + tau * Math.log(z);
    }
    Vout[s] = v;
    res = Math.max(res, Math.abs(v - V[s]));
  }
  return res;
}

/**
 * π(·|s) = softmax(Q(s,·)/τ), max-shifted. For τ = 0 (τ ≤ 0) the greedy policy, one-hot at
 * the FIRST maximiser of Q(s,·).
 */
export function softmaxPolicy(Q: Float64Array, S: number, A: number, tau: number, out?: Float64Array): Float64Array {
  checkLength('Q', Q, S * A);
  const pi = out ?? new Float64Array(S * A);
  checkLength('out', pi, S * A);
  for (let s = 0; s < S; s++) {
    const o = s * A;
    let mx = Q[o];
    let am = 0;
    for (let a = 1; a < A; a++) {
      if (Q[o + a] > mx) {
        mx = Q[o + a];
        am = a;
      }
    }
    if (tau > 0) {
      let z = 0;
      for (let a = 0; a < A; a++) {
        const e = Math.exp((Q[o + a] - mx) / tau);
        pi[o + a] = e;
        z += e;
      }
      for (let a = 0; a < A; a++) pi[o + a] /= z;
    } else {
      for (let a = 0; a < A; a++) pi[o + a] = a === am ? 1 : 0;
    }
  }
  return pi;
}

/**
 * Soft value iteration: V ← G(V) by bellmanSweep until the sweep's residual is < tol
 * (default 1e-10) or maxIter sweeps (default 10000) have run. V is the last Vout, Q the Q of
 * the last sweep, pi = softmaxPolicy(Q, τ). With maxIter = 0 no sweep runs: V = V0,
 * Q = r + γPV0, residual = Infinity. With extrapolate, V moves to the middle of the error
 * bounds G(V) + γ/(1−γ)·[min ΔV, max ΔV] once they are within tol (as src/lower.ts).
 */
export function softValueIteration(
  m: RefMDP,
  r: Float64Array,
  opts: { tau: number; tol?: number; maxIter?: number; V0?: Float64Array; extrapolate?: boolean },
): { V: Float64Array; Q: Float64Array; pi: Float64Array; iterations: number; residual: number; converged: boolean } {
  const { S, A } = m;
  const tau = opts.tau;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 10000;
  checkLength('r', r, S * A);
  let V = new Float64Array(S);
  if (opts.V0 !== undefined) {
    checkLength('V0', opts.V0, S);
    V.set(opts.V0);
  }
  let Vout = new Float64Array(S);
  const Q = new Float64Array(S * A);
  let iterations = 0;
  let residual = Infinity;
  if (maxIter <= 0) {
    for (let i = 0; i < S * A; i++) Q[i] = r[i] + m.gamma * rowDot(m, i, V);
  }
  while (iterations < maxIter) {
    residual = bellmanSweep(m, r, V, Q, Vout, tau);
    iterations++;
    const t = V;
    V = Vout;
    Vout = t;
    if (residual < tol) break;
    if (opts.extrapolate && iterations < maxIter) {
      let lo = Infinity, hi = -Infinity;
      for (let s = 0; s < S; s++) {
        const d = V[s] - Vout[s];
        lo = Math.min(lo, d);
        hi = Math.max(hi, d);
      }
      const g = m.gamma / (1 - m.gamma);
      if ((g * (hi - lo)) / 2 <= tol) {
        const c = g * ((lo + hi) / 2);
        for (let s = 0; s < S; s++) V[s] += c;
      }
    }
  }
  const pi = softmaxPolicy(Q, S, A, tau);
  return { V, Q, pi, iterations, residual, converged: residual < tol };
}
