// PBRL's value and Bellman penalties (docs/math.md#pbrl, checks C13–C18): values against
// independent formulas, every gradient against central finite differences (x; the policy
// table along tangent directions; full softmax logits), zero at π* with quadratic growth,
// x-dependent transitions, work counters and bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { DomainError, ShapeError } from '../src/errors.js';
import { policyEvaluation } from '../src/lower.js';
import type { BilevelProblem } from '../src/bilevel/problem.js';
import { solveLower } from '../src/bilevel/lowerSolve.js';
import { bellmanPenalty, tableToLogits, valuePenalty } from '../src/bilevel/penalties.js';
import { randomPolicy, randomVector } from './helpers/random-mdp.js';
// the problems: the check set of docs/math.md#checks, S = 4, A = 3, n = 3, γ = 0.8, τ = 0.7
import { A, genericProblem, n, S, stackelbergProblem, TAU } from './helpers/random-bilevel.js';
import { maxAbs } from './helpers/compare.js';
import { relErrChecked as relErr } from './helpers/rel-err.js';

beforeAll(async () => {
  await init();
});

// ---------- small independent helpers ----------

/** Central differences of fn at x, coordinate by coordinate. */
function fdGrad(fn: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[k] += h;
    xm[k] -= h;
    g[k] = (fn(xp) - fn(xm)) / (2 * h);
  }
  return g;
}

function softmaxRows(theta: Float64Array): Float64Array {
  const pi = new Float64Array(theta.length);
  for (let s = 0; s < S; s++) {
    let m = -Infinity, z = 0;
    for (let a = 0; a < A; a++) m = Math.max(m, theta[s * A + a]);
    for (let a = 0; a < A; a++) z += (pi[s * A + a] = Math.exp(theta[s * A + a] - m));
    for (let a = 0; a < A; a++) pi[s * A + a] /= z;
  }
  return pi;
}

/** Random directions in the tangent space of the product of simplices (zero row sums). */
function tangent(seed: number): Float64Array {
  const d = randomVector(S * A, seed);
  for (let s = 0; s < S; s++) {
    let mean = 0;
    for (let a = 0; a < A; a++) mean += d[s * A + a] / A;
    for (let a = 0; a < A; a++) d[s * A + a] -= mean;
  }
  return d;
}

type Pen = typeof valuePenalty | typeof bellmanPenalty;
const PENALTIES: [string, Pen][] = [['value', valuePenalty], ['Bellman', bellmanPenalty]];
const value = (pen: Pen, problem: BilevelProblem, x: Float64Array, pi: Float64Array) => pen(problem, x, pi, { gradient: false }).value;

// ---------- values ----------

