import { beforeAll, describe, expect, it } from "vitest";
import { init } from "../src/index";
import { e1 } from "../src/problems/e1";
import { mSoBiRL } from "../src/bilevel/algorithms/mSoBiRL";
import { exactDescent } from "../src/bilevel/algorithms/exactDescent";
import { phi } from "../src/bilevel/hypergradient";
import { BilevelProblem } from "../src/bilevel/problem";
import { policyL2 } from "../src/bilevel/models";
import { TabularMDP, denseToCsr } from "../src/mdp";
import { softValueIteration } from "../src/lower";
import { NumericalError } from "../src/errors";
import { memoryOf } from "../src/wasm/routines/index";

beforeAll(async () => {
  await init();
});

describe("E1, the SoBiRL paper's experiment (docs/math.md#e1)", () => {
  it.each([0, 1, 2, 3])("M-SoBiRL with the paper preset (the authors' settings) reaches f within 1e-3 of 1.0 by iteration 900 and ‖ĥ‖ shrinks by a factor in [0.07, 0.11] from 500 to 800 (seed %i)", (seed) => {
    const { problem, x0, phiStar } = e1({ seed });
    expect(phiStar).toBe(1);
    const res = mSoBiRL.run(problem, { iterations: 3000, x0, seed, preset: "paper" });
    const h = res.history;
    expect(h.length).toBe(3000);
    expect(Math.abs(h[900].f - 1)).toBeLessThan(1e-3);
    const ratio = h[800].hnorm / h[500].hnorm;
    expect(ratio).toBeGreaterThanOrEqual(0.07);
    expect(ratio).toBeLessThanOrEqual(0.11);
    // the transient rises above the start before it converges, as in the authors' logs
    expect(Math.max(...h.slice(0, 100).map((r) => r.f))).toBeGreaterThan(h[300].f);
    expect(phi(problem, res.x).value).toBeCloseTo(1, 6);
  });
});

