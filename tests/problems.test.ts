// The built-in problem generators: construction (shapes, stochastic rows, absorbing
// cells, walls, the defining property of each generator), the hand-derived derivatives
// of their models and objectives against finite differences, the exact hypergradient
// against central differences of φ (docs/math.md#exact-descent; docs/math.md#x-dependent-transitions for Stackelberg's
// x-dependent transitions), and exact hypergradient descent lowering φ.
import { beforeAll, describe, expect, it } from "vitest";
import { DomainError, init, occupancy, ShapeError, type TabularMDP } from "../src/index";
import { denseOf, relErr } from "./helpers/compare";
import { hypergradient, phi } from "../src/bilevel/hypergradient";
import { exactDescent } from "../src/bilevel/algorithms/exactDescent";
import { solveLower } from "../src/bilevel/lowerSolve";
import { BilevelProblem, type PolicyObjective, type RewardModel } from "../src/bilevel/problem";
import {
  e1,
  garnet,
  GRID_GOAL_BENCHMARK,
  gridGoal,
  gridworld,
  incentive,
  incentiveObjective,
  leaderPolicy,
  softmaxGoalReward,
  stackelberg,
} from "../src/problems/index";
import { Rng } from "../src/util/random";

beforeAll(async () => {
  await init();
});

// ---------- small independent helpers ----------

/** Largest |Σ_s' P(s'|s,a) − 1| over the rows, and the smallest entry. */
function rowStats(P: Float64Array, rows: number, S: number): { worst: number; min: number } {
  let worst = 0, min = Infinity;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < S; j++) {
      sum += P[i * S + j];
      min = Math.min(min, P[i * S + j]);
    }
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  return { worst, min };
}

/** A random interior policy (every entry ≥ 0.05/A). */
function randomPolicy(S: number, A: number, rng: Rng): Float64Array {
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let z = 0;
    for (let a = 0; a < A; a++) z += (pi[s * A + a] = 0.05 + rng.uniform());
    for (let a = 0; a < A; a++) pi[s * A + a] /= z;
  }
  return pi;
}

/** Solve M y = b (n × n, row-major) by Gaussian elimination with partial pivoting. */
function gauss(M: Float64Array, b: Float64Array): Float64Array {
  const n = b.length, a = Float64Array.from(M), y = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    for (let k = 0; k < n; k++) [a[c * n + k], a[p * n + k]] = [a[p * n + k], a[c * n + k]];
    [y[c], y[p]] = [y[p], y[c]];
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / a[c * n + c];
      for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
      y[r] -= f * y[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let acc = y[r];
    for (let k = r + 1; k < n; k++) acc -= a[r * n + k] * y[k];
    y[r] = acc / a[r * n + r];
  }
  return y;
}

/** Unregularised V^π = (I − γP_π)⁻¹ r_π from a dense P, by Gaussian elimination. */
function valueOf(P: Float64Array, r: ArrayLike<number>, pi: ArrayLike<number>, S: number, A: number, gamma: number): Float64Array {
  const M = new Float64Array(S * S), rp = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    M[s * S + s] = 1;
    for (let a = 0; a < A; a++) {
      const w = pi[s * A + a];
      rp[s] += w * r[s * A + a];
      for (let j = 0; j < S; j++) M[s * S + j] -= gamma * w * P[(s * A + a) * S + j];
    }
  }
  return gauss(M, rp);
}

/** Central differences of a scalar function along every coordinate of x. */
function fdGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length), xp = Float64Array.from(x);
  for (let k = 0; k < x.length; k++) {
    xp[k] = x[k] + h;
    const fp = f(xp);
    xp[k] = x[k] - h;
    const fm = f(xp);
    xp[k] = x[k];
    g[k] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Jacobian R (rows × n) of a reward model by central differences. */
function fdJacobian(model: RewardModel, x: Float64Array, rows: number, h = 1e-6): Float64Array {
  const n = x.length, J = new Float64Array(rows * n), xp = Float64Array.from(x);
  const rp = new Float64Array(rows), rm = new Float64Array(rows);
  for (let k = 0; k < n; k++) {
    xp[k] = x[k] + h;
    model.reward(xp, rp);
    xp[k] = x[k] - h;
    model.reward(xp, rm);
    xp[k] = x[k];
    for (let i = 0; i < rows; i++) J[i * n + k] = (rp[i] - rm[i]) / (2 * h);
  }
  return J;
}

/** Rᵀu and R dx from a dense Jacobian. */
function jt(J: Float64Array, u: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < u.length; i++) for (let k = 0; k < n; k++) out[k] += J[i * n + k] * u[i];
  return out;
}
function jv(J: Float64Array, dx: Float64Array, rows: number): Float64Array {
  const n = dx.length, out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) for (let k = 0; k < n; k++) out[i] += J[i * n + k] * dx[k];
  return out;
}