describe('penalty values', () => {
  it('the Bellman penalty equals τ·E_ρ KL(π ‖ softmax(Q^π/τ)) computed from an independent policy evaluation', () => {
    for (const seed of [1, 2, 3]) {
      const problem = genericProblem('dense', seed);
      const x = randomVector(n, seed + 7), pi = randomPolicy(S, A, seed + 8);
      const r = problem.rewardAt(x);
      const { Q } = policyEvaluation(problem.mdp, r, pi, { tau: TAU });
      let kl = 0;
      for (let s = 0; s < S; s++) {
        let m = -Infinity, z = 0;
        for (let a = 0; a < A; a++) m = Math.max(m, Q[s * A + a] / TAU);
        for (let a = 0; a < A; a++) z += Math.exp(Q[s * A + a] / TAU - m);
        for (let a = 0; a < A; a++) {
          const logSigma = Q[s * A + a] / TAU - m - Math.log(z);
          kl += problem.mdp.rho[s] * pi[s * A + a] * (Math.log(pi[s * A + a]) - logSigma);
        }
      }
      expect(Math.abs(bellmanPenalty(problem, x, pi).value - TAU * kl)).toBeLessThan(1e-12 * Math.max(1, TAU * kl));
    }
  });

  it('the value penalty equals ρᵀ(V* − V^π) with V* from an independent tight policy-iteration solve', () => {
    for (const kind of ['dense', 'csr'] as const) {
      const problem = genericProblem(kind, 4);
      const x = randomVector(n, 5), pi = randomPolicy(S, A, 6);
      const low = solveLower(problem, x, { solver: 'policy-iteration', tol: 1e-14 });
      const { V } = policyEvaluation(problem.mdp, problem.rewardAt(x), pi, { tau: TAU });
      let expected = 0;
      for (let s = 0; s < S; s++) expected += problem.mdp.rho[s] * (low.V[s] - V[s]);
      expect(Math.abs(valuePenalty(problem, x, pi).value - expected)).toBeLessThan(1e-11);
    }
  });

  it('the value penalty with a given star policy is ρᵀ(V^star − V^π), negative when π beats the star', () => {
    const problem = genericProblem('dense', 9);
    const x = randomVector(n, 10);
    const pi = randomPolicy(S, A, 11), star = randomPolicy(S, A, 12);
    const r = problem.rewardAt(x);
    const Vs = policyEvaluation(problem.mdp, r, star, { tau: TAU }).V, Vp = policyEvaluation(problem.mdp, r, pi, { tau: TAU }).V;
    let expected = 0;
    for (let s = 0; s < S; s++) expected += problem.mdp.rho[s] * (Vs[s] - Vp[s]);
    const res = valuePenalty(problem, x, pi, { star });
    expect(Math.abs(res.value - expected)).toBeLessThan(1e-12);
    expect(Array.from(res.piStar)).toEqual(Array.from(star));
    const swapped = valuePenalty(problem, x, star, { star: pi }).value;
    expect(Math.abs(swapped + expected)).toBeLessThan(1e-12);
  });

  it('the τ = 0 Bellman penalty is E_ρ[max_a Q^π − ⟨π, Q^π⟩] with the unregularised Q^π', () => {
    for (const seed of [1, 2]) {
      const problem = genericProblem('csr', seed, 0);
      const x = randomVector(n, seed + 3), pi = randomPolicy(S, A, seed + 4);
      const { Q } = policyEvaluation(problem.mdp, problem.rewardAt(x), pi, { tau: 0 });
      let expected = 0;
      for (let s = 0; s < S; s++) {
        let m = -Infinity, avg = 0;
        for (let a = 0; a < A; a++) { m = Math.max(m, Q[s * A + a]); avg += pi[s * A + a] * Q[s * A + a]; }
        expected += problem.mdp.rho[s] * (m - avg);
      }
      expect(Math.abs(bellmanPenalty(problem, x, pi).value - expected)).toBeLessThan(1e-12);
    }
  });

  for (const [name, pen] of PENALTIES) {
    it(`the ${name} penalty vanishes at π* to round-off and is positive at random policies (dense and CSR, several seeds)`, () => {
      for (const kind of ['dense', 'csr'] as const) {
        for (const seed of [1, 2, 3]) {
          const problem = genericProblem(kind, seed);
          const x = randomVector(n, seed + 20);
          const star = solveLower(problem, x, { tol: 1e-13 }).pi;
          expect(Math.abs(value(pen, problem, x, star))).toBeLessThan(1e-12);
          for (let j = 0; j < 3; j++) expect(value(pen, problem, x, randomPolicy(S, A, seed * 10 + j))).toBeGreaterThan(1e-6);
        }
      }
    });

    it(`the ${name} penalty grows quadratically away from π* (doubling the offset multiplies it by 4)`, () => {
      const problem = genericProblem('dense', 5);
      const x = randomVector(n, 6);
      const star = solveLower(problem, x, { tol: 1e-13 }).pi;
      const dir = tangent(7);
      const at = (eps: number) => value(pen, problem, x, star.map((p, i) => p + eps * dir[i]));
      const p1 = at(1e-3), p2 = at(2e-3);
      expect(p1).toBeGreaterThan(0);
      expect(p2 / p1).toBeGreaterThan(3.9);
      expect(p2 / p1).toBeLessThan(4.1);
    });
  }
});

// ---------- gradients ----------

