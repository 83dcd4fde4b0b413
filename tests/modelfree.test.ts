// The model-free part: trajectory objectives (eq. 12) with exact enumeration, the
// Monte-Carlo hypergradient of Prop. 5.2 with rollout derivatives (Prop. 5.1), SoBiRL
// (Algorithm 2) and the alternating deep-RLHF baseline, on the tabular RLHF problem (docs/math.md#rlhf).
import { beforeAll, describe, expect, it } from "vitest";
import { init, meter, DomainError, ShapeError, TabularMDP, softValueIteration } from "../src/index";
import { BilevelProblem } from "../src/bilevel/problem";
import { linearReward } from "../src/bilevel/models";
import { hypergradient, phi } from "../src/bilevel/hypergradient";
import { solveLower } from "../src/bilevel/lowerSolve";
import { lowerDerivatives, modelFreeHypergradient, type ModelFreeSettings } from "../src/bilevel/modelFree";
import { enumeratedHypergradient } from "./helpers/enumerated";
import { enumerateTrajectories, preferenceBCE, trajectoryUpper, type TrajectoryObjective } from "../src/bilevel/trajectory";
import { soBiRL, type SoBiRLState } from "../src/bilevel/algorithms/soBiRL";
import { alternating, type AlternatingState } from "../src/bilevel/algorithms/alternating";
import { rlhf } from "../src/problems/rlhf";
import { relErr } from "./helpers/compare";

beforeAll(async () => {
  await init();
});

/** φ(x) = E_{π*_x}[l] by enumeration, with a tight lower solve. */
function phiExact(inst: ReturnType<typeof rlhf>, x: ArrayLike<number>): number {
  const xx = Float64Array.from(x);
  const low = solveLower(inst.problem, xx, { tol: 1e-14 });
  return inst.objective.exactValue(inst.problem, xx, low.pi);
}

/** Central differences of a scalar function, step h·max(1, |x_k|). */
function centralDiff(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const xp = Float64Array.from(x);
  const g = new Float64Array(xp.length);
  for (let k = 0; k < xp.length; k++) {
    const step = h * Math.max(1, Math.abs(x[k]));
    xp[k] = x[k] + step;
    const fp = f(xp);
    xp[k] = x[k] - step;
    const fm = f(xp);
    xp[k] = x[k];
    g[k] = (fp - fm) / (2 * step);
  }
  return g;
}

/** Per-coordinate mean and standard error of the mean over repeated estimates. */
function meanAndSe(samples: Float64Array[]): { mean: Float64Array; se: Float64Array; sd: Float64Array } {
  const R = samples.length, n = samples[0].length;
  const mean = new Float64Array(n), sd = new Float64Array(n), se = new Float64Array(n);
  for (const s of samples) for (let k = 0; k < n; k++) mean[k] += s[k] / R;
  for (const s of samples) for (let k = 0; k < n; k++) sd[k] += (s[k] - mean[k]) ** 2 / (R - 1);
  for (let k = 0; k < n; k++) {
    sd[k] = Math.sqrt(sd[k]);
    se[k] = sd[k] / Math.sqrt(R);
  }
  return { mean, se, sd };
}

