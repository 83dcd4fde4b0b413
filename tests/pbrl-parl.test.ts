// PBRL (docs/math.md#pbrl) and PARL (docs/math.md#parl, check C21): the simplex projection, PARL's
// implicit-function hypergradient against HG-EXACT (eq. 9), descent of the true φ from a
// common start, line-search and projection behaviour, JSON resumption, and bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { DomainError, ShapeError } from '../src/errors.js';
import { BilevelProblem, type RewardModel } from '../src/bilevel/problem.js';
import { linearReward, policyLinear, upperReturn } from '../src/bilevel/models.js';
import { hypergradient, phi } from '../src/bilevel/hypergradient.js';
import { solveLower } from '../src/bilevel/lowerSolve.js';
import { bellmanPenalty } from '../src/bilevel/penalties.js';
import { exactDescent } from '../src/bilevel/algorithms/exactDescent.js';
import { shaping } from '../src/problems/shaping.js';
import { incentive } from '../src/problems/incentive.js';
import { pbrl, pbrlPolicy, projectSimplex, type PBRLOptions, type PBRLState } from '../src/bilevel/algorithms/pbrl.js';
import { parl, parlHypergradient, policyFromReduced, type PARLState } from '../src/bilevel/algorithms/parl.js';
import { mulberry32, randomPolicy, randomVector } from './helpers/random-mdp.js';
import { A, checkMdp, genericProblem, n, S, stackelbergProblem } from './helpers/random-bilevel.js';
import { maxAbs, relErr } from "./helpers/compare";

beforeAll(async () => {
  await init();
});

// ---------- problems (the check set of docs/math.md#checks, tests/helpers/random-bilevel.ts) ----------

/** The descent problem: r_x = Φx, f = cᵀπ + 0.05‖x‖² (policyLinear) or f = −ρᵀV_U^π + 0.05‖x‖² (upperReturn). */
function small(kind: 'dense' | 'csr', seed: number, upper: 'policyLinear' | 'upperReturn', tau = 0.5): BilevelProblem {
  const reward = linearReward(randomVector(S * A * n, seed + 10), n);
  const up = upper === 'policyLinear' ? policyLinear(randomVector(S * A, seed + 20), 0.1) : upperReturn({ r: randomVector(S * A, seed + 20), lambda: 0.1 });
  return new BilevelProblem({ mdp: checkMdp(kind, seed), tau, reward, upper: up });
}

// ---------- helpers ----------

function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** A uniformly random point of the simplex of radius z in R^m (normalised exponentials). */
function randomSimplexPoint(m: number, z: number, rand: () => number): Float64Array {
  const q = new Float64Array(m);
  for (let i = 0; i < m; i++) q[i] = -Math.log(1 - rand());
  const t = sum(q);
  return q.map((v) => (z * v) / t);
}

function expectPolicy(pi: ArrayLike<number>, floor = 0): void {
  for (let s = 0; s < S; s++) {
    let t = 0;
    for (let a = 0; a < A; a++) {
      expect(pi[s * A + a]).toBeGreaterThanOrEqual(floor);
      t += pi[s * A + a];
    }
    expect(Math.abs(t - 1)).toBeLessThan(1e-12);
  }
}

// ---------- projectSimplex ----------

