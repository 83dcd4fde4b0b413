// Memory behaviour of the per-MDP workspaces: repeated calls reuse the scratch they
// first grew, failures do not leak scratch, two MDPs never share state, and every
// result (and every stored input) is a copy that the caller may keep and mutate.
import { beforeAll, describe, expect, test } from "vitest";
import {
  init,
  MemoryLimitError,
  NumericalError,
  occupancy,
  policyEvaluation,
  sampleTrajectories,
  softValueIteration,
  solveLinear,
  TabularMDP,
  type Backend,
} from "../src/index";
import { memoryOf } from "../src/wasm/routines/index";
import { firstBitDiff, toTabular, type NumArray } from "./helpers/compare";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";

let simd: Backend;
let scalar: Backend;
beforeAll(async () => {
  simd = await init({ simd: true });
  scalar = await init({ simd: false });
});

/** Every array of a result object, by name (scalars are ignored). */
function arraysOf(x: object): Record<string, NumArray> {
  const out: Record<string, NumArray> = {};
  for (const [k, v] of Object.entries(x)) if (v instanceof Float64Array || v instanceof Int32Array) out[k] = v;
  return out;
}

/** Bitwise equality of two result objects, array by array and scalar by scalar. */
function sameResult(a: object, b: object): string[] {
  const problems: string[] = [];
  const ea = Object.entries(a);
  const eb = Object.fromEntries(Object.entries(b));
  for (const [k, v] of ea) {
    const w = eb[k];
    if (v instanceof Float64Array || v instanceof Int32Array) {
      const d = firstBitDiff(v, w as NumArray);
      if (d) problems.push(`${k}: ${d}`);
    } else if (!Object.is(v, w)) problems.push(`${k}: ${String(v)} vs ${String(w)}`);
  }
  return problems;
}

describe("workspace memory under repeated calls", () => {
  test("10 000 rounds of softValueIteration, solveLinear, policyEvaluation, occupancy and sampleTrajectories on one MDP never grow its memory past the first round, and give the first round's answers", () => {
    const m = randomDense(40, 3, 0.9, 501);
    const mdp = toTabular(m, simd);
    const pi = randomPolicy(40, 3, 502);
    const r = randomVector(120, 503);
    const b = randomVector(40, 504);
    const round = (seed: number) => ({
      svi: softValueIteration(mdp, r, { tau: 0.5, maxIter: 20 }),
      lu: solveLinear(mdp, pi, b, { method: "lu" }),
      krylov: solveLinear(mdp, pi, b, { method: "krylov", transpose: true }),
      bicgstab: solveLinear(mdp, pi, b, { method: "bicgstab" }),
      richardson: solveLinear(mdp, pi, b, { method: "richardson", maxIter: 30 }),
      pe: policyEvaluation(mdp, r, pi, { tau: 0.1 }),
      occ: { d: occupancy(mdp, pi, undefined, { method: "lu" }) },
      // 100 × 50 steps of states, actions and rewards: 80 kB of scratch
      traj: sampleTrajectories(mdp, pi, { episodes: 100, horizon: 50, seed, r }),
    });
    const created = memoryOf(mdp).bytes;
    const before = memoryOf(mdp).mark;
    const first = round(7);
    const reached = memoryOf(mdp).bytes;
    // the first sampling call may extend the persistent region once, by the sampler's
    // cached running sums of P's rows (S·A·S doubles for a dense P with S > 16); after
    // that every call rewinds to the same mark
    const mark = memoryOf(mdp).mark;
    expect(mark - before).toBeLessThanOrEqual(mdp.S * mdp.A * mdp.S * 8 + 16);
    // the first round needed more than the MDP itself: the measurement can see growth
    expect(reached).toBeGreaterThan(created);
    for (let i = 1; i < 10000; i++) {
      round(i);
      if (memoryOf(mdp).bytes !== reached || memoryOf(mdp).mark !== mark) {
        throw new Error(`round ${i}: memory ${memoryOf(mdp).bytes} B (first round ${reached} B), mark ${memoryOf(mdp).mark} (start ${mark})`);
      }
    }
    expect(memoryOf(mdp).bytes).toBe(reached);
    expect(memoryOf(mdp).mark).toBe(mark);
    const last = round(7);
    for (const key of Object.keys(first) as (keyof typeof first)[]) expect(sameResult(first[key], last[key]), key).toEqual([]);
  }, 120_000);

  test("a larger call grows memory once; smaller and equal calls afterwards fit in it", () => {
    const m = randomCsr(30, 2, 0.9, 3, 505);
    const mdp = toTabular(m, scalar);
    const pi = randomPolicy(30, 2, 506);
    sampleTrajectories(mdp, pi, { episodes: 10, horizon: 10, seed: 1 });
    const small = memoryOf(mdp).bytes;
    sampleTrajectories(mdp, pi, { episodes: 400, horizon: 100, seed: 1 }); // 320 kB
    const big = memoryOf(mdp).bytes;
    expect(big).toBeGreaterThan(small);
    for (let i = 0; i < 200; i++) {
      sampleTrajectories(mdp, pi, { episodes: 400, horizon: 100, seed: i });
      sampleTrajectories(mdp, pi, { episodes: 7, horizon: 13, seed: i });
      softValueIteration(mdp, randomVector(60, i), { tau: 1, maxIter: 5 });
    }
    expect(memoryOf(mdp).bytes).toBe(big);
  });

  test("calls that fail — bad input, a NumericalError, a MemoryLimitError — release their scratch and leave the MDP's answers unchanged", () => {
    const m = randomDense(12, 2, 0.8, 507);
    const mdp = toTabular(m, simd);
    const pi = randomPolicy(12, 2, 508);
    const r = randomVector(24, 509);
    const before = softValueIteration(mdp, r, { tau: 0.3 });
    const mark = memoryOf(mdp).mark;
    const bytes = memoryOf(mdp).bytes;
    const huge = new Float64Array(24).fill(1e308); // V* = 1e308/(1 − γ) overflows
    for (let i = 0; i < 100; i++) {
      expect(() => softValueIteration(mdp, huge, { tau: 1e-300 })).toThrow(NumericalError);
      expect(() => sampleTrajectories(mdp, pi, { episodes: 1e6, horizon: 1e4, seed: 1 })).toThrow(MemoryLimitError);
      expect(() => solveLinear(mdp, pi, [1, 2])).toThrow(TypeError);
      expect(() => softValueIteration(mdp, r, { tau: -1 })).toThrow(RangeError);
      expect(memoryOf(mdp).mark).toBe(mark);
    }
    expect(memoryOf(mdp).bytes).toBe(bytes);
    expect(sameResult(before, softValueIteration(mdp, r, { tau: 0.3 }))).toEqual([]);
  });
});