/** The vjp, jvp and jacobian of a reward model agree with finite differences of its reward. */
function expectRewardDerivatives(model: RewardModel, x: Float64Array, rows: number, rng: Rng): void {
  const n = x.length;
  const Jfd = fdJacobian(model, x, rows);
  const J = new Float64Array(rows * n);
  model.jacobian!(x, J);
  expect(relErr(J, Jfd)).toBeLessThan(1e-8);
  const u = rng.normals(rows), dx = rng.normals(n);
  const vjp = new Float64Array(n), jvp = new Float64Array(rows);
  model.vjp!(x, u, vjp);
  model.jvp!(x, dx, jvp);
  expect(relErr(vjp, jt(Jfd, u, n))).toBeLessThan(1e-8);
  expect(relErr(jvp, jv(Jfd, dx, rows))).toBeLessThan(1e-8);
}

/**
 * ∂f/∂x by finite differences of f(·, π), and ∂f/∂π along random simplex-tangent
 * directions d (Σ_a d(s,a) = 0), where only ⟨∂f/∂π, d⟩ is defined.
 */
function expectObjectiveGradients(obj: PolicyObjective, mdp: TabularMDP, x: Float64Array, pi: Float64Array, rng: Rng): void {
  const { S, A } = mdp;
  const gx = new Float64Array(x.length);
  obj.gradX(x, pi, gx, mdp);
  const gxFd = fdGrad((xx) => obj.value(xx, pi, mdp), x);
  expect(relErr(gx, gxFd)).toBeLessThan(1e-7);
  const gp = new Float64Array(S * A);
  obj.gradPi(x, pi, gp, mdp);
  for (let trial = 0; trial < 4; trial++) {
    const d = new Float64Array(S * A);
    for (let s = 0; s < S; s++) {
      let m = 0;
      for (let a = 0; a < A; a++) m += (d[s * A + a] = rng.normal());
      for (let a = 0; a < A; a++) d[s * A + a] -= m / A;
    }
    const h = 1e-6;
    const fp = obj.value(x, pi.map((p, i) => p + h * d[i]), mdp);
    const fm = obj.value(x, pi.map((p, i) => p - h * d[i]), mdp);
    const fd = (fp - fm) / (2 * h);
    let dot = 0;
    for (let i = 0; i < S * A; i++) dot += gp[i] * d[i];
    expect(Math.abs(dot - fd)).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
  }
}

// ---------- gridworld ----------

