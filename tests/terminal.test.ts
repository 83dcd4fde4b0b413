// Terminal states (docs/math.md#terminal-states): closed-form values on a chain, the absorbing
// equivalent with rescaled rewards, kernels against the plain-TS reference with the masked P
// (SIMD and scalar, dense and CSR, the two builds bit-identical), occupancy mass, sampling
// (episode ends, lengths, Monte-Carlo returns), hypergradients against finite differences
// (exact, AMD, model-free), grid 'T' cells, the experiment format and bad input.
import { beforeAll, describe, expect, it } from "vitest";
import { init, occupancy, policyEvaluation, sampleTrajectories, softValueIteration, solveLinear, DomainError, ShapeError, TabularMDP, denseToCsr, parseExperiment, runExperiment, ALGORITHMS, type Backend } from "../src/index";
import * as ref from "../src/reference/index";
import type { RefMDP } from "../src/reference/index";
import { BilevelProblem, type PolicyObjective } from "../src/bilevel/problem";
import { linearReward, policyL2, upperReturn } from "../src/bilevel/models";
import { hypergradient } from "../src/bilevel/hypergradient";
import { solveLower } from "../src/bilevel/lowerSolve";
import { modelFreeHypergradient } from "../src/bilevel/modelFree";
import { enumerateTrajectories, preferenceBCE, trajectoryUpper } from "../src/bilevel/trajectory";
import { gridworld } from "../src/problems/gridworld";
import { firstBitDiff, relErr } from "./helpers/compare";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";
import { meanAndStdErr } from "./helpers/stats";

let simd: Backend;
let scalar: Backend;
beforeAll(async () => {
  simd = await init({ simd: true });
  scalar = await init({ simd: false });
});
const builds = (): [string, Backend][] => [["simd", simd], ["scalar", scalar]];
type Kind = "dense" | "csr";

function lse(v: number[], tau: number): number {
  const m = Math.max(...v);
  return m + tau * Math.log(v.reduce((acc, x) => acc + Math.exp((x - m) / tau), 0));
}

function tabular(m: RefMDP, backend: Backend, terminal?: ArrayLike<number> | ArrayLike<boolean>, rho?: ArrayLike<number>): TabularMDP {
  if (m.kind === "dense") return TabularMDP.dense({ S: m.S, A: m.A, gamma: m.gamma, P: m.P, rho, terminal, backend });
  return TabularMDP.sparse({ S: m.S, A: m.A, gamma: m.gamma, indptr: m.indptr, indices: m.indices, probs: m.probs, rho, terminal, backend });
}

function randomMdp(kind: Kind, S: number, A: number, gamma: number, seed: number): RefMDP {
  return kind === "dense" ? randomDense(S, A, gamma, seed) : randomCsr(S, A, gamma, Math.min(3, S), seed);
}

function mask(S: number, states: number[]): Uint8Array {
  const m = new Uint8Array(S);
  for (const s of states) m[s] = 1;
  return m;
}

// Chain 0 → 1 → 2 (every action moves right; 2 loops on itself but is terminal), A = 2.
const CHAIN_R = [1, -0.5, 0.3, 0.2, 2, -1];
function chain(kind: Kind, backend: Backend, gamma: number, terminal = [2]): TabularMDP {
  const S = 3, A = 2;
  const P = new Float64Array(S * A * S);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) P[(s * A + a) * S + Math.min(s + 1, 2)] = 1;
  const spec = { S, A, gamma, rho: [1, 0, 0], terminal, backend };
  return kind === "dense" ? TabularMDP.dense({ ...spec, P }) : TabularMDP.sparse({ ...spec, ...denseToCsr(P, S, A) });
}