describe("two MDPs used interleaved", () => {
  const mA = randomDense(9, 3, 0.9, 601);
  const mB = randomCsr(13, 2, 0.95, 4, 602);
  const piA = randomPolicy(9, 3, 603);
  const piB = randomPolicy(13, 2, 604);
  const rA = randomVector(27, 605);
  const rB = randomVector(26, 606);
  const bA = randomVector(9, 607);
  const bB = randomVector(13, 608);

  type Step = (mdp: TabularMDP) => object;
  const stepsA: Step[] = [
    (mdp) => softValueIteration(mdp, rA, { tau: 0.4 }),
    (mdp) => sampleTrajectories(mdp, piA, { episodes: 30, horizon: 20, seed: 11, r: rA }),
    (mdp) => solveLinear(mdp, piA, bA, { method: "krylov" }),
    (mdp) => policyEvaluation(mdp, rA, piA, { tau: 0.2, method: "lu" }),
    (mdp) => ({ d: occupancy(mdp, piA) }),
    (mdp) => sampleTrajectories(mdp, piA, { episodes: 30, horizon: 20, seed: 12 }),
    (mdp) => solveLinear(mdp, piA, bA, { method: "richardson", transpose: true }),
    (mdp) => solveLinear(mdp, piA, bA, { method: "krylov", restart: 3 }),
  ];
  const stepsB: Step[] = [
    (mdp) => sampleTrajectories(mdp, piB, { episodes: 25, horizon: 40, seed: 11, r: rB }),
    (mdp) => softValueIteration(mdp, rB, { tau: 0 }),
    (mdp) => solveLinear(mdp, piB, bB, { method: "lu", transpose: true }),
    (mdp) => solveLinear(mdp, piB, bB, { method: "bicgstab" }),
    (mdp) => ({ d: occupancy(mdp, piB, undefined, { method: "lu" }) }),
    (mdp) => policyEvaluation(mdp, rB, piB, { tau: 1, method: "krylov" }),
    (mdp) => softValueIteration(mdp, rB, { tau: 2, maxIter: 3 }),
    (mdp) => sampleTrajectories(mdp, piB, { episodes: 3, horizon: 400, seed: 12 }),
  ];

  test.each([
    ["the same build (SIMD)", () => [simd, simd]],
    ["the same build (scalar)", () => [scalar, scalar]],
    ["different builds", () => [simd, scalar]],
  ] as const)("on %s give bit for bit the answers each gives alone", (_, pick) => {
    const [backA, backB] = pick();
    const aloneA = (() => {
      const mdp = toTabular(mA, backA);
      return stepsA.map((f) => f(mdp));
    })();
    const aloneB = (() => {
      const mdp = toTabular(mB, backB);
      return stepsB.map((f) => f(mdp));
    })();
    const a = toTabular(mA, backA);
    const b = toTabular(mB, backB);
    const gotA: object[] = [];
    const gotB: object[] = [];
    // three interleavings: A then B, B then A, and A twice between B's
    for (let i = 0; i < stepsA.length; i++) {
      if (i % 2) {
        gotB.push(stepsB[i](b));
        gotA.push(stepsA[i](a));
      } else {
        gotA.push(stepsA[i](a));
        gotB.push(stepsB[i](b));
        stepsA[(i + 3) % stepsA.length](a); // an extra call on A that B must not notice
      }
    }
    for (let i = 0; i < stepsA.length; i++) {
      expect(sameResult(gotA[i], aloneA[i]), `A step ${i}`).toEqual([]);
      expect(sameResult(gotB[i], aloneB[i]), `B step ${i}`).toEqual([]);
    }
  });

  test("each MDP owns its memory: growing one does not change the other's size", () => {
    const a = toTabular(mA, simd);
    const b = toTabular(mB, simd);
    const sizeB = memoryOf(b).bytes;
    sampleTrajectories(a, piA, { episodes: 1000, horizon: 200, seed: 1 }); // 1.6 MB on A
    expect(memoryOf(a).bytes).toBeGreaterThan(sizeB);
    expect(memoryOf(b).bytes).toBe(sizeB);
  });
});