describe("gridworld", () => {
  it("builds an open 5 × 5 grid with U, D, L, R, stay, γ = 0.9, CSR rows of at most five next states that sum to 1", () => {
    const g = gridworld();
    expect([g.width, g.height, g.S, g.A]).toEqual([5, 5, 25, 5]);
    expect(g.actions).toEqual(["U", "D", "L", "R", "stay"]);
    expect(g.mdp.kind).toBe("csr");
    expect(g.mdp.gamma).toBe(0.9);
    const t = g.mdp.transitions() as { indptr: Int32Array; probs: Float64Array };
    for (let i = 0; i < g.S * g.A; i++) {
      const k = t.indptr[i + 1] - t.indptr[i];
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(5);
    }
    expect(rowStats(denseOf(g.mdp), g.S * g.A, g.S).worst).toBeLessThan(1e-12);
  });

  it("moves deterministically to the intended neighbour when slip is 0, and stays put at the border", () => {
    const g = gridworld({ width: 4, height: 3, slip: 0 });
    const P = denseOf(g.mdp);
    const moves = [[-1, 0], [1, 0], [0, -1], [0, 1], [0, 0]];
    for (let s = 0; s < g.S; s++) {
      const { row, col } = g.cell(s);
      for (let a = 0; a < g.A; a++) {
        const r = row + moves[a][0], c = col + moves[a][1];
        const expected = r < 0 || r >= g.height || c < 0 || c >= g.width ? s : g.state(r, c);
        for (let j = 0; j < g.S; j++) expect(P[(s * g.A + a) * g.S + j]).toBe(j === expected ? 1 : 0);
      }
    }
  });

  it("slips with probability p to each of the four directions uniformly: the intended cell gets 1 − p + p/4", () => {
    const p = 0.2;
    const g = gridworld({ slip: p });
    const P = denseOf(g.mdp);
    const s = g.state(2, 2), right = g.state(2, 3), up = g.state(1, 2), a = 3; // R from the centre
    expect(P[(s * g.A + a) * g.S + right]).toBeCloseTo(1 - p + p / 4, 15);
    expect(P[(s * g.A + a) * g.S + up]).toBeCloseTo(p / 4, 15);
    expect(P[(s * g.A + a) * g.S + s]).toBe(0);
    // at the corner (0,0) two of the four slip directions are blocked and keep the agent in place
    const c = g.state(0, 0);
    expect(P[(c * g.A + 4) * g.S + c]).toBeCloseTo(1 - p + p / 2, 15); // stay
  });

  it("never makes walls states, and a move into a wall leaves the agent where it was", () => {
    const map = ["S.#.", "..#G", "...."];
    const g = gridworld({ map, slip: 0.3 });
    expect(g.S).toBe(10);
    expect(g.cellToState[0 * 4 + 2]).toBe(-1);
    expect(g.cellToState[1 * 4 + 2]).toBe(-1);
    for (let s = 0; s < g.S; s++) {
      const { row, col } = g.cell(s);
      expect(map[row][col]).not.toBe("#");
      expect(g.cellToState[g.stateToCell[s]]).toBe(s);
    }
    const det = gridworld({ map, slip: 0 });
    const P = denseOf(det.mdp);
    const s = det.state(0, 1); // wall to the right
    expect(P[(s * det.A + 3) * det.S + s]).toBe(1);
    expect(() => det.state(0, 2)).toThrow(DomainError);
  });

  it("makes 'G' cells absorbing under every action and starts ρ uniformly on the 'S' cells", () => {
    const g = gridworld({ map: ["S..", ".#G", "S.."], slip: 0.25, actions: 4 });
    expect(g.actions).toEqual(["U", "D", "L", "R"]);
    expect(Array.from(g.goals)).toEqual([g.state(1, 2)]);
    const P = denseOf(g.mdp);
    const goal = g.goals[0];
    for (let a = 0; a < g.A; a++) expect(P[(goal * g.A + a) * g.S + goal]).toBe(1);
    const rho = g.mdp.rho;
    expect(rho[g.state(0, 0)]).toBe(0.5);
    expect(rho[g.state(2, 0)]).toBe(0.5);
    expect(Array.from(g.starts)).toEqual([g.state(0, 0), g.state(2, 0)]);
  });

  it("stores the same transitions densely and as CSR", () => {
    const map = ["..#..", ".G...", "...#S"];
    const a = gridworld({ map, sparse: true }), b = gridworld({ map, sparse: false });
    expect(b.mdp.kind).toBe("dense");
    expect(Array.from(denseOf(a.mdp))).toEqual(Array.from(denseOf(b.mdp)));
  });

  it("rejects ragged maps, unknown cells, bad slips, action counts and start cells with typed errors", () => {
    expect(() => gridworld({ map: ["...", ".."] })).toThrow(ShapeError);
    expect(() => gridworld({ map: ["..x"] })).toThrow(DomainError);
    expect(() => gridworld({ map: ["##", "##"] })).toThrow(DomainError);
    expect(() => gridworld({ slip: 1.5 })).toThrow(DomainError);
    expect(() => gridworld({ slip: NaN })).toThrow(DomainError);
    expect(() => gridworld({ actions: 3 as 4 })).toThrow(DomainError);
    expect(() => gridworld({ width: 0 })).toThrow(DomainError);
    expect(() => gridworld({ gamma: 1 })).toThrow(DomainError);
    expect(() => gridworld({ map: [".#."], start: [0, 1] })).toThrow(/start/);
    expect(() => gridworld({ start: [5, 0] })).toThrow(DomainError);
  });
});

