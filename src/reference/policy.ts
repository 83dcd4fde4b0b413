// Plain-TypeScript reference for assembly/policy.ts (docs/math.md#soft-values).
import { checkLength, rowDot, type RefMDP } from './types.js';

/** out = P_π v, where P_π(s, s') = Σ_a π(a|s) P(s'|s,a). */
export function ppi(m: RefMDP, pi: Float64Array, v: Float64Array, out?: Float64Array): Float64Array {
  const { S, A } = m;
  checkLength('pi', pi, S * A);
  checkLength('v', v, S);
  const y = out ?? new Float64Array(S);
  checkLength('out', y, S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      if (pi[i] !== 0) acc += pi[i] * rowDot(m, i, v);
    }
    y[s] = acc;
  }
  return y;
}

/** out = P_πᵀ v, i.e. out(s') = Σ_s v(s) Σ_a π(a|s) P(s'|s,a). */
export function ppiT(m: RefMDP, pi: Float64Array, v: Float64Array, out?: Float64Array): Float64Array {
  const { S, A } = m;
  checkLength('pi', pi, S * A);
  checkLength('v', v, S);
  const y = out ?? new Float64Array(S);
  checkLength('out', y, S);
  y.fill(0);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const w = pi[i] * v[s];
      if (w === 0) continue;
      if (m.kind === 'dense') {
        for (let j = 0; j < S; j++) y[j] += w * m.P[i * S + j];
      } else {
        for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) y[m.indices[k]] += w * m.probs[k];
      }
    }
  }
  return y;
}

/** r_π + τH_π: out(s) = Σ_a π(a|s)(r(s,a) − τ log π(a|s)); terms with π(a|s) ≤ 0 are skipped. */
export function softRewardPi(r: Float64Array, pi: Float64Array, S: number, A: number, tau: number): Float64Array {
  checkLength('r', r, S * A);
  checkLength('pi', pi, S * A);
  const out = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const p = pi[i];
      if (p > 0) acc += p * (r[i] - (tau > 0 ? tau * Math.log(p) : 0));
    }
    out[s] = acc;
  }
  return out;
}

/** Q = r + γ P V. */
export function qFromV(m: RefMDP, r: Float64Array, V: Float64Array): Float64Array {
  const { S, A, gamma } = m;
  checkLength('r', r, S * A);
  checkLength('V', V, S);
  const Q = new Float64Array(S * A);
  for (let i = 0; i < S * A; i++) Q[i] = r[i] + gamma * rowDot(m, i, V);
  return Q;
}

/** Dense S×S row-major M = I − γP_π, or its transpose when `transpose` is true. */
export function buildSystem(m: RefMDP, pi: Float64Array, transpose: boolean): Float64Array {
  const { S, A, gamma } = m;
  checkLength('pi', pi, S * A);
  const Ppi = new Float64Array(S * S);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const w = pi[i];
      if (w === 0) continue;
      if (m.kind === 'dense') {
        for (let j = 0; j < S; j++) Ppi[s * S + j] += w * m.P[i * S + j];
      } else {
        for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) Ppi[s * S + m.indices[k]] += w * m.probs[k];
      }
    }
  }
  const M = new Float64Array(S * S);
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < S; j++) {
      const v = (s === j ? 1 : 0) - gamma * Ppi[s * S + j];
      if (transpose) M[j * S + s] = v;
      else M[s * S + j] = v;
    }
  }
  return M;
}
