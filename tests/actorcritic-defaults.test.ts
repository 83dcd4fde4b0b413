// The actor-critic at its defaults (issue 10; docs/math.md#actor-critic): its AdaGrad-norm step
// (docs/math.md#actor-critic-adagrad), the long-run regression of the adaptive α (stepRule
// 'adaptive') on the Stackelberg game and that rule's slope test, and on GridWorld, incentive
// and Stackelberg, seeds 0–2: φ no more than 1% above exact descent's, and a stationary point.
import { beforeAll, describe, expect, it } from "vitest";
import { init } from "../src/index";
import { gridGoal } from "../src/problems/gridGoal";
import { incentive } from "../src/problems/incentive";
import { stackelberg } from "../src/problems/stackelberg";
import { hypergradient, phi } from "../src/bilevel/hypergradient";
import { gradientMapping } from "../src/bilevel/algorithms/update";
import { actorCritic } from "../src/bilevel/algorithms/actorCritic";
import { exactDescent } from "../src/bilevel/algorithms/exactDescent";

beforeAll(async () => {
  await init();
});

describe("actorCritic's default step: AdaGrad-norm", () => {
  it("takes steps α_k ĥ_k with α_k = η/√(Σ_{i≤k} ‖ĥ_i‖²), η = 1: no step longer than η, α never growing", () => {
    const g = stackelberg({ seed: 0 });
    let st = actorCritic.init(g.problem, { x0: g.x0 });
    expect(st.stepRule).toBe("adagrad");
    expect(st.alpha).toBe(1);
    let prevAlpha = Infinity;
    for (let k = 0; k < 200; k++) {
      const next = actorCritic.step(g.problem, st);
      // ‖ĥ_k‖² is the increment of the accumulator; the step is α_k ĥ_k
      const sumPrev = st.gradSq ?? 0, sum = next.gradSq!;
      const hk = Math.sqrt(sum - sumPrev);
      let d = 0;
      for (let i = 0; i < next.x.length; i++) d += (next.x[i] - st.x[i]) ** 2;
      const alphaK = 1 / Math.sqrt(sum);
      expect(Math.sqrt(d), `k = ${k}`).toBeCloseTo(alphaK * hk, 9);
      expect(Math.sqrt(d)).toBeLessThanOrEqual(1 + 1e-12);
      expect(alphaK).toBeLessThanOrEqual(prevAlpha);
      prevAlpha = alphaK;
      st = next;
    }
  });

  it("stays in its basin on stackelberg seed 2 over 1000 iterations: 80% of exact descent's gap from k = 100 on, within 1% of its φ at the end", () => {
    const g = stackelberg({ seed: 2 });
    const phi0 = phi(g.problem, Float64Array.from(g.x0)).value;
    const e = exactDescent.run(stackelberg({ seed: 2 }).problem, { x0: g.x0, iterations: 200 });
    const phiE = phi(g.problem, e.x).value;
    let st = actorCritic.init(g.problem, { x0: g.x0, seed: 2 });
    for (let k = 1; k <= 1000; k++) {
      st = actorCritic.step(g.problem, st);
      if (k >= 100 && k % 10 === 0) {
        const p = phi(g.problem, Float64Array.from(st.x)).value;
        expect((phi0 - p) / (phi0 - phiE), `k = ${k}: φ ${p}`).toBeGreaterThan(0.8);
      }
    }
    const pK = phi(g.problem, Float64Array.from(st.x)).value;
    expect(Math.abs(pK - phiE), `φ ${pK}, exact descent ${phiE}`).toBeLessThanOrEqual(0.01 * Math.abs(phiE));
  });
});

// the previous default: the growth rule with the schedules of power 1/4 it was measured with
const ADAPTIVE = { stepRule: "adaptive", tauPower: 0.25, wPower: 0.25 } as const;

