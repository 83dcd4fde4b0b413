// x-dependent upper rewards r_U(x) in upperReturn (docs/math.md#upper-reward) through every
// hypergradient method, and the reverse-mode 'amd' with its warm start (docs/math.md#amd),
// on the SIMD and the scalar build.
import { beforeAll, describe, expect, it } from "vitest";
import { init, TabularMDP, DomainError, ShapeError, buildExperiment, validateExperiment, type Backend } from "../src/index";
import { BilevelProblem, type RewardModel } from "../src/bilevel/problem";
import { linearReward, upperReturn } from "../src/bilevel/models";
import { hypergradient, phi, type AmdState } from "../src/bilevel/hypergradient";
import { modelFreeHypergradient } from "../src/bilevel/modelFree";
import { returnLoss, withTrajectory } from "../src/bilevel/compare";
import { garnet } from "../src/problems/gridworld";
import { incentive, incentiveObjective } from "../src/problems/incentive";
import { oneHotFeatures } from "../src/problems/gridGoal";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";
import { sineReward } from "./helpers/random-bilevel";
import { relErr } from "./helpers/compare";

let builds: [string, Backend][];
beforeAll(async () => {
  builds = [["simd", await init({ simd: true })], ["scalar", await init({ simd: false })]];
});

const S = 5, A = 3, SA = S * A, n = 3, GAMMA = 0.8, TAU = 0.5;

/** A non-linear upper reward r_U(x) = c + Ψx + 0.2·cos(Φx), with a vjp only (no Jacobian). */
function cosUpperReward(seed: number): RewardModel {
  const c = randomVector(SA, seed), Psi = randomVector(SA * n, seed + 1), Phi = randomVector(SA * n, seed + 2);
  const lin = (M: Float64Array, x: Float64Array, i: number) => {
    let acc = 0;
    for (let k = 0; k < n; k++) acc += M[i * n + k] * x[k];
    return acc;
  };
  return {
    dim: n,
    rows: SA,
    reward(x, out) {
      for (let i = 0; i < SA; i++) out[i] = c[i] + lin(Psi, x, i) + 0.2 * Math.cos(lin(Phi, x, i));
    },
    vjp(x, u, out) {
      out.fill(0);
      for (let i = 0; i < SA; i++) {
        const s = -0.2 * Math.sin(lin(Phi, x, i));
        for (let k = 0; k < n; k++) out[k] += u[i] * (Psi[i * n + k] + s * Phi[i * n + k]);
      }
    },
  };
}

function mdpOf(kind: "dense" | "csr", seed: number, backend: Backend): TabularMDP {
  const rho = randomVector(S, seed + 50, 0.1, 1);
  let sum = 0;
  for (const v of rho) sum += v;
  for (let s = 0; s < S; s++) rho[s] /= sum;
  if (kind === "dense") return TabularMDP.dense({ ...randomDense(S, A, GAMMA, seed), rho, backend });
  const m = randomCsr(S, A, GAMMA, 3, seed);
  return TabularMDP.sparse({ S, A, gamma: GAMMA, indptr: m.indptr, indices: m.indices, probs: m.probs, rho, backend });
}

function problemOf(kind: "dense" | "csr", seed: number, backend: Backend, upperRho = true): BilevelProblem {
  const mdp = mdpOf(kind, seed, backend);
  const rhoU = upperRho ? randomVector(S, seed + 60, 0.1, 1) : undefined;
  if (rhoU) {
    let sum = 0;
    for (const v of rhoU) sum += v;
    for (let s = 0; s < S; s++) rhoU[s] /= sum;
  }
  return new BilevelProblem({ mdp, tau: TAU, reward: sineReward(SA, n, seed + 10), upper: upperReturn({ r: cosUpperReward(seed + 20), lambda: 0.1, rho: rhoU }) });
}