describe('penalty gradients match central finite differences', () => {
  for (const [name, pen] of PENALTIES) {
    it(`the ${name} penalty's x-gradient matches central differences (rel < 1e-6; dense and CSR, three seeds)`, () => {
      for (const kind of ['dense', 'csr'] as const) {
        for (const seed of [1, 2, 3]) {
          const problem = genericProblem(kind, seed);
          const x = randomVector(n, seed + 30), pi = randomPolicy(S, A, seed + 31);
          const g = pen(problem, x, pi).gradX!;
          const fd = fdGrad((xx) => value(pen, problem, xx, pi), x);
          expect(relErr(g, fd)).toBeLessThan(1e-6);
        }
      }
    });

    it(`the ${name} penalty's table gradient matches central differences along tangent directions of the simplices`, () => {
      for (const kind of ['dense', 'csr'] as const) {
        for (const seed of [1, 2, 3]) {
          const problem = genericProblem(kind, seed);
          const x = randomVector(n, seed + 40), pi = randomPolicy(S, A, seed + 41);
          const g = pen(problem, x, pi).gradPi!;
          const analytic: number[] = [], fd: number[] = [];
          for (let j = 0; j < 5; j++) {
            const dir = tangent(seed * 100 + j);
            let dot = 0;
            for (let i = 0; i < dir.length; i++) dot += g[i] * dir[i];
            analytic.push(dot);
            const h = 1e-5;
            fd.push((value(pen, problem, x, pi.map((p, i) => p + h * dir[i])) - value(pen, problem, x, pi.map((p, i) => p - h * dir[i]))) / (2 * h));
          }
          expect(relErr(analytic, fd)).toBeLessThan(1e-6);
        }
      }
    });

    it(`the ${name} penalty's logits gradient matches central differences in every full softmax logit`, () => {
      for (const kind of ['dense', 'csr'] as const) {
        for (const seed of [1, 2, 3]) {
          const problem = genericProblem(kind, seed);
          const x = randomVector(n, seed + 50);
          const theta = randomVector(S * A, seed + 51).map((t) => 2 * t);
          const pi = softmaxRows(theta);
          const res = pen(problem, x, pi);
          const fd = fdGrad((th) => value(pen, problem, x, softmaxRows(th)), theta);
          expect(relErr(res.gradLogits!, fd)).toBeLessThan(1e-6);
          expect(relErr(res.gradLogits!, tableToLogits(pi, res.gradPi!, S, A))).toBeLessThan(1e-14);
        }
      }
    });

    it(`the ${name} penalty's x-gradient matches central differences when the transitions depend on x`, () => {
      for (const seed of [1, 2]) {
        const problem = stackelbergProblem(seed);
        const x = randomVector(problem.n, seed + 60), pi = randomPolicy(S, A, seed + 61);
        const g = pen(problem, x, pi).gradX!;
        const fd = fdGrad((xx) => value(pen, problem, xx, pi), x);
        expect(relErr(g, fd)).toBeLessThan(1e-6);
      }
    });

    it(`the ${name} penalty's gradients vanish at π* in the policy directions (π* minimises it)`, () => {
      const problem = genericProblem('dense', 8);
      const x = randomVector(n, 9);
      const star = solveLower(problem, x, { tol: 1e-13 }).pi;
      const res = pen(problem, x, star);
      expect(maxAbs(res.gradLogits!)).toBeLessThan(1e-10);
      expect(maxAbs(res.gradX!)).toBeLessThan(1e-10);
    });
  }

  it('the τ = 0 Bellman penalty gradients match central differences away from ties', () => {
    for (const seed of [1, 2, 3]) {
      const problem = genericProblem('dense', seed, 0);
      const x = randomVector(n, seed + 70), pi = randomPolicy(S, A, seed + 71);
      const res = bellmanPenalty(problem, x, pi);
      expect(relErr(res.gradX!, fdGrad((xx) => value(bellmanPenalty, problem, xx, pi), x, 1e-6))).toBeLessThan(1e-6);
      const theta = pi.map(Math.log);
      expect(relErr(res.gradLogits!, fdGrad((th) => value(bellmanPenalty, problem, x, softmaxRows(th)), theta, 1e-6))).toBeLessThan(1e-6);
    }
  });

  it('the τ = 0 value penalty gradients match central differences (hard-max optimum)', () => {
    const problem = genericProblem('csr', 3, 0);
    const x = randomVector(n, 4), pi = randomPolicy(S, A, 5);
    const res = valuePenalty(problem, x, pi);
    expect(relErr(res.gradX!, fdGrad((xx) => value(valuePenalty, problem, xx, pi), x, 1e-6))).toBeLessThan(1e-6);
    const theta = pi.map(Math.log);
    expect(relErr(res.gradLogits!, fdGrad((th) => value(valuePenalty, problem, x, softmaxRows(th)), theta, 1e-6))).toBeLessThan(1e-6);
  });
});