describe("a hand-solved chain with a terminal state", () => {
  it.each(["dense", "csr"] as const)("soft optimal values match the closed form, V(goal) = τ·LSE(r/τ) and not /(1 − γ) (%s, both builds)", (kind) => {
    const gamma = 0.9, tau = 0.4, r = Float64Array.from(CHAIN_R);
    const V2 = lse([r[4], r[5]], tau);
    const V1 = lse([r[2] + gamma * V2, r[3] + gamma * V2], tau);
    const V0 = lse([r[0] + gamma * V1, r[1] + gamma * V1], tau);
    for (const [, b] of builds()) {
      const mdp = chain(kind, b, gamma);
      const res = softValueIteration(mdp, r, { tau, tol: 1e-13 });
      expect(relErr(res.V, [V0, V1, V2])).toBeLessThan(1e-12);
      // at the terminal state Q = r exactly, and π = softmax(r/τ)
      expect(res.Q[4]).toBe(r[4]);
      expect(res.Q[5]).toBe(r[5]);
      expect(res.pi[4]).toBeCloseTo(1 / (1 + Math.exp((r[5] - r[4]) / tau)), 14);
      // without the mask the goal keeps earning: V(2) = τ·LSE(r/τ)/(1 − γ)
      const loop = softValueIteration(chain(kind, b, gamma, []), r, { tau, tol: 1e-13 });
      expect(loop.V[2]).toBeCloseTo(V2 / (1 - gamma), 9);
    }
  });

  it.each(["dense", "csr"] as const)("policy evaluation of the uniform policy matches the closed form, entropy counted at the terminal step only (%s)", (kind) => {
    const gamma = 0.8, tau = 0.3, r = Float64Array.from(CHAIN_R);
    const pi = new Float64Array(6).fill(0.5);
    const h = tau * Math.log(2);
    const V2 = (r[4] + r[5]) / 2 + h;
    const V1 = (r[2] + r[3]) / 2 + h + gamma * V2;
    const V0 = (r[0] + r[1]) / 2 + h + gamma * V1;
    for (const method of ["lu", "krylov", "bicgstab", "richardson"] as const) {
      for (const [, b] of builds()) {
        const res = policyEvaluation(chain(kind, b, gamma), r, pi, { tau, method });
        expect(relErr(res.V, [V0, V1, V2])).toBeLessThan(1e-10);
      }
    }
  });

  it.each(["dense", "csr"] as const)("occupancy counts the steps taken: it sums to (1 − γ^T)/(1 − γ) for an episode of T = 3 steps (%s)", (kind) => {
    const gamma = 0.7;
    const pi = new Float64Array(6).fill(0.5);
    for (const [, b] of builds()) {
      const d = occupancy(chain(kind, b, gamma), pi);
      expect(relErr(d, [1, gamma, gamma * gamma])).toBeLessThan(1e-12);
      expect(d.reduce((a, x) => a + x, 0)).toBeCloseTo((1 - gamma ** 3) / (1 - gamma), 12);
    }
  });
});

describe("a terminal state equals an absorbing state with rescaled rewards", () => {
  it.each([["dense", 1], ["csr", 2], ["dense", 3]] as const)("same V*, Q* and π* on every state (%s, seed %i, both builds)", (kind, seed) => {
    const S = 7, A = 3, gamma = 0.85, tau = 0.6;
    const m = randomMdp(kind, S, A, gamma, seed);
    const term = [2, 5];
    const r = randomVector(S * A, seed + 10, -1, 1);
    // absorbing twin: P(g|g, a) = 1 and r'(g, a) = r(g, a) − γ τ LSE(r(g, ·)/τ)
    const P = new Float64Array(S * A * S);
    const dense = m.kind === "dense" ? m.P : (() => {
      const D = new Float64Array(S * A * S);
      for (let i = 0; i < S * A; i++) for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) D[i * S + m.indices[k]] = m.probs[k];
      return D;
    })();
    P.set(dense);
    const r2 = Float64Array.from(r);
    for (const g of term) {
      const vg = lse(Array.from(r.subarray(g * A, g * A + A)), tau);
      for (let a = 0; a < A; a++) {
        P.fill(0, (g * A + a) * S, (g * A + a + 1) * S);
        P[(g * A + a) * S + g] = 1;
        r2[g * A + a] = r[g * A + a] - gamma * vg;
      }
    }
    for (const [, b] of builds()) {
      const withTerm = softValueIteration(tabular(m, b, term), r, { tau, tol: 1e-13 });
      const absorbing = TabularMDP.dense({ S, A, gamma, P, backend: b });
      const abs = softValueIteration(kind === "csr" ? TabularMDP.sparse({ S, A, gamma, ...denseToCsr(P, S, A), backend: b }) : absorbing, r2, { tau, tol: 1e-13 });
      expect(relErr(withTerm.V, abs.V)).toBeLessThan(1e-10);
      expect(relErr(withTerm.Q, abs.Q)).toBeLessThan(1e-10);
      expect(relErr(withTerm.pi, abs.pi)).toBeLessThan(1e-10);
    }
  });
});

