// Checks of the plain-TypeScript reference (src/reference) against independent facts:
// closed forms, fixed-point identities, adjointness, conservation of mass and published
// generator outputs. The wasm kernels are later compared against this reference.
import { describe, expect, it } from 'vitest';
import {
  bellmanSweep,
  bicgstab,
  buildSystem,
  luFactor,
  luSolve,
  occupancy,
  policyEvaluation,
  ppi,
  ppiT,
  qFromV,
  richardson,
  sampleTrajectories,
  softmaxPolicy,
  softRewardPi,
  softValueIteration,
  solveLinear,
  Xoshiro128,
  type RefCsr,
  type RefDense,
  type RefMDP,
} from '../src/reference/index.js';
import { relErr } from './helpers/compare.js';
import { mulberry32, randomCsr, randomDense, randomPolicy, randomVector } from './helpers/random-mdp.js';

// ---------- small independent helpers (no reference code inside) ----------

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function sum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

function matVec(M: ArrayLike<number>, n: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += M[i * n + j] * x[j];
  return y;
}

function toDense(m: RefCsr): RefDense {
  const P = new Float64Array(m.S * m.A * m.S);
  for (let i = 0; i < m.S * m.A; i++) {
    for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) P[i * m.S + m.indices[k]] += m.probs[k];
  }
  return { kind: 'dense', S: m.S, A: m.A, gamma: m.gamma, P };
}

/** P(s'|s,a) for any representation. */
function prob(m: RefMDP, s: number, a: number, sp: number): number {
  const i = s * m.A + a;
  if (m.kind === 'dense') return m.P[i * m.S + sp];
  let p = 0;
  for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) if (m.indices[k] === sp) p += m.probs[k];
  return p;
}

/** Dense I − γP_π built entry by entry from its definition. */
function systemFromDefinition(m: RefMDP, pi: Float64Array): Float64Array {
  const { S, A, gamma } = m;
  const M = new Float64Array(S * S);
  for (let s = 0; s < S; s++) {
    for (let sp = 0; sp < S; sp++) {
      let p = 0;
      for (let a = 0; a < A; a++) p += pi[s * A + a] * prob(m, s, a, sp);
      M[s * S + sp] = (s === sp ? 1 : 0) - gamma * p;
    }
  }
  return M;
}

function transposed(M: Float64Array, n: number): Float64Array {
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[j * n + i] = M[i * n + j];
  return T;
}

/** LSE_τ row by row written from scratch: τ log Σ_a exp(q_a/τ) with a max shift (τ = 0: max). */
function lse(Q: Float64Array, S: number, A: number, tau: number): Float64Array {
  const V = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    const row = Array.from(Q.subarray(s * A, (s + 1) * A));
    const mx = Math.max(...row);
    V[s] = tau === 0 ? mx : mx + tau * Math.log(row.reduce((acc, q) => acc + Math.exp((q - mx) / tau), 0));
  }
  return V;
}

/** r + γPV from the definition, through prob(). */
function bellmanQ(m: RefMDP, r: Float64Array, V: Float64Array): Float64Array {
  const Q = new Float64Array(m.S * m.A);
  for (let s = 0; s < m.S; s++) {
    for (let a = 0; a < m.A; a++) {
      let pv = 0;
      for (let sp = 0; sp < m.S; sp++) pv += prob(m, s, a, sp) * V[sp];
      Q[s * m.A + a] = r[s * m.A + a] + m.gamma * pv;
    }
  }
  return Q;
}

function uniformRho(S: number): Float64Array {
  return new Float64Array(S).fill(1 / S);
}

// ---------- the test problems ----------

const S = 30;
const A = 4;
const GAMMA = 0.95;
const dense = randomDense(S, A, GAMMA, 11);
const csr = randomCsr(S, A, GAMMA, 5, 12);
const problems: [string, RefMDP][] = [
  ['dense', dense],
  ['CSR', csr],
];
const pi = randomPolicy(S, A, 13);
const r = randomVector(S * A, 14);

