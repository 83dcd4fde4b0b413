// The fast exact enumeration of preference objectives (src/bilevel/trajectory.ts): the one-pass
// pair loop of `preferenceBCE` against the general group-by-group loop it replaces, the cached
// trajectory skeleton and when it is rebuilt, and the gradients against central differences
// on the two built-in problems that use it (rlhf, happyText).
import { beforeAll, describe, expect, it } from "vitest";
import { init, DomainError, TabularMDP, type Backend } from "../src/index";
import { linearReward } from "../src/bilevel/models";
import { solveLower } from "../src/bilevel/lowerSolve";
import {
  enumerateTrajectories,
  expectation,
  preferenceBCE,
  trajectorySkeleton,
  type TrajectoryContext,
  type TrajectoryObjective,
} from "../src/bilevel/trajectory";
import { rlhf } from "../src/problems/rlhf";
import { happyText } from "../src/problems/happyText";
import { Rng } from "../src/util/random";
import { relErr } from "./helpers/compare";

let simd: Backend, scalar: Backend;
beforeAll(async () => {
  scalar = await init({ simd: false });
  simd = await init({ simd: true });
});

/** The same loss and gradient behind fresh functions: expectation() takes its general group loop. */
function general(o: TrajectoryObjective): TrajectoryObjective {
  const r = o.reduced ?? o;
  return { groupSize: r.groupSize, horizon: r.horizon, upperMDP: r.upperMDP, loss: (x, g, c) => r.loss(x, g, c), gradX: (x, g, out, c) => r.gradX(x, g, out, c) };
}

/** A random policy table (rows on the simplex), with π(a|s) = 0 at the given entries. */
function randomPolicy(S: number, A: number, seed: number, zeros: number[] = []): Float64Array {
  const rng = new Rng(seed);
  const pi = new Float64Array(S * A);
  for (const i of zeros) pi[i] = -1;
  for (let s = 0; s < S; s++) {
    let z = 0;
    for (let a = 0; a < A; a++) z += pi[s * A + a] = pi[s * A + a] < 0 ? 0 : 0.1 + rng.uniform();
    for (let a = 0; a < A; a++) pi[s * A + a] /= z;
  }
  return pi;
}

function randomX(n: number, seed: number, scale = 0.7): Float64Array {
  return new Rng(seed).normals(n).map((v) => v * scale);
}

