// Tier 3 of the test plan: the lower level checked against the maths, independently of
// the kernels and of src/reference/ (dense systems solved by the Gaussian elimination in
// tests/helpers/linalg.ts, closed-form values derived in the comments).
import { beforeAll, describe, expect, test } from "vitest";
import {
  init,
  occupancy,
  policyEvaluation,
  softValueIteration,
  solveLinear,
  TabularMDP,
  type Backend,
} from "../src/index";
import type { RefMDP } from "../src/reference/index";
import { denseP, maxAbs, relErr, toTabular, uniform } from "./helpers/compare";
import {
  gaussSolve,
  logSumExp,
  qOf,
  relResidual,
  softmaxRows,
  softRewardOfPolicy,
  systemMatrix,
} from "./helpers/linalg";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";

let backends: Backend[];
beforeAll(async () => {
  backends = [await init({ simd: true }), await init({ simd: false })];
});

const PROBLEMS: { label: string; m: RefMDP }[] = [
  { label: "dense S=7 A=3 γ=0.9", m: randomDense(7, 3, 0.9, 101) },
  { label: "dense S=12 A=2 γ=0.99", m: randomDense(12, 2, 0.99, 102) },
  { label: "CSR S=15 A=4 γ=0.8 (3 per row)", m: randomCsr(15, 4, 0.8, 3, 103) },
  { label: "CSR S=9 A=2 γ=0.95 (deterministic rows)", m: randomCsr(9, 2, 0.95, 1, 104) },
];

/** The greedy policy of Q: one-hot at the first maximiser of each row. */
function greedyRows(Q: ArrayLike<number>, S: number, A: number): Float64Array {
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let best = 0;
    for (let a = 1; a < A; a++) if (Q[s * A + a] > Q[s * A + best]) best = a;
    pi[s * A + best] = 1;
  }
  return pi;
}