describe('projectSimplex (Duchi et al. 2008)', () => {
  const cases: [number, number, number][] = [];
  for (const m of [1, 2, 5, 20]) for (const scale of [0.1, 1, 100]) for (const seed of [1, 2]) cases.push([m, scale, seed]);

  it('returns a point of the simplex (entries ≥ 0 summing to z) for vectors of several sizes and scales', () => {
    for (const [m, scale, seed] of cases) {
      for (const z of [1, 0.3, 7]) {
        const v = randomVector(m, seed * 1000 + m).map((t) => scale * t);
        const p = projectSimplex(v, z);
        expect(p.length).toBe(m);
        for (const pi of p) expect(pi).toBeGreaterThanOrEqual(0);
        expect(Math.abs(sum(p) - z)).toBeLessThan(1e-12 * Math.max(1, z, scale * m));
      }
    }
  });

  it('is idempotent and leaves points of the simplex where they are', () => {
    for (const [m, scale, seed] of cases) {
      const p = projectSimplex(randomVector(m, seed * 77 + m).map((t) => scale * t));
      expect(maxAbs(projectSimplex(p).map((v, i) => v - p[i]))).toBeLessThan(1e-15);
      const q = randomSimplexPoint(m, 1, mulberry32(seed + m));
      expect(maxAbs(projectSimplex(q).map((v, i) => v - q[i]))).toBeLessThan(1e-15);
    }
  });

  it('satisfies the KKT conditions: p = max(v − θ, 0) for one threshold θ', () => {
    for (const [m, scale, seed] of cases) {
      const v = randomVector(m, seed * 31 + m).map((t) => scale * t);
      const p = projectSimplex(v);
      const support = Array.from(p.keys()).filter((i) => p[i] > 0);
      expect(support.length).toBeGreaterThan(0);
      const theta = v[support[0]] - p[support[0]];
      const tol = 1e-12 * Math.max(1, scale);
      for (let i = 0; i < m; i++) {
        if (p[i] > 0) expect(Math.abs(v[i] - p[i] - theta)).toBeLessThan(tol);
        else expect(v[i]).toBeLessThanOrEqual(theta + tol);
      }
    }
  });

  it('is the closest point: no random simplex point is nearer, and ⟨v − p, q − p⟩ ≤ 0 for all of them', () => {
    const rand = mulberry32(99);
    for (const [m, scale, seed] of cases) {
      const v = randomVector(m, seed * 13 + m).map((t) => scale * t);
      const p = projectSimplex(v);
      const dp = dist(v, p);
      for (let j = 0; j < 50; j++) {
        const q = randomSimplexPoint(m, 1, rand);
        expect(dist(v, q)).toBeGreaterThanOrEqual(dp - 1e-12);
        let ip = 0;
        for (let i = 0; i < m; i++) ip += (v[i] - p[i]) * (q[i] - p[i]);
        expect(ip).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
      }
    }
  });

  it('is invariant to adding a constant to every entry and scales with the radius', () => {
    const v = randomVector(7, 5).map((t) => 3 * t);
    const p = projectSimplex(v);
    expect(maxAbs(projectSimplex(v.map((t) => t + 12.5)).map((t, i) => t - p[i]))).toBeLessThan(1e-13);
    const z = 2.5;
    const pz = projectSimplex(v, z), scaled = projectSimplex(v.map((t) => t / z)).map((t) => t * z);
    expect(maxAbs(pz.map((t, i) => t - scaled[i]))).toBeLessThan(1e-13);
  });

  it('writes into out, which may be v itself', () => {
    const v = randomVector(6, 8);
    const expected = projectSimplex(v);
    const out = new Float64Array(6);
    expect(projectSimplex(v, 1, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(expected));
    const w = Float64Array.from(v);
    projectSimplex(w, 1, w);
    expect(Array.from(w)).toEqual(Array.from(expected));
  });

  it('rejects non-finite entries, an empty vector, a non-positive radius and a wrong-length out with typed errors', () => {
    expect(() => projectSimplex([0.2, NaN])).toThrow(DomainError);
    expect(() => projectSimplex([0.2, Infinity])).toThrow(DomainError);
    expect(() => projectSimplex([])).toThrow(DomainError);
    expect(() => projectSimplex([1, 2], 0)).toThrow(DomainError);
    expect(() => projectSimplex([1, 2], -1)).toThrow(DomainError);
    expect(() => projectSimplex([1, 2], NaN)).toThrow(DomainError);
    expect(() => projectSimplex([1, 2], 1, new Float64Array(3))).toThrow(DomainError);
    expect(() => projectSimplex('ab' as unknown as number[])).toThrow(ShapeError);
  });
});

// ---------- PARL's hypergradient ----------

describe('parlHypergradient (implicit differentiation in reduced logits)', () => {
  it('equals the exact hypergradient (eq. 9) to 1e-6 relative with the default damping, dense and CSR, three seeds', () => {
    for (const kind of ['dense', 'csr'] as const) {
      for (const seed of [1, 2, 3]) {
        const problem = genericProblem(kind, seed);
        const x = randomVector(n, seed + 40);
        const exact = hypergradient(problem, x, { method: 'exact' });
        const p = parlHypergradient(problem, x);
        expect(relErr(p.grad, exact.grad)).toBeLessThan(1e-6);
        expect(p.diagnostics.linearConverged).toBe(true);
        expect(p.diagnostics.negativeCurvature).toBe(false);
      }
    }
  });

  it('agrees with the exact hypergradient to 1e-9 with forward-mode derivatives and no damping', () => {
    for (const kind of ['dense', 'csr'] as const) {
      for (const seed of [4, 5]) {
        const problem = genericProblem(kind, seed);
        const x = randomVector(n, seed + 41);
        const exact = hypergradient(problem, x, { method: 'exact' });
        expect(relErr(parlHypergradient(problem, x, { damping: 0 }).grad, exact.grad)).toBeLessThan(1e-9);
      }
    }
  });

  it('agrees with the exact hypergradient to 1e-6 when H and C come from finite differences of the analytic gradient', () => {
    for (const kind of ['dense', 'csr'] as const) {
      for (const seed of [1, 2]) {
        const problem = genericProblem(kind, seed);
        const x = randomVector(n, seed + 42);
        const exact = hypergradient(problem, x, { method: 'exact' });
        expect(relErr(parlHypergradient(problem, x, { derivatives: 'finite-difference' }).grad, exact.grad)).toBeLessThan(1e-6);
      }
    }
  });

  it('agrees with the exact hypergradient when the transitions depend on x (forward and finite differences)', () => {
    for (const seed of [1, 2]) {
      const problem = stackelbergProblem(seed);
      const x = randomVector(problem.n, seed + 43);
      const exact = hypergradient(problem, x, { method: 'exact' });
      expect(relErr(parlHypergradient(problem, x, { damping: 0 }).grad, exact.grad)).toBeLessThan(1e-9);
      expect(relErr(parlHypergradient(problem, x, { derivatives: 'finite-difference' }).grad, exact.grad)).toBeLessThan(1e-6);
    }
  });

  it('agrees with the exact hypergradient for a return-type upper objective (upperReturn)', () => {
    for (const kind of ['dense', 'csr'] as const) {
      const problem = small(kind, 3, 'upperReturn', 0.7);
      const x = randomVector(n, 44);
      expect(relErr(parlHypergradient(problem, x).grad, hypergradient(problem, x, { method: 'exact' }).grad)).toBeLessThan(1e-6);
    }
  });

  it("returns hypergradient()'s shape: φ, π*, V* and diagnostics at the lower optimum", () => {
    const problem = genericProblem('dense', 6);
    const x = randomVector(n, 45);
    const exact = hypergradient(problem, x, { method: 'exact' });
    const p = parlHypergradient(problem, x);
    for (const key of Object.keys(exact)) expect(p).toHaveProperty(key);
    // the rounding estimate (gradientError, conditionBound, precisionLost) is the exact method's own
    const exactOnly = ['gradientError', 'conditionBound', 'precisionLost'];
    for (const key of Object.keys(exact.diagnostics).filter((k) => !exactOnly.includes(k))) expect(p.diagnostics).toHaveProperty(key);
    expect(p.diagnostics.method).toBe('parl');
    expect(Math.abs(p.value - exact.value)).toBeLessThan(1e-10);
    expect(relErr(p.pi, exact.pi)).toBeLessThan(1e-10);
    expect(relErr(p.V, exact.V)).toBeLessThan(1e-10);
    expect(p.theta.length).toBe(S * (A - 1));
    expect(relErr(policyFromReduced(p.theta, S, A), exact.pi)).toBeLessThan(1e-10);
    expect(p.diagnostics.gradNorm).toBeLessThan(1e-9);
    expect(p.diagnostics.lowerResidual).toBeLessThan(1e-10);
    // CG on S(A−1) = 8 unknowns converges in at most a few more than 8 iterations
    expect(p.diagnostics.linearIterations).toBeLessThanOrEqual(12);
  });

  it('evaluates at a given θ: away from θ* the gradient of J is non-zero and the result differs from the exact hypergradient', () => {
    const problem = genericProblem('dense', 7);
    const x = randomVector(n, 46);
    const exact = hypergradient(problem, x, { method: 'exact' });
    const theta = new Float64Array(S * (A - 1));
    const p = parlHypergradient(problem, x, { theta });
    expect(p.diagnostics.gradNorm).toBeGreaterThan(1e-3);
    expect(relErr(p.pi, new Float64Array(S * A).fill(1 / A))).toBeLessThan(1e-15);
    expect(relErr(p.grad, exact.grad)).toBeGreaterThan(1e-3);
  });

  it('off the lower optimum (where the advantage terms of H and C do not vanish) forward mode matches finite differences', () => {
    const problems: BilevelProblem[] = [genericProblem('dense', 1), genericProblem('csr', 2), stackelbergProblem(3)];
    for (const [j, problem] of problems.entries()) {
      const x = randomVector(problem.n, j + 50);
      const star = parlHypergradient(problem, x).theta;
      for (const scale of [0.1, 1]) {
        const noise = randomVector(star.length, j + 60);
        const theta = star.map((t, i) => t + scale * noise[i]);
        const fwd = parlHypergradient(problem, x, { theta, damping: 0 });
        const fd = parlHypergradient(problem, x, { theta, damping: 0, derivatives: 'finite-difference' });
        expect(fwd.diagnostics.gradNorm).toBeGreaterThan(1e-3);
        expect(relErr(fwd.grad, fd.grad)).toBeLessThan(1e-6);
      }
    }
  });

  it('rejects τ = 0, non-finite x and a θ of the wrong length with typed errors', () => {
    const hard = genericProblem('dense', 1, 0);
    expect(() => parlHypergradient(hard, [0, 0, 0])).toThrow(DomainError);
    const problem = genericProblem('dense', 1);
    expect(() => parlHypergradient(problem, [0, NaN, 0])).toThrow(DomainError);
    expect(() => parlHypergradient(problem, [0, Infinity, 0])).toThrow(DomainError);
    expect(() => parlHypergradient(problem, [0, 0])).toThrow(ShapeError);
    expect(() => parlHypergradient(problem, [0, 0, 0], { theta: [0, 0] })).toThrow(ShapeError);
    expect(() => parlHypergradient(problem, [0, 0, 0], { derivatives: 'autodiff' as 'forward' })).toThrow(DomainError);
    expect(() => parlHypergradient(problem, [0, 0, 0], { damping: -1 })).toThrow(DomainError);
    expect(() => parlHypergradient(problem, [0, 0, 0], { cgMaxIter: 0 })).toThrow(DomainError);
    expect(() => parlHypergradient(problem, [0, 0, 0], { h: 0 })).toThrow(DomainError);
  });
});

// ---------- descent of φ ----------

const PBRL_VARIANTS: [PBRLOptions['penalty'], PBRLOptions['param']][] = [['value', 'logits'], ['value', 'simplex'], ['bellman', 'logits'], ['bellman', 'simplex']];

describe('PBRL and PARL lower the true hyper-objective φ', () => {
  for (const upper of ['policyLinear', 'upperReturn'] as const) {
    for (const [penalty, param] of PBRL_VARIANTS) {
      it(`PBRL with the ${penalty} penalty and ${param} policies lowers φ from x = 0 (${upper}, dense and CSR)`, () => {
        for (const kind of ['dense', 'csr'] as const) {
          const problem = small(kind, 1, upper);
          const phi0 = phi(problem, new Float64Array(n)).value;
          const res = pbrl.run(problem, { iterations: 150, penalty, param, lambda: 10 });
          const phiK = phi(problem, res.x).value;
          expect(phiK).toBeLessThan(phi0 - 0.05);
          expect(res.history.length).toBe(150);
          for (const row of res.history) {
            expect(Number.isFinite(row.penalty!)).toBe(true);
            expect(Number.isFinite(row.f)).toBe(true);
          }
          if (penalty === 'bellman') for (const row of res.history) expect(row.penalty!).toBeGreaterThanOrEqual(-1e-12);
          expectPolicy(pbrlPolicy(res.state, S, A), param === 'simplex' ? res.state.floor : 0);
          expect(res.counters.solves).toBeGreaterThan(0);
        }
      });
    }

    for (const inner of ['pg', 'exact'] as const) {
      it(`PARL with the ${inner === 'pg' ? 'soft policy-gradient' : 'exact'} inner solver lowers φ from x = 0 (${upper}, dense and CSR)`, () => {
        for (const kind of ['dense', 'csr'] as const) {
          const problem = small(kind, 1, upper);
          const phi0 = phi(problem, new Float64Array(n)).value;
          const res = parl.run(problem, { iterations: 30, inner, beta: 0.5 });
          expect(phi(problem, res.x).value).toBeLessThan(phi0 - 0.05);
          expect(res.history.at(-1)!.lowerResidual).toBeLessThan(inner === 'pg' ? 1e-3 : 1e-9);
        }
      });
    }
  }

  it('PBRL (both penalties) and PARL lower φ when the transitions depend on x (Stackelberg leader)', () => {
    const problem = stackelbergProblem(4);
    const x0 = new Float64Array(problem.n);
    const phi0 = phi(problem, x0).value;
    // λ = 10 is too small here: the Bellman-penalty run first lowers φ, then trades lower-level
    // optimality for upper value and φ climbs back above φ(0); λ = 30 keeps the penalty tight
    for (const penalty of ['value', 'bellman'] as const) {
      const res = pbrl.run(problem, { iterations: 100, penalty, lambda: 30, preset: 'paper' });
      expect(phi(problem, res.x).value).toBeLessThan(phi0 - 0.02);
    }
    const res = parl.run(problem, { iterations: 30, beta: 0.5, preset: 'paper' });
    expect(phi(problem, res.x).value).toBeLessThan(phi0 - 0.02);
    // and at their defaults (backtracking that carries its step, π_0 = π*_{x_0}; PARL backtracking on φ)
    for (const penalty of ['value', 'bellman'] as const) {
      const d = pbrl.run(problem, { iterations: 100, penalty, lambda: 30 });
      expect(phi(problem, d.x).value, `pbrl ${penalty} at its defaults`).toBeLessThan(phi0 - 0.02);
    }
    expect(phi(problem, parl.run(problem, { iterations: 30 }).x).value).toBeLessThan(phi0 - 0.02);
  });

  it('PBRL approaches the exact-descent optimum of φ with λ = 10 given enough iterations', () => {
    const problem = small('dense', 1, 'policyLinear');
    const phi0 = phi(problem, new Float64Array(n)).value;
    const res = pbrl.run(problem, { iterations: 400, penalty: 'bellman', param: 'simplex', lambda: 10 });
    const best = hypergradientDescentMinimum(problem);
    const phiK = phi(problem, res.x).value;
    // at least 80% of the possible decrease
    expect(phiK - best).toBeLessThan(0.2 * (phi0 - best));
  });
});

describe("PBRL's L-BFGS direction (docs/math.md#pbrl-lbfgs)", () => {
  it("on the incentive problem (seed 0, x ≥ 0) the default closes ≥ 0.95 of exact descent's decrease in 200 iterations, the gradient direction not 0.6", () => {
    // the gradient step crawls along the valley of F_λ (curvature ∝ λ across it, O(1) along it)
    const { problem, x0 } = incentive({ seed: 0 });
    const K = 200;
    const phi0 = phi(problem, x0).value;
    const best = phi(problem, exactDescent.run(problem, { x0, iterations: K, project: 'nonnegative' }).x).value;
    const lbfgs = pbrl.run(problem, { x0, iterations: K, project: 'nonnegative' });
    const grad = pbrl.run(problem, { x0, iterations: K, project: 'nonnegative', direction: 'gradient' });
    const gap = (r: { x: Float64Array }) => (phi0 - phi(problem, r.x).value) / (phi0 - best);
    expect(lbfgs.state.direction).toBe('lbfgs');
    expect(gap(lbfgs)).toBeGreaterThanOrEqual(0.95);
    expect(gap(grad)).toBeLessThan(0.6);
    for (let i = 0; i < lbfgs.x.length; i++) expect(lbfgs.x[i]).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it("every accepted step decreases F_λ (fixed λ, exact inner estimate), and the kept pairs have sᵀy > 0", () => {
    const problem = small('dense', 1, 'upperReturn');
    let st = pbrl.init(problem, { x0: [0.5, -0.4, 0.2], lambda: 30, lambdaRule: 'fixed', inner: 'exact', memory: 4 });
    const F: number[] = [];
    let moved = 0;
    for (let k = 0; k < 40; k++) {
      st = pbrl.step(problem, st);
      F.push(st.lastF!);
      if (st.lastAlpha! > 0) moved++;
      const mem = st.lbfgs!;
      expect(mem.s.length).toBeLessThanOrEqual(4);
      for (let j = 0; j < mem.s.length; j++) expect(mem.s[j].reduce((t, v, i) => t + v * mem.y[j][i], 0)).toBeGreaterThan(0);
    }
    // lastF of iteration k+1 is F_λ at the point iteration k accepted
    for (let k = 1; k < F.length; k++) expect(F[k], `iteration ${k}`).toBeLessThanOrEqual(F[k - 1] + 1e-9 * Math.abs(F[k - 1]));
    expect(moved).toBeGreaterThan(30);
    expect(F[F.length - 1]).toBeLessThan(F[0]);
  });

  it("keeps the nonnegative projection: with x ≥ 0 every iterate is feasible", () => {
    const { problem, x0 } = incentive({ seed: 2 });
    const res = pbrl.run(problem, { x0, iterations: 30, project: 'nonnegative', record: { x: true } });
    expect(res.state.direction).toBe('lbfgs');
    for (const row of res.history) for (const v of row.x!) expect(v).toBeGreaterThanOrEqual(0);
  });

  it("is the default only with the value penalty, logits and backtracking; the paper preset uses the gradient; bad settings are refused", () => {
    const problem = small('dense', 1, 'upperReturn');
    expect(pbrl.init(problem, {}).direction).toBe('lbfgs');
    expect(pbrl.init(problem, { preset: 'paper' }).direction).toBe('gradient');
    expect(pbrl.init(problem, { penalty: 'bellman' }).direction).toBe('gradient');
    expect(pbrl.init(problem, { param: 'simplex' }).direction).toBe('gradient');
    expect(pbrl.init(problem, { stepRule: 'fixed' }).direction).toBe('gradient');
    expect(pbrl.init(problem, { update: 'adam' }).direction).toBe('gradient');
    expect(() => pbrl.init(problem, { direction: 'lbfgs', param: 'simplex' })).toThrow(DomainError);
    expect(() => pbrl.init(problem, { direction: 'lbfgs', stepRule: 'fixed' })).toThrow(DomainError);
    expect(() => pbrl.init(problem, { memory: 0 })).toThrow(DomainError);
    expect(() => pbrl.init(problem, { direction: 'newton' as never })).toThrow(DomainError);
  });

  it("refuses a resumed state whose L-BFGS memory has vectors of the wrong length or more pairs than `memory`", () => {
    const problem = small('dense', 1, 'upperReturn');
    const good = pbrl.run(problem, { iterations: 4, memory: 2 }).state;
    expect(good.lbfgs!.s.length).toBeGreaterThan(0);
    const short = JSON.parse(JSON.stringify(good)) as PBRLState;
    short.lbfgs!.s[0] = short.lbfgs!.s[0].slice(1);
    expect(() => pbrl.run(problem, { iterations: 1, state: short })).toThrow(ShapeError);
    const many = JSON.parse(JSON.stringify(good)) as PBRLState;
    many.lbfgs!.s = [...many.lbfgs!.s, ...many.lbfgs!.s, ...many.lbfgs!.s];
    many.lbfgs!.y = [...many.lbfgs!.y, ...many.lbfgs!.y, ...many.lbfgs!.y];
    expect(() => pbrl.run(problem, { iterations: 1, state: many })).toThrow(ShapeError);
  });
});

describe("PBRL's adaptive λ (docs/math.md#pbrl-lambda)", () => {
  it("on the shaping problem the default closes ≥ 0.95 of exact descent's decrease in 200 iterations, the paper's fixed λ = 10 not 0.7", () => {
    // the fixed λ = 10 run is slow (F_λ's curvature grows with λ) rather than biased here: the
    // adaptive rule lowers λ while f(x, π̂) − f(x, π) stays small against the decrease made
    const { problem, x0 } = shaping({ seed: 0 });
    const K = 200;
    const phi0 = phi(problem, x0).value;
    const best = phi(problem, exactDescent.run(problem, { x0, iterations: K }).x).value;
    const fixed = pbrl.run(problem, { x0, iterations: K, preset: 'paper' });
    const adaptive = pbrl.run(problem, { x0, iterations: K });
    const gap = (r: { x: Float64Array }) => (phi0 - phi(problem, r.x).value) / (phi0 - best);
    expect(gap(fixed)).toBeLessThan(0.7);
    expect(gap(adaptive)).toBeGreaterThanOrEqual(0.95);
    expect(fixed.state.lambda).toBe(10);
    expect(adaptive.state.lambda).toBeLessThan(10);
  }, 60_000);

  it("changes λ at most once per stage, by a factor 2, within [λ_0/20, 10⁴λ_0]; the Bellman penalty and the paper preset keep λ", () => {
    const problem = small('dense', 1, 'upperReturn');
    let st = pbrl.init(problem, { lambda: 4, lambdaEvery: 5, lambdaTol: 0.01 });
    const lambdas: number[] = [];
    for (let k = 0; k < 60; k++) {
      st = pbrl.step(problem, st);
      lambdas.push(st.lambda);
    }
    let last = -Infinity;
    for (let k = 1; k < lambdas.length; k++) {
      if (lambdas[k] === lambdas[k - 1]) continue;
      expect([2, 0.5]).toContain(lambdas[k] / lambdas[k - 1]);
      expect(k - last).toBeGreaterThanOrEqual(5);
      last = k;
    }
    for (const l of lambdas) {
      expect(l).toBeGreaterThanOrEqual(4 / 20);
      expect(l).toBeLessThanOrEqual(4e4);
    }
    expect(new Set(lambdas).size).toBeGreaterThan(1);
    for (const o of [{ penalty: 'bellman' }, { preset: 'paper' }] as PBRLOptions[]) {
      let s2 = pbrl.init(problem, { ...o, lambda: 4 });
      expect(s2.lambdaRule).toBe('fixed');
      for (let k = 0; k < 30; k++) s2 = pbrl.step(problem, s2);
      expect(s2.lambda).toBe(4);
    }
    expect(() => pbrl.init(problem, { penalty: 'bellman', lambdaRule: 'adaptive' })).toThrow(DomainError);
    expect(() => pbrl.init(problem, { lambdaTol: 0 })).toThrow(DomainError);
    expect(() => pbrl.init(problem, { lambdaEvery: 0.5 })).toThrow(DomainError);
  });
});

/** φ after many exact hypergradient steps (a reference minimum for the small problem). */
function hypergradientDescentMinimum(problem: BilevelProblem): number {
  let x = new Float64Array(n);
  for (let k = 0; k < 300; k++) {
    const g = hypergradient(problem, x).grad;
    x = x.map((v, i) => v - 0.5 * g[i]);
  }
  return phi(problem, x).value;
}

// ---------- step rules, projections, inner solvers ----------

describe('PBRL step rules, projections and inner solver', () => {
  it('with the Bellman penalty, or the value penalty and an exact inner solve, backtracking never increases F_λ', () => {
    const cases: PBRLOptions[] = [
      { penalty: 'bellman', param: 'logits' },
      { penalty: 'bellman', param: 'simplex' },
      { penalty: 'value', param: 'logits', inner: 'exact', innerTol: 1e-13 },
      { penalty: 'value', param: 'simplex', inner: 'exact', innerTol: 1e-13 },
    ];
    for (const o of cases) {
      const problem = small('dense', 2, 'policyLinear');
      // F_λ decreases at a fixed λ (the adaptive rule changes the merit between stages)
      let st = pbrl.init(problem, { ...o, lambda: 10, lambdaRule: 'fixed' });
      const F: number[] = [];
      for (let k = 0; k < 60; k++) {
        st = pbrl.step(problem, st);
        F.push(st.lastF!);
      }
      for (let k = 1; k < F.length; k++) expect(F[k]).toBeLessThanOrEqual(F[k - 1] + 1e-10);
      expect(F.at(-1)!).toBeLessThan(F[0]);
    }
  });

  it("the fixed step rule moves x by exactly −α(∇_x f + λ∇_x g) with g the Bellman penalty", () => {
    const problem = small('csr', 3, 'policyLinear');
    const x0 = randomVector(n, 4), pi0 = randomPolicy(S, A, 5);
    const lambda = 3, alpha = 0.05;
    const st = pbrl.step(problem, pbrl.init(problem, { x0, pi0, penalty: 'bellman', lambda, alpha, stepRule: 'fixed', param: 'simplex' }));
    const g = bellmanPenalty(problem, x0, pi0).gradX!;
    const fx = problem.gradX(x0, pi0);
    const expected = Array.from(x0, (v, k) => v - alpha * (fx[k] + lambda * g[k]));
    expect(maxAbs(st.x.map((v, k) => v - expected[k]))).toBeLessThan(1e-14);
    expect(st.lastAlpha).toBe(alpha);
  });

  it("backtracking starts at 1/(1 + λ) and only ever accepts that step divided by powers of 2", () => {
    const problem = small('dense', 4, 'policyLinear');
    let st = pbrl.init(problem, { penalty: 'value', lambda: 100, preset: 'paper' });
    expect(st.alpha).toBeCloseTo(1 / 101, 15);
    for (let k = 0; k < 10; k++) {
      st = pbrl.step(problem, st);
      const ratio = Math.log2(st.alpha / st.lastAlpha!);
      expect(Math.abs(ratio - Math.round(ratio))).toBeLessThan(1e-12);
      expect(ratio).toBeGreaterThanOrEqual(0);
    }
  });

  it("the 'nonnegative' projection keeps every x_k ≥ 0 where the unprojected run goes negative (incentive design)", () => {
    // r_x = r_F + x (x ∈ R^{S·A} is an incentive per state-action pair, R_x = I)
    const SA = S * A;
    const rF = randomVector(SA, 7);
    const incentive: RewardModel = {
      dim: SA,
      reward(x, out) {
        for (let i = 0; i < SA; i++) out[i] = rF[i] + x[i];
      },
      vjp(_x, u, out) {
        out.set(u);
      },
    };
    const make = () => new BilevelProblem({ mdp: checkMdp('dense', 7), tau: 0.1, reward: incentive, upper: policyLinear(randomVector(SA, 8), 0.5) });
    const x0 = randomVector(SA, 9).map((v) => v * 0.5);
    const free = pbrl.run(make(), { iterations: 40, penalty: 'bellman', x0 });
    expect(Math.min(...free.x)).toBeLessThan(0);
    const proj = pbrl.run(make(), { iterations: 40, penalty: 'bellman', x0, project: 'nonnegative', record: { x: true } });
    for (const row of proj.history) for (const v of row.x!) expect(v).toBeGreaterThanOrEqual(0);
    expect(Math.min(...proj.x)).toBeGreaterThanOrEqual(0);
    expect(proj.history[0].x!.every((v, i) => v === Math.max(x0[i], 0))).toBe(true);
  });

  it('five warm PMD steps from the uniform policy cut the distance to π* by a factor of 10 or more', () => {
    const problem = small('dense', 5, 'policyLinear');
    const x0 = randomVector(n, 6);
    const star = solveLower(problem, x0).pi;
    const uniform = new Float64Array(S * A).fill(1 / A);
    const st = pbrl.step(problem, pbrl.init(problem, { x0, penalty: 'value', stepRule: 'fixed', alpha: 1e-12 }));
    expect(dist(st.piHat, star)).toBeLessThan(0.1 * dist(uniform, star));
    expectPolicy(st.piHat);
  });

  it('the simplex parameterisation keeps every π(a|s) ≥ floor', () => {
    const problem = small('dense', 6, 'policyLinear');
    let st = pbrl.init(problem, { penalty: 'bellman', param: 'simplex', floor: 0.01, lambda: 1, alpha: 5, stepRule: 'fixed' });
    for (let k = 0; k < 20; k++) {
      st = pbrl.step(problem, st);
      expectPolicy(st.policy, 0.01 - 1e-15);
    }
    expect(Math.min(...st.policy)).toBeLessThan(0.01 + 1e-12); // the floor is active
  });
});

// ---------- JSON resumption ----------

describe('algorithm states are plain JSON', () => {
  const pbrlCases: PBRLOptions[] = [
    { penalty: 'value', param: 'simplex' },
    { penalty: 'value', param: 'logits', inner: 'exact' },
    { penalty: 'value', param: 'logits', direction: 'lbfgs' },
    { penalty: 'bellman', param: 'logits', project: 'nonnegative' },
  ];
  for (const o of pbrlCases) {
    it(`PBRL (${o.penalty}, ${o.param}${o.inner ? ', exact inner' : ''}${o.direction ? `, ${o.direction}` : ''}) resumes identically from a JSON round-trip of its state`, () => {
      const problem = small('csr', 2, 'upperReturn');
      const straight = pbrl.run(problem, { ...o, iterations: 6, x0: [0.3, -0.2, 0.1] });
      const first = pbrl.run(problem, { ...o, iterations: 3, x0: [0.3, -0.2, 0.1] });
      const state = JSON.parse(JSON.stringify(first.state)) as PBRLState;
      const second = pbrl.run(problem, { iterations: 3, state });
      expect(second.state).toEqual(straight.state);
      expect([...first.history, ...second.history]).toEqual(straight.history);
    });
  }

  for (const [inner, stepRule] of [['pg', 'armijo'], ['exact', 'armijo'], ['pg', 'spectral']] as const) {
    it(`PARL (${inner} inner solver, stepRule '${stepRule}') resumes identically from a JSON round-trip of its state`, () => {
      const problem = small('dense', 3, 'policyLinear');
      const straight = parl.run(problem, { iterations: 6, inner, stepRule, x0: [0.3, -0.2, 0.1] });
      const first = parl.run(problem, { iterations: 3, inner, stepRule, x0: [0.3, -0.2, 0.1] });
      const state = JSON.parse(JSON.stringify(first.state)) as PARLState;
      const second = parl.run(problem, { iterations: 3, state });
      expect(second.state).toEqual(straight.state);
      expect([...first.history, ...second.history]).toEqual(straight.history);
    });
  }
});

// ---------- bad input ----------

describe('bad input gives typed errors', () => {
  it('PARL refuses τ = 0 at init and in run', () => {
    const hard = small('dense', 1, 'policyLinear', 0);
    expect(() => parl.init(hard, {})).toThrow(DomainError);
    expect(() => parl.run(hard, { iterations: 1 })).toThrow(DomainError);
  });

  it('PBRL and PARL reject non-finite or wrong-length x0', () => {
    const problem = small('dense', 1, 'policyLinear');
    for (const alg of [pbrl, parl] as const) {
      expect(() => alg.init(problem, { x0: [0, NaN, 0] })).toThrow(DomainError);
      expect(() => alg.init(problem, { x0: [0, -Infinity, 0] })).toThrow(DomainError);
      expect(() => alg.init(problem, { x0: [0, 0] })).toThrow(ShapeError);
    }
  });

  it('PBRL rejects a bad λ, step, penalty, parameterisation, floor, π_0, inner solver and projection', () => {
    const problem = small('dense', 1, 'policyLinear');
    const bad: PBRLOptions[] = [
      { lambda: 0 },
      { lambda: -1 },
      { lambda: NaN },
      { lambda: Infinity },
      { alpha: 0 },
      { alpha: -0.1 },
      { shrink: 1 },
      { shrink: 0 },
      { maxBacktracks: 0 },
      { T: 0 },
      { T: 1.5 },
      { eta: -1 },
      { floor: 1 / A },
      { floor: -1e-3 },
      { penalty: 'kl' as 'value' },
      { param: 'table' as 'simplex' },
      { stepRule: 'armijo' as 'fixed' },
      { inner: 'vi' as 'pmd' },
      { project: 'box' as 'none' },
      { pi0: new Float64Array(S * A) },
    ];
    for (const o of bad) expect(() => pbrl.init(problem, o), JSON.stringify(o)).toThrow(DomainError);
    const withZero = new Float64Array(S * A).fill(1 / A);
    withZero[0] = 0;
    withZero[1] = 2 / A;
    expect(() => pbrl.init(problem, { pi0: withZero, param: 'logits' })).toThrow(DomainError);
    expect(() => pbrl.init(problem, { pi0: withZero, param: 'simplex' })).not.toThrow();
    expect(() => pbrl.init(problem, { pi0: [1, 0, 0] })).toThrow(ShapeError);
    expect(() => pbrl.run(problem, {} as { iterations: number })).toThrow(DomainError);
  });

  it('PARL rejects a bad step, inner solver, K, θ_0 and CG settings', () => {
    const problem = small('dense', 1, 'policyLinear');
    expect(() => parl.init(problem, { beta: 0 })).toThrow(DomainError);
    expect(() => parl.init(problem, { beta: NaN })).toThrow(DomainError);
    expect(() => parl.init(problem, { K: 0 })).toThrow(DomainError);
    expect(() => parl.init(problem, { inner: 'newton' as 'pg' })).toThrow(DomainError);
    expect(() => parl.init(problem, { theta0: [0, 0] })).toThrow(ShapeError);
    expect(() => parl.init(problem, { theta0: new Array(S * (A - 1)).fill(NaN) })).toThrow(DomainError);
    expect(() => parl.init(problem, { cgTol: -1 })).toThrow(DomainError);
    expect(() => parl.init(problem, { damping: NaN })).toThrow(DomainError);
    expect(() => parl.init(problem, { project: 'box' as 'none' })).toThrow(DomainError);
  });
});
