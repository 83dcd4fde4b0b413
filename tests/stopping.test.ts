// Why a run ends (docs/math.md#stopping): tolerance stopping on every algorithm, divergence
// detected and reported with the step at fault, never returned as a normal result, and the
// same status through runExperiment, resumed sessions and compareAlgorithms.
import { beforeAll, describe, expect, it } from "vitest";
import { init } from "../src/index";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { DIVERGENCE_FACTOR } from "../src/bilevel/algorithms/common";
import { exactDescent } from "../src/bilevel/algorithms/exactDescent";
import { mSoBiRL } from "../src/bilevel/algorithms/mSoBiRL";
import { compareAlgorithms } from "../src/bilevel/compare";
import { e1 } from "../src/problems/e1";
import { gridGoal } from "../src/problems/gridGoal";
import { rlhf } from "../src/problems/rlhf";
import { resultToJSON, runExperiment, startExperiment } from "../src/experiment/runner";
import { DomainError } from "../src/errors";

beforeAll(async () => {
  await init();
});

const instance = (trajectory: boolean) => (trajectory ? rlhf({ seed: 1 }) : gridGoal({ size: 3, seed: 1 }));

describe("stopping by tolerance", () => {
  const cases = ALGORITHM_LIST.map((a) => [a.name, a] as const);
  it.each(cases)("%s stops at the first iterate whose convergence measure is ≤ stopTol, with the same rows as the full run", (_name, alg) => {
    const trajectory = alg.info.needsTrajectory;
    const K = 24;
    const a = instance(trajectory);
    const full = alg.run(a.problem, { x0: a.x0, iterations: K } as never);
    expect(full.status).toBe("max-iterations");
    expect(full.history).toHaveLength(K);
    const ms = full.history.map((r) => r.measure ?? r.hnorm);
    const tol = [...ms].sort((p, q) => p - q)[Math.floor(K / 3)];
    const j = ms.findIndex((m) => m <= tol);
    const b = instance(trajectory);
    const stopped = alg.run(b.problem, { x0: b.x0, iterations: K, stopTol: tol } as never);
    expect(stopped.status).toBe("converged");
    expect(stopped.stopped).toBe(false);
    expect(stopped.history).toHaveLength(j + 1);
    expect(stopped.history).toEqual(full.history.slice(0, j + 1));
    expect(stopped.message).toContain(`k = ${j}`);
    expect(stopped.message).toContain(`stopTol = ${tol}`);
  }, 120_000);

  it("stopTol 0 (the default) never stops a run early, even at an exact zero", () => {
    const a = gridGoal({ size: 3, seed: 1 });
    const r = exactDescent.run(a.problem, { x0: a.x0, iterations: 3, stopTol: 0 });
    expect([r.status, r.history.length]).toEqual(["max-iterations", 3]);
  });

  it("rejects a negative or non-finite stopTol and a bad divergence factor with DomainErrors naming them", () => {
    const a = gridGoal({ size: 3, seed: 1 });
    expect(() => exactDescent.run(a.problem, { iterations: 2, stopTol: -1 })).toThrow(DomainError);
    expect(() => exactDescent.run(a.problem, { iterations: 2, stopTol: -1 })).toThrow(/stopTol/);
    expect(() => exactDescent.run(a.problem, { iterations: 2, stopTol: NaN })).toThrow(/stopTol/);
    expect(() => exactDescent.run(a.problem, { iterations: 2, divergence: { factor: 0 } })).toThrow(/divergence\.factor/);
    expect(() => exactDescent.run(a.problem, { iterations: 2, divergence: { start: { f: NaN, xnorm: 1 } } })).toThrow(/divergence\.start\.f/);
  });
});

describe("the result of a run", () => {
  // exact descent, PARL and Φ_σ search within the iteration (their x_K passed its test); M-SoBiRL's
  // tested rules check x_K only at the next iteration, so their result is the last accepted point
  it.each(ALGORITHM_LIST.map((a) => [a.name, a] as const))("%s returns x_K, or the last accepted point while x_K is an untested trial", (name, alg) => {
    const a = instance(alg.info.needsTrajectory);
    const r = alg.run(a.problem, { x0: a.x0, iterations: 24 } as never);
    const st = r.state as unknown as { x: number[]; xPrev?: number[] };
    const accepted = name === "mSoBiRL" && st.xPrev!.length > 0 ? st.xPrev! : st.x;
    expect(Array.from(r.x)).toEqual(accepted);
  }, 120_000);
});