/** Central differences of φ with tight lower solves, computed here (not by the library's 'finite-difference'). */
function centralPhi(problem: BilevelProblem, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const xp = Float64Array.from(x);
  for (let k = 0; k < x.length; k++) {
    xp[k] = x[k] + h;
    const fp = phi(problem, xp, { tol: 1e-14 }).value;
    xp[k] = x[k] - h;
    const fm = phi(problem, xp, { tol: 1e-14 }).value;
    xp[k] = x[k];
    g[k] = (fp - fm) / (2 * h);
  }
  return g;
}

describe.each(["simd", "scalar"])("x-dependent upper rewards on the %s build (docs/math.md#upper-reward)", (name) => {
  const backend = () => builds.find(([b]) => b === name)![1];

  it("has ∂f/∂x = λx − R_Uᵀ(d̃ ⊙ π) equal to central differences of f at a fixed policy [C28]", () => {
    const problem = problemOf("dense", 1, backend());
    const x = randomVector(n, 2);
    const pi = randomPolicy(S, A, 3);
    const g = problem.gradX(x, pi);
    const fd = new Float64Array(n);
    const h = 1e-6;
    for (let k = 0; k < n; k++) {
      const xp = Float64Array.from(x), xm = Float64Array.from(x);
      xp[k] += h;
      xm[k] -= h;
      fd[k] = (problem.value(xp, pi) - problem.value(xm, pi)) / (2 * h);
    }
    expect(relErr(g, fd)).toBeLessThan(1e-8);
    // the direct term is there: λx alone is far off
    expect(relErr(x.map((v) => 0.1 * v), fd)).toBeGreaterThan(0.1);
  });

  it.each([["dense", 4], ["csr", 5], ["dense", 6]] as const)("gives 'exact', 'amd' and 'finite-difference' hypergradients equal to central differences of φ on a random %s MDP (seed %i)", (kind, seed) => {
    const problem = problemOf(kind, seed, backend());
    const x = randomVector(n, seed + 30);
    const fd = centralPhi(problem, x);
    const ex = hypergradient(problem, x, { method: "exact", lower: { tol: 1e-14 } });
    const am = hypergradient(problem, x, { method: "amd", lower: { tol: 1e-14 } });
    const fdm = hypergradient(problem, x, { method: "finite-difference" });
    expect(relErr(ex.grad, fd)).toBeLessThan(1e-7);
    expect(relErr(am.grad, fd)).toBeLessThan(1e-7);
    expect(relErr(fdm.grad, fd)).toBeLessThan(1e-7);
    expect(relErr(am.grad, ex.grad)).toBeLessThan(1e-10);
    expect(Math.abs(am.value - ex.value)).toBeLessThan(1e-12 * Math.max(1, Math.abs(ex.value)));
    // power: freezing r_U at r_U(x) (dropping the direct term) misses the gradient
    const frozen = new BilevelProblem({ mdp: problem.mdp, tau: TAU, reward: problem.reward, upper: upperReturn({ r: (problem.upper as ReturnType<typeof upperReturn>).upperReward(x, SA), lambda: 0.1, rho: (problem.upper as ReturnType<typeof upperReturn>).rhoU }) });
    expect(relErr(hypergradient(frozen, x, { method: "exact" }).grad, fd)).toBeGreaterThan(0.05);
  });

  it("agrees with 'exact' to 1e-8 relative with every linear solver on a 60-state garnet with r_U(x) = r_D − ½Φx", () => {
    const { problem, x } = garnetProblem(60, backend());
    const ex = hypergradient(problem, x, { method: "exact" });
    for (const linear of ["lu", "krylov", "bicgstab", "richardson"] as const) {
      const am = hypergradient(problem, x, { method: "amd", linear });
      expect(am.diagnostics.linearConverged).toBe(true);
      expect(relErr(am.grad, ex.grad)).toBeLessThan(1e-8);
      expect(Math.abs(am.value - ex.value)).toBeLessThan(1e-10);
    }
  });

  it("warm-starts 'amd' from the previous call's tables: the same gradient within 1e-9, in fewer iterations", () => {
    const { problem, x } = garnetProblem(60, backend());
    const xPrev = x.map((v, k) => v - 1e-3 * Math.cos(k));
    for (const linear of ["richardson", "krylov", "lu"] as const) {
      const prev = hypergradient(problem, xPrev, { method: "amd", linear });
      const cold = hypergradient(problem, x, { method: "amd", linear });
      const warm = hypergradient(problem, x, { method: "amd", linear, amd: { state: prev.amdState } });
      expect(relErr(warm.grad, cold.grad)).toBeLessThan(1e-9);
      const work = (r: typeof cold) => r.diagnostics.lowerIterations + r.diagnostics.linearIterations;
      expect(warm.diagnostics.lowerIterations).toBeLessThan(cold.diagnostics.lowerIterations);
      expect(work(warm)).toBeLessThan(work(cold));
      // the literal recursion ('richardson' sweeps) needs far fewer sweeps from nearby tables
      if (linear === "richardson") expect(warm.diagnostics.linearIterations).toBeLessThan(0.8 * cold.diagnostics.linearIterations);
      // from the tables at x itself almost nothing is left to do
      const again = hypergradient(problem, x, { method: "amd", linear, amd: { state: warm.amdState } });
      expect(again.diagnostics.lowerIterations).toBeLessThanOrEqual(2);
      expect(relErr(again.grad, cold.grad)).toBeLessThan(1e-9);
    }
  });

  it("takes its state as plain data: arrays of numbers from a JSON round trip work as well as the typed arrays", () => {
    const { problem, x } = garnetProblem(30, backend());
    const first = hypergradient(problem, x, { method: "amd" });
    const plain = JSON.parse(JSON.stringify(first.amdState, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v))) as AmdState;
    const a = hypergradient(problem, x, { method: "amd", amd: { state: plain } });
    const b = hypergradient(problem, x, { method: "amd", amd: { state: first.amdState } });
    expect(Array.from(a.grad)).toEqual(Array.from(b.grad));
    expect(Object.keys(first.amdState!).sort()).toEqual(["V", "VU", "d", "z"]);
    for (const v of Object.values(first.amdState!)) expect(v).toBeInstanceOf(Float64Array);
  });

  it("refuses a bad 'amd' state and bad upper reward models with typed errors that name the argument", () => {
    const { problem, x } = garnetProblem(30, backend());
    const st = hypergradient(problem, x, { method: "amd" }).amdState!;
    const bad = (state: unknown) => () => hypergradient(problem, x, { method: "amd", amd: { state: state as AmdState } });
    expect(bad({ ...st, d: new Float64Array(29) })).toThrow(ShapeError);
    expect(bad({ ...st, d: new Float64Array(29) })).toThrow(/amd\.state\.d.*length 30/);
    expect(bad({ V: st.V, VU: st.VU, d: st.d })).toThrow(/amd\.state\.z/);
    expect(bad({ ...st, VU: Float64Array.from(st.VU, (v, i) => (i === 3 ? NaN : v)) })).toThrow(DomainError);
    expect(bad(7)).toThrow(ShapeError);
    expect(() => hypergradient(problem, x, { method: "amd", amd: "warm" as never })).toThrow(ShapeError);
    // reward models: no derivative, a wrong n, a wrong S·A, a wrong output length, NaN
    const mdp = problem.mdp;
    const base = { dim: 30, reward: (_x: Float64Array, out: Float64Array) => out.fill(1) };
    expect(() => upperReturn({ r: base as RewardModel })).toThrow(/vjp.*jacobian/);
    expect(() => upperReturn({ r: { ...base, dim: 0, vjp: () => undefined } as RewardModel })).toThrow(/r\.dim/);
    const make = (m: RewardModel) => new BilevelProblem({ mdp, tau: 0.1, reward: problem.reward, upper: upperReturn({ r: m }) });
    expect(() => make({ ...base, dim: 29, vjp: (_x, _u, o) => o.fill(0) })).toThrow(ShapeError);
    expect(() => make({ ...base, rows: 121, vjp: (_x, _u, o) => o.fill(0) })).toThrow(/121 state-action pairs/);
    const short = make({ dim: 30, reward: () => new Float64Array(5), vjp: (_x, _u, o) => o.fill(0) });
    for (const method of ["exact", "amd"] as const) expect(() => hypergradient(short, x, { method })).toThrow(ShapeError);
    const nan = make({ dim: 30, reward: (_x, out) => out.fill(NaN), vjp: (_x, _u, o) => o.fill(0) });
    for (const method of ["exact", "amd"] as const) expect(() => hypergradient(nan, x, { method })).toThrow(DomainError);
    const wrongVjp = make({ dim: 30, reward: (_x, out) => out.fill(1), vjp: () => new Float64Array(3) });
    for (const method of ["exact", "amd"] as const) expect(() => hypergradient(wrongVjp, x, { method })).toThrow(ShapeError);
  });

  it("runs the incentive problem (r_U(x) = r_D − κx) through 'amd' with the exact method's answer", () => {
    const inc = incentive({ kappa: 0.7, backend: backend() });
    const x = randomVector(inc.problem.n, 9, 0, 0.5);
    const ex = hypergradient(inc.problem, x, { method: "exact" });
    const am = hypergradient(inc.problem, x, { method: "amd" });
    expect(relErr(am.grad, ex.grad)).toBeLessThan(1e-8);
    expect(Math.abs(am.value - ex.value)).toBeLessThan(1e-10);
  });
});

