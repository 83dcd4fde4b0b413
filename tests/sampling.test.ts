// The seeded sampler: statistical agreement with the exact discounted visitation and
// with π, reproducibility (seed → arrays, bit for bit across builds and against the
// plain-TS reference sampler), and the recorded rewards.
import { beforeAll, describe, expect, test } from "vitest";
import { init, occupancy, sampleTrajectories, type Backend } from "../src/index";
import * as ref from "../src/reference/index";
import type { RefMDP } from "../src/reference/index";
import { denseP, firstBitDiff, toTabular } from "./helpers/compare";
import { truncatedOccupancy } from "./helpers/linalg";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";
import { chiSquare, chiSquareSurvival, meanAndStdErr } from "./helpers/stats";

let simd: Backend;
let scalar: Backend;
beforeAll(async () => {
  simd = await init({ simd: true });
  scalar = await init({ simd: false });
});

/** |z| bound for every state at once: two-sided 4.5σ is p ≈ 7e-6 per state (Bonferroni over ≤ 12 states). */
const Z_MAX = 4.5;
/** p-value below which a χ² test rejects. */
const P_MIN = 1e-6;

/** Per-episode discounted visit counts X_e(s) = Σ_t γ^t 1{s_t = s}, as one array per state. */
function discountedCounts(states: Int32Array, episodes: number, horizon: number, S: number, gamma: number): Float64Array[] {
  const X = Array.from({ length: S }, () => new Float64Array(episodes));
  for (let e = 0; e < episodes; e++) {
    let g = 1;
    for (let t = 0; t < horizon; t++) {
      X[states[e * horizon + t]][e] += g;
      g *= gamma;
    }
  }
  return X;
}

/** z-scores of the empirical mean discounted counts against `exact`, from the empirical standard errors. */
function zScores(X: Float64Array[], exact: Float64Array): number[] {
  return X.map((xs, s) => {
    const { mean, se } = meanAndStdErr(xs);
    if (se === 0) return mean === exact[s] ? 0 : Infinity;
    return (mean - exact[s]) / se;
  });
}

/** Smallest H with γ^H < 1e-6. */
function horizonFor(gamma: number): number {
  return Math.ceil(Math.log(1e-6) / Math.log(gamma)) + 1;
}

const MDPS: { label: string; m: RefMDP; seed: number }[] = [
  { label: "dense S=6 A=3 γ=0.9", m: randomDense(6, 3, 0.9, 301), seed: 1234 },
  { label: "CSR S=12 A=2 γ=0.8 (3 per row)", m: randomCsr(12, 2, 0.8, 3, 302), seed: 98765 },
];