describe("divergence", () => {
  it.each([
    ["exactDescent", exactDescent],
    ["mSoBiRL", mSoBiRL],
  ] as const)("%s with a deliberately bad fixed step (β = 1e3) on E1 ends 'diverged', naming the iteration and β", (_n, alg) => {
    const inst = e1({ seed: 0 });
    const r = alg.run(inst.problem, { x0: inst.x0, beta: 1e3, stepRule: "fixed", iterations: 50 } as never);
    expect(r.status).toBe("diverged");
    expect(r.stopped).toBe(false);
    expect(r.history.length).toBeLessThan(50);
    const k = r.history[r.history.length - 1].k;
    expect(r.message).toMatch(new RegExp(`^diverged at iteration k = ${k}: `));
    expect(r.message).toContain("the step 'beta' (= 1000) is the likely cause");
    // the rows before the last are within the bound
    for (const row of r.history.slice(0, -1)) expect(Math.abs(row.f - r.start!.f)).toBeLessThanOrEqual(DIVERGENCE_FACTOR * (1 + Math.abs(r.start!.f)));
  });

  it("the same step at a factor the run never reaches is not flagged: the test is the documented bound, not the step", () => {
    const inst = e1({ seed: 0 });
    const r = exactDescent.run(inst.problem, { x0: inst.x0, beta: 1e3, stepRule: "fixed", iterations: 2, divergence: { factor: 1e300 } });
    expect(r.status).toBe("max-iterations");
  });

  it("the default step rule (spectral steps, nonmonotone backtracking on φ) turns the same first trial step β = 1e3 into a descent run", () => {
    const inst = e1({ seed: 0 });
    const r = exactDescent.run(inst.problem, { x0: inst.x0, beta: 1e3, iterations: 50 });
    expect(r.status).toBe("max-iterations");
    // every φ_k stays below the largest of the 10 before it (docs/math.md#spectral-step), and φ falls overall
    for (let k = 1; k < r.history.length; k++) expect(r.history[k].f).toBeLessThanOrEqual(Math.max(...r.history.slice(Math.max(0, k - 10), k).map((h) => h.f)));
    expect(r.history[r.history.length - 1].f).toBeLessThan(0.1 * r.history[0].f);
  });

  it("the monotone rule ('armijo') lowers φ at every step from the same β = 1e3", () => {
    const inst = e1({ seed: 0 });
    const r = exactDescent.run(inst.problem, { x0: inst.x0, beta: 1e3, iterations: 50, stepRule: "armijo" });
    expect(r.status).toBe("max-iterations");
    for (let k = 1; k < r.history.length; k++) expect(r.history[k].f).toBeLessThanOrEqual(r.history[k - 1].f);
  });

  it("a resumed run measures growth from the first run's start, so slicing does not change where it diverges", () => {
    const whole = exactDescent.run(e1({ seed: 0 }).problem, { x0: e1({ seed: 0 }).x0, beta: 0.9, stepRule: "fixed", iterations: 40, divergence: { factor: 50 } });
    const inst = e1({ seed: 0 });
    let state;
    let start;
    const rows = [];
    let status = "max-iterations";
    for (let i = 0; i < 40 && status === "max-iterations"; i++) {
      const r = exactDescent.run(inst.problem, { x0: inst.x0, beta: 0.9, stepRule: "fixed", iterations: 1, divergence: { factor: 50, ...(start ? { start } : {}) }, ...(state ? { state } : {}) });
      state = r.state;
      start ??= r.start;
      rows.push(...r.history);
      status = r.status;
    }
    expect(status).toBe(whole.status);
    expect(rows).toEqual(whole.history);
  });

  it("an experiment that diverges has status 'diverged', the message, and no φ(x_K) in its result", () => {
    const doc = { version: 1, seed: 0, problem: { builtin: "e1", params: { S: 3, A: 2, n: 4 } }, algorithm: { name: "exactDescent", beta: 1e3, stepRule: "fixed" }, iterations: 30 };
    const r = runExperiment(doc);
    expect(r.status).toBe("diverged");
    expect(r.message).toMatch(/^diverged at iteration k = \d+: .*'beta' \(= 1000\)/);
    expect(r.final.phi).toBeUndefined();
    const json = JSON.parse(resultToJSON(r));
    expect(json.status).toBe("diverged");
    expect(json.message).toBe(r.message);
    // a session sliced one iteration at a time ends the same way, and is finished
    const s = startExperiment(doc);
    while (!s.finished) s.advance({ onIteration: () => false });
    expect(s.status).toBe("diverged");
    expect(s.resultJSON()).toBe(resultToJSON(r));
  });

  it("compareAlgorithms reports a diverged entry with its status and NaN φ instead of a number", () => {
    const rows = compareAlgorithms(() => e1({ seed: 0, S: 3, A: 2, n: 4 }), [
      { name: "bad", algorithm: exactDescent, options: { beta: 1e3, stepRule: "fixed" } },
      { name: "good", algorithm: exactDescent, options: {} },
    ], { iterations: 20 });
    expect(rows[0].status).toBe("diverged");
    expect(Number.isNaN(rows[0].phiFinal)).toBe(true);
    expect(rows[0].message).toContain("'beta'");
    expect(rows[1].status).toBe("max-iterations");
    expect(Number.isFinite(rows[1].phiFinal)).toBe(true);
  });
});

describe("experiment files", () => {
  it("accept stopTol: the run ends 'converged' at the same row as the library's run, sliced or not", () => {
    const doc = { version: 1, seed: 0, problem: { builtin: "gridGoal", params: { size: 3 } }, algorithm: { name: "exactDescent", beta: 0.5 }, iterations: 400, stopTol: 5e-3 };
    const r = runExperiment(doc);
    expect(r.status).toBe("converged");
    expect(r.iterations).toBeLessThan(400);
    expect(r.history[r.iterations - 1].hnorm).toBeLessThanOrEqual(5e-3);
    for (const row of r.history.slice(0, -1)) expect(row.hnorm).toBeGreaterThan(5e-3);
    expect(r.message).toContain("stopTol = 0.005");
    const s = startExperiment(doc);
    while (!s.finished) s.advance({ onIteration: (_row, k) => k % 7 !== 3 });
    expect(s.resultJSON()).toBe(resultToJSON(r));
  });

  it("reject a negative stopTol with a JSON pointer", () => {
    expect(() => runExperiment({ version: 1, seed: 0, problem: { builtin: "gridGoal" }, algorithm: { name: "exactDescent" }, iterations: 3, stopTol: -1 })).toThrow(/\/stopTol/);
  });
});