describe("the model-free estimator with an x-dependent upper reward (docs/math.md#upper-reward, docs/math.md#model-free)", () => {
  it.each(["simd", "scalar"])("on the %s build lies within 4 standard errors of central differences of φ, and would not without the sampled direct term", (name) => {
    const backend = builds.find(([b]) => b === name)![1];
    const problem = problemOf("dense", 7, backend, false);
    const up = problem.upper as ReturnType<typeof upperReturn>;
    const x = randomVector(n, 8);
    const fd = centralPhi(problem, x);
    // returnLoss with the reward model: ∇_x l = λx − R_Uᵀ Σ_t γ^t e_(s_t,a_t), the sampled direct term; H = 160 makes γ^H negligible
    const withModel = withTrajectory(problem, returnLoss({ reward: up.rUModel!, gamma: GAMMA, lambda: 0.1, horizon: 160 }));
    const est = modelFreeHypergradient(withModel, x, { groups: 30000, derivative: "exact", seed: 11 });
    const z = Array.from(est.grad, (g, k) => (g - fd[k]) / est.stdError[k]);
    expect(Math.max(...z.map(Math.abs))).toBeLessThan(4);
    expect(Math.max(...est.stdError)).toBeLessThan(0.1 * Math.max(...fd.map(Math.abs)));
    // the same estimator with r_U frozen at r_U(x) (no direct term) is many standard errors off
    const frozen = withTrajectory(problem, returnLoss({ reward: up.upperReward(x, SA), gamma: GAMMA, lambda: 0.1, horizon: 160 }));
    const off = modelFreeHypergradient(frozen, x, { groups: 30000, derivative: "exact", seed: 11 });
    const zOff = Array.from(off.grad, (g, k) => (g - fd[k]) / off.stdError[k]);
    expect(Math.max(...zOff.map(Math.abs))).toBeGreaterThan(10);
  });
});