describe("kernels against the plain-TS reference with the masked P", () => {
  const cases: Array<[Kind, number]> = [["dense", 11], ["csr", 12], ["dense", 13], ["csr", 14]];
  it.each(cases)("value iteration, policy evaluation, solves (both directions) and occupancy agree; SIMD and scalar are bit-identical (%s, seed %i)", (kind, seed) => {
    const S = 9, A = 3, gamma = 0.9, tau = 0.5;
    const m = randomMdp(kind, S, A, gamma, seed);
    const term = mask(S, [0, 4, 8]);
    const mm = ref.maskTerminal(m, term);
    const r = randomVector(S * A, seed + 1), pi = randomPolicy(S, A, seed + 2), b = randomVector(S, seed + 3);
    const rho = new Float64Array(S).fill(1 / S);
    const vi = ref.softValueIteration(mm, r, { tau, tol: 1e-13 });
    const pe = ref.policyEvaluation(mm, r, pi, tau);
    const occ = ref.occupancy(mm, pi, rho);
    const sol = ref.solveLinear(mm, pi, b, { transpose: false });
    const solT = ref.solveLinear(mm, pi, b, { transpose: true });
    const out: Record<string, Float64Array[]> = { V: [], Q: [], pi: [], pe: [], occ: [] };
    for (const [, bk] of builds()) {
      const mdp = tabular(m, bk, term);
      const v = softValueIteration(mdp, r, { tau, tol: 1e-13 });
      expect(relErr(v.V, vi.V)).toBeLessThan(1e-11);
      expect(relErr(v.pi, vi.pi)).toBeLessThan(1e-11);
      const p = policyEvaluation(mdp, r, pi, { tau });
      expect(relErr(p.V, pe.V)).toBeLessThan(1e-11);
      const o = occupancy(mdp, pi);
      expect(relErr(o, occ)).toBeLessThan(1e-11);
      for (const method of ["lu", "krylov", "richardson"] as const) {
        expect(relErr(solveLinear(mdp, pi, b, { method }).x, sol.x)).toBeLessThan(1e-10);
        expect(relErr(solveLinear(mdp, pi, b, { method, transpose: true }).x, solT.x)).toBeLessThan(1e-10);
      }
      out.V.push(v.V); out.Q.push(v.Q); out.pi.push(v.pi); out.pe.push(p.V); out.occ.push(o);
    }
    for (const [k, [a, c]] of Object.entries(out)) expect(firstBitDiff(a, c), k).toBeUndefined();
  });

  it("transitions() gives P back as given, transitions({ masked: true }) the zero terminal rows, and both round-trip", () => {
    for (const kind of ["dense", "csr"] as const) {
      const m = randomMdp(kind, 5, 2, 0.9, 21);
      const mdp = tabular(m, simd, [1, 3]);
      expect(Array.from(mdp.terminal!)).toEqual([0, 1, 0, 1, 0]);
      const given = mdp.transitions(), masked = mdp.transitions({ masked: true });
      const mm = ref.maskTerminal(m, [0, 1, 0, 1, 0]);
      if (m.kind === "dense") {
        expect(Array.from((given as { P: Float64Array }).P)).toEqual(Array.from(m.P));
        expect(Array.from((masked as { P: Float64Array }).P)).toEqual(Array.from((mm as typeof m).P));
      } else {
        expect(Array.from((given as { probs: Float64Array }).probs)).toEqual(Array.from(m.probs));
        expect(Array.from((masked as { probs: Float64Array }).probs)).toEqual(Array.from((mm as typeof m).probs));
      }
      // the copy builds the same MDP again
      const again = kind === "dense" ? TabularMDP.dense({ S: 5, A: 2, gamma: 0.9, ...(given as { P: Float64Array }), terminal: [1, 3] }) : TabularMDP.sparse({ S: 5, A: 2, gamma: 0.9, ...(given as { indptr: Int32Array; indices: Int32Array; probs: Float64Array }), terminal: [1, 3] });
      const r = randomVector(10, 22);
      expect(firstBitDiff(softValueIteration(again, r, { tau: 0.5 }).V, softValueIteration(mdp, r, { tau: 0.5 }).V)).toBeUndefined();
      // no terminal state: the mask is absent
      expect(tabular(m, simd).terminal).toBeUndefined();
      expect(tabular(m, simd, []).terminal).toBeUndefined();
    }
  });

  it("setTransitions keeps the mask: the new terminal rows are zero for the kernels too", () => {
    const S = 4, A = 2, gamma = 0.9;
    const a = randomDense(S, A, gamma, 31), c = randomDense(S, A, gamma, 32);
    const mdp = TabularMDP.dense({ S, A, gamma, P: a.P, terminal: [2] });
    mdp.setTransitions(c.P);
    const r = randomVector(S * A, 33);
    const want = ref.softValueIteration(ref.maskTerminal(c, mask(S, [2])), r, { tau: 0.5, tol: 1e-13 });
    expect(relErr(softValueIteration(mdp, r, { tau: 0.5, tol: 1e-13 }).V, want.V)).toBeLessThan(1e-11);
    expect(Array.from((mdp.transitions() as { P: Float64Array }).P)).toEqual(Array.from(c.P));
  });

  it("ignores the error-bound extrapolation (whose bounds need stochastic rows) and still converges to the right values", () => {
    const m = randomDense(8, 3, 0.95, 41);
    const r = randomVector(24, 42);
    const mdp = tabular(m, simd, [3]);
    const plain = softValueIteration(mdp, r, { tau: 0.5, tol: 1e-12 });
    const ex = softValueIteration(mdp, r, { tau: 0.5, tol: 1e-12, extrapolate: true });
    expect(firstBitDiff(plain.V, ex.V)).toBeUndefined();
  });
});