function zScores(mean: ArrayLike<number>, se: ArrayLike<number>, truth: ArrayLike<number>): number[] {
  return Array.from(mean, (m, k) => (m - truth[k]) / se[k]);
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

describe("trajectory objectives and their exact enumeration", () => {
  it("enumerates every H-step trajectory once, with probabilities that sum to 1", () => {
    const { problem } = rlhf({ seed: 3, H: 3 });
    const low = solveLower(problem, new Float64Array(6));
    const tab = enumerateTrajectories(problem.mdp, low.pi, 3);
    expect(tab.count).toBe(6 ** 3); // dense Dirichlet rows: every (s, a) path is possible
    const keys = new Set<string>();
    for (let i = 0; i < tab.count; i++) keys.add(Array.from(tab.states.subarray(3 * i, 3 * i + 3)).join() + "|" + Array.from(tab.actions.subarray(3 * i, 3 * i + 3)).join());
    expect(keys.size).toBe(tab.count);
    expect(tab.prob.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
  });

  it("the exact-enumeration value's hypergradient equals central finite differences of φ to 1e-6 relative error", () => {
    for (const opts of [{ seed: 1 }, { seed: 4, H: 3, pairs: 2, labels: "hard" as const, gammaU: 0.9 }]) {
      const inst = rlhf(opts);
      const fd = centralDiff((x) => phiExact(inst, x), inst.x0);
      // eq. (9) with ∂f/∂π from the enumeration, and the score form (13) + (14) in expectation
      const eq9 = hypergradient(inst.problem, inst.x0, { lower: { tol: 1e-14 } });
      const score = enumeratedHypergradient(inst.problem, inst.x0, { lower: { tol: 1e-14 } });
      expect(maxAbs(fd)).toBeGreaterThan(0.05);
      expect(relErr(eq9.grad, fd)).toBeLessThan(1e-6);
      expect(relErr(score.grad, fd)).toBeLessThan(1e-6);
      expect(relErr(score.grad, eq9.grad)).toBeLessThan(1e-10);
      expect(eq9.value).toBeCloseTo(phiExact(inst, inst.x0), 12);
    }
  });

  it("exactGradX and exactGradPi are the partial derivatives of exactValue", () => {
    const inst = rlhf({ seed: 2, H: 2 });
    const { problem, objective, x0 } = inst;
    const pi = solveLower(problem, x0).pi;
    const gx = objective.exactGradX(problem, x0, pi);
    const fdx = centralDiff((x) => objective.exactValue(problem, x, pi), x0);
    expect(relErr(gx, fdx)).toBeLessThan(1e-7);
    // π must stay a policy: move mass from (s, 1) to (s, 0); the derivative is gp(s,0) − gp(s,1)
    const gp = objective.exactGradPi(problem, x0, pi);
    const h = 1e-6;
    for (let s = 0; s < 3; s++) {
      const p = Float64Array.from(pi), m = Float64Array.from(pi);
      p[2 * s] += h; p[2 * s + 1] -= h;
      m[2 * s] -= h; m[2 * s + 1] += h;
      const fd = (objective.exactValue(problem, x0, p) - objective.exactValue(problem, x0, m)) / (2 * h);
      expect(Math.abs(fd - (gp[2 * s] - gp[2 * s + 1]))).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
    }
  });

  it("exactValue agrees with the average loss of 20 000 sampled pairs within 4 standard errors", () => {
    const inst = rlhf({ seed: 5, H: 3 });
    const mf = modelFreeHypergradient(inst.problem, inst.x0, { groups: 20000, seed: 11, derivative: "exact" });
    const exact = phiExact(inst, inst.x0);
    expect(mf.valueStdError).toBeGreaterThan(0);
    expect(Math.abs(mf.value - exact)).toBeLessThan(4 * mf.valueStdError);
  });
});

describe("Monte-Carlo derivatives of the lower level (Prop. 5.1)", () => {
  it("the exact ∂V* equals central finite differences of the soft optimal values", () => {
    const { problem, x0 } = rlhf({ seed: 1 });
    const pi = solveLower(problem, x0, { tol: 1e-14 }).pi;
    const d = lowerDerivatives(problem, x0, pi, { mode: "exact" });
    const n = problem.n;
    for (let s = 0; s < 3; s++) {
      const fd = centralDiff((x) => softValueIteration(problem.mdp, x, { tau: problem.tau, tol: 1e-14, maxIter: 100000 }).V[s], x0);
      expect(relErr(d.dV.subarray(s * n, s * n + n), fd)).toBeLessThan(1e-6);
    }
  });

  it("the Monte-Carlo ∂V̂ lies within 4 standard errors of the exact ∂V* in every entry", () => {
    const { problem, x0 } = rlhf({ seed: 1 });
    const pi = solveLower(problem, x0, { tol: 1e-14 }).pi;
    const exact = lowerDerivatives(problem, x0, pi, { mode: "exact" });
    // T_d = 200: truncation bias γ^200/(1−γ) ≈ 7e-9, far below the standard errors
    const mc = lowerDerivatives(problem, x0, pi, { mode: "rollout", Md: 3000, Td: 200, seed: 7, standardErrors: true });
    const z = zScores(mc.dV, mc.dVse!, exact.dV);
    expect(Math.max(...z.map(Math.abs))).toBeLessThan(4);
    // and the test has power: the standard errors are small against the values
    expect(maxAbs(mc.dVse!)).toBeLessThan(0.02 * maxAbs(exact.dV));
    // a wrong (too short) truncation is detected
    const short = lowerDerivatives(problem, x0, pi, { mode: "rollout", Md: 3000, Td: 5, seed: 7, standardErrors: true });
    expect(Math.max(...zScores(short.dV, short.dVse!, exact.dV).map(Math.abs))).toBeGreaterThan(10);
  });
});

describe("the model-free hypergradient (Prop. 5.2)", () => {
  let inst: ReturnType<typeof rlhf>;
  beforeAll(() => {
    inst = rlhf({ seed: 1 });
  });
  const exact = () => hypergradient(inst.problem, inst.x0, { lower: { tol: 1e-13 } }).grad;

  function repeat(R: number, settings: ModelFreeSettings): Float64Array[] {
    const out: Float64Array[] = [];
    for (let r = 0; r < R; r++) out.push(modelFreeHypergradient(inst.problem, inst.x0, { ...settings, seed: 1000 + r }).grad);
    return out;
  }

  for (const derivative of ["rollout", "exact"] as const) {
    it(`with ${derivative} derivatives, the mean over 200 seeds lies within 3 standard errors of the exact hypergradient`, () => {
      const g = exact();
      const { mean, se } = meanAndSe(repeat(200, { groups: 64, derivative }));
      const z = zScores(mean, se, g);
      expect(Math.max(...z.map(Math.abs))).toBeLessThan(3);
      // power: the standard errors resolve the gradient (a 10% error would be seen), and
      // dropping the exploration term (14), i.e. using E[∇_x l] alone, would fail the test
      expect(maxAbs(se)).toBeLessThan(0.03 * maxAbs(g));
      const pi = solveLower(inst.problem, inst.x0, { tol: 1e-13 }).pi;
      const exploitOnly = inst.objective.exactGradX(inst.problem, inst.x0, pi);
      expect(Math.max(...zScores(exploitOnly, se, g).map(Math.abs))).toBeGreaterThan(10);
    });
  }

  it("is unbiased with every baseline, and the leave-one-out baseline lowers the variance against none", () => {
    const g = exact();
    const none = meanAndSe(repeat(100, { groups: 32, derivative: "exact", baseline: "none" }));
    const loo = meanAndSe(repeat(100, { groups: 32, derivative: "exact", baseline: "leave-one-out" }));
    const split = meanAndSe(repeat(100, { groups: 32, derivative: "exact", baseline: "split", baselineGroups: 16 }));
    const constant = meanAndSe(repeat(100, { groups: 32, derivative: "exact", baseline: 0.9 }));
    for (const r of [none, loo, split, constant]) expect(Math.max(...zScores(r.mean, r.se, g).map(Math.abs))).toBeLessThan(3.5);
    const sum = (v: Float64Array) => v.reduce((a, b) => a + b, 0);
    expect(sum(loo.sd)).toBeLessThan(0.75 * sum(none.sd));
  });

  it("reports standard errors that match the spread of the estimates across seeds", () => {
    const runs = Array.from({ length: 150 }, (_, r) => modelFreeHypergradient(inst.problem, inst.x0, { groups: 64, derivative: "exact", seed: r }));
    const { sd } = meanAndSe(runs.map((r) => r.grad));
    const reported = new Float64Array(6);
    for (const r of runs) for (let k = 0; k < 6; k++) reported[k] += r.stdError[k] / runs.length;
    for (let k = 0; k < 6; k++) {
      expect(reported[k] / sd[k]).toBeGreaterThan(0.75);
      expect(reported[k] / sd[k]).toBeLessThan(1.33);
    }
  });

  it("gives the identical estimate for the same seed and a different one for another seed", () => {
    const a = modelFreeHypergradient(inst.problem, inst.x0, { seed: 42, groups: 16 });
    const b = modelFreeHypergradient(inst.problem, inst.x0, { seed: 42, groups: 16 });
    const c = modelFreeHypergradient(inst.problem, inst.x0, { seed: 43, groups: 16 });
    expect(Array.from(b.grad)).toEqual(Array.from(a.grad));
    expect(Array.from(b.stdError)).toEqual(Array.from(a.stdError));
    expect(b.value).toBe(a.value);
    expect(Array.from(c.grad)).not.toEqual(Array.from(a.grad));
    // the dispatch through hypergradient() is the same computation
    const d = hypergradient(inst.problem, inst.x0, { method: "model-free", modelFree: { seed: 42, groups: 16 } });
    expect(Array.from(d.grad)).toEqual(Array.from(a.grad));
    expect(d.diagnostics.method).toBe("model-free");
  });

  it("counts every sampled environment step on the work meter", () => {
    const { value: r, work } = meter(() => modelFreeHypergradient(inst.problem, inst.x0, { seed: 1, groups: 10, Md: 4, Td: 7 }));
    expect(work.sampledSteps).toBe(r.sampledSteps);
    // 10 groups of 2 trajectories of H = 2 steps, plus per visited (s, a): 2·M_d + M_d·(T_d − 1)
    expect((r.sampledSteps - 40) % (4 * 2 + 4 * 6)).toBe(0);
    expect(r.sampledSteps).toBeGreaterThan(40);
  });
});

describe("SoBiRL and the alternating baseline on tabular RLHF", () => {
  it("both lower the true objective φ from the same start, SoBiRL further than the alternating fit", () => {
    const inst = rlhf({ seed: 1 });
    const phi0 = phiExact(inst, inst.x0);
    const sob = soBiRL.run(inst.problem, { x0: inst.x0, iterations: 60, beta: 1, update: "plain", seed: 3 });
    const sobMc = soBiRL.run(inst.problem, { x0: inst.x0, iterations: 60, beta: 1, update: "plain", seed: 3, evaluation: "monte-carlo" });
    const alt = alternating.run(inst.problem, { x0: inst.x0, iterations: 60, beta: 1, seed: 3 });
    const [pS, pM, pA] = [sob, sobMc, alt].map((r) => phiExact(inst, r.x));
    expect(pS).toBeLessThan(phi0 - 0.25);
    expect(pM).toBeLessThan(phi0 - 0.25);
    expect(pA).toBeLessThan(phi0 - 0.25);
    // SoBiRL descends on φ itself; the alternating fit ignores how π moves with x and stops
    // above it (by 0.002–0.005 on seeds 1–3)
    expect(pS).toBeLessThan(pA);
    // the optimum found by exact hypergradient descent bounds both from below (up to noise)
    const best = phi(inst.problem, Float64Array.from(sob.x)).value;
    expect(best).toBeCloseTo(pS, 12);
    expect(sob.counters.sampledSteps).toBeGreaterThan(0);
    expect(sob.history).toHaveLength(60);
  });

  it("SoBiRL's warm-started mirror descent converges to π*_x when x barely moves", () => {
    const inst = rlhf({ seed: 2 });
    const r = soBiRL.run(inst.problem, { x0: inst.x0, iterations: 10, beta: 1e-12, groups: 2 });
    const pi = solveLower(inst.problem, inst.x0, { tol: 1e-14 }).pi;
    expect(relErr(r.state.pi, pi)).toBeLessThan(1e-10);
    // the residual is τ·KL(π ‖ softmax(Q^π/τ)) of the last evaluated policy: it falls to 0
    expect(r.history[9].lowerResidual).toBeLessThan(1e-12);
    expect(r.history[0].lowerResidual).toBeGreaterThan(1e-5);
    expect(r.history[1].lowerResidual).toBeLessThan(r.history[0].lowerResidual / 10);
  });

  it("a state resumed from JSON continues the same trajectory (10 steps = 5 + JSON + 5)", () => {
    const inst = rlhf({ seed: 6 });
    const cases = [
      { alg: soBiRL, opts: { x0: inst.x0, beta: 0.5, groups: 8, Md: 4, evaluation: "monte-carlo" as const, Mq: 4, seed: 9 } },
      { alg: alternating, opts: { x0: inst.x0, beta: 0.5, groups: 4, bufferSize: 12, seed: 9 } },
    ];
    for (const { alg, opts } of cases) {
      const full = (alg.run as (p: BilevelProblem, o: object) => { x: Float64Array; state: SoBiRLState | AlternatingState })(inst.problem, { ...opts, iterations: 10 });
      const half = (alg.run as (p: BilevelProblem, o: object) => { state: SoBiRLState | AlternatingState })(inst.problem, { ...opts, iterations: 5 });
      const resumed = JSON.parse(JSON.stringify(half.state));
      const rest = (alg.run as (p: BilevelProblem, o: object) => { x: Float64Array; state: SoBiRLState | AlternatingState })(inst.problem, { iterations: 5, state: resumed });
      expect(Array.from(rest.x)).toEqual(Array.from(full.x));
      expect(rest.state.k).toBe(10);
      expect(JSON.parse(JSON.stringify(rest.state))).toEqual(JSON.parse(JSON.stringify(full.state)));
      // and the runs did move
      expect(relErr(full.x, inst.x0)).toBeGreaterThan(1e-3);
    }
  });

  it("the alternating buffer keeps only the newest bufferSize groups", () => {
    const inst = rlhf({ seed: 6 });
    const r = alternating.run(inst.problem, { x0: inst.x0, iterations: 4, groups: 3, bufferSize: 5 });
    expect(r.state.bufferStates).toHaveLength(5 * 2 * 2);
    expect(r.state.bufferActions).toHaveLength(5 * 2 * 2);
  });
});

describe("a separate upper MDP M_U", () => {
  it("samples the upper trajectories from M_U: exact (9), the score form, finite differences and the model-free mean agree", () => {
    const low = rlhf({ seed: 1 });
    const other = rlhf({ seed: 7 });
    const { P } = other.problem.mdp.transitions() as { P: Float64Array };
    const mdpU = TabularMDP.dense({ S: 3, A: 2, gamma: 0.9, P, rho: [0.7, 0.2, 0.1] });
    const objective = preferenceBCE({ rTrue: low.rTrue, horizon: 2, upperMDP: mdpU });
    const reward = low.problem.reward;
    const problem = new BilevelProblem({ mdp: low.problem.mdp, tau: 1, reward, upper: trajectoryUpper(objective, reward) });
    const x0 = low.x0;
    const fd = centralDiff((x) => objective.exactValue(problem, x, solveLower(problem, x, { tol: 1e-14 }).pi), x0);
    const eq9 = hypergradient(problem, x0, { lower: { tol: 1e-14 } }).grad;
    expect(relErr(eq9, fd)).toBeLessThan(1e-6);
    expect(relErr(enumeratedHypergradient(problem, x0, { lower: { tol: 1e-14 } }).grad, fd)).toBeLessThan(1e-6);
    // M_U matters: the same objective on the lower MDP has another gradient
    expect(relErr(hypergradient(low.problem, x0).grad, eq9)).toBeGreaterThan(0.05);
    const runs = Array.from({ length: 150 }, (_, r) => modelFreeHypergradient(problem, x0, { groups: 64, seed: 300 + r }).grad);
    const { mean, se } = meanAndSe(runs);
    expect(Math.max(...zScores(mean, se, eq9).map(Math.abs))).toBeLessThan(3);
  });
});

describe("bad input gives typed errors that name what and where", () => {
  let inst: ReturnType<typeof rlhf>;
  beforeAll(() => {
    inst = rlhf({ seed: 1 });
  });

  it("rejects a non-finite x", () => {
    const bad = [0, 0, NaN, 0, 0, 0];
    expect(() => modelFreeHypergradient(inst.problem, bad)).toThrow(DomainError);
    expect(() => modelFreeHypergradient(inst.problem, bad)).toThrow(/x\[2\]: entries must be finite numbers; got NaN/);
    expect(() => soBiRL.init(inst.problem, { x0: [0, Infinity, 0, 0, 0, 0] })).toThrow(/x\[1\]: entries must be finite/);
    expect(() => modelFreeHypergradient(inst.problem, [0, 0])).toThrow(ShapeError);
  });

  it("rejects a gradient callback of the wrong length and a non-finite loss, naming the group", () => {
    const base = inst.objective;
    const short: TrajectoryObjective = { groupSize: 2, horizon: 2, loss: (x, g, c) => base.loss(x, g, c), gradX: () => new Float64Array(5) };
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { objective: short })).toThrow(ShapeError);
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { objective: short })).toThrow(/objective\.gradX \(group=0\): must produce 6 numbers; got 5/);
    const nan: TrajectoryObjective = { ...short, gradX: (x, g, out, c) => base.gradX(x, g, out, c), loss: () => NaN };
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { objective: nan })).toThrow(/objective\.loss \(group=0\): must return a finite number; got NaN/);
  });

  it("rejects tau = 0, where π* is not differentiable", () => {
    const { problem, objective } = rlhf({ seed: 1, tau: 0 });
    expect(() => modelFreeHypergradient(problem, new Float64Array(6), { objective })).toThrow(DomainError);
    expect(() => modelFreeHypergradient(problem, new Float64Array(6))).toThrow(/tau: the model-free hypergradient needs an entropy temperature tau > 0; got 0/);
    expect(() => soBiRL.init(problem, {})).toThrow(/tau: SoBiRL needs an entropy temperature tau > 0/);
  });

  it("rejects bad settings and a problem without a trajectory objective", () => {
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { groups: 1 })).toThrow(/groups: the leave-one-out baseline needs at least 2 groups; got 1/);
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { derivative: "magic" as "exact" })).toThrow(/derivative: must be 'rollout' or 'exact'/);
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { Md: 0 })).toThrow(/Md: must be a positive integer; got 0/);
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { baseline: "mean" as "none" })).toThrow(DomainError);
    const plain = new BilevelProblem({ mdp: inst.problem.mdp, tau: 1, reward: inst.problem.reward, upper: { value: () => 0, gradX: () => {}, gradPi: () => {} } });
    expect(() => modelFreeHypergradient(plain, inst.x0)).toThrow(/objective: is required/);
    expect(() => alternating.init(plain, {})).toThrow(ShapeError);
    expect(() => preferenceBCE({ rTrue: [0, 1, NaN], horizon: 2 })).toThrow(/rTrue\[2\]: entries must be finite/);
    expect(() => preferenceBCE({ rTrue: [0, 1], horizon: 0 })).toThrow(/horizon: must be a positive integer/);
    // a reward table of the wrong size for the MDP
    const wrong = preferenceBCE({ rTrue: [0, 1, 2, 3], horizon: 2 });
    expect(() => modelFreeHypergradient(inst.problem, inst.x0, { objective: wrong })).toThrow(/rTrue: must have length S·A = 6 of the MDP; got 4/);
    // enumeration refuses sizes it cannot handle
    const big = rlhf({ seed: 1, H: 6 });
    expect(() => phi(big.problem, big.x0)).toThrow(/exact enumeration needs/);
    expect(() => trajectoryUpper(inst.objective, linearReward(new Float64Array(36), 6), { exact: false }).value(inst.x0, new Float64Array(6).fill(0.5), inst.problem.mdp)).toThrow(/exact: false/);
  });
});