/** Bitwise equality of two arrays as a list of the differing positions (empty when identical). */
function differing(a: Float64Array, b: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

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

describe("the one-pass pair loop of preferenceBCE", () => {
  const cases = [
    ["rlhf (table reward, λ = 0)", () => { const i = rlhf({ seed: 4, H: 3 }); return { problem: i.problem, objective: i.objective }; }],
    ["rlhf with hard labels, 2 pairs per group and γ_U = 0.8", () => { const i = rlhf({ seed: 5, labels: "hard", pairs: 2, gammaU: 0.8 }); return { problem: i.problem, objective: i.objective }; }],
    ["happyText (bigram reward, λ = 1e-3)", () => { const i = happyText(); return { problem: i.problem, objective: i.objective }; }],
    ["happyText with a table reward and hard labels", () => { const i = happyText({ features: "table", labels: "hard", length: 2 }); return { problem: i.problem, objective: i.objective }; }],
  ] as const;

  it.each(cases)("gives f and ∂f/∂π bit-identical to the general group loop and ∂f/∂x within 1e-13: %s", (_name, make) => {
    const { problem, objective } = make();
    const { S, A } = problem.mdp;
    const ctx: TrajectoryContext = { reward: problem.reward, mdp: problem.mdp };
    const x = randomX(problem.n, 11);
    // a zero entry of π: trajectories through it have Pr = 0 but a non-zero ∂Pr/∂π
    for (const pi of [randomPolicy(S, A, 1), randomPolicy(S, A, 2, [1, A + 1])]) {
      const fast = expectation(objective, ctx, x, pi, { gradX: true, gradPi: true });
      const slow = expectation(general(objective), ctx, x, pi, { gradX: true, gradPi: true });
      expect(fast.groups).toBe(slow.groups);
      expect(Object.is(fast.value, slow.value)).toBe(true);
      expect(differing(fast.gradPi!, slow.gradPi!)).toEqual([]);
      expect(relErr(fast.gradX!, slow.gradX!)).toBeLessThan(1e-13);
      // asking for less changes nothing
      expect(Object.is(expectation(objective, ctx, x, pi).value, slow.value)).toBe(true);
      expect(differing(expectation(objective, ctx, x, pi, { gradPi: true }).gradPi!, slow.gradPi!)).toEqual([]);
      expect(differing(expectation(objective, ctx, x, pi, { gradX: true }).gradX!, fast.gradX!)).toEqual([]);
    }
  });

  it("sums over exactly T² pairs: f equals Σ_a Σ_b Pr(τ_a) Pr(τ_b) l(τ_a, τ_b) summed here from the loss itself", () => {
    // T = 216 (happyText, and rlhf with H = 3): pow(216, 2) is 46656.00000000003, which once let the loop run one group too many
    for (const { problem, objective } of [happyText(), rlhf({ seed: 3, H: 3 })]) {
      const { S, A } = problem.mdp;
      const ctx: TrajectoryContext = { reward: problem.reward, mdp: problem.mdp };
      const x = randomX(problem.n, 18), pi = randomPolicy(S, A, 19);
      const t = enumerateTrajectories(problem.mdp, pi, objective.horizon);
      expect(t.count).toBe(216);
      const H = objective.horizon;
      const group = { states: new Int32Array(2 * H), actions: new Int32Array(2 * H) };
      let want = 0;
      for (let a = 0; a < t.count; a++) {
        for (let b = 0; b < t.count; b++) {
          group.states.set(t.states.subarray(a * H, a * H + H), 0);
          group.states.set(t.states.subarray(b * H, b * H + H), H);
          group.actions.set(t.actions.subarray(a * H, a * H + H), 0);
          group.actions.set(t.actions.subarray(b * H, b * H + H), H);
          want += t.prob[a] * t.prob[b] * objective.loss(x, group, ctx);
        }
      }
      for (const o of [objective, general(objective)]) {
        const got = expectation(o, ctx, x, pi);
        expect(got.groups).toBe(216 * 216);
        expect(Math.abs(got.value - want)).toBeLessThan(1e-13 * Math.abs(want));
      }
    }
  });

  it("gives ∂f/∂x bit-identical to the general loop when R_x = I and λ = 0 (one vjp of the identity is the sum itself)", () => {
    const { problem, objective } = rlhf({ seed: 6 });
    const ctx: TrajectoryContext = { reward: problem.reward, mdp: problem.mdp };
    const x = randomX(problem.n, 12), pi = randomPolicy(3, 2, 3);
    const fast = expectation(objective, ctx, x, pi, { gradX: true });
    const slow = expectation(general(objective), ctx, x, pi, { gradX: true });
    expect(differing(fast.gradX!, slow.gradX!)).toEqual([]);
  });

  it("matches the general loop on an MDP with terminal states (steps after the end hold −1)", () => {
    // 4 states, 2 actions; state 3 is terminal; the horizon outlasts most episodes
    const S = 4, A = 2;
    const P = new Float64Array(S * A * S);
    const rows = [[0, 0.5, 0.5, 0], [0, 0, 0.3, 0.7], [0, 0, 0, 1], [0.2, 0, 0, 0.8], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]];
    rows.forEach((r, i) => P.set(r, i * S));
    const mdp = TabularMDP.dense({ S, A, P, gamma: 0.9, rho: [0.6, 0.4, 0, 0], terminal: [3] });
    const reward = linearReward(Float64Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0)), 8);
    const objective = preferenceBCE({ rTrue: randomX(8, 3, 1), horizon: 4, lambda: 0.01 });
    const ctx: TrajectoryContext = { reward, mdp };
    const x = randomX(8, 13), pi = randomPolicy(S, A, 4);
    const fast = expectation(objective, ctx, x, pi, { gradX: true, gradPi: true });
    const slow = expectation(general(objective), ctx, x, pi, { gradX: true, gradPi: true });
    expect(Object.is(fast.value, slow.value)).toBe(true);
    expect(differing(fast.gradPi!, slow.gradPi!)).toEqual([]);
    expect(relErr(fast.gradX!, slow.gradX!)).toBeLessThan(1e-13);
  });

  it("is not used once the objective's loss was replaced: the replacement is what gets enumerated", () => {
    const { problem, objective } = rlhf({ seed: 7 });
    const ctx: TrajectoryContext = { reward: problem.reward, mdp: problem.mdp };
    const x = randomX(problem.n, 14), pi = randomPolicy(3, 2, 5);
    const f = expectation(objective, ctx, x, pi).value;
    const own = objective.loss;
    objective.loss = (xx, g, c) => 2 * own(xx, g, c);
    expect(expectation(objective, ctx, x, pi).value).toBeCloseTo(2 * f, 13);
  });

  it("rejects a non-finite loss as the general loop does", () => {
    const { problem, objective } = rlhf({ seed: 8 });
    const ctx: TrajectoryContext = { reward: problem.reward, mdp: problem.mdp };
    const x = new Float64Array(problem.n).fill(1e308), pi = randomPolicy(3, 2, 6);
    x[0] = -1e308;
    const err = (o: TrajectoryObjective) => {
      try {
        expectation(o, ctx, x, pi);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    };
    const a = err(objective), b = err(general(objective));
    expect(a).toBeInstanceOf(DomainError);
    expect(a?.message).toMatch(/objective\.loss/);
    expect(b?.message).toMatch(/objective\.loss/);
  });
});