// ---------- cost and bad input ----------

describe('penalty bookkeeping and input checks', () => {
  it('counts its linear solves: Bellman 2 with gradients and 1 without; value 4 with a star policy and 2 without gradients', () => {
    const problem = genericProblem('dense', 1);
    const x = randomVector(n, 2), pi = randomPolicy(S, A, 3), star = randomPolicy(S, A, 4);
    const count = (fn: () => void) => {
      const before = problem.counters.solves;
      fn();
      return problem.counters.solves - before;
    };
    expect(count(() => bellmanPenalty(problem, x, pi))).toBe(2);
    expect(count(() => bellmanPenalty(problem, x, pi, { gradient: false }))).toBe(1);
    expect(count(() => valuePenalty(problem, x, pi, { star }))).toBe(4);
    expect(count(() => valuePenalty(problem, x, pi, { star, gradient: false }))).toBe(2);
    const sweeps = problem.counters.sweeps;
    valuePenalty(problem, x, pi);
    expect(problem.counters.sweeps).toBeGreaterThan(sweeps);
  });

  it('a custom ρ weights the states: a point mass on state s gives V*(s) − V^π(s)', () => {
    const problem = genericProblem('dense', 2);
    const x = randomVector(n, 3), pi = randomPolicy(S, A, 4);
    const low = solveLower(problem, x, { solver: 'policy-iteration', tol: 1e-14 });
    const { V } = policyEvaluation(problem.mdp, problem.rewardAt(x), pi, { tau: TAU });
    for (let s = 0; s < S; s++) {
      const rho = new Float64Array(S);
      rho[s] = 1;
      expect(Math.abs(valuePenalty(problem, x, pi, { rho }).value - (low.V[s] - V[s]))).toBeLessThan(1e-11);
    }
  });

  for (const [name, pen] of PENALTIES) {
    it(`the ${name} penalty rejects non-finite x, a wrong-length or non-stochastic π and a bad ρ with typed errors`, () => {
      const problem = genericProblem('dense', 1);
      const x = randomVector(n, 2), pi = randomPolicy(S, A, 3);
      expect(() => pen(problem, [0, NaN, 0], pi)).toThrow(DomainError);
      expect(() => pen(problem, [0, 0], pi)).toThrow(ShapeError);
      expect(() => pen(problem, x, pi.subarray(1))).toThrow(ShapeError);
      const bad = Float64Array.from(pi);
      bad[0] += 0.1;
      expect(() => pen(problem, x, bad)).toThrow(DomainError);
      const neg = Float64Array.from(pi);
      neg[0] = -neg[0];
      neg[1] += 2 * pi[0];
      expect(() => pen(problem, x, neg)).toThrow(DomainError);
      expect(() => pen(problem, x, pi, { rho: [1, 0, 0] })).toThrow(ShapeError);
      expect(() => pen(problem, x, pi, { rho: [0.5, 0.5, 0.5, -0.5] })).toThrow(DomainError);
      expect(() => pen(problem, x, pi, { gradient: 'yes' as unknown as boolean })).toThrow(DomainError);
    });
  }

  it('the value penalty rejects a star policy that is not a policy table', () => {
    const problem = genericProblem('dense', 1);
    const x = randomVector(n, 2), pi = randomPolicy(S, A, 3);
    expect(() => valuePenalty(problem, x, pi, { star: new Float64Array(S * A) })).toThrow(DomainError);
    expect(() => valuePenalty(problem, x, pi, { star: [1, 0, 0] })).toThrow(ShapeError);
  });
});