describe('LU factorisation with partial pivoting', () => {
  it('solves a random general 25×25 system so that M·x reproduces b to 1e-12 relative', () => {
    const n = 25;
    const M0 = randomVector(n * n, 21);
    const b = randomVector(n, 22);
    const M = Float64Array.from(M0);
    const piv = luFactor(M, n);
    const x = luSolve(M, piv, Float64Array.from(b));
    expect(relErr(matVec(M0, n, x), b)).toBeLessThan(1e-12);
  });

  it('solves the system in place in b and returns that same array', () => {
    const M = Float64Array.of(4, 1, 2, 3);
    const piv = luFactor(M, 2);
    const b = Float64Array.of(1, 2);
    expect(luSolve(M, piv, b)).toBe(b);
  });

  it('records in piv[k] the row swapped with row k and handles a zero leading entry', () => {
    const M0 = Float64Array.of(0, 1, 2, 3);
    const M = Float64Array.from(M0);
    const piv = luFactor(M, 2);
    expect(Array.from(piv)).toEqual([1, 1]);
    const x = luSolve(M, piv, Float64Array.of(5, 13));
    // 0·x0 + 1·x1 = 5, 2·x0 + 3·x1 = 13  ⇒  x = (−1, 5)
    expect(x[0]).toBeCloseTo(-1, 14);
    expect(x[1]).toBeCloseTo(5, 14);
  });

  it('chooses the pivot of largest magnitude, taking the first one on ties', () => {
    const n = 3;
    const M = Float64Array.of(1, 0, 0, -3, 1, 0, 3, 0, 1);
    const piv = luFactor(M, n);
    expect(piv[0]).toBe(1);
  });

  it('throws when a pivot is exactly zero', () => {
    expect(() => luFactor(Float64Array.of(1, 2, 2, 4), 2)).toThrow(/singular/);
    expect(() => luFactor(new Float64Array(9), 3)).toThrow(/singular/);
  });

  it('solves I − γP_π x = b for a 30-state MDP with residual below 1e-13', () => {
    const M0 = systemFromDefinition(dense, pi);
    const b = randomVector(S, 23);
    const M = Float64Array.from(M0);
    const x = luSolve(M, luFactor(M, S), Float64Array.from(b));
    expect(relErr(matVec(M0, S, x), b)).toBeLessThan(1e-13);
  });
});

describe('products with P_π and the system matrix', () => {
  for (const [name, m] of problems) {
    it(`P_π maps the all-ones vector to itself on the ${name} MDP`, () => {
      const ones = new Float64Array(S).fill(1);
      expect(maxAbsDiff(ppi(m, pi, ones), ones)).toBeLessThan(1e-14);
    });

    it(`ppiT is the adjoint of ppi on the ${name} MDP: uᵀ(P_π v) = (P_πᵀ u)ᵀ v`, () => {
      const u = randomVector(S, 31);
      const v = randomVector(S, 32);
      const lhs = u.reduce((acc, ui, i) => acc + ui * ppi(m, pi, v)[i], 0);
      const pu = ppiT(m, pi, u);
      const rhs = pu.reduce((acc, x, i) => acc + x * v[i], 0);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-13);
    });

    it(`buildSystem equals I − γP_π from its definition on the ${name} MDP, and its transpose when asked`, () => {
      const M = systemFromDefinition(m, pi);
      expect(maxAbsDiff(buildSystem(m, pi, false), M)).toBeLessThan(1e-15);
      expect(maxAbsDiff(buildSystem(m, pi, true), transposed(M, S))).toBeLessThan(1e-15);
    });

    it(`ppi and ppiT write into a given out array and return it on the ${name} MDP`, () => {
      const out = new Float64Array(S);
      expect(ppi(m, pi, randomVector(S, 33), out)).toBe(out);
      expect(ppiT(m, pi, randomVector(S, 34), out)).toBe(out);
    });
  }

  it('gives the same products on a CSR MDP and on its dense copy', () => {
    const d = toDense(csr);
    const v = randomVector(S, 35);
    expect(maxAbsDiff(ppi(csr, pi, v), ppi(d, pi, v))).toBeLessThan(1e-15);
    expect(maxAbsDiff(ppiT(csr, pi, v), ppiT(d, pi, v))).toBeLessThan(1e-15);
    expect(maxAbsDiff(qFromV(csr, r, v), qFromV(d, r, v))).toBeLessThan(1e-15);
  });

  it('softRewardPi adds the entropy bonus and skips actions with zero probability', () => {
    const rr = Float64Array.of(1, 2, 3, 4);
    const p = Float64Array.of(0.25, 0.75, 1, 0);
    const out = softRewardPi(rr, p, 2, 2, 0.5);
    expect(out[0]).toBeCloseTo(0.25 * (1 - 0.5 * Math.log(0.25)) + 0.75 * (2 - 0.5 * Math.log(0.75)), 15);
    expect(out[1]).toBe(3);
    expect(softRewardPi(rr, p, 2, 2, 0)[0]).toBeCloseTo(1.75, 15);
  });
});