describe("the pair table kept for one x", () => {
  it("is rebuilt when x changes, also when only ‖x‖² (the λ term) changes and R_x does not", () => {
    const { problem } = rlhf({ seed: 14 });
    const { S, A } = problem.mdp;
    const SA = S * A;
    // R_x = [I | 0]: the last coordinate of x moves only (λ/2)‖x‖²
    const Phi = new Float64Array(SA * (SA + 1));
    for (let i = 0; i < SA; i++) Phi[i * (SA + 1) + i] = 1;
    const reward = linearReward(Phi, SA + 1);
    const objective = preferenceBCE({ rTrue: randomX(SA, 20, 1), horizon: 2, lambda: 0.3 });
    const ctx: TrajectoryContext = { reward, mdp: problem.mdp };
    const pi = randomPolicy(S, A, 21);
    const x1 = randomX(SA + 1, 22), x2 = Float64Array.from(x1), x3 = randomX(SA + 1, 23);
    x2[SA] += 0.5;
    for (const x of [x1, x2, x3, x1, x1, x2]) {
      const fast = expectation(objective, ctx, x, pi, { gradX: true, gradPi: true });
      const slow = expectation(general(objective), ctx, x, pi, { gradX: true, gradPi: true });
      expect(Object.is(fast.value, slow.value)).toBe(true);
      expect(differing(fast.gradPi!, slow.gradPi!)).toEqual([]);
      expect(relErr(fast.gradX!, slow.gradX!)).toBeLessThan(1e-13);
    }
  });

  it("serves trajectoryUpper's f, ∂f/∂x and ∂f/∂π in any order, each equal to one full enumeration", () => {
    const { problem, objective } = happyText();
    const { S, A } = problem.mdp;
    const ctx: TrajectoryContext = { reward: problem.reward, mdp: problem.mdp };
    const up = problem.upper;
    const x = randomX(problem.n, 24, 0.3);
    const orders = [["gradPi", "value", "gradX"], ["gradX", "gradPi", "value"], ["value", "gradX", "gradPi"]] as const;
    orders.forEach((order, i) => {
      const pi = randomPolicy(S, A, 30 + i);
      const want = expectation(objective, ctx, x, pi, { gradX: true, gradPi: true });
      for (const part of order) {
        if (part === "value") expect(Object.is(up.value(x, pi, problem.mdp), want.value)).toBe(true);
        const out = new Float64Array(part === "gradX" ? problem.n : S * A);
        if (part === "gradX") up.gradX(x, pi, out, problem.mdp);
        if (part === "gradPi") up.gradPi(x, pi, out, problem.mdp);
        if (part !== "value") expect(differing(out, want[part]!)).toEqual([]);
      }
    });
  });
});