describe("sampling ends episodes at terminal states", () => {
  it.each(["dense", "csr"] as const)("matches the reference sampler bit for bit with lengths, in both builds (%s)", (kind) => {
    const S = 20, A = 3;
    const m = randomMdp(kind, S, A, 0.9, 51);
    const term = mask(S, [3, 7, 11]);
    const pi = randomPolicy(S, A, 52), r = randomVector(S * A, 53);
    const rho = new Float64Array(S).fill(1 / S);
    const want = ref.sampleTrajectories(m, pi, { episodes: 70, horizon: 30, seed: 54, rho, r, terminal: term });
    let ended = 0;
    for (let e = 0; e < 70; e++) if (want.lengths[e] < 30) ended++;
    expect(ended).toBeGreaterThan(10);
    for (const [, b] of builds()) {
      const got = sampleTrajectories(tabular(m, b, term), pi, { episodes: 70, horizon: 30, seed: 54, r });
      expect(firstBitDiff(got.states, want.states)).toBeUndefined();
      expect(firstBitDiff(got.actions, want.actions)).toBeUndefined();
      expect(firstBitDiff(got.rewards!, want.rewards!)).toBeUndefined();
      expect(Array.from(got.lengths)).toEqual(Array.from(want.lengths));
      for (let e = 0; e < 70; e++) {
        const L = got.lengths[e];
        for (let t = 0; t < 30; t++) {
          const s = got.states[e * 30 + t];
          if (t < L - 1) expect(term[s]).toBe(0);
          if (t === L - 1 && L < 30) expect(term[s]).toBe(1);
          if (t >= L) { expect(s).toBe(-1); expect(got.actions[e * 30 + t]).toBe(-1); expect(got.rewards![e * 30 + t]).toBe(0); }
        }
      }
    }
  });

  it("reports the horizon as every length and the same arrays as before when no state is terminal", () => {
    const m = randomDense(6, 2, 0.9, 61);
    const pi = randomPolicy(6, 2, 62);
    const got = sampleTrajectories(tabular(m, simd), pi, { episodes: 9, horizon: 12, seed: 63 });
    const want = ref.sampleTrajectories(m, pi, { episodes: 9, horizon: 12, seed: 63, rho: new Float64Array(6).fill(1 / 6) });
    expect(Array.from(got.lengths)).toEqual(new Array(9).fill(12));
    expect(firstBitDiff(got.states, want.states)).toBeUndefined();
  });

  it.each(["dense", "csr"] as const)("Monte-Carlo soft returns of 20 000 episodes match ρᵀV^π within 4.5 standard errors (%s)", (kind) => {
    const S = 8, A = 3, gamma = 0.9, tau = 0.4, H = 250; // γ^H·max|r_π + τH_π|/(1 − γ) < 1e-10: no visible truncation
    const m = randomMdp(kind, S, A, gamma, 71);
    const term = mask(S, [2, 6]);
    const pi = randomPolicy(S, A, 72), r = randomVector(S * A, 73);
    const mdp = tabular(m, scalar, term);
    const exact = policyEvaluation(mdp, r, pi, { tau }).V.reduce((acc, v) => acc + v / S, 0);
    const E = 20000;
    const tr = sampleTrajectories(mdp, pi, { episodes: E, horizon: H, seed: 74, r });
    const G = new Float64Array(E);
    let short = 0;
    for (let e = 0; e < E; e++) {
      let g = 0, d = 1;
      for (let t = 0; t < tr.lengths[e]; t++, d *= gamma) {
        const i = tr.states[e * H + t] * A + tr.actions[e * H + t];
        g += d * (tr.rewards![e * H + t] - tau * Math.log(pi[i]));
      }
      G[e] = g;
      if (tr.lengths[e] < H) short++;
    }
    expect(short).toBeGreaterThan(E * 0.99);
    const { mean, se } = meanAndStdErr(G);
    expect(Math.abs(mean - exact)).toBeLessThan(4.5 * se);
    expect(mdp.counters.sampledSteps).toBe(tr.lengths.reduce((a, x) => a + x, 0));
  });
});