describe('iterative linear solvers', () => {
  for (const [name, m] of problems) {
    for (const transpose of [false, true]) {
      const label = `${transpose ? '(I − γP_π)ᵀ' : '(I − γP_π)'} on the ${name} MDP`;
      const b = randomVector(S, transpose ? 41 : 42);
      const xLu = solveLinear(m, pi, b, { transpose, method: 'lu' }).x;

      it(`BiCGSTAB agrees with LU to 1e-10 for ${label}`, () => {
        const res = bicgstab(m, pi, b, { transpose });
        expect(res.converged).toBe(true);
        expect(res.iterations).toBeGreaterThan(0);
        expect(res.residual).toBeLessThanOrEqual(1e-12);
        expect(relErr(res.x, xLu)).toBeLessThan(1e-10);
      });

      it(`Richardson agrees with LU to 1e-10 for ${label}`, () => {
        const res = richardson(m, pi, b, { transpose });
        expect(res.converged).toBe(true);
        expect(res.residual).toBeLessThanOrEqual(1e-12);
        expect(relErr(res.x, xLu)).toBeLessThan(1e-10);
      });

      it(`LU's x satisfies the system built from the definition for ${label}`, () => {
        const M = systemFromDefinition(m, pi);
        const Mx = matVec(transpose ? transposed(M, S) : M, S, xLu);
        expect(relErr(Mx, b)).toBeLessThan(1e-13);
      });
    }
  }

  it('reports the true relative residual ‖b − Ax‖₂/‖b‖₂ of the returned x', () => {
    const b = randomVector(S, 43);
    const M = systemFromDefinition(dense, pi);
    // loose tolerances, so that the residual is far above round-off and can be recomputed
    for (const res of [bicgstab(dense, pi, b, { tol: 1e-6 }), richardson(dense, pi, b, { tol: 1e-6 })]) {
      const Mx = matVec(M, S, res.x);
      const rr = b.map((bi, i) => bi - Mx[i]);
      const want = Math.hypot(...rr) / Math.hypot(...b);
      expect(want).toBeGreaterThan(1e-12);
      expect(want).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(res.residual - want)).toBeLessThanOrEqual(1e-6 * want);
    }
    // a direct solve reports a residual at round-off level
    const lu = solveLinear(dense, pi, b);
    expect(lu.converged).toBe(true);
    expect(lu.residual).toBeLessThan(1e-14);
  });

  it('stops Richardson after maxIter iterations and reports that it did not converge', () => {
    const res = richardson(dense, pi, randomVector(S, 44), { maxIter: 5 });
    expect(res.iterations).toBe(5);
    expect(res.converged).toBe(false);
  });

  it('returns at once, with zero iterations, when the starting guess already solves the system', () => {
    const b = randomVector(S, 45);
    const x0 = solveLinear(dense, pi, b).x;
    expect(bicgstab(dense, pi, b, { x0 }).iterations).toBe(0);
    expect(richardson(dense, pi, b, { x0 }).iterations).toBe(0);
  });

  it('solves b = 0 with x = 0 without dividing by zero', () => {
    const res = bicgstab(dense, pi, new Float64Array(S));
    expect(res.converged).toBe(true);
    expect(maxAbs(res.x)).toBe(0);
  });

  it('dispatches solveLinear to the named method, all three methods agreeing', () => {
    const b = randomVector(S, 46);
    const lu = solveLinear(csr, pi, b);
    const kr = solveLinear(csr, pi, b, { method: 'krylov' });
    const ri = solveLinear(csr, pi, b, { method: 'richardson' });
    expect(lu.iterations).toBe(0);
    expect(kr.iterations).toBeGreaterThan(0);
    expect(ri.iterations).toBeGreaterThan(kr.iterations);
    expect(relErr(kr.x, lu.x)).toBeLessThan(1e-10);
    expect(relErr(ri.x, lu.x)).toBeLessThan(1e-10);
  });
});