describe.each(MDPS.map((c) => [c.label, c.m, c.seed] as const))("the sampler on a %s MDP", (_, m, seed) => {
  const S = m.S;
  const A = m.A;
  const P = denseP(m);
  const pi = randomPolicy(S, A, 303);
  const rho = randomPolicy(1, S, 304);
  const H = horizonFor(m.gamma);
  const episodes = 20000;

  test("the mean per-episode discounted visit counts match the exact horizon-H occupancy: |z| < 4.5 for every state", () => {
    expect(m.gamma ** H).toBeLessThan(1e-6);
    const exact = truncatedOccupancy(P, pi, rho, S, A, m.gamma, H);
    // the truncated occupancy is within γ^H/(1 − γ) of the library's exact one
    const full = occupancy(toTabular(m, simd, rho), pi);
    for (let s = 0; s < S; s++) {
      expect(full[s]).toBeGreaterThanOrEqual(exact[s] - 1e-12);
      expect(full[s] - exact[s]).toBeLessThanOrEqual(m.gamma ** H / (1 - m.gamma) + 1e-12);
    }
    const { states } = sampleTrajectories(toTabular(m, simd, rho), pi, { episodes, horizon: H, seed });
    const z = zScores(discountedCounts(states, episodes, H, S, m.gamma), exact);
    const worst = Math.max(...z.map(Math.abs));
    expect(worst, `z-scores ${z.map((x) => x.toFixed(2)).join(", ")}`).toBeLessThan(Z_MAX);
  });

  test("the same z-test has power: it rejects the occupancy of a different policy", () => {
    const other = randomPolicy(S, A, 999);
    const wrong = truncatedOccupancy(P, other, rho, S, A, m.gamma, H);
    const { states } = sampleTrajectories(toTabular(m, simd, rho), pi, { episodes, horizon: H, seed });
    const z = zScores(discountedCounts(states, episodes, H, S, m.gamma), wrong);
    expect(Math.max(...z.map(Math.abs))).toBeGreaterThan(Z_MAX);
  });

  test("first actions follow π(·|s0) (χ² test per start state, pooled) and start states follow ρ (χ² test)", () => {
    const { states, actions } = sampleTrajectories(toTabular(m, simd, rho), pi, { episodes, horizon: 1, seed: seed + 1 });
    let stat = 0;
    let df = 0;
    const starts = new Float64Array(S);
    for (let s0 = 0; s0 < S; s0++) {
      const counts = new Float64Array(A);
      for (let e = 0; e < episodes; e++) if (states[e] === s0) counts[actions[e]]++;
      starts[s0] = counts.reduce((x, y) => x + y, 0);
      if (starts[s0] === 0) continue;
      const c = chiSquare(counts, pi.subarray(s0 * A, s0 * A + A));
      stat += c.stat;
      df += c.df;
    }
    expect(chiSquareSurvival(stat, df), `χ² = ${stat} on ${df} df`).toBeGreaterThan(P_MIN);
    const st = chiSquare(starts, rho);
    expect(chiSquareSurvival(st.stat, st.df), `χ² = ${st.stat} on ${st.df} df`).toBeGreaterThan(P_MIN);
  });

  test("next states follow P(·|s, a) (χ² test pooled over every visited (s, a))", () => {
    const horizon = 20;
    const n = 5000;
    const { states, actions } = sampleTrajectories(toTabular(m, simd, rho), pi, { episodes: n, horizon, seed: seed + 2 });
    const counts = Array.from({ length: S * A }, () => new Float64Array(S));
    for (let e = 0; e < n; e++)
      for (let t = 0; t + 1 < horizon; t++) {
        const o = e * horizon + t;
        counts[states[o] * A + actions[o]][states[o + 1]]++;
      }
    let stat = 0;
    let df = 0;
    counts.forEach((row, i) => {
      if (row.reduce((x, y) => x + y, 0) === 0) return;
      const c = chiSquare(row, P.subarray(i * S, i * S + S));
      stat += c.stat;
      df += c.df;
    });
    expect(df).toBeGreaterThan(0);
    expect(chiSquareSurvival(stat, df), `χ² = ${stat} on ${df} df`).toBeGreaterThan(P_MIN);
  });

  test("the χ² test has power: first actions are rejected against a different policy", () => {
    const { states, actions } = sampleTrajectories(toTabular(m, simd, rho), pi, { episodes, horizon: 1, seed: seed + 1 });
    const other = randomPolicy(S, A, 998);
    let stat = 0;
    let df = 0;
    for (let s0 = 0; s0 < S; s0++) {
      const counts = new Float64Array(A);
      for (let e = 0; e < episodes; e++) if (states[e] === s0) counts[actions[e]]++;
      const c = chiSquare(counts, other.subarray(s0 * A, s0 * A + A));
      stat += c.stat;
      df += c.df;
    }
    expect(chiSquareSurvival(stat, df)).toBeLessThan(P_MIN);
  });
});

