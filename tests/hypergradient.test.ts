import { beforeAll, describe, expect, it } from "vitest";
import { init, TabularMDP, DomainError, ShapeError, solveLinear } from "../src/index";
import { BilevelProblem, type PolicyObjective } from "../src/bilevel/problem";
import { linearReward, policyL2, policyLinear, upperReturn } from "../src/bilevel/models";
import { hypergradient, phi, uTranspose } from "../src/bilevel/hypergradient";
import { solveLower } from "../src/bilevel/lowerSolve";
import { trackW } from "../src/bilevel/algorithms/mSoBiRL";
import { randomCsr, randomDense, randomVector } from "./helpers/random-mdp";
import { sineReward } from "./helpers/random-bilevel";
import { relErrInf as relErr } from "./helpers/rel-err";

beforeAll(async () => {
  await init();
});

describe("relErr, the comparison helper", () => {
  it("reports the largest deviation relative to the largest reference entry", () => {
    expect(relErr([1, 2, 3.5], [1, 2, 3])).toBeCloseTo(0.5 / 3, 15);
    expect(relErr([0, 0], [0, 1])).toBe(1);
  });
});

type Kind = "dense" | "csr";
function makeMdp(kind: Kind, seed: number, S = 4, A = 3, gamma = 0.8): TabularMDP {
  return kind === "dense" ? TabularMDP.dense(randomDense(S, A, gamma, seed)) : TabularMDP.sparse(randomCsr(S, A, gamma, Math.min(3, S), seed));
}

/** A generic smooth f with an x–π cross term (not random-bilevel's crossObjective: this one is quartic in x and has π²Bx). */
function crossObjective(SA: number, n: number, seed: number): PolicyObjective {
  const c = randomVector(SA, seed), B = randomVector(SA * n, seed + 1);
  return {
    value(x, pi) {
      let v = 0;
      for (let i = 0; i < SA; i++) {
        let bx = 0;
        for (let k = 0; k < n; k++) bx += B[i * n + k] * x[k];
        v += c[i] * pi[i] + pi[i] * pi[i] * bx;
      }
      for (let k = 0; k < n; k++) v += 0.05 * x[k] ** 4;
      return v;
    },
    gradX(x, pi, out) {
      for (let k = 0; k < n; k++) out[k] = 0.2 * x[k] ** 3;
      for (let i = 0; i < SA; i++) for (let k = 0; k < n; k++) out[k] += pi[i] * pi[i] * B[i * n + k];
    },
    gradPi(x, pi, out) {
      for (let i = 0; i < SA; i++) {
        let bx = 0;
        for (let k = 0; k < n; k++) bx += B[i * n + k] * x[k];
        out[i] = c[i] + 2 * pi[i] * bx;
      }
    },
  };
}

describe("the exact hypergradient (eq. 9)", () => {
  const cases: Array<[Kind, number]> = [["dense", 1], ["dense", 2], ["dense", 3], ["csr", 4], ["csr", 5], ["csr", 6]];
  it.each(cases)("equals central finite differences of φ to 1e-6 on a random %s MDP (seed %i) with a non-linear reward and a cross-term objective", (kind, seed) => {
    const mdp = makeMdp(kind, seed);
    const SA = mdp.S * mdp.A, n = 3;
    const problem = new BilevelProblem({ mdp, tau: 0.7, reward: sineReward(SA, n, seed + 10), upper: crossObjective(SA, n, seed + 20) });
    const x = randomVector(n, seed + 30);
    const ex = hypergradient(problem, x, { method: "exact" });
    const fd = hypergradient(problem, x, { method: "finite-difference" });
    expect(relErr(ex.grad, fd.grad)).toBeLessThan(1e-6);
    expect(ex.diagnostics.lowerConverged).toBe(true);
    expect(ex.diagnostics.linearConverged).toBe(true);
    expect(ex.value).toBeCloseTo(fd.value, 12);
  });

  it.each([["value-iteration"], ["policy-iteration"]] as const)("gives the same gradient with the %s lower solver", (solver) => {
    const mdp = makeMdp("dense", 7, 6, 3, 0.9);
    const problem = new BilevelProblem({ mdp, tau: 0.5, reward: linearReward(randomVector(18 * 4, 8), 4), upper: policyL2() });
    const x = randomVector(4, 9);
    const ref = hypergradient(problem, x, { method: "exact", lower: { solver: "value-iteration", tol: 1e-13 } });
    const g = hypergradient(problem, x, { method: "exact", lower: { solver } });
    expect(relErr(g.grad, ref.grad)).toBeLessThan(1e-9);
  });

  it.each([["lu"], ["krylov"], ["richardson"]] as const)("gives the same gradient with the %s linear solver", (linear) => {
    const mdp = makeMdp("csr", 11, 8, 3, 0.9);
    const problem = new BilevelProblem({ mdp, tau: 0.5, reward: linearReward(randomVector(24 * 3, 12), 3), upper: policyLinear(randomVector(24, 13), 0.1) });
    const x = randomVector(3, 14);
    const ref = hypergradient(problem, x, { method: "exact", linear: "lu" });
    const g = hypergradient(problem, x, { method: "exact", linear });
    expect(relErr(g.grad, ref.grad)).toBeLessThan(1e-9);
  });

  it("matches finite differences with a CSR feature matrix Φ", () => {
    const mdp = makeMdp("csr", 15, 5, 2, 0.85);
    const SA = 10, n = 4;
    const indptr = [0], indices: number[] = [], values: number[] = [];
    const vals = randomVector(SA * 2, 16);
    for (let i = 0; i < SA; i++) {
      indices.push(i % n, (i + 1) % n);
      values.push(vals[2 * i], vals[2 * i + 1]);
      indptr.push(indices.length);
    }
    const problem = new BilevelProblem({ mdp, tau: 0.3, reward: linearReward({ indptr, indices, values }, n), upper: upperReturn({ r: randomVector(SA, 17), lambda: 0.01 }) });
    const x = randomVector(n, 18);
    expect(relErr(hypergradient(problem, x).grad, hypergradient(problem, x, { method: "finite-difference" }).grad)).toBeLessThan(1e-6);
  });
});