/** Garnet (CSR, branching 3, A = 4, γ = 0.9), r_x = r + Φx, upper r_U(x) = r_D − ½Φx, Φ one-hot states (n = S), λ = 1e-3. */
function garnetProblem(S: number, backend: Backend): { problem: BilevelProblem; x: Float64Array } {
  const g = garnet({ S, A: 4, branching: 3, gamma: 0.9, seed: 1, backend });
  const rD = randomVector(S * 4, 2);
  const Phi = linearReward(oneHotFeatures(S, 4), S);
  const reward: RewardModel = {
    dim: S,
    rows: S * 4,
    reward(x, out) {
      Phi.reward(x, out);
      for (let i = 0; i < out.length; i++) out[i] += g.reward[i];
    },
    vjp: (x, u, out) => Phi.vjp!(x, u, out),
  };
  const upperModel: RewardModel = {
    dim: S,
    rows: S * 4,
    reward(x, out) {
      Phi.reward(x, out);
      for (let i = 0; i < out.length; i++) out[i] = rD[i] - 0.5 * out[i];
    },
    vjp(x, u, out) {
      Phi.vjp!(x, u, out);
      for (let k = 0; k < out.length; k++) out[k] *= -0.5;
    },
  };
  const problem = new BilevelProblem({ mdp: g.mdp, tau: 0.1, reward, upper: upperReturn({ r: upperModel, lambda: 1e-3 }) });
  return { problem, x: randomVector(S, 3, -0.3, 0.3) };
}