/** Central differences of f at x (step h). */
function centralDiff(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const p = Float64Array.from(x), q = Float64Array.from(x);
    p[k] += h; q[k] -= h;
    g[k] = (f(p) - f(q)) / (2 * h);
  }
  return g;
}

describe("hypergradients with terminal states", () => {
  it.each([["dense", 81], ["csr", 82]] as const)("exact (eq. 9) equals central differences of φ (%s)", (kind, seed) => {
    const S = 6, A = 3, n = 4;
    for (const [, b] of builds()) {
      const mdp = tabular(randomMdp(kind, S, A, 0.85, seed), b, [1, 4]);
      const problem = new BilevelProblem({ mdp, tau: 0.5, reward: linearReward(randomVector(S * A * n, seed + 1), n), upper: policyL2() });
      const x = randomVector(n, seed + 2);
      const ex = hypergradient(problem, x, { method: "exact", lower: { tol: 1e-13 } });
      const fd = centralDiff((y) => problem.value(y, solveLower(problem, y, { tol: 1e-14 }).pi), x);
      expect(relErr(ex.grad, fd)).toBeLessThan(1e-6);
      expect(relErr(hypergradient(problem, x, { method: "finite-difference" }).grad, ex.grad)).toBeLessThan(1e-6);
    }
  });

  it.each([["dense", 91], ["csr", 92]] as const)("AMD with a return objective equals the exact hypergradient and central differences (%s)", (kind, seed) => {
    const S = 6, A = 2, n = 3;
    const mdp = tabular(randomMdp(kind, S, A, 0.8, seed), simd, [0, 5]);
    const upper: PolicyObjective = upperReturn({ r: randomVector(S * A, seed + 1) });
    const problem = new BilevelProblem({ mdp, tau: 0.7, reward: linearReward(randomVector(S * A * n, seed + 2), n), upper });
    const x = randomVector(n, seed + 3);
    const ex = hypergradient(problem, x, { method: "exact", lower: { tol: 1e-13 } });
    const amd = hypergradient(problem, x, { method: "amd", lower: { tol: 1e-13 } });
    const fd = centralDiff((y) => problem.value(y, solveLower(problem, y, { tol: 1e-14 }).pi), x);
    expect(relErr(ex.grad, fd)).toBeLessThan(1e-6);
    expect(relErr(amd.grad, ex.grad)).toBeLessThan(1e-8);
  });

  it("model-free: exact enumeration with early ends, eq. (9) against finite differences, and the Monte-Carlo mean within 3.5 standard errors", () => {
    const S = 3, A = 2, n = 3, H = 3;
    const P = new Float64Array(S * A * S);
    const rows = [[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.2, 0.1, 0.7], [1, 0, 0], [0, 0, 1]];
    rows.forEach((row, i) => P.set(row, i * S));
    const mdp = TabularMDP.dense({ S, A, gamma: 0.9, P, rho: [0.5, 0.5, 0], terminal: [2] });
    const reward = linearReward(randomVector(S * A * n, 101), n);
    const objective = preferenceBCE({ rTrue: randomVector(S * A, 102), horizon: H });
    const problem = new BilevelProblem({ mdp, tau: 1, reward, upper: trajectoryUpper(objective, reward) });
    const x0 = randomVector(n, 103, -0.5, 0.5);
    // enumeration: every trajectory that reaches state 2 ends there; the probabilities sum to 1
    const pi0 = solveLower(problem, x0).pi;
    const tab = enumerateTrajectories(mdp, pi0, H);
    expect(tab.prob.reduce((a, p) => a + p, 0)).toBeCloseTo(1, 12);
    let early = 0;
    for (let i = 0; i < tab.count; i++) {
      const st = tab.states.subarray(i * H, i * H + H);
      const end = st.indexOf(2);
      if (end >= 0 && end < H - 1) { early++; for (let t = end + 1; t < H; t++) expect(st[t]).toBe(-1); }
    }
    expect(early).toBeGreaterThan(0);
    const eq9 = hypergradient(problem, x0, { lower: { tol: 1e-14 } }).grad;
    const fd = centralDiff((x) => problem.value(x, solveLower(problem, x, { tol: 1e-14 }).pi), x0);
    expect(relErr(eq9, fd)).toBeLessThan(1e-6);
    for (const derivative of ["exact", "rollout"] as const) {
      const runs = Array.from({ length: 120 }, (_, r) => modelFreeHypergradient(problem, x0, { groups: 64, seed: 500 + r, derivative, Td: 40 }).grad);
      for (let k = 0; k < n; k++) {
        const { mean, se } = meanAndStdErr(runs.map((g) => g[k]));
        expect(Math.abs(mean - eq9[k]), `${derivative}, coordinate ${k}`).toBeLessThan(3.5 * se + 1e-9);
      }
    }
  });
});