describe("algorithm states", () => {
  it("M-SoBiRL resumed from a JSON round-trip of its state continues on exactly the same trajectory", () => {
    const { problem, x0 } = e1({ seed: 5 });
    const straight = mSoBiRL.run(problem, { iterations: 40, x0, seed: 5 });
    const first = mSoBiRL.run(problem, { iterations: 15, x0, seed: 5 });
    const revived = JSON.parse(JSON.stringify(first.state));
    const second = mSoBiRL.run(problem, { iterations: 25, state: revived });
    expect(second.x).toEqual(straight.x);
    expect(second.history.map((r) => r.k)).toEqual(Array.from({ length: 25 }, (_, i) => 15 + i));
    expect(second.history.at(-1)!.hnorm).toBe(straight.history.at(-1)!.hnorm);
  });

  it.each([
    ["least-squares", {}],
    ["richardson", { wStep: "richardson" as const }],
    ["nonnegative projection, no early stop", { project: "nonnegative" as const, N: 3, earlyStop: 0 }],
  ])("M-SoBiRL's run (typed working state) and a chain of JSON round-tripped steps give the same states bit for bit (%s)", (_name, extra) => {
    const { problem, x0 } = e1({ seed: 9, n: 12 });
    const res = mSoBiRL.run(problem, { iterations: 20, x0, seed: 9, ...extra });
    let st = mSoBiRL.init(problem, { x0, seed: 9, ...extra });
    for (let k = 0; k < 20; k++) {
      st = JSON.parse(JSON.stringify(mSoBiRL.step(problem, st)));
      expect(st.last!.f).toBe(res.history[k].f);
      expect(st.last!.hnorm).toBe(res.history[k].hnorm);
      expect(st.last!.lowerResidual).toBe(res.history[k].lowerResidual);
    }
    expect(JSON.stringify(st)).toBe(JSON.stringify(res.state));
  });

  it("M-SoBiRL's run holds no kernel scratch between iterations: the workspace mark is where it was, during callbacks and after", () => {
    const { problem, x0 } = e1({ seed: 10, n: 8 });
    const mark = () => memoryOf(problem.mdp).mark;
    const m0 = mark();
    const seen = new Set<number>();
    mSoBiRL.run(problem, { iterations: 10, x0, onIteration: () => { seen.add(mark()); } });
    expect([...seen]).toEqual([m0]);
    expect(mark()).toBe(m0);
  });

  it("M-SoBiRL's sweeps report overflowing rewards exactly as softValueIteration does, and release their scratch", () => {
    const S = 3, A = 2;
    const P = new Float64Array(S * A * S);
    for (let i = 0; i < S * A; i++) { P[i * S + (i % S)] = 0.5; P[i * S + ((i + 1) % S)] = 0.5; }
    for (const kind of ["dense", "csr"] as const) {
      const mdp = kind === "dense" ? TabularMDP.dense({ S, A, P, gamma: 0.5 }) : TabularMDP.sparse({ S, A, ...denseToCsr(P, S, A), gamma: 0.5 });
      const huge = new Float64Array(S * A).fill(1e308); // V grows by γ·V each sweep until it overflows
      const reward = { dim: 1, reward: (_x: Float64Array, out: Float64Array) => { out.set(huge); }, vjp: (_x: Float64Array, _u: Float64Array, out: Float64Array) => { out.fill(0); } };
      const problem = new BilevelProblem({ mdp, tau: 1, reward, upper: policyL2() });
      let expected = "";
      try { softValueIteration(mdp, huge, { tau: 1, V0: new Float64Array(S), maxIter: 10, tol: 1e-6 }); } catch (e) { expected = (e as Error).message; }
      expect(expected).toMatch(/became (Infinity|NaN) at sweep \d+;/);
      const m0 = memoryOf(mdp).mark;
      expect(() => mSoBiRL.run(problem, { iterations: 3 })).toThrow(new NumericalError(expected));
      expect(memoryOf(mdp).mark).toBe(m0);
    }
  });

  it("run stops cleanly on an aborted signal and when onIteration returns false", () => {
    const { problem, x0 } = e1({ seed: 6 });
    const ac = new AbortController();
    const res = mSoBiRL.run(problem, { iterations: 100, x0, signal: ac.signal, onIteration: (_row, k) => { if (k === 9) ac.abort(); } });
    expect(res.stopped).toBe(true);
    expect(res.history.length).toBe(10);
    const res2 = mSoBiRL.run(problem, { iterations: 100, x0, onIteration: (_row, k) => k < 4 });
    expect(res2.history.length).toBe(5);
  });

  it("exact descent lowers φ monotonically with a small step on E1 and records φ when asked", () => {
    const { problem, x0 } = e1({ seed: 7, n: 10 });
    const res = exactDescent.run(problem, { iterations: 30, x0, beta: 0.01, stepRule: "fixed", record: { phiEvery: 1 } });
    const phis = res.history.map((r) => r.phi!);
    for (let k = 1; k < phis.length; k++) expect(phis[k]).toBeLessThanOrEqual(phis[k - 1] + 1e-12);
    expect(phis.at(-1)!).toBeLessThan(phis[0]);
    expect(res.counters.solves).toBe(30);
  });
});

describe("projection of x", () => {
  it("keeps every M-SoBiRL and exact-descent iterate non-negative with project: 'nonnegative', where the same runs unprojected go negative", () => {
    const { problem, x0 } = e1({ seed: 8, n: 6 });
    const runs = {
      mSoBiRL: (project?: "nonnegative") => mSoBiRL.run(problem, { iterations: 50, x0, project, preset: "paper", record: { x: true } }),
      exactDescent: (project?: "nonnegative") => exactDescent.run(problem, { iterations: 20, x0, beta: 0.05, stepRule: "fixed", project, record: { x: true } }),
    };
    for (const [name, run] of Object.entries(runs)) {
      // without the projection some iterate leaves the orthant, so the check below can fail
      const free = run();
      expect(Math.min(...free.history.map((row) => Math.min(...row.x!))), name).toBeLessThan(0);
      const projected = run("nonnegative");
      for (const row of projected.history) expect(Math.min(...row.x!), `${name} k=${row.k}`).toBeGreaterThanOrEqual(0);
      expect(Math.min(...projected.x), name).toBeGreaterThanOrEqual(0);
      // the projection clamps (some coordinate sits exactly at 0) and does not stop the run
      expect(projected.history.some((row) => row.x!.some((v) => v === 0)), name).toBe(true);
      expect(projected.x.some((v) => v > 0), name).toBe(true);
    }
  });
});