describe('soft policy evaluation and occupancy', () => {
  for (const [name, m] of problems) {
    for (const tau of [0, 0.3]) {
      it(`satisfies V = Σ_a π(Q − τ log π) and Q = r + γPV to 1e-10 on the ${name} MDP with τ = ${tau}`, () => {
        const { V, Q } = policyEvaluation(m, r, pi, tau);
        const rhs = new Float64Array(S);
        for (let s = 0; s < S; s++) {
          for (let a = 0; a < A; a++) {
            const p = pi[s * A + a];
            rhs[s] += p * (Q[s * A + a] - tau * Math.log(p));
          }
        }
        expect(maxAbsDiff(V, rhs)).toBeLessThan(1e-10);
        expect(maxAbsDiff(Q, bellmanQ(m, r, V))).toBeLessThan(1e-12);
      });
    }

    it(`gives occupancies that are non-negative and sum to 1/(1 − γ) on the ${name} MDP`, () => {
      const rho = randomPolicy(1, S, 51); // a random distribution over states
      const d = occupancy(m, pi, rho);
      expect(Math.min(...d)).toBeGreaterThan(0);
      expect(Math.abs(sum(d) - 1 / (1 - GAMMA))).toBeLessThan(1e-10);
    });

    it(`satisfies ρᵀV^π = dᵀ(r_π + τH_π) (value equals occupancy-weighted reward) on the ${name} MDP`, () => {
      const tau = 0.3;
      const rho = randomPolicy(1, S, 52);
      const { V } = policyEvaluation(m, r, pi, tau);
      const d = occupancy(m, pi, rho);
      const rpi = softRewardPi(r, pi, S, A, tau);
      const lhs = rho.reduce((acc, x, s) => acc + x * V[s], 0);
      const rhs = d.reduce((acc, x, s) => acc + x * rpi[s], 0);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    });
  }

  it('puts all occupancy mass 1/(1 − γ) on an absorbing start state', () => {
    // two states, one action: state 0 stays in 0
    const m: RefDense = { kind: 'dense', S: 2, A: 1, gamma: 0.9, P: Float64Array.of(1, 0, 0.5, 0.5) };
    const d = occupancy(m, Float64Array.of(1, 1), Float64Array.of(1, 0));
    expect(d[0]).toBeCloseTo(10, 12);
    expect(d[1]).toBe(0);
  });
});