describe("gridworld 'T' cells", () => {
  it("parse into terminal states: the episode ends there and V(T) = τ·LSE(r/τ)", () => {
    for (const sparse of [true, false]) {
      const gw = gridworld({ map: ["S..", ".#T", "..."], slip: 0.1, gamma: 0.9, sparse });
      const t = gw.state(1, 2);
      expect(Array.from(gw.terminals)).toEqual([t]);
      expect(Array.from(gw.mdp.terminal!).map((v, s) => (v ? s : -1)).filter((s) => s >= 0)).toEqual([t]);
      const r = new Float64Array(gw.S * gw.A);
      for (let a = 0; a < gw.A; a++) r[t * gw.A + a] = 1 + a * 0.1;
      const tau = 0.2;
      const res = softValueIteration(gw.mdp, r, { tau, tol: 1e-13 });
      expect(res.V[t]).toBeCloseTo(lse(Array.from(r.subarray(t * gw.A, t * gw.A + gw.A)), tau), 12);
      const pi = res.pi;
      const tr = sampleTrajectories(gw.mdp, pi, { episodes: 50, horizon: 60, seed: 1 });
      for (let e = 0; e < 50; e++) {
        const L = tr.lengths[e];
        if (L < 60) expect(tr.states[e * 60 + L - 1]).toBe(t);
      }
      expect(tr.lengths.some((L) => L < 60)).toBe(true);
    }
  });

  it("rejects unknown cells, naming the allowed ones including 'T'", () => {
    expect(() => gridworld({ map: ["S.X"] })).toThrow(/'T' \(terminal\)/);
  });
});