describe("results and stored inputs are copies", () => {
  const m = randomDense(8, 3, 0.85, 701);
  const pi = randomPolicy(8, 3, 702);
  const r = randomVector(24, 703);
  const b = randomVector(8, 704);

  test("mutating every returned array does not change the next call's answers", () => {
    const mdp = toTabular(m, simd);
    const calls: [string, () => object][] = [
      ["softValueIteration", () => softValueIteration(mdp, r, { tau: 0.5 })],
      ["policyEvaluation", () => policyEvaluation(mdp, r, pi, { tau: 0.5 })],
      ["solveLinear lu", () => solveLinear(mdp, pi, b)],
      ["solveLinear krylov", () => solveLinear(mdp, pi, b, { method: "krylov" })],
      ["solveLinear bicgstab", () => solveLinear(mdp, pi, b, { method: "bicgstab", transpose: true })],
      ["occupancy", () => ({ d: occupancy(mdp, pi) })],
      ["sampleTrajectories", () => sampleTrajectories(mdp, pi, { episodes: 10, horizon: 10, seed: 3, r })],
    ];
    for (const [name, call] of calls) {
      const first = call();
      const keep = structuredClone(first);
      for (const arr of Object.values(arraysOf(first))) arr.fill(-7);
      expect(sameResult(call(), keep), name).toEqual([]);
    }
  });

  test("returned arrays stay valid after a later call grows the module memory (they are not views on it)", () => {
    const mdp = toTabular(m, simd);
    const v = softValueIteration(mdp, r, { tau: 0.5 });
    const t = sampleTrajectories(mdp, pi, { episodes: 5, horizon: 5, seed: 1, r });
    const keepV = Float64Array.from(v.V);
    const keepS = Int32Array.from(t.states);
    const before = memoryOf(mdp).bytes;
    sampleTrajectories(mdp, pi, { episodes: 2000, horizon: 100, seed: 2 }); // ~1.6 MB: grows memory
    expect(memoryOf(mdp).bytes).toBeGreaterThan(before);
    expect(v.V.length).toBe(8);
    expect(firstBitDiff(v.V, keepV)).toBeUndefined();
    expect(t.states.length).toBe(25);
    expect(firstBitDiff(t.states, keepS)).toBeUndefined();
  });

  test("mutating the inputs after a call or after construction (P, r, pi, b, rho, V0) changes nothing stored", () => {
    const P = Float64Array.from(m.P);
    const rho = randomPolicy(1, 8, 705);
    const mdp = TabularMDP.dense({ S: 8, A: 3, P, gamma: 0.85, rho, backend: simd });
    const rr = Float64Array.from(r);
    const want = softValueIteration(mdp, rr, { tau: 0.5 });
    const wantTraj = sampleTrajectories(mdp, pi, { episodes: 10, horizon: 10, seed: 4 });
    const wantOcc = occupancy(mdp, pi);
    P.fill(0.125);
    rho.fill(0.125);
    rr.fill(0);
    expect(sameResult(softValueIteration(mdp, r, { tau: 0.5 }), want)).toEqual([]);
    expect(sameResult(sampleTrajectories(mdp, pi, { episodes: 10, horizon: 10, seed: 4 }), wantTraj)).toEqual([]);
    expect(firstBitDiff(occupancy(mdp, pi), wantOcc)).toBeUndefined();
    const stored = mdp.transitions() as { P: Float64Array };
    expect(firstBitDiff(stored.P, m.P)).toBeUndefined();
    stored.P.fill(0);
    expect(firstBitDiff((mdp.transitions() as { P: Float64Array }).P, m.P)).toBeUndefined();
  });

  test("mdp.rho is a copy, as documented: changing it affects neither sampling nor occupancy", () => {
    const rho = randomPolicy(1, 8, 706);
    const mdp = toTabular(m, simd, rho);
    const wantOcc = occupancy(mdp, pi);
    const wantTraj = sampleTrajectories(mdp, pi, { episodes: 20, horizon: 5, seed: 5 });
    mdp.rho.fill(0);
    mdp.rho[0] = 1;
    expect(firstBitDiff(sampleTrajectories(mdp, pi, { episodes: 20, horizon: 5, seed: 5 }).states, wantTraj.states)).toBeUndefined();
    expect(firstBitDiff(occupancy(mdp, pi), wantOcc)).toBeUndefined();
  });
});