describe('soft Bellman sweeps and soft value iteration', () => {
  for (const [name, m] of problems) {
    for (const tau of [0.5, 0]) {
      it(`converges to V = LSE_τ(r + γPV) within 1e-9 on the ${name} MDP with τ = ${tau}`, () => {
        const res = softValueIteration(m, r, { tau, tol: 1e-12 });
        expect(res.converged).toBe(true);
        expect(res.residual).toBeLessThan(1e-12);
        const fixed = lse(bellmanQ(m, r, res.V), S, A, tau);
        expect(maxAbsDiff(res.V, fixed)).toBeLessThan(1e-9);
      });

      it(`returns an optimal policy whose evaluation gives back V* on the ${name} MDP with τ = ${tau}`, () => {
        const res = softValueIteration(m, r, { tau, tol: 1e-12 });
        const { V } = policyEvaluation(m, r, res.pi, tau);
        expect(maxAbsDiff(V, res.V)).toBeLessThan(1e-9);
        for (let s = 0; s < S; s++) expect(sum(res.pi.subarray(s * A, (s + 1) * A))).toBeCloseTo(1, 14);
      });
    }
  }

  it('returns Q from the last sweep and π = softmax(Q/τ)', () => {
    const tau = 0.5;
    const res = softValueIteration(dense, r, { tau, maxIter: 7 });
    expect(res.iterations).toBe(7);
    expect(res.converged).toBe(false);
    // Q of the last sweep is r + γP·V₆, and V = V₇ = LSE(Q)
    expect(maxAbsDiff(lse(res.Q, S, A, tau), res.V)).toBeLessThan(1e-13);
    const want = new Float64Array(S * A);
    for (let s = 0; s < S; s++) {
      const z = Array.from(res.Q.subarray(s * A, (s + 1) * A)).reduce((acc, q) => acc + Math.exp(q / tau), 0);
      for (let a = 0; a < A; a++) want[s * A + a] = Math.exp(res.Q[s * A + a] / tau) / z;
    }
    expect(maxAbsDiff(res.pi, want)).toBeLessThan(1e-13);
  });

  it('warm-starts from V0: starting at the fixed point converges in one sweep', () => {
    const tau = 0.5;
    const star = softValueIteration(dense, r, { tau, tol: 1e-12 });
    const res = softValueIteration(dense, r, { tau, tol: 1e-10, V0: star.V });
    expect(res.iterations).toBe(1);
  });

  it('returns max|Vout − V| from a sweep and writes Q = r + γPV', () => {
    const V = randomVector(S, 61);
    const Q = new Float64Array(S * A);
    const Vout = new Float64Array(S);
    const res = bellmanSweep(csr, r, V, Q, Vout, 0.2);
    expect(maxAbsDiff(Q, bellmanQ(csr, r, V))).toBeLessThan(1e-14);
    expect(maxAbsDiff(Vout, lse(Q, S, A, 0.2))).toBeLessThan(1e-14);
    expect(res).toBe(maxAbsDiff(Vout, V));
  });

  it('stays finite for Q values far beyond exp overflow thanks to the max shift', () => {
    const m: RefDense = { kind: 'dense', S: 1, A: 2, gamma: 0, P: Float64Array.of(1, 1) };
    const Q = new Float64Array(2);
    const Vout = new Float64Array(1);
    bellmanSweep(m, Float64Array.of(1000, 1000), new Float64Array(1), Q, Vout, 0.01);
    expect(Vout[0]).toBeCloseTo(1000 + 0.01 * Math.log(2), 10);
  });

  it('softmaxPolicy with τ = 0 is one-hot at the first maximiser', () => {
    const pol = softmaxPolicy(Float64Array.of(1, 3, 3, 2, -1, -1), 2, 3, 0);
    expect(Array.from(pol)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it('softmaxPolicy writes into out when given and returns it', () => {
    const out = new Float64Array(4);
    expect(softmaxPolicy(Float64Array.of(0, Math.log(3), 5, 5), 2, 2, 1, out)).toBe(out);
    expect(out[0]).toBeCloseTo(0.25, 15);
    expect(out[1]).toBeCloseTo(0.75, 15);
    expect(out[2]).toBe(0.5);
  });

  it('gives the same sweep on a CSR MDP and on its dense copy', () => {
    const d = toDense(csr);
    const V = randomVector(S, 62);
    const [Q1, Q2, V1, V2] = [new Float64Array(S * A), new Float64Array(S * A), new Float64Array(S), new Float64Array(S)];
    bellmanSweep(csr, r, V, Q1, V1, 0.3);
    bellmanSweep(d, r, V, Q2, V2, 0.3);
    expect(maxAbsDiff(Q1, Q2)).toBeLessThan(1e-15);
    expect(maxAbsDiff(V1, V2)).toBeLessThan(1e-15);
  });
});

describe('xoshiro128** generator', () => {
  it('reproduces the C reference xoshiro128** outputs from the state {1, 2, 3, 4}', () => {
    // outputs of Blackman & Vigna's xoshiro128starstar.c next() from s = {1, 2, 3, 4}
    const want = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804];
    const g = Xoshiro128.fromState(1, 2, 3, 4);
    expect(want.map(() => g.next())).toEqual(want);
  });

  it('derives the first outputs from {1, 2, 3, 4} by hand: rotl(5·s1, 7)·9 with s1 = 2, then 0, then 1029', () => {
    const g = Xoshiro128.fromState(1, 2, 3, 4);
    expect(g.next()).toBe(((2 * 5) << 7) * 9);
    expect(g.next()).toBe(0); // s1 = 2 ^ (3 ^ 1) = 0 after the first step
    expect(g.next()).toBe(1029 * 5 * 128 * 9);
  });

  it('seeds through splitmix64 with the state words in little-endian order', () => {
    // splitmix64 from x = 0: 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4 (Vigna's splitmix64.c)
    expect(Array.from(new Xoshiro128(0).state())).toEqual([0x7b1dcdaf, 0xe220a839, 0xa1b965f4, 0x6e789e6a]);
    // x = 2^32·1 + 5, i.e. lo = 5, hi = 1: 0x51307108ad417eea, 0x34dd088ba39783d0
    expect(Array.from(new Xoshiro128(2 ** 32 + 5).state())).toEqual([0xad417eea, 0x51307108, 0xa39783d0, 0x34dd088b]);
  });

  it('builds uniform() from two draws as ((a >>> 5)·2^26 + (b >>> 6)) / 2^53', () => {
    const g = Xoshiro128.fromState(1, 2, 3, 4);
    expect(g.uniform()).toBe(((11520 >>> 5) * 2 ** 26 + (0 >>> 6)) / 2 ** 53);
    expect(g.uniform()).toBe(((5927040 >>> 5) * 2 ** 26 + (70819200 >>> 6)) / 2 ** 53);
    const h = new Xoshiro128(12345);
    for (let k = 0; k < 10000; k++) {
      const u = h.uniform();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });

  it('gives the same sequence for the same seed and different sequences for different seeds', () => {
    const a = new Xoshiro128(7);
    const b = new Xoshiro128(7);
    const c = new Xoshiro128(8);
    const xa = Array.from({ length: 8 }, () => a.next());
    expect(Array.from({ length: 8 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.next())).not.toEqual(xa);
    expect(xa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });
});

describe('trajectory sampling', () => {
  const small = randomCsr(6, 3, 0.9, 2, 71);
  const smallPi = randomPolicy(6, 3, 72);
  smallPi.set([1, 0, 0], 0); // a deterministic state: action 0 only
  const smallR = randomVector(18, 73);
  const rho = Float64Array.of(0.5, 0, 0.25, 0, 0.25, 0);

  it('an episode depends only on the seed and its index, not on the batch size', () => {
    const a = sampleTrajectories(small, smallPi, { episodes: 3, horizon: 6, seed: 9, rho });
    const b = sampleTrajectories(small, smallPi, { episodes: 20, horizon: 6, seed: 9, rho });
    expect(Array.from(b.states.subarray(0, 18))).toEqual(Array.from(a.states));
    expect(Array.from(b.actions.subarray(0, 18))).toEqual(Array.from(a.actions));
  });

  it('is reproducible from its seed and changes with the seed', () => {
    const o = { episodes: 20, horizon: 15, rho, r: smallR };
    const a = sampleTrajectories(small, smallPi, { ...o, seed: 3 });
    const b = sampleTrajectories(small, smallPi, { ...o, seed: 3 });
    const c = sampleTrajectories(small, smallPi, { ...o, seed: 4 });
    expect(b).toEqual(a);
    expect(Array.from(c.states)).not.toEqual(Array.from(a.states));
  });

  it('only visits start states in the support of ρ, actions in the support of π and successors in the support of P', () => {
    const H = 12;
    const { states, actions, rewards } = sampleTrajectories(small, smallPi, { episodes: 200, horizon: H, seed: 5, rho, r: smallR });
    for (let e = 0; e < 200; e++) {
      expect(rho[states[e * H]]).toBeGreaterThan(0);
      for (let t = 0; t < H; t++) {
        const s = states[e * H + t];
        const a = actions[e * H + t];
        expect(smallPi[s * 3 + a]).toBeGreaterThan(0);
        expect(rewards?.[e * H + t]).toBe(smallR[s * 3 + a]);
        if (t + 1 < H) expect(prob(small, s, a, states[e * H + t + 1])).toBeGreaterThan(0);
      }
    }
  });

  it('omits rewards when no reward vector is given', () => {
    const res = sampleTrajectories(small, smallPi, { episodes: 2, horizon: 3, seed: 1, rho });
    expect(res.rewards).toBeUndefined();
    expect(res.states.length).toBe(6);
  });

  it('draws start states, actions and transitions with the right frequencies', () => {
    const n = 40000;
    const H = 2;
    const { states, actions } = sampleTrajectories(small, smallPi, { episodes: n, horizon: H, seed: 9, rho });
    const count0 = new Float64Array(6);
    const pair = new Float64Array(18);
    const next = new Float64Array(18 * 6);
    for (let e = 0; e < n; e++) {
      const s = states[e * H];
      const a = actions[e * H];
      count0[s]++;
      pair[s * 3 + a]++;
      next[(s * 3 + a) * 6 + states[e * H + 1]]++;
    }
    for (let s = 0; s < 6; s++) expect(Math.abs(count0[s] / n - rho[s])).toBeLessThan(0.01);
    for (let i = 0; i < 18; i++) {
      const s = Math.floor(i / 3);
      if (count0[s] > 0) expect(Math.abs(pair[i] / count0[s] - smallPi[i])).toBeLessThan(0.02);
      if (pair[i] > 2000) {
        for (let sp = 0; sp < 6; sp++) {
          expect(Math.abs(next[i * 6 + sp] / pair[i] - prob(small, s, i % 3, sp))).toBeLessThan(0.04);
        }
      }
    }
  });

  it('draws in the order s₀ ~ ρ, then a_t ~ π and, except at the last step, s_{t+1} ~ P, one uniform each, episode e from stream e of the seed', () => {
    const H = 4;
    const E = 11; // more than one lockstep block of the kernel
    const res = sampleTrajectories(small, smallPi, { episodes: E, horizon: H, seed: 2024, rho });
    // replay with an independent inverse-CDF over the positive entries
    const inv = (ps: number[], u: number): number => {
      let acc = 0;
      let last = 0;
      for (let j = 0; j < ps.length; j++) {
        if (ps[j] <= 0) continue;
        last = j;
        acc += ps[j];
        if (u < acc) return j;
      }
      return last;
    };
    for (let e = 0; e < E; e++) {
      const g = new Xoshiro128(2024, e);
      let s = inv(Array.from(rho), g.uniform());
      for (let t = 0; t < H; t++) {
        const a = inv(Array.from(smallPi.subarray(s * 3, s * 3 + 3)), g.uniform());
        expect([res.states[e * H + t], res.actions[e * H + t]]).toEqual([s, a]);
        if (t + 1 < H) {
          const i = s * 3 + a;
          const k0 = small.indptr[i];
          s = small.indices[k0 + inv(Array.from(small.probs.subarray(k0, small.indptr[i + 1])), g.uniform())];
        }
      }
    }
  });

  it('gives identical trajectories on a CSR MDP and on its dense copy', () => {
    const o = { episodes: 50, horizon: 20, seed: 77, rho, r: smallR };
    expect(sampleTrajectories(toDense(small), smallPi, o)).toEqual(sampleTrajectories(small, smallPi, o));
  });

  it('returns the last positive index when rounding leaves u above the cumulative sum', () => {
    // ρ sums to slightly less than 1, so u close to 1 falls past the end of the scan
    const m: RefDense = { kind: 'dense', S: 3, A: 1, gamma: 0.5, P: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1) };
    const shortRho = Float64Array.of(0.1, 1e-9, 0);
    const { states } = sampleTrajectories(m, Float64Array.of(1, 1, 1), { episodes: 200, horizon: 1, seed: 1, rho: shortRho });
    expect(Array.from(states).every((s) => s === 0 || s === 1)).toBe(true);
    expect(Array.from(states).filter((s) => s === 1).length).toBeGreaterThan(150);
  });
});

describe('test helpers', () => {
  it('build random MDPs whose rows are probability distributions', () => {
    for (let i = 0; i < S * A; i++) {
      expect(sum(dense.P.subarray(i * S, (i + 1) * S))).toBeCloseTo(1, 14);
      expect(sum(csr.probs.subarray(csr.indptr[i], csr.indptr[i + 1]))).toBeCloseTo(1, 14);
      const cols = Array.from(csr.indices.subarray(csr.indptr[i], csr.indptr[i + 1]));
      expect(new Set(cols).size).toBe(cols.length);
      expect(cols).toEqual([...cols].sort((x, y) => x - y));
    }
    expect(csr.indptr[S * A]).toBe(S * A * 5);
    expect(Math.min(...dense.P)).toBeGreaterThan(0);
  });

  it('are reproducible from their seeds', () => {
    expect(randomDense(4, 2, 0.9, 5)).toEqual(randomDense(4, 2, 0.9, 5));
    expect(randomCsr(4, 2, 0.9, 2, 5)).toEqual(randomCsr(4, 2, 0.9, 2, 5));
    expect(randomVector(10, 1)).not.toEqual(randomVector(10, 2));
    const u = mulberry32(1)();
    expect(u >= 0 && u < 1).toBe(true);
  });
});

describe('generator streams', () => {
  it('stream 0 is the seed itself and other streams start from different states', () => {
    expect(Array.from(new Xoshiro128(77, 0).state())).toEqual(Array.from(new Xoshiro128(77).state()));
    const states = new Set([0, 1, 2, 3, 1000].map((e) => Array.from(new Xoshiro128(77, e).state()).join(',')));
    expect(states.size).toBe(5);
  });
});