describe("the experiment format", () => {
  const custom = (terminal: unknown, upper: object = { policyL2: {} }) => ({
    version: 1,
    seed: 0,
    problem: {
      mdp: { S: 3, A: 2, gamma: 0.9, P: [[[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]], [[0.3, 0.3, 0.4], [0.2, 0.1, 0.7]], [[1, 0, 0], [0, 0, 1]]], terminal },
      reward: { linear: { Phi: [[1, 0], [0, 1], [1, 1], [0, 0], [0.5, 0], [0, 0.5]], n: 2 } },
      upper,
      tau: 0.5,
    },
    algorithm: { name: "exactDescent" },
    iterations: 3,
    x0: [0.1, -0.2],
  });

  it("expresses terminal states as booleans or indices, with the same results", () => {
    const a = parseExperiment(JSON.stringify(custom([false, false, true])));
    const b = parseExperiment(JSON.stringify(custom([2])));
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    const ra = runExperiment(a.experiment), rb = runExperiment(b.experiment);
    expect(JSON.stringify(ra.history)).toBe(JSON.stringify(rb.history));
    const none = parseExperiment(JSON.stringify(custom([])));
    if (!none.ok) throw new Error("expected a valid experiment");
    expect(JSON.stringify(runExperiment(none.experiment).history)).not.toBe(JSON.stringify(ra.history));
  });

  it("names the path, rule and value of a bad terminal list", () => {
    const v = parseExperiment(JSON.stringify(custom([5])));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors[0].path).toBe("/problem/mdp/terminal");
    expect(v.errors[0].message).toMatch(/\[0, 3\).*5/);
    const w = parseExperiment(JSON.stringify(custom(["x"])));
    expect(w.ok).toBe(false);
  });

  it("runs every algorithm a few iterations on a problem with terminal states, with finite results", () => {
    const upper = { preference: { rTrue: [1, 0, 0, 1, 0.5, -0.5], horizon: 3 } };
    for (const alg of ALGORITHMS) {
      const doc = { ...custom([2], upper), algorithm: { name: alg.name }, iterations: 2 };
      const v = parseExperiment(JSON.stringify(doc));
      if (!v.ok) throw new Error(`${alg.name}: ${v.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
      const run = runExperiment(v.experiment);
      expect(run.final.x.every(Number.isFinite), alg.name).toBe(true);
      expect(run.iterations, alg.name).toBe(2);
    }
  }, 60_000);
});

describe("bad terminal input gives typed errors naming the rule, index and value", () => {
  const m = randomDense(4, 2, 0.9, 111);
  const make = (terminal: unknown) => () => TabularMDP.dense({ S: 4, A: 2, gamma: 0.9, P: m.P, terminal: terminal as number[] });
  it("rejects a mask of the wrong length", () => {
    expect(make([true, false])).toThrow(ShapeError);
    expect(make([true, false])).toThrow(/terminal: a mask must have length S = 4; got 2/);
    expect(make(new Uint8Array(3))).toThrow(ShapeError);
  });
  it("rejects mask entries other than 0/1 and mixed booleans", () => {
    expect(make(Uint8Array.from([0, 2, 0, 0]))).toThrow(/terminal\[1\]: mask entries must be 0 or 1; got 2/);
    expect(make([true, 1, false, false])).toThrow(DomainError);
  });
  it("rejects state indices out of range, non-integers and repeats", () => {
    expect(make([4])).toThrow(/terminal\[0\]: state indices must be integers in \[0, S\) = \[0, 4\); got 4/);
    expect(make([0, 1.5])).toThrow(DomainError);
    expect(make([-1])).toThrow(DomainError);
    expect(make([2, 2])).toThrow(/terminal\[1\]: must not list a state twice; got 2/);
  });
  it("rejects a non-array", () => {
    expect(make(3)).toThrow(ShapeError);
    expect(make("0,1")).toThrow(ShapeError);
  });
});