describe("the cached trajectory skeleton", () => {
  it("is reused while the MDP is unchanged and rebuilt after setTransitions, in both builds", () => {
    for (const backend of [simd, scalar]) {
      const { problem, objective } = rlhf({ seed: 9 });
      const { S, A } = problem.mdp;
      const P0 = (problem.mdp.transitions() as { P: Float64Array }).P;
      const mdp = TabularMDP.dense({ S, A, P: P0, gamma: 0.9, backend });
      const ctx: TrajectoryContext = { reward: problem.reward, mdp };
      const x = randomX(problem.n, 15), pi = randomPolicy(S, A, 7);
      const sk = trajectorySkeleton(mdp, 2);
      expect(trajectorySkeleton(mdp, 2)).toBe(sk);
      expect(trajectorySkeleton(mdp, 3)).not.toBe(sk); // another horizon, another skeleton
      expect(trajectorySkeleton(mdp, 2)).toBe(sk);
      const before = expectation(objective, ctx, x, pi, { gradX: true, gradPi: true });
      // new P with a smaller support: (s = 0, a = 1) now surely goes to state 2
      const P1 = P0.slice();
      P1.fill(0, (0 * A + 1) * S, (0 * A + 2) * S);
      P1[(0 * A + 1) * S + 2] = 1;
      mdp.setTransitions(P1);
      const sk1 = trajectorySkeleton(mdp, 2);
      expect(sk1).not.toBe(sk);
      expect(sk1.count).toBeLessThan(sk.count);
      const after = expectation(objective, ctx, x, pi, { gradX: true, gradPi: true });
      const fresh = TabularMDP.dense({ S, A, P: P1, gamma: 0.9, backend });
      const want = expectation(objective, { reward: problem.reward, mdp: fresh }, x, pi, { gradX: true, gradPi: true });
      expect(Object.is(after.value, want.value)).toBe(true);
      expect(differing(after.gradX!, want.gradX!)).toEqual([]);
      expect(differing(after.gradPi!, want.gradPi!)).toEqual([]);
      expect(after.value).not.toBe(before.value);
      // same support, other probabilities: still rebuilt (ρΠP changed)
      const P2 = P1.slice();
      const shift = 0.5 * Math.min(P1[0], P1[1]);
      P2[0] = P1[0] + shift;
      P2[1] = P1[1] - shift;
      mdp.setTransitions(P2);
      const sk2 = trajectorySkeleton(mdp, 2);
      expect(sk2).not.toBe(sk1);
      expect(sk2.count).toBe(sk1.count);
      // and back to P1: equal to the first rebuild's table again
      mdp.setTransitions(P1);
      expect(Object.is(expectation(objective, ctx, x, pi).value, want.value)).toBe(true);
    }
  });

  it("is not shared between two MDPs with the same transitions but different ρ or terminal states", () => {
    const { problem, objective } = rlhf({ seed: 10 });
    const { S, A } = problem.mdp;
    const P = (problem.mdp.transitions() as { P: Float64Array }).P;
    const a = TabularMDP.dense({ S, A, P, gamma: 0.9 });
    const b = TabularMDP.dense({ S, A, P, gamma: 0.9, rho: [1, 0, 0] });
    const c = TabularMDP.dense({ S, A, P, gamma: 0.9, terminal: [1] });
    const x = randomX(problem.n, 16), pi = randomPolicy(S, A, 8);
    const f = (mdp: TabularMDP) => expectation(objective, { reward: problem.reward, mdp }, x, pi).value;
    const fa = f(a), fb = f(b), fc = f(c);
    expect(trajectorySkeleton(b, 2).count).toBe(trajectorySkeleton(a, 2).count / 3);
    expect(trajectorySkeleton(c, 2).count).toBeLessThan(trajectorySkeleton(a, 2).count);
    expect(fb).not.toBe(fa);
    expect(fc).not.toBe(fa);
    expect(f(a)).toBe(fa);
  });

  it("hands out copies: changing a returned table does not change the next enumeration", () => {
    const { problem } = rlhf({ seed: 11 });
    const pi = randomPolicy(3, 2, 9);
    const t1 = enumerateTrajectories(problem.mdp, pi, 2);
    const states = t1.states.slice(), actions = t1.actions.slice();
    t1.states.fill(7);
    t1.actions.fill(7);
    const t2 = enumerateTrajectories(problem.mdp, pi, 2);
    expect(Array.from(t2.states)).toEqual(Array.from(states));
    expect(Array.from(t2.actions)).toEqual(Array.from(actions));
  });

  it("still enforces maxCount when the skeleton is already cached", () => {
    const { problem } = rlhf({ seed: 12, H: 3 });
    const pi = randomPolicy(3, 2, 10);
    expect(enumerateTrajectories(problem.mdp, pi, 3).count).toBe(216);
    expect(() => enumerateTrajectories(problem.mdp, pi, 3, 100)).toThrow(DomainError);
    expect(() => enumerateTrajectories(problem.mdp, pi, 3, 100)).toThrow(/more than 100 trajectories/);
    expect(enumerateTrajectories(problem.mdp, pi, 3, 216).count).toBe(216);
  });

  it("gives ∂Pr/∂π equal to the product rule term by term (a trajectory visiting one (s, a) twice adds both terms)", () => {
    const { problem } = rlhf({ seed: 13, H: 3 });
    const { S, A } = problem.mdp;
    const SA = S * A;
    const pi = randomPolicy(S, A, 11);
    const t = enumerateTrajectories(problem.mdp, pi, 3);
    const P = (problem.mdp.transitions() as { P: Float64Array }).P;
    for (let i = 0; i < t.count; i++) {
      const s = t.states.subarray(3 * i, 3 * i + 3), a = t.actions.subarray(3 * i, 3 * i + 3);
      const pP = (1 / S) * P[(s[0] * A + a[0]) * S + s[1]] * P[(s[1] * A + a[1]) * S + s[2]];
      const want = new Float64Array(SA);
      for (let k = 0; k < 3; k++) {
        let w = pP;
        for (let j = 0; j < 3; j++) if (j !== k) w *= pi[s[j] * A + a[j]];
        want[s[k] * A + a[k]] += w;
      }
      expect(relErr(t.dprob.subarray(i * SA, (i + 1) * SA), want)).toBeLessThan(1e-14);
    }
  });
});