// ---------- garnet ----------

describe("garnet", () => {
  it("gives every row exactly `branching` distinct next states with probabilities summing to 1", () => {
    for (const [S, A, branching, seed] of [[10, 4, 3, 0], [7, 2, 7, 1], [30, 5, 1, 2]]) {
      const g = garnet({ S, A, branching, seed });
      const t = g.mdp.transitions() as { indptr: Int32Array; indices: Int32Array; probs: Float64Array };
      expect(g.mdp.kind).toBe("csr");
      for (let i = 0; i < S * A; i++) {
        expect(t.indptr[i + 1] - t.indptr[i]).toBe(branching);
        let sum = 0;
        for (let k = t.indptr[i]; k < t.indptr[i + 1]; k++) {
          expect(t.probs[k]).toBeGreaterThan(0);
          sum += t.probs[k];
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
        expect(new Set(t.indices.subarray(t.indptr[i], t.indptr[i + 1])).size).toBe(branching);
      }
      expect(g.reward.length).toBe(S * A);
    }
  });

  it("picks next states uniformly: over 2000 rows every state is a successor about 600 times", () => {
    const g = garnet({ S: 10, A: 200, branching: 3, seed: 3 });
    const t = g.mdp.transitions() as { indices: Int32Array };
    const counts = new Array(10).fill(0);
    for (const j of t.indices) counts[j]++;
    // Binomial(2000, 3/10) per state: sd ≈ 20.5, so ±120 is about 6 sd
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(120);
  });

  it("is reproducible from its seed, differs across seeds, and stores the same P densely", () => {
    const a = denseOf(garnet({ seed: 5 }).mdp), b = denseOf(garnet({ seed: 5 }).mdp), c = denseOf(garnet({ seed: 6 }).mdp);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(relErr(a, c)).toBeGreaterThan(0.1);
    const d = garnet({ seed: 5, sparse: false });
    expect(d.mdp.kind).toBe("dense");
    expect(Array.from(denseOf(d.mdp))).toEqual(Array.from(a));
  });

  it("rejects a branching factor larger than S and a negative seed with DomainErrors", () => {
    expect(() => garnet({ S: 4, branching: 5 })).toThrow(DomainError);
    expect(() => garnet({ seed: -1 })).toThrow(DomainError);
  });
});

// ---------- GridWorld goal position (docs/math.md#grid-goal) ----------

describe("gridGoal", () => {
  it("defaults to docs/math.md#grid-goal: 5 × 5, five actions, γ = 0.9, τ = 0.1, ρ on (0, 0), target (4, 2), n = 25", () => {
    const g = gridGoal();
    const { mdp } = g.problem;
    expect([mdp.S, mdp.A, mdp.gamma, g.problem.tau, g.problem.n]).toEqual([25, 5, 0.9, 0.1, 25]);
    expect(g.grid.cell(g.start)).toEqual({ row: 0, col: 0 });
    expect(g.grid.cell(g.target)).toEqual({ row: 4, col: 2 });
    expect(mdp.rho[g.start]).toBe(1);
    expect(g.x0.length).toBe(25);
    expect(g.features).toBe("softmax");
    expect(rowStats(denseOf(mdp), 25 * 5, 25).worst).toBeLessThan(1e-12);
  });

  it("rewards softmax(x)_s for every action of state s, so the rewards of one action sum to 1 over states", () => {
    const g = gridGoal();
    const x = new Rng(3).normals(25);
    const r = g.problem.rewardAt(x);
    let z = 0;
    for (let s = 0; s < 25; s++) {
      for (let a = 1; a < 5; a++) expect(r[s * 5 + a]).toBe(r[s * 5]);
      z += r[s * 5];
    }
    expect(z).toBeCloseTo(1, 14);
    const m = Math.max(...x);
    const den = x.reduce((acc, v) => acc + Math.exp(v), 0);
    expect(r[x.indexOf(m) * 5]).toBeCloseTo(Math.exp(m) / den, 14);
  });

  it("gives the softmax goal reward an exact jacobian, vjp and jvp", () => {
    const rng = new Rng(11);
    expectRewardDerivatives(softmaxGoalReward(9, 4), rng.normals(9), 36, rng);
  });

  it("with one-hot features maps every (s, a) to its own state's feature: r_x(s, a) = x_s", () => {
    const g = gridGoal({ features: "one-hot", actions: 4 });
    const x = new Rng(4).normals(25);
    const r = g.problem.rewardAt(x);
    for (let s = 0; s < 25; s++) for (let a = 0; a < 4; a++) expect(r[s * 4 + a]).toBe(x[s]);
  });

  it("scores a policy by minus its discounted visits of the target plus (μ/2)‖x‖²", () => {
    const g = gridGoal({ mu: 0.5 });
    const { problem } = g;
    const pi = randomPolicy(25, 5, new Rng(8));
    const x = new Rng(9).normals(25);
    const d = occupancy(problem.mdp, pi);
    const sq = x.reduce((acc, v) => acc + v * v, 0);
    expect(problem.value(x, pi)).toBeCloseTo(-d[g.target] + 0.25 * sq, 10);
  });

  it("has an exact hypergradient equal to central finite differences to 1e-6 relative at a random x, for both feature maps", () => {
    for (const features of ["softmax", "one-hot"] as const) {
      const { problem } = gridGoal({ features });
      const x = new Rng(7).normals(25).map((v) => 0.5 * v);
      const ex = hypergradient(problem, x, { method: "exact" });
      const fd = hypergradient(problem, x, { method: "finite-difference" });
      expect(ex.diagnostics.lowerConverged).toBe(true);
      expect(relErr(ex.grad, fd.grad)).toBeLessThan(1e-6);
    }
  });

  it("under exact hypergradient descent (monotone Armijo) lowers φ at every step and moves the soft goal onto the target", () => {
    const g = gridGoal();
    const before = phi(g.problem, g.x0).value;
    const run = exactDescent.run(g.problem, { iterations: 30, x0: g.x0, beta: 5, stepRule: "armijo" });
    for (let k = 1; k < run.history.length; k++) expect(run.history[k].f).toBeLessThanOrEqual(run.history[k - 1].f + 1e-12);
    const after = phi(g.problem, run.x).value;
    expect(after).toBeLessThan(before - 1);
    expect(run.x.indexOf(Math.max(...run.x))).toBe(g.target);
  });

  it("rejects a target on a wall, unknown features, τ = 0 and an unknown x0 kind with DomainErrors", () => {
    expect(() => gridGoal({ map: [".....", ".....", ".....", ".....", "..#.."] })).toThrow(/target/);
    expect(() => gridGoal({ features: "dense" as "softmax" })).toThrow(DomainError);
    expect(() => gridGoal({ tau: 0 })).toThrow(DomainError);
    expect(() => gridGoal({ x0: "zeros" as "ramp" })).toThrow(DomainError);
    expect(() => gridGoal({ size: 2.5 })).toThrow(DomainError);
    expect(() => gridGoal({ linear: "gmres" as "lu" })).toThrow(DomainError);
    expect(() => gridGoal({ start: [0] as unknown as [number, number] })).toThrow(ShapeError);
  });
});

describe("gridGoal at benchmark size (50 × 50, one-hot goal features)", () => {
  it("builds S = 2500 states, A = 4 actions, n = 2500 one-hot features, CSR transitions, γ = 0.99 and τ = 0.05", () => {
    const g = gridGoal({ ...GRID_GOAL_BENCHMARK });
    const { problem } = g;
    expect([problem.mdp.S, problem.mdp.A, problem.n, problem.mdp.gamma, problem.tau]).toEqual([2500, 4, 2500, 0.99, 0.05]);
    expect(problem.mdp.kind).toBe("csr");
    expect(problem.mdp.nnz).toBeLessThanOrEqual(2500 * 4 * 5);
    expect(g.grid.cell(g.target)).toEqual({ row: 49, col: 25 });
    expect(g.linear).toBe("lu"); // the banded LU: the band of a 50-wide grid is 50
  });

  it("computes one exact hypergradient that finishes with converged lower and linear solves and a non-trivial implicit part", () => {
    const g = gridGoal({ ...GRID_GOAL_BENCHMARK });
    const hg = hypergradient(g.problem, g.x0, { method: "exact", linear: g.linear });
    expect(hg.diagnostics.lowerConverged).toBe(true);
    expect(hg.diagnostics.linearConverged).toBe(true);
    expect(hg.diagnostics.linearIterations).toBeGreaterThan(0);
    expect(hg.grad.every(Number.isFinite)).toBe(true);
    // beyond the explicit μx part: the transposed solve had a non-zero right-hand side
    const explicit = g.x0.map((v) => 1e-3 * v);
    expect(relErr(hg.grad, explicit)).toBeGreaterThan(1);
    expect(hg.value).toBeLessThan(0);
  }, 60_000);
});

// ---------- incentive design (docs/math.md#incentive) ----------

describe("incentive", () => {
  it("builds S = 8, A = 4, γ = 0.9, τ = 0.1, κ = 1, Dirichlet(1) rows and the follower reward r_F + x", () => {
    const inc = incentive();
    const { problem } = inc;
    expect([problem.mdp.S, problem.mdp.A, problem.mdp.gamma, problem.tau, problem.n, inc.kappa]).toEqual([8, 4, 0.9, 0.1, 32, 1]);
    const { worst, min } = rowStats(denseOf(problem.mdp), 32, 8);
    expect(worst).toBeLessThan(1e-12);
    expect(min).toBeGreaterThan(0);
    const x = new Rng(1).normals(32);
    const r = problem.rewardAt(x);
    for (let i = 0; i < 32; i++) expect(r[i]).toBe(inc.rF[i] + x[i]);
    expect(Array.from(inc.x0)).toEqual(new Array(32).fill(0));
    expect(Array.from(incentive().rD)).toEqual(Array.from(inc.rD));
    expect(Array.from(incentive({ seed: 1 }).rD)).not.toEqual(Array.from(inc.rD));
  });

  it("values a policy at −J_D(π) + κ Σ d̃(s) π(a|s) x(s, a), from independent dense solves", () => {
    const inc = incentive({ kappa: 0.7 });
    const { mdp } = inc.problem;
    const rng = new Rng(2);
    const pi = randomPolicy(8, 4, rng), x = rng.normals(32).map(Math.abs);
    const VD = valueOf(inc.P, inc.rD, pi, 8, 4, 0.9);
    const d = occupancy(mdp, pi);
    let JD = 0, paid = 0;
    for (let s = 0; s < 8; s++) {
      JD += mdp.rho[s] * VD[s];
      for (let a = 0; a < 4; a++) paid += d[s] * pi[s * 4 + a] * x[s * 4 + a];
    }
    expect(inc.problem.value(x, pi)).toBeCloseTo(-JD + 0.7 * paid, 10);
  });

  it("has designer gradients ∂f/∂x = κ d̃ π and ∂f/∂π = −d̃ (Q_D − κ Q_x) that match finite differences", () => {
    const inc = incentive({ kappa: 1.3 });
    const rng = new Rng(3);
    const x = rng.normals(32).map(Math.abs);
    expectObjectiveGradients(inc.problem.upper, inc.problem.mdp, x, randomPolicy(8, 4, rng), rng);
  });

  it("has an exact hypergradient equal to central finite differences to 1e-6 relative at a random x ≥ 0", () => {
    const { problem } = incentive();
    const x = new Rng(7).normals(32).map((v) => 0.5 * Math.abs(v));
    const ex = hypergradient(problem, x, { method: "exact" });
    const fd = hypergradient(problem, x, { method: "finite-difference" });
    expect(relErr(ex.grad, fd.grad)).toBeLessThan(1e-6);
  });

  it("under exact hypergradient descent (monotone Armijo) lowers φ from x0 at every step", () => {
    const inc = incentive();
    const run = exactDescent.run(inc.problem, { iterations: 20, x0: inc.x0, beta: 0.01, stepRule: "armijo" });
    for (let k = 1; k < run.history.length; k++) expect(run.history[k].f).toBeLessThanOrEqual(run.history[k - 1].f + 1e-12);
    expect(phi(inc.problem, run.x).value).toBeLessThan(phi(inc.problem, inc.x0).value - 1);
  });

  it("under projected exact hypergradient descent keeps x ≥ 0 and lowers φ", () => {
    const inc = incentive();
    let x = inc.x0;
    const f0 = phi(inc.problem, x).value;
    let prev = f0;
    for (let k = 0; k < 15; k++) {
      const hg = hypergradient(inc.problem, x);
      x = inc.project(x.map((v, i) => v - 0.05 * hg.grad[i]));
      const f = phi(inc.problem, x).value;
      expect(f).toBeLessThanOrEqual(prev + 1e-12);
      prev = f;
    }
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBeGreaterThan(0);
    expect(prev).toBeLessThan(f0 - 0.1);
  });

  it("rejects a non-finite design reward, a negative κ and a bad ρ in incentiveObjective", () => {
    expect(() => incentiveObjective({ rD: [0, NaN] })).toThrow(DomainError);
    expect(() => incentiveObjective({ rD: [0, 1], kappa: -1 })).toThrow(DomainError);
    expect(() => incentiveObjective({ rD: [0, 1], rho: [0.5, 0.6] })).toThrow(DomainError);
    expect(() => incentive({ S: 0 })).toThrow(DomainError);
  });
});

// ---------- Stackelberg Markov game (docs/math.md#stackelberg) ----------

describe("stackelberg", () => {
  it("builds S = 6, A = 3, B = 2, γ = 0.9, τ = 0.1 with Dirichlet(1) rows of T and x-dependent transitions", () => {
    const st = stackelberg();
    const { problem, game } = st;
    expect([game.S, game.A, game.B, game.gamma, problem.tau, problem.n]).toEqual([6, 3, 2, 0.9, 0.1, 12]);
    const { worst, min } = rowStats(game.T, 6 * 3 * 2, 6);
    expect(worst).toBeLessThan(1e-12);
    expect(min).toBeGreaterThan(0);
    expect(problem.transitions).toBeDefined();
    expect(problem.mdp.kind).toBe("dense");
    expect(Array.from(stackelberg().game.RL)).toEqual(Array.from(game.RL));
  });

  it("mixes the follower's reward and transitions with the leader policy μ_x = softmax(x_s)", () => {
    const st = stackelberg();
    const { problem, game } = st;
    const { S, A, B, T, RF } = game;
    const x = new Rng(5).normals(S * B);
    const mu = st.leaderPolicy(x);
    for (let s = 0; s < S; s++) {
      expect(mu[s * B] + mu[s * B + 1]).toBeCloseTo(1, 15);
      expect(mu[s * B] / mu[s * B + 1]).toBeCloseTo(Math.exp(x[s * B] - x[s * B + 1]), 12);
    }
    const r = problem.rewardAt(x);
    problem.moveTo(x);
    const P = denseOf(problem.mdp);
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < A; a++) {
        const i = s * A + a;
        expect(r[i]).toBeCloseTo(mu[s * B] * RF[i * B] + mu[s * B + 1] * RF[i * B + 1], 14);
        for (let j = 0; j < S; j++) expect(P[i * S + j]).toBeCloseTo(mu[s * B] * T[(i * B) * S + j] + mu[s * B + 1] * T[(i * B + 1) * S + j], 14);
      }
    }
    expect(rowStats(P, S * A, S).worst).toBeLessThan(1e-12);
  });

  it("differentiates the follower reward (jacobian, vjp, jvp) and the transitions (vjpPV) exactly", () => {
    const { problem, game } = stackelberg();
    const { S, A, B } = game;
    const rng = new Rng(6);
    const x = rng.normals(S * B);
    expectRewardDerivatives(problem.reward, x, S * A, rng);
    // vjpPV against finite differences of u·(P_x V)
    const V = rng.normals(S), u = rng.normals(S * A);
    const uPV = (xx: Float64Array) => {
      const P = new Float64Array(S * A * S);
      problem.transitions!.P(xx, P);
      let acc = 0;
      for (let i = 0; i < S * A; i++) for (let j = 0; j < S; j++) acc += u[i] * P[i * S + j] * V[j];
      return acc;
    };
    const out = new Float64Array(S * B);
    problem.transitions!.vjpPV(x, V, u, out);
    expect(relErr(out, fdGrad(uPV, x))).toBeLessThan(1e-8);
  });

  it("values the leader at −ρᵀV_L with r_L and P mixed by μ_x, whatever x the problem's MDP was last moved to", () => {
    const { problem, game } = stackelberg();
    const { S, A, B, T, RL, gamma } = game;
    const rng = new Rng(7);
    const x = rng.normals(S * B), other = rng.normals(S * B);
    const pi = randomPolicy(S, A, rng);
    const mu = leaderPolicy(x, S, B);
    const P = new Float64Array(S * A * S), rL = new Float64Array(S * A);
    for (let i = 0; i < S * A; i++) {
      const s = Math.floor(i / A);
      for (let b = 0; b < B; b++) {
        rL[i] += mu[s * B + b] * RL[i * B + b];
        for (let j = 0; j < S; j++) P[i * S + j] += mu[s * B + b] * T[(i * B + b) * S + j];
      }
    }
    const VL = valueOf(P, rL, pi, S, A, gamma);
    const expected = -VL.reduce((acc, v, s) => acc + problem.mdp.rho[s] * v, 0);
    problem.moveTo(other); // the problem's MDP now holds P at another x
    expect(problem.value(x, pi)).toBeCloseTo(expected, 12);
  });

  it("has leader gradients ∂f/∂x and ∂f/∂π that match finite differences (x enters the reward and the dynamics)", () => {
    const { problem, game } = stackelberg();
    const rng = new Rng(8);
    expectObjectiveGradients(problem.upper, problem.mdp, rng.normals(game.S * game.B), randomPolicy(game.S, game.A, rng), rng);
  });

  it("has an exact hypergradient, with x-dependent transitions, equal to central finite differences to 1e-6 relative", () => {
    const { problem, game } = stackelberg();
    const x = new Rng(9).normals(game.S * game.B);
    const ex = hypergradient(problem, x, { method: "exact" });
    const fd = hypergradient(problem, x, { method: "finite-difference" });
    expect(relErr(ex.grad, fd.grad)).toBeLessThan(1e-6);
    // the transition term γ ∂P_x V* matters: the same problem with P frozen at P_x misses it
    expect(solveLower(problem, x).converged).toBe(true); // leaves the MDP at P_x
    const frozen = new BilevelProblem({ mdp: problem.mdp, tau: problem.tau, reward: problem.reward, upper: problem.upper });
    expect(relErr(hypergradient(frozen, x).grad, fd.grad)).toBeGreaterThan(1e-3);
  });

  it("under exact hypergradient descent (monotone Armijo) lowers φ from x0 at every step", () => {
    const st = stackelberg();
    const run = exactDescent.run(st.problem, { iterations: 20, x0: st.x0, beta: 0.1, stepRule: "armijo" });
    for (let k = 1; k < run.history.length; k++) expect(run.history[k].f).toBeLessThanOrEqual(run.history[k - 1].f + 1e-12);
    expect(phi(st.problem, run.x).value).toBeLessThan(phi(st.problem, st.x0).value - 0.5);
  });

  it("rejects non-positive sizes and τ with DomainErrors", () => {
    expect(() => stackelberg({ B: 0 })).toThrow(DomainError);
    expect(() => stackelberg({ tau: -1 })).toThrow(DomainError);
    expect(() => stackelberg({ gamma: 1.2 })).toThrow(DomainError);
  });
});

describe("problems index", () => {
  it("re-exports E1 next to the new generators", () => {
    const { problem, phiStar } = e1({ seed: 1 });
    expect(problem.n).toBe(100);
    expect(phiStar).toBe(1);
  });
});