describe.each(PROBLEMS.map((p) => [p.label, p.m] as const))("the lower level on a %s MDP", (_, m) => {
  const S = m.S;
  const A = m.A;
  const P = denseP(m);
  const r = randomVector(S * A, 201);
  const pi = randomPolicy(S, A, 202);

  test.each([0, 0.5, 2])("policyEvaluation with τ = %s returns V^π = (I − γP_π)⁻¹(r_π + τH_π) and Q^π = r + γPV^π to 1e-12 with every linear method", (tau) => {
    const V = gaussSolve(systemMatrix(P, pi, S, A, m.gamma), softRewardOfPolicy(r, pi, S, A, tau));
    const Q = qOf(P, r, V, S, A, m.gamma);
    for (const backend of backends) {
      const mdp = toTabular(m, backend);
      for (const method of ["lu", "krylov", "bicgstab", "richardson"] as const) {
        const opts = method === "lu" ? { tau, method } : { tau, method, tol: 1e-14, maxIter: 10000 };
        const got = policyEvaluation(mdp, r, pi, opts);
        expect(relErr(got.V, V), `${method} V`).toBeLessThanOrEqual(1e-12);
        expect(relErr(got.Q, Q), `${method} Q`).toBeLessThanOrEqual(1e-12);
        // the soft Bellman expectation equation V(s) = Σ_a π(a|s)(Q(s,a) − τ log π(a|s))
        const back = new Float64Array(S);
        for (let s = 0; s < S; s++)
          for (let a = 0; a < A; a++) back[s] += pi[s * A + a] * (got.Q[s * A + a] - tau * Math.log(pi[s * A + a]));
        expect(relErr(back, V), `${method} Bellman expectation`).toBeLessThanOrEqual(1e-12);
      }
    }
  });

  test.each([0, 0.5])("softValueIteration with error bounds (extrapolate) and τ = %s: V within tol of V*, never more than one sweep beyond plain value iteration", (tau) => {
    for (const backend of backends) {
      const mdp = toTabular(m, backend);
      const tol = 1e-9;
      const star = softValueIteration(mdp, r, { tau, tol: 1e-14, maxIter: 100000 });
      const plain = softValueIteration(mdp, r, { tau, tol });
      const got = softValueIteration(mdp, r, { tau, tol, extrapolate: true });
      expect(got.converged).toBe(true);
      expect(got.residual).toBeLessThanOrEqual(tol);
      expect(got.iterations).toBeLessThanOrEqual(plain.iterations + 1);
      // star is within γ/(1−γ)·1e-14 of V*
      expect(maxAbs(got.V.map((v, s) => v - star.V[s]))).toBeLessThanOrEqual(tol + 1e-12);
      expect(relErr(got.pi, tau > 0 ? softmaxRows(got.Q, S, A, tau) : greedyRows(got.Q, S, A))).toBeLessThanOrEqual(1e-12);
    }
  });

  // π comes from the last sweep's own exponentials when that sweep is known to be the last
  // (the cap, or γ·‖ΔV‖ ≤ tol), else from a separate softmax pass: every way of stopping
  // must return softmax(Q/τ) of the returned Q, with the same bits on both builds.
  test.each([
    ["the sweep cap", { maxIter: 3 }],
    ["tol, as the contraction bound predicts", { tol: 1e-8 }],
    ["tol, earlier than the bound (warm start at the fixed point)", { tol: 1e-6, warm: true }],
    ["τ = 0 and the cap", { maxIter: 2, tau: 0 }],
  ] as const)("softValueIteration's pi is softmax(Q/τ) of its Q when it stops at %s", (_, o) => {
    const tau = "tau" in o ? o.tau : 0.5;
    const runs = backends.map((backend) => {
      const mdp = toTabular(m, backend);
      const V0 = "warm" in o ? softValueIteration(mdp, r, { tau, tol: 1e-12 }).V : undefined;
      const got = softValueIteration(mdp, r, { tau, V0, tol: "tol" in o ? o.tol : 0, maxIter: "maxIter" in o ? o.maxIter : 10000 });
      if ("maxIter" in o) expect(got.iterations).toBe(o.maxIter);
      if ("warm" in o) expect(got.iterations).toBe(1);
      expect(relErr(got.pi, tau > 0 ? softmaxRows(got.Q, S, A, tau) : greedyRows(got.Q, S, A))).toBeLessThanOrEqual(1e-12);
      return got;
    });
    expect(Array.from(runs[0].pi)).toEqual(Array.from(runs[1].pi));
    expect(Array.from(runs[0].V)).toEqual(Array.from(runs[1].V));
  });

  test.each([0.05, 0.5, 3])("softValueIteration with τ = %s converges to the fixed point V = τ log Σ_a exp((r + γPV)/τ) within 1e-9, with pi = softmax(Q/τ)", (tau) => {
    for (const backend of backends) {
      const got = softValueIteration(toTabular(m, backend), r, { tau });
      expect(got.converged).toBe(true);
      const Qnext = qOf(P, r, got.V, S, A, m.gamma);
      const G = logSumExp(Qnext, S, A, tau);
      expect(maxAbs(G.map((g, s) => g - got.V[s]))).toBeLessThanOrEqual(1e-9);
      // Q is r + γPV from the last sweep, within γ·tol of r + γPV for the returned V
      expect(maxAbs(got.Q.map((q, i) => q - Qnext[i]))).toBeLessThanOrEqual(1e-9);
      // the returned policy is exactly softmax of the returned Q, and close to softmax(Q*/τ)
      expect(relErr(got.pi, softmaxRows(got.Q, S, A, tau))).toBeLessThanOrEqual(1e-12);
      expect(maxAbs(got.pi.map((p, i) => p - softmaxRows(Qnext, S, A, tau)[i]))).toBeLessThanOrEqual(1e-8);
      // the soft-optimal policy's own soft value is V* (docs/math.md#soft-bellman, eq. 5–7)
      const Vpi = gaussSolve(systemMatrix(P, got.pi, S, A, m.gamma), softRewardOfPolicy(r, got.pi, S, A, tau));
      expect(maxAbs(Vpi.map((v, s) => v - got.V[s]))).toBeLessThanOrEqual(1e-6);
    }
  });

  test("softValueIteration stopped by maxIter reports converged: false, the sweep count and the residual ‖V_k − V_{k−1}‖∞", () => {
    for (const backend of backends) {
      const mdp = toTabular(m, backend);
      for (const k of [1, 2, 5]) {
        const got = softValueIteration(mdp, r, { tau: 0.5, maxIter: k });
        expect(got.converged).toBe(false);
        expect(got.iterations).toBe(k);
        // V_{k−1}: k − 1 sweeps (V_0 = 0 for k = 1)
        const prev = k === 1 ? new Float64Array(S) : softValueIteration(mdp, r, { tau: 0.5, maxIter: k - 1 }).V;
        const step = maxAbs(got.V.map((v, s) => v - prev[s]));
        expect(got.residual).toBe(step);
        expect(got.residual).toBeGreaterThan(1e-10);
        // and V_k is G(V_{k−1}), computed here from scratch
        const Gprev = logSumExp(qOf(P, r, prev, S, A, m.gamma), S, A, 0.5);
        expect(relErr(got.V, Gprev)).toBeLessThanOrEqual(1e-13);
      }
    }
  });

  test("softValueIteration warm-started at its own fixed point converges in one sweep", () => {
    for (const backend of backends) {
      const mdp = toTabular(m, backend);
      for (const tau of [0, 0.5]) {
        const star = softValueIteration(mdp, r, { tau, tol: 1e-13, maxIter: 100000 });
        expect(star.converged).toBe(true);
        const warm = softValueIteration(mdp, r, { tau, tol: 1e-9, V0: star.V });
        expect(warm.iterations).toBe(1);
        expect(warm.converged).toBe(true);
        expect(warm.residual).toBeLessThanOrEqual(1e-12 * Math.max(1, maxAbs(star.V)));
        // whereas a cold start needs many sweeps
        expect(softValueIteration(mdp, r, { tau, tol: 1e-9 }).iterations).toBeGreaterThan(10);
      }
    }
  });

  test("solveLinear's reported residual is the true relative residual ‖b − Ax‖₂/‖b‖₂ of the returned x, converged or not", () => {
    const b = randomVector(S, 203);
    for (const backend of backends) {
      const mdp = toTabular(m, backend);
      for (const transpose of [false, true]) {
        const M = systemMatrix(P, pi, S, A, m.gamma, transpose);
        const runs: [string, Parameters<typeof solveLinear>[3]][] = [
          ["lu", { method: "lu", transpose }],
          ["krylov", { method: "krylov", transpose }],
          ["krylov, 1 iteration", { method: "krylov", transpose, maxIter: 1 }],
          ["richardson", { method: "richardson", transpose }],
          ["richardson, 3 iterations", { method: "richardson", transpose, maxIter: 3 }],
          ["krylov from x0", { method: "krylov", transpose, x0: randomVector(S, 204), maxIter: 2 }],
          ["krylov, restart 2", { method: "krylov", transpose, restart: 2 }],
          ["bicgstab", { method: "bicgstab", transpose }],
          ["bicgstab, 1 iteration", { method: "bicgstab", transpose, maxIter: 1 }],
          ["bicgstab from x0", { method: "bicgstab", transpose, x0: randomVector(S, 205), maxIter: 2 }],
        ];
        for (const [name, opts] of runs) {
          const got = solveLinear(mdp, pi, b, opts);
          const truth = relResidual(M, got.x, b);
          const where = `${name}${transpose ? ", transposed" : ""}`;
          expect(Math.abs(got.residual - truth), where).toBeLessThanOrEqual(1e-14 + 1e-9 * truth);
          const tol = 1e-12;
          expect(got.converged, where).toBe(got.residual <= (name === "lu" ? Math.max(tol, 1e-10) : tol));
        }
      }
    }
  });

  test("occupancy is (I − γP_πᵀ)⁻¹ρ: non-negative, summing to 1/(1 − γ), and equal to Gaussian elimination to 1e-12", () => {
    const rho = randomPolicy(1, S, 205);
    const d = gaussSolve(systemMatrix(P, pi, S, A, m.gamma, true), rho);
    for (const backend of backends) {
      const got = occupancy(toTabular(m, backend, rho), pi);
      expect(relErr(got, d)).toBeLessThanOrEqual(1e-12);
      expect(Math.min(...got)).toBeGreaterThanOrEqual(0);
      expect(got.reduce((x, y) => x + y, 0)).toBeCloseTo(1 / (1 - m.gamma), 10);
      // an explicit ρ overrides the MDP's own
      const u = uniform(S);
      const du = gaussSolve(systemMatrix(P, pi, S, A, m.gamma, true), u);
      expect(relErr(occupancy(toTabular(m, backend, rho), pi, u), du)).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe("hard value iteration (τ = 0) against policy iteration on a chain with a closed-form optimum", () => {
  // Chain of N = 6 states 0..5, γ = 0.9, two actions:
  //   a = 0 "stay":    s → s,                 reward c = 0.62
  //   a = 1 "advance": s → min(s + 1, 5),     reward 1 at s = 5 (a self-loop there), else 0.
  // At s = 5 advancing forever earns Σ_t γ^t = 1/(1 − γ) = 10 > c/(1 − γ) = 6.2, so V*(5) = 10.
  // From s < 5 a policy either stays forever (c/(1 − γ)), or waits k ≥ 0 steps and then
  // advances 5 − s steps with reward 0 and earns 1/(1 − γ) from then on:
  //   c(1 − γ^k)/(1 − γ) + γ^k·γ^(5−s)/(1 − γ),
  // a convex combination of c/(1 − γ) and γ^(5−s)/(1 − γ) (stopping at an intermediate
  // state to stay is worse than staying at once). Hence
  //   V*(s) = max(c, γ^(5−s)) / (1 − γ),
  // and since γ^5 = 0.59049 < c < γ^4 = 0.6561, the optimal policy stays at s = 0 and
  // advances everywhere else: V* = [6.2, 6.561, 7.29, 8.1, 9, 10].
  const N = 6;
  const gamma = 0.9;
  const c = 0.62;
  const STAY = 0;
  const ADVANCE = 1;
  const nested = Array.from({ length: N }, (_, s) =>
    [s, Math.min(s + 1, N - 1)].map((next) => Array.from({ length: N }, (_, j) => (j === next ? 1 : 0))),
  );
  const r = new Float64Array(N * 2);
  for (let s = 0; s < N; s++) {
    r[s * 2 + STAY] = c;
    r[s * 2 + ADVANCE] = s === N - 1 ? 1 : 0;
  }
  const Vstar = Float64Array.from({ length: N }, (_, s) => Math.max(c, gamma ** (N - 1 - s)) / (1 - gamma));
  const optimal = [STAY, ADVANCE, ADVANCE, ADVANCE, ADVANCE, ADVANCE];

  test("the closed form satisfies the Bellman optimality equation V(s) = max_a r(s,a) + γV(next(s,a))", () => {
    for (let s = 0; s < N; s++) {
      const stay = c + gamma * Vstar[s];
      const adv = r[s * 2 + ADVANCE] + gamma * Vstar[Math.min(s + 1, N - 1)];
      expect(Vstar[s]).toBeCloseTo(Math.max(stay, adv), 13);
    }
    expect(Array.from(Vstar, (v) => Number(v.toFixed(12)))).toEqual([6.2, 6.561, 7.29, 8.1, 9, 10]);
  });

  test.each([false, true])("policy iteration (sparse: %s) reaches V* exactly and the policy stay-at-0, advance-elsewhere", (sparse) => {
    for (const backend of backends) {
      const mdp = TabularMDP.fromNested(nested, { gamma, sparse, backend });
      let policy = new Array(N).fill(STAY);
      let V: Float64Array = new Float64Array(N);
      for (let round = 0; round < 20; round++) {
        const table = new Float64Array(N * 2);
        policy.forEach((a, s) => (table[s * 2 + a] = 1));
        const ev = policyEvaluation(mdp, r, table, { tau: 0 });
        V = ev.V;
        const next = policy.map((_, s) => (ev.Q[s * 2 + ADVANCE] > ev.Q[s * 2 + STAY] ? ADVANCE : STAY));
        if (next.every((a, s) => a === policy[s])) break;
        policy = next;
      }
      expect(policy).toEqual(optimal);
      expect(relErr(V, Vstar)).toBeLessThanOrEqual(1e-13);
    }
  });

  test.each([false, true])("hard value iteration (sparse: %s) converges to the same V* within γ·tol/(1 − γ) and returns the same greedy policy", (sparse) => {
    for (const backend of backends) {
      const mdp = TabularMDP.fromNested(nested, { gamma, sparse, backend });
      const tol = 1e-12;
      const got = softValueIteration(mdp, r, { tau: 0, tol });
      expect(got.converged).toBe(true);
      expect(maxAbs(got.V.map((v, s) => v - Vstar[s]))).toBeLessThanOrEqual((gamma * tol) / (1 - gamma) + 1e-13);
      const greedy = Array.from({ length: N }, (_, s) => (got.pi[s * 2 + ADVANCE] === 1 ? ADVANCE : STAY));
      expect(greedy).toEqual(optimal);
      expect(Array.from(got.pi).every((p) => p === 0 || p === 1)).toBe(true);
    }
  });
});

describe("soft value iteration on a single-state MDP with a closed-form fixed point", () => {
  // One state with A self-loop actions: V = τ log Σ_a exp((r_a + γV)/τ) = LSE_τ(r) + γV,
  // so V* = LSE_τ(r)/(1 − γ) and π* = softmax(r/τ) (the γV shift cancels).
  test.each([
    [0.5, 0.9],
    [2, 0.5],
    [0.01, 0.99],
  ])("with τ = %s and γ = %s the value is LSE_τ(r)/(1 − γ) and the policy softmax(r/τ)", (tau, gamma) => {
    const r = Float64Array.of(1, 2, 3);
    const m = Math.max(...r);
    const lse = m + tau * Math.log(r.reduce((z, x) => z + Math.exp((x - m) / tau), 0));
    const want = lse / (1 - gamma);
    const pi = r.map((x) => Math.exp((x - lse) / tau));
    for (const backend of backends) {
      const mdp = TabularMDP.dense({ S: 1, A: 3, P: [1, 1, 1], gamma, backend });
      const got = softValueIteration(mdp, r, { tau, tol: 1e-13, maxIter: 100000 });
      expect(got.converged).toBe(true);
      expect(Math.abs(got.V[0] - want)).toBeLessThanOrEqual(1e-12 * want + (gamma * 1e-13) / (1 - gamma));
      expect(relErr(got.pi, pi)).toBeLessThanOrEqual(1e-10);
    }
  });
});

describe("Krylov solves and occupancy with the default uniform ρ", () => {
  // For A = I − γP_πᵀ the all-ones vector is a left eigenvector: 1ᵀA = (1 − γ)1ᵀ. With
  // b = ρ uniform and x0 = 0, BiCGSTAB's shadow residual r̂ = r0 ∝ 1, so r̂ᵀr_k vanishes
  // (up to roundoff) after one step: the method must survive this breakdown.
  test.each(["krylov", "bicgstab"] as const)("solveLinear with method '%s' converges for the transposed system with a uniform right-hand side", (method) => {
    const failures: string[] = [];
    for (const backend of backends)
      for (let seed = 1; seed <= 12; seed++) {
        const m = seed % 2 ? randomDense(6 + seed, 3, 0.9, seed) : randomCsr(6 + seed, 3, 0.9, 3, seed);
        const mdp = toTabular(m, backend);
        const pi = randomPolicy(m.S, m.A, seed + 50);
        const got = solveLinear(mdp, pi, uniform(m.S), { method, transpose: true });
        if (!got.converged) failures.push(`${m.kind} S=${m.S} seed=${seed} (simd=${backend.simd}): residual ${got.residual} after ${got.iterations} iterations`);
      }
    expect(failures).toEqual([]);
  });

  test.each([
    ["default options (Krylov above S = 500)", {}],
    ["method 'bicgstab'", { method: "bicgstab" }],
  ] as const)("occupancy with %s and the MDP's default uniform ρ succeeds and sums to 1/(1 − γ)", (_, opts) => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 6; seed++) {
      const m = randomCsr(600, 4, 0.9, 5, seed);
      const mdp = toTabular(m, backends[0]);
      const pi = randomPolicy(600, 4, seed + 100);
      try {
        const d = occupancy(mdp, pi, undefined, opts);
        const sum = d.reduce((x, y) => x + y, 0);
        if (Math.abs(sum - 10) > 1e-8) failures.push(`seed ${seed}: sums to ${sum}`);
      } catch (e) {
        failures.push(`seed ${seed}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