describe("the exact gradients against central finite differences", () => {
  const problems = [
    ["rlhf", () => { const i = rlhf({ seed: 0 }); return { problem: i.problem, objective: i.objective, x0: i.x0 }; }],
    ["happyText", () => { const i = happyText(); return { problem: i.problem, objective: i.objective, x0: randomX(i.problem.n, 17, 0.5) }; }],
  ] as const;

  it.each(problems)("∂f/∂x at fixed π matches central differences of f to 1e-7 relative error (%s)", (_name, make) => {
    const { problem, objective, x0 } = make();
    const pi = solveLower(problem, Float64Array.from(x0)).pi;
    const g = objective.exactGradX(problem, x0, pi);
    const fd = centralDiff((x) => objective.exactValue(problem, x, pi), x0);
    expect(relErr(g, fd)).toBeLessThan(1e-7);
  });

  it.each(problems)("∂f/∂π along every direction e_(s,a) − e_(s,0) (rows stay on the simplex) matches central differences to 1e-7 (%s)", (_name, make) => {
    const { problem, objective, x0 } = make();
    const { S, A } = problem.mdp;
    const pi = solveLower(problem, Float64Array.from(x0)).pi;
    const g = objective.exactGradPi(problem, x0, pi);
    // absolute steps (the sum over 46 656 pairs carries ~1e-15 of rounding), inside the simplex
    const h = 1e-4;
    const dir = new Float64Array(S * (A - 1)), fd = new Float64Array(S * (A - 1));
    const pp = Float64Array.from(pi);
    for (let s = 0; s < S; s++) {
      for (let a = 1; a < A; a++) {
        const step = Math.min(h, 0.5 * pi[s * A + a], 0.5 * pi[s * A]);
        pp[s * A + a] += step;
        pp[s * A] -= step;
        const fp = objective.exactValue(problem, x0, pp);
        pp.set(pi);
        pp[s * A + a] -= step;
        pp[s * A] += step;
        const fm = objective.exactValue(problem, x0, pp);
        pp.set(pi);
        fd[s * (A - 1) + a - 1] = (fp - fm) / (2 * step);
        dir[s * (A - 1) + a - 1] = g[s * A + a] - g[s * A];
      }
    }
    expect(relErr(dir, fd)).toBeLessThan(1e-7);
  });
});

describe("rewardVjp with a Jacobian-only reward model", () => {
  it("uses the Jacobian the model wrote in place (it returned nothing), not a fresh zero array", async () => {
    const { rewardVjp } = await import("../src/bilevel/trajectory");
    const SA = 3, n = 2;
    const Jtab = [1, 2, 3, 4, 5, 6]; // row-major SA × n
    const model = {
      dim: n,
      reward: (_x: Float64Array, out: Float64Array) => out,
      jacobian(_x: Float64Array, out: Float64Array) {
        out.set(Jtab); // writes in place, returns undefined
      },
    };
    const g = rewardVjp(model as never, new Float64Array(n), Float64Array.from([1, 0, -1]));
    expect(Array.from(g)).toEqual([1 - 5, 2 - 6]);
  });
});