describe("reproducibility of the seeded sampler", () => {
  const m = randomCsr(10, 3, 0.9, 4, 401);
  const pi = randomPolicy(10, 3, 402);
  const rho = randomPolicy(1, 10, 403);
  const r = randomVector(30, 404);
  const opts = { episodes: 50, horizon: 30, r };

  test.each([0, 1, 42, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1])("seed %s gives identical arrays on every call, on both builds, and bit for bit the reference sampler's", (seed) => {
    const a = sampleTrajectories(toTabular(m, simd, rho), pi, { ...opts, seed });
    const b = sampleTrajectories(toTabular(m, simd, rho), pi, { ...opts, seed });
    const c = sampleTrajectories(toTabular(m, scalar, rho), pi, { ...opts, seed });
    const want = ref.sampleTrajectories(m, pi, { ...opts, seed, rho });
    for (const key of ["states", "actions", "rewards"] as const) {
      expect(firstBitDiff(a[key]!, b[key]!), `${key}, repeated call`).toBeUndefined();
      expect(firstBitDiff(a[key]!, c[key]!), `${key}, SIMD vs scalar`).toBeUndefined();
      expect(firstBitDiff(a[key]!, want[key]!), `${key}, vs reference`).toBeUndefined();
    }
  });

  test("different seeds, including seeds differing only above bit 32, give different trajectories", () => {
    const seeds = [0, 1, 2, 2 ** 32, 2 ** 33, 2 ** 32 + 1, 2 ** 53 - 1];
    const runs = seeds.map((seed) => sampleTrajectories(toTabular(m, simd, rho), pi, { ...opts, seed }));
    for (let i = 0; i < seeds.length; i++)
      for (let j = i + 1; j < seeds.length; j++) {
        const same = runs[i].states.every((s, k) => s === runs[j].states[k]) && runs[i].actions.every((a, k) => a === runs[j].actions[k]);
        expect(same, `seeds ${seeds[i]} and ${seeds[j]}`).toBe(false);
      }
  });

  test("a call with a different seed in between does not change what a seed produces (the generator state is per call)", () => {
    const mdp = toTabular(m, simd, rho);
    const first = sampleTrajectories(mdp, pi, { ...opts, seed: 7 });
    sampleTrajectories(mdp, pi, { ...opts, seed: 8 });
    const again = sampleTrajectories(mdp, pi, { ...opts, seed: 7 });
    expect(firstBitDiff(first.states, again.states)).toBeUndefined();
    expect(firstBitDiff(first.actions, again.actions)).toBeUndefined();
  });

  test("recorded rewards equal r[s·A + a] for every step, and are omitted when r is not given", () => {
    const mdp = toTabular(m, simd, rho);
    const out = sampleTrajectories(mdp, pi, { ...opts, seed: 5 });
    expect(out.rewards).toBeInstanceOf(Float64Array);
    expect(out.rewards!.length).toBe(opts.episodes * opts.horizon);
    for (let k = 0; k < out.states.length; k++) expect(out.rewards![k]).toBe(r[out.states[k] * 3 + out.actions[k]]);
    const bare = sampleTrajectories(mdp, pi, { episodes: 50, horizon: 30, seed: 5 });
    expect(bare.rewards).toBeUndefined();
    // recording rewards does not change the draws
    expect(firstBitDiff(bare.states, out.states)).toBeUndefined();
    expect(firstBitDiff(bare.actions, out.actions)).toBeUndefined();
  });

  test("output shapes are episodes × horizon, states lie in [0, S), actions in [0, A), and only actions with π > 0 and transitions with P > 0 occur", () => {
    const sparsePi = Float64Array.from(pi);
    for (let s = 0; s < 10; s++) {
      sparsePi[s * 3] = 0; // never take action 0
      const z = sparsePi[s * 3 + 1] + sparsePi[s * 3 + 2];
      sparsePi[s * 3 + 1] /= z;
      sparsePi[s * 3 + 2] = 1 - sparsePi[s * 3 + 1];
    }
    const out = sampleTrajectories(toTabular(m, simd, rho), sparsePi, { episodes: 200, horizon: 25, seed: 9 });
    expect(out.states.length).toBe(5000);
    expect(out.actions.length).toBe(5000);
    const P = denseP(m);
    for (let k = 0; k < 5000; k++) {
      const s = out.states[k];
      const a = out.actions[k];
      expect(s >= 0 && s < 10 && a >= 1 && a < 3).toBe(true);
      if (k % 25 !== 24) expect(P[(s * 3 + a) * 10 + out.states[k + 1]]).toBeGreaterThan(0);
    }
  });

  test("an explicit rho overrides the MDP's initial distribution: a point mass starts every episode there", () => {
    const point = new Float64Array(10);
    point[7] = 1;
    const out = sampleTrajectories(toTabular(m, simd, rho), pi, { episodes: 100, horizon: 3, seed: 11, rho: point });
    for (let e = 0; e < 100; e++) expect(out.states[e * 3]).toBe(7);
  });
});

describe("the statistics helpers themselves", () => {
  test("chiSquareSurvival matches closed forms: exp(−x/2) for 2 df and erfc-based values for 1 df", () => {
    for (const x of [0.1, 1, 5, 20, 60]) expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
    // P(χ²_1 ≥ 3.841458820694124) = 0.05 and P(χ²_1 ≥ 10.827566170662733) = 0.001 (standard tables)
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(10.827566170662733, 1)).toBeCloseTo(0.001, 10);
    // 4 df: Q = e^{−x/2}(1 + x/2)
    for (const x of [0.5, 3, 12, 40]) expect(chiSquareSurvival(x, 4)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12);
  });

  test("chiSquare is 0 for exact expected counts and infinite for a count in a zero-probability cell", () => {
    expect(chiSquare([25, 75], [0.25, 0.75])).toEqual({ stat: 0, df: 1 });
    expect(chiSquare([1, 99, 0], [0, 1, 0]).stat).toBe(Infinity);
  });
});