describe("actorCritic's adaptive α (stepRule 'adaptive', the previous default)", () => {
  // with 'grow ×1.25 while L falls', α grew from 0.025 to 77 between k = 243 and 284 on a flat
  // stretch (L fell by ~1e-4 per iteration), a step of length 3.6 left the basin and φ stayed at
  // −2.22 from k = 285 on, above φ(x₀) = −3.846 (−2.2253 at k = 1000)
  it("stays in its basin on stackelberg seed 2 over 1000 iterations: 80% of exact descent's gap from k = 100 on, within 1% of its φ at the end", () => {
    const g = stackelberg({ seed: 2 });
    const phi0 = phi(g.problem, Float64Array.from(g.x0)).value;
    const e = exactDescent.run(stackelberg({ seed: 2 }).problem, { x0: g.x0, iterations: 200 });
    const phiE = phi(g.problem, e.x).value;
    let st = actorCritic.init(g.problem, { x0: g.x0, seed: 2, ...ADAPTIVE });
    let longest = 0;
    for (let k = 1; k <= 1000; k++) {
      const next = actorCritic.step(g.problem, st);
      let d = 0;
      for (let i = 0; i < next.x.length; i++) d += (next.x[i] - st.x[i]) ** 2;
      longest = Math.max(longest, Math.sqrt(d));
      st = next;
      if (k >= 100 && k % 10 === 0) {
        const p = phi(g.problem, Float64Array.from(st.x)).value;
        expect((phi0 - p) / (phi0 - phiE), `k = ${k}: φ ${p}`).toBeGreaterThan(0.8);
      }
    }
    const pK = phi(g.problem, Float64Array.from(st.x)).value;
    expect(Math.abs(pK - phiE), `φ ${pK}, exact descent ${phiE}`).toBeLessThanOrEqual(0.01 * Math.abs(phiE));
    // the old rule's fatal steps were 3.6 and 6.8 long
    expect(longest).toBeLessThan(1);
  });

  it("grows α only while the slope of ĥ along the last step keeps at least half its value, and halves it when the slope changes sign", () => {
    const g = stackelberg({ seed: 2 });
    let st = actorCritic.init(g.problem, { x0: g.x0, seed: 2, ...ADAPTIVE });
    const seen = { grow: 0, keep: 0, halve: 0 };
    for (let k = 0; k < 300; k++) {
      const next = actorCritic.step(g.problem, st);
      if (k > 0) {
        // ĥ_k is next.hPrev (the estimate at st.x); the last step was st.xPrev → st.x
        const xp = st.xPrev!, hp = st.hPrev!, h = next.hPrev!;
        let sPrev = 0, sNow = 0;
        for (let i = 0; i < h.length; i++) {
          sPrev += hp[i] * (xp[i] - st.x[i]);
          sNow += h[i] * (xp[i] - st.x[i]);
        }
        const rose = next.meritPrev! > st.meritPrev!;
        const ratio = next.alpha / st.alpha;
        if (sNow < 0 || rose) {
          expect(ratio, `k = ${k}`).toBeLessThanOrEqual(1);
          seen.halve += ratio < 1 ? 1 : 0;
        } else if (sNow >= 0.5 * sPrev) {
          expect(ratio, `k = ${k}`).toBeCloseTo(1.25, 12);
          seen.grow++;
        } else {
          expect(ratio, `k = ${k}`).toBe(1);
          seen.keep++;
        }
      }
      st = next;
    }
    // every branch is taken on this run
    expect(seen.grow).toBeGreaterThan(0);
    expect(seen.keep).toBeGreaterThan(0);
    expect(seen.halve).toBeGreaterThan(0);
  });

  it.each(["adaptive", "adagrad"] as const)("resumes the identical trajectory from a JSON round trip of its state (stepRule '%s': x_{k−1}, ĥ_{k−1} or Σ‖ĥ‖² included)", (stepRule) => {
    const g = stackelberg({ seed: 1 });
    const full = actorCritic.run(g.problem, { x0: g.x0, iterations: 40, stepRule });
    const head = actorCritic.run(g.problem, { x0: g.x0, iterations: 17, stepRule });
    if (stepRule === "adaptive") expect(head.state.xPrev).toHaveLength(g.problem.n);
    else expect(head.state.gradSq).toBeGreaterThan(0);
    const tail = actorCritic.run(g.problem, { iterations: 23, state: JSON.parse(JSON.stringify(head.state)) });
    expect(tail.state).toEqual(full.state);
    expect([...head.history, ...tail.history]).toEqual(full.history);
  });
});

describe("actorCritic at its defaults reaches exact descent's φ (docs/math.md#actor-critic)", () => {
  const cases = [
    { name: "gridGoal", make: (seed: number) => ({ ...gridGoal({ seed }), project: "none" as const }) },
    { name: "incentive", make: (seed: number) => ({ ...incentive({ seed }), project: "nonnegative" as const }) },
    { name: "stackelberg", make: (seed: number) => ({ ...stackelberg({ seed }), project: "none" as const }) },
  ];
  // Open cells (asserted still short, so that a fix shows up here): none. Stackelberg seed 0 ends
  // below exact descent's −7.744 (in another basin), so the test is one-sided.
  const OPEN: { name: string; seed: number }[] = [];
  it.each(cases)("$name, seeds 0–2, 200 iterations: φ no more than 1% above exact descent's (or a listed open shortfall, still short)", ({ name, make }) => {
    for (const seed of [0, 1, 2]) {
      const a = make(seed);
      const r = actorCritic.run(a.problem, { x0: a.x0, iterations: 200, project: a.project, seed });
      const e = exactDescent.run(make(seed).problem, { x0: a.x0, iterations: 200, project: a.project });
      const phiA = phi(a.problem, r.x).value, phiE = phi(a.problem, e.x).value;
      const msg = `seed ${seed}: φ ${phiA}, exact descent ${phiE}`;
      if (OPEN.some((o) => o.name === name && o.seed === seed)) expect(phiA - phiE, `${msg}: listed as open but now within 1%: take it off OPEN`).toBeGreaterThan(0.01 * Math.abs(phiE));
      else expect(phiA - phiE, msg).toBeLessThanOrEqual(0.01 * Math.abs(phiE));
    }
  });

  // Item 4's "reaches a stationary point": the projected gradient of the exact ∇φ at x_K against
  // the same at x₀. At K = 200 stackelberg seed 0 is still on its way into a lower basin (ratio
  // 0.21); by K = 1000 every case is at 0.003–0.029.
  it.each(cases)("$name, seeds 0–2, 1000 iterations: stationary, ‖x − P(x − ∇φ(x))‖ at x_K at most 0.1 of its value at x₀", ({ make }) => {
    for (const seed of [0, 1, 2]) {
      const a = make(seed);
      const r = actorCritic.run(a.problem, { x0: a.x0, iterations: 1000, project: a.project, seed });
      const G = (x: Float64Array) => gradientMapping(x, hypergradient(a.problem, x, { method: "exact" }).grad, a.project);
      const ratio = G(Float64Array.from(r.x)) / G(Float64Array.from(a.x0));
      expect(ratio, `seed ${seed}`).toBeLessThanOrEqual(0.1);
    }
  });
});