describe("the AMD recursion (docs/math.md#amd)", () => {
  it.each([["dense", 21], ["csr", 22], ["dense", 23]] as const)("equals the exact hypergradient to 1e-6 for a return-type objective on a random %s MDP (seed %i)", (kind, seed) => {
    const mdp = makeMdp(kind, seed);
    const SA = mdp.S * mdp.A, n = 3;
    const problem = new BilevelProblem({ mdp, tau: 0.7, reward: linearReward(randomVector(SA * n, seed + 1), n), upper: upperReturn({ r: randomVector(SA, seed + 2), lambda: 0.1 }) });
    const x = randomVector(n, seed + 3);
    const ex = hypergradient(problem, x, { method: "exact" });
    const am = hypergradient(problem, x, { method: "amd" });
    expect(relErr(am.grad, ex.grad)).toBeLessThan(1e-6);
  });

  it("refuses an objective that is not a return", () => {
    const mdp = makeMdp("dense", 24);
    const problem = new BilevelProblem({ mdp, tau: 0.7, reward: linearReward(randomVector(12 * 2, 1), 2), upper: policyL2() });
    expect(() => hypergradient(problem, [0, 0], { method: "amd" })).toThrow(/upperReturn/);
  });
});

describe("M-SoBiRL's w iteration (docs/math.md#consistency-checks item 6)", () => {
  it.each([["least-squares", 3000], ["richardson", 200]] as const)("converges to the transposed solve with frozen x and π (%s), so its ĥ equals the exact hypergradient", (mode, steps) => {
    const mdp = makeMdp("dense", 31, 5, 3, 0.8);
    const SA = 15, n = 3;
    const problem = new BilevelProblem({ mdp, tau: 0.7, reward: linearReward(randomVector(SA * n, 32), n), upper: policyL2() });
    const x = randomVector(n, 33);
    const low = solveLower(problem, x);
    const gPi = problem.gradPi(x, low.pi);
    const v = low.pi.map((p, i) => p * gPi[i]);
    const b = uTranspose(problem, v);
    const wStar = solveLinear(mdp, low.pi, b, { transpose: true }).x;
    let w: Float64Array = new Float64Array(mdp.S);
    for (let t = 0; t < steps; t++) w = trackW(mdp, low.pi, w, b, 0.5, mode);
    expect(relErr(w, wStar)).toBeLessThan(1e-10);
  });
});