describe("experiment files: upperReturn with an x-dependent reward in the lower reward's vocabulary", () => {
  // S = 2, A = 2: lower r_x = r_F + x (table), upper r_U(x) = r_D − κx (linear with offset), κ = 0.5
  const P = [[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0, 1]]];
  const rF = [0.3, -0.2, 0.5, 0.1], rD = [1, -0.5, 0.2, 0.7];
  const Phi = [[-0.5, 0, 0, 0], [0, -0.5, 0, 0], [0, 0, -0.5, 0], [0, 0, 0, -0.5]];
  const doc = (upper: unknown) => ({
    version: 1,
    seed: 1,
    problem: { mdp: { S: 2, A: 2, gamma: 0.9, P }, reward: { table: { offset: rF } }, upper, tau: 0.2 },
    algorithm: { name: "exactDescent" },
    iterations: 2,
  });

  it("builds the incentive designer's objective: the same φ and ∇φ as incentiveObjective, within 1e-12", () => {
    const v = validateExperiment(doc({ upperReturn: { reward: { linear: { Phi, n: 4, offset: rD } } } }));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect((v.experiment.problem as { upper: { upperReturn: { reward?: unknown } } }).upper.upperReturn.reward).toEqual({ linear: { Phi, n: 4, offset: rD } });
    const { problem } = buildExperiment(v.experiment);
    const direct = new BilevelProblem({ mdp: problem.mdp, tau: 0.2, reward: problem.reward, upper: incentiveObjective({ rD, kappa: 0.5 }) });
    const x = Float64Array.from([0.2, 0.1, 0, 0.4]);
    for (const method of ["exact", "amd"] as const) {
      const a = hypergradient(problem, x, { method }), b = hypergradient(direct, x, { method: "exact" });
      expect(Math.abs(a.value - b.value)).toBeLessThan(1e-12);
      expect(relErr(a.grad, b.grad)).toBeLessThan(1e-12);
    }
  });

  it("names the path when both r and reward are given, or when the upper reward's n is not the lower reward's", () => {
    const both = validateExperiment(doc({ upperReturn: { r: rD, reward: { table: {} } } }));
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.errors.map((e) => e.path)).toContain("/problem/upper/upperReturn/reward");
    const wrongN = validateExperiment(doc({ upperReturn: { reward: { state: {} } } }));
    expect(wrongN.ok).toBe(false);
    if (!wrongN.ok) expect(wrongN.errors.map((e) => `${e.path}: ${e.message}`).join("\n")).toMatch(/upperReturn\/reward: expected an upper reward of the lower reward's dimension n = 4, got n = 2/);
    const badPhi = validateExperiment(doc({ upperReturn: { reward: { linear: { Phi: [1, 2, 3], n: 4 } } } }));
    expect(badPhi.ok).toBe(false);
    if (!badPhi.ok) expect(badPhi.errors[0].path).toBe("/problem/upper/upperReturn/reward/linear/Phi");
    const unknownKind = validateExperiment(doc({ upperReturn: { reward: { cubic: {} } } }));
    expect(unknownKind.ok).toBe(false);
  });
});
