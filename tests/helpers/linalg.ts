// Small, independent dense linear algebra for the tests: textbook formulas written
// directly from docs/math.md#conventions, sharing no code with src/ or src/reference/.
// P is the dense (S·A, S) row-major transition matrix, pi the (S·A) policy table.

/** P_π (S × S, row-major): P_π[s][s'] = Σ_a π(a|s) P(s'|s,a). */
export function policyTransition(P: ArrayLike<number>, pi: ArrayLike<number>, S: number, A: number): Float64Array {
  const M = new Float64Array(S * S);
  for (let s = 0; s < S; s++)
    for (let a = 0; a < A; a++)
      for (let j = 0; j < S; j++) M[s * S + j] += pi[s * A + a] * P[(s * A + a) * S + j];
  return M;
}

/** I − γ P_π, or its transpose. */
export function systemMatrix(P: ArrayLike<number>, pi: ArrayLike<number>, S: number, A: number, gamma: number, transpose = false): Float64Array {
  const Ppi = policyTransition(P, pi, S, A);
  const M = new Float64Array(S * S);
  for (let i = 0; i < S; i++)
    for (let j = 0; j < S; j++) {
      const v = (i === j ? 1 : 0) - gamma * Ppi[i * S + j];
      M[transpose ? j * S + i : i * S + j] = v;
    }
  return M;
}

/** y = M x for a row-major n × n matrix. */
export function matVec(M: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += M[i * n + j] * x[j];
    y[i] = acc;
  }
  return y;
}

/** Solve M x = b by Gaussian elimination with partial pivoting (M and b are not modified). */
export function gaussSolve(M: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const n = b.length;
  const a = Float64Array.from(M as ArrayLike<number>);
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i * n + k]) > Math.abs(a[p * n + k])) p = i;
    if (a[p * n + k] === 0) throw new Error(`gaussSolve: singular matrix at column ${k}`);
    if (p !== k) {
      for (let j = 0; j < n; j++) [a[k * n + j], a[p * n + j]] = [a[p * n + j], a[k * n + j]];
      [x[k], x[p]] = [x[p], x[k]];
    }
    for (let i = k + 1; i < n; i++) {
      const f = a[i * n + k] / a[k * n + k];
      if (f === 0) continue;
      for (let j = k; j < n; j++) a[i * n + j] -= f * a[k * n + j];
      x[i] -= f * x[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let acc = x[i];
    for (let j = i + 1; j < n; j++) acc -= a[i * n + j] * x[j];
    x[i] = acc / a[i * n + i];
  }
  return x;
}

/** ‖b − M x‖₂ / ‖b‖₂ (‖b‖ replaced by 1 when b = 0). */
export function relResidual(M: ArrayLike<number>, x: ArrayLike<number>, b: ArrayLike<number>): number {
  const Mx = matVec(M, x);
  let rr = 0;
  let bb = 0;
  for (let i = 0; i < b.length; i++) {
    rr += (b[i] - Mx[i]) ** 2;
    bb += b[i] ** 2;
  }
  return Math.sqrt(rr) / (bb > 0 ? Math.sqrt(bb) : 1);
}

/** r_π + τ H_π: Σ_a π(a|s) (r(s,a) − τ log π(a|s)), with 0·log 0 = 0. */
export function softRewardOfPolicy(r: ArrayLike<number>, pi: ArrayLike<number>, S: number, A: number, tau: number): Float64Array {
  const out = new Float64Array(S);
  for (let s = 0; s < S; s++)
    for (let a = 0; a < A; a++) {
      const p = pi[s * A + a];
      if (p > 0) out[s] += p * r[s * A + a] - (tau > 0 ? tau * p * Math.log(p) : 0);
    }
  return out;
}

/** Q = r + γ P V. */
export function qOf(P: ArrayLike<number>, r: ArrayLike<number>, V: ArrayLike<number>, S: number, A: number, gamma: number): Float64Array {
  const Q = new Float64Array(S * A);
  for (let i = 0; i < S * A; i++) {
    let acc = 0;
    for (let j = 0; j < S; j++) acc += P[i * S + j] * V[j];
    Q[i] = r[i] + gamma * acc;
  }
  return Q;
}

/** τ·log Σ_a exp(Q(s,a)/τ) per state (max-shifted), the hard max for τ = 0. */
export function logSumExp(Q: ArrayLike<number>, S: number, A: number, tau: number): Float64Array {
  const V = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, Q[s * A + a]);
    if (tau === 0) {
      V[s] = m;
      continue;
    }
    let z = 0;
    for (let a = 0; a < A; a++) z += Math.exp((Q[s * A + a] - m) / tau);
    V[s] = m + tau * Math.log(z);
  }
  return V;
}

/** softmax(Q(s,·)/τ) per state. */
export function softmaxRows(Q: ArrayLike<number>, S: number, A: number, tau: number): Float64Array {
  const pi = new Float64Array(S * A);
  const V = logSumExp(Q, S, A, tau);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) pi[s * A + a] = Math.exp((Q[s * A + a] - V[s]) / tau);
  return pi;
}

/**
 * Horizon-truncated unnormalised discounted visitation Σ_{t<H} γ^t (ρᵀ P_π^t)(s), by
 * propagating the state distribution one step at a time.
 */
export function truncatedOccupancy(P: ArrayLike<number>, pi: ArrayLike<number>, rho: ArrayLike<number>, S: number, A: number, gamma: number, H: number): Float64Array {
  const Ppi = policyTransition(P, pi, S, A);
  let mu = Float64Array.from(rho as ArrayLike<number>);
  const d = new Float64Array(S);
  let g = 1;
  for (let t = 0; t < H; t++) {
    for (let s = 0; s < S; s++) d[s] += g * mu[s];
    const next = new Float64Array(S);
    for (let s = 0; s < S; s++) for (let j = 0; j < S; j++) next[j] += mu[s] * Ppi[s * S + j];
    mu = next;
    g *= gamma;
  }
  return d;
}