describe("lower solvers", () => {
  it("soft policy iteration converges in far fewer iterations than value iteration to the same optimum", () => {
    const mdp = makeMdp("csr", 41, 30, 4, 0.99);
    const problem = new BilevelProblem({ mdp, tau: 0.1, reward: linearReward(randomVector(120 * 2, 42), 2), upper: policyL2() });
    const x = Float64Array.from([1, -1]);
    const vi = solveLower(problem, x, { solver: "value-iteration", tol: 1e-11, extrapolate: false });
    const pi = solveLower(problem, x, { solver: "policy-iteration", tol: 1e-11 });
    expect(vi.converged && pi.converged).toBe(true);
    expect(pi.iterations).toBeLessThan(20);
    expect(vi.iterations).toBeGreaterThan(200);
    expect(relErr(pi.V, vi.V)).toBeLessThan(1e-9);
  });

  it("value iteration with error bounds (the default) reaches the same optimum, V within tol of V*, in fewer sweeps", () => {
    const mdp = makeMdp("csr", 41, 30, 4, 0.99);
    const problem = new BilevelProblem({ mdp, tau: 0.1, reward: linearReward(randomVector(120 * 2, 42), 2), upper: policyL2() });
    const x = Float64Array.from([1, -1]);
    const plain = solveLower(problem, x, { tol: 1e-11, extrapolate: false });
    const bounded = solveLower(problem, x, { tol: 1e-11 });
    const exact = solveLower(problem, x, { solver: "policy-iteration", tol: 1e-14 });
    expect(bounded.converged).toBe(true);
    expect(bounded.residual).toBeLessThanOrEqual(1e-11);
    expect(bounded.iterations).toBeLessThan(plain.iterations / 3);
    let err = 0;
    for (let s = 0; s < mdp.S; s++) err = Math.max(err, Math.abs(bounded.V[s] - exact.V[s]));
    expect(err).toBeLessThanOrEqual(1e-11);
  });

  it("φ(x) equals f at the lower optimum", () => {
    const mdp = makeMdp("dense", 43);
    const c = randomVector(12, 44);
    const problem = new BilevelProblem({ mdp, tau: 0.5, reward: linearReward(randomVector(24, 45), 2), upper: policyLinear(c, 0) });
    const { value, low } = phi(problem, Float64Array.from([0.3, -0.2]));
    expect(value).toBeCloseTo(low.pi.reduce((acc, p, i) => acc + p * c[i], 0), 14);
  });
});

describe("bad input to the bilevel layer", () => {
  const mdpOf = () => makeMdp("dense", 51);
  it("rejects a non-finite x and names its position", () => {
    const problem = new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: policyL2() });
    expect(() => hypergradient(problem, [0, NaN])).toThrow(DomainError);
    expect(() => hypergradient(problem, [0, NaN])).toThrow(/x\[1\].*finite/);
  });
  it("rejects a lower solver, or an extrapolate, of the wrong kind, naming the option", () => {
    const problem = new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: policyL2() });
    expect(() => solveLower(problem, Float64Array.from([0, 0]), { extrapolate: "yes" as never })).toThrow(DomainError);
    expect(() => solveLower(problem, Float64Array.from([0, 0]), { extrapolate: 1 as never })).toThrow(/^extrapolate\b.*boolean/);
    expect(() => solveLower(problem, Float64Array.from([0, 0]), { solver: "newton" as never })).toThrow(/^solver\b/);
  });
  it("rejects x of the wrong length", () => {
    const problem = new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: policyL2() });
    expect(() => hypergradient(problem, [0, 1, 2])).toThrow(ShapeError);
  });
  it("rejects a Φ whose rows do not match S·A", () => {
    expect(() => new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(26, 1), 2), upper: policyL2() })).toThrow(/13 rows but the MDP has S·A = 12/);
    expect(() => linearReward(randomVector(25, 1), 2)).toThrow(/multiple of n = 2/);
  });
  it("rejects a c whose length does not match S·A", () => {
    expect(() => new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: policyLinear(randomVector(10, 1)) })).toThrow(/10 state-action pairs/);
  });
  it("rejects tau = 0 for the exact hypergradient, which needs the soft optimum", () => {
    const problem = new BilevelProblem({ mdp: mdpOf(), tau: 0, reward: linearReward(randomVector(24, 1), 2), upper: policyL2() });
    expect(() => hypergradient(problem, [0, 0])).toThrow(/tau > 0/);
  });
  it("names a gradient callback that returns the wrong length or NaN", () => {
    const base = policyL2();
    const wrongLen: PolicyObjective = { ...base, gradPi: () => new Float64Array(3) };
    const nan: PolicyObjective = { ...base, gradX: (_x, _p, out) => { out.fill(NaN); } };
    const p1 = new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: wrongLen });
    const p2 = new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: nan });
    expect(() => hypergradient(p1, [0, 0])).toThrow(/upper\.gradPi: must produce 12 numbers; got 3/);
    expect(() => hypergradient(p2, [0, 0])).toThrow(/upper\.gradX\[0\]: must produce finite numbers; got NaN/);
  });
  it("rejects an unknown hypergradient method", () => {
    const problem = new BilevelProblem({ mdp: mdpOf(), tau: 0.5, reward: linearReward(randomVector(24, 1), 2), upper: policyL2() });
    expect(() => hypergradient(problem, [0, 0], { method: "magic" as never })).toThrow(DomainError);
  });
});
