// Contextual bilevel problems (docs/math.md#contextual): φ(x) = Σ_c w_c φ_c(x) with one shared x,
// built as the block-diagonal union of the contexts; every hypergradient method and every
// algorithm on it; one sampled context per iteration; experiment files; both kernel builds.
import { beforeAll, describe, expect, it } from "vitest";
import { init, TabularMDP, DomainError, ShapeError, validateExperiment, type Backend } from "../src/index";
import { BilevelProblem } from "../src/bilevel/problem";
import { linearReward, upperReturn } from "../src/bilevel/models";
import { hypergradient, phi } from "../src/bilevel/hypergradient";
import { modelFreeHypergradient } from "../src/bilevel/modelFree";
import { contextual, contextAt, sampledContexts, type ContextualProblem } from "../src/bilevel/contextual";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { exactDescent } from "../src/bilevel/algorithms/exactDescent";
import { additiveReward, incentiveObjective } from "../src/problems/incentive";
import { rlhf } from "../src/problems/rlhf";
import { randomCsr, randomDense, randomVector } from "./helpers/random-mdp";
import { genericProblem, stackelbergProblem } from "./helpers/random-bilevel";
import { chiSquare, chiSquareSurvival } from "./helpers/stats";

let builds: [string, Backend][];
beforeAll(async () => {
  builds = [["simd", await init({ simd: true })], ["scalar", await init({ simd: false })]];
});
const backendOf = (name: string) => builds.find(([b]) => b === name)![1];
const BUILDS = ["simd", "scalar"] as const;

const A = 3, GAMMA = 0.8, TAU = 0.4;
const TIGHT = { solver: "policy-iteration" as const, tol: 1e-14 };

/**
 * Incentive-like context (S states, n = 4): r_x = r_F + Φx, upper r_U(x) = r_D − Φx/2 (an
 * x-dependent upper reward) or a fixed r_D; dense or CSR; optional terminal states.
 */
function incentiveContext(S: number, kind: "dense" | "csr", seed: number, backend: Backend, opts: { terminal?: number[]; fixedUpper?: boolean; lambda?: number } = {}): BilevelProblem {
  const rho = randomVector(S, seed + 50, 0.1, 1);
  let z = 0;
  for (const v of rho) z += v;
  for (let s = 0; s < S; s++) rho[s] /= z;
  const mdp = kind === "dense"
    ? TabularMDP.dense({ ...randomDense(S, A, GAMMA, seed), rho, backend, terminal: opts.terminal })
    : TabularMDP.sparse({ ...randomCsr(S, A, GAMMA, 2, seed), rho, backend, terminal: opts.terminal });
  const n = 4;
  const Phi = randomVector(S * A * n, seed + 1);
  const rF = randomVector(S * A, seed + 2), rD = randomVector(S * A, seed + 3);
  const reward = {
    ...linearReward(Phi, n),
    reward(x: Float64Array, out: Float64Array) {
      for (let i = 0; i < S * A; i++) {
        let acc = rF[i];
        for (let k = 0; k < n; k++) acc += Phi[i * n + k] * x[k];
        out[i] = acc;
      }
    },
  };
  const half = linearReward(Phi.map((v) => -0.5 * v), n);
  const rU = {
    ...half,
    reward(x: Float64Array, out: Float64Array) {
      half.reward(x, out);
      for (let i = 0; i < S * A; i++) out[i] += rD[i];
    },
  };
  const upper = opts.fixedUpper ? upperReturn({ r: rD, lambda: opts.lambda ?? 0.1 }) : upperReturn({ r: rU, lambda: opts.lambda ?? 0.05 });
  return new BilevelProblem({ mdp, tau: TAU, reward, upper });
}

function threeContexts(backend: Backend): { ctx: ContextualProblem; parts: BilevelProblem[]; w: number[] } {
  const parts = [
    incentiveContext(4, "dense", 1, backend),
    incentiveContext(5, "csr", 2, backend, { terminal: [4] }),
    incentiveContext(3, "dense", 3, backend, { fixedUpper: true }),
  ];
  const w = [0.5, 0.3, 0.2];
  return { ctx: contextual(parts.map((problem, i) => ({ problem, weight: w[i] }))), parts, w };
}

function weightedGrad(parts: BilevelProblem[], w: number[], x: Float64Array): { value: number; grad: Float64Array } {
  const grad = new Float64Array(x.length);
  let value = 0;
  parts.forEach((p, c) => {
    const hg = hypergradient(p, x, { method: "exact", lower: TIGHT });
    value += w[c] * hg.value;
    for (let k = 0; k < x.length; k++) grad[k] += w[c] * hg.grad[k];
  });
  return { value, grad };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); }
  return m / Math.max(s, 1e-300);
}

describe("the union of contexts (docs/math.md#contextual)", () => {
  it.each(BUILDS)("on the %s build has φ = Σ_c w_c φ_c to 1e-12 and its blocks, ρ and terminal states where the contexts put them", (name) => {
    const { ctx, parts, w } = threeContexts(backendOf(name));
    const { problem } = ctx;
    expect(problem.mdp.S).toBe(12);
    expect(problem.mdp.kind).toBe("csr");
    expect(ctx.upperKind).toBe("upperReturn");
    expect(ctx.contexts.map((b) => [b.offset, b.S])).toEqual([[0, 4], [4, 5], [9, 3]]);
    expect(Array.from(problem.mdp.terminal!).map((t, s) => (t ? s : -1)).filter((s) => s >= 0)).toEqual([8]);
    const rho = problem.mdp.rho;
    expect(Math.abs(ctx.slice(1, rho).reduce((a, b) => a + b, 0) - 0.3)).toBeLessThan(1e-15);
    for (const seed of [10, 11, 12]) {
      const x = randomVector(4, seed);
      const sep = parts.map((p) => phi(p, x, TIGHT).value);
      const expected = sep.reduce((acc, v, c) => acc + w[c] * v, 0);
      expect(Math.abs(phi(problem, x, TIGHT).value - expected)).toBeLessThan(1e-12 * Math.max(1, Math.abs(expected)));
      const by = ctx.phiByContext(x, TIGHT);
      by.byContext.forEach((v, c) => expect(Math.abs(v - sep[c])).toBeLessThan(1e-12 * Math.max(1, Math.abs(sep[c]))));
      expect(Math.abs(by.phi - expected)).toBeLessThan(1e-12 * Math.max(1, Math.abs(expected)));
      // the soft optimum of the union is each context's on its block
      const low = phi(problem, x, TIGHT).low;
      parts.forEach((p, c) => expect(maxRel(ctx.slice(c, low.pi), phi(p, x, TIGHT).low.pi)).toBeLessThan(1e-12));
    }
  });

  it.each(BUILDS)("on the %s build has ∇φ = Σ_c w_c ∇φ_c by 'exact', 'amd' and 'finite-difference', and central differences agree", (name) => {
    const { ctx, parts, w } = threeContexts(backendOf(name));
    const x = randomVector(4, 21);
    const ref = weightedGrad(parts, w, x);
    const ex = hypergradient(ctx.problem, x, { method: "exact", lower: TIGHT });
    expect(maxRel(ex.grad, ref.grad)).toBeLessThan(1e-9);
    expect(Math.abs(ex.value - ref.value)).toBeLessThan(1e-12);
    const amd = hypergradient(ctx.problem, x, { method: "amd", lower: TIGHT, linear: "lu" });
    expect(maxRel(amd.grad, ref.grad)).toBeLessThan(1e-9);
    const fd = hypergradient(ctx.problem, x, { method: "finite-difference", lower: TIGHT });
    expect(maxRel(fd.grad, ref.grad)).toBeLessThan(1e-6);
    // central differences of φ itself, coordinate by coordinate
    const h = 1e-5;
    for (let k = 0; k < 4; k++) {
      const xp = Float64Array.from(x), xm = Float64Array.from(x);
      xp[k] += h;
      xm[k] -= h;
      const d = (phi(ctx.problem, xp, TIGHT).value - phi(ctx.problem, xm, TIGHT).value) / (2 * h);
      expect(Math.abs(d - ex.grad[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(ex.grad[k])));
    }
  });

  it.each(BUILDS)("on the %s build sums general upper objectives (Σ_c w_c f_c on each context's MDP), x-dependent transitions included", async (name) => {
    await init({ simd: name === "simd" });
    const parts = [genericProblem("dense", 31), genericProblem("csr", 32), genericProblem("dense", 33)];
    const w = [0.25, 0.25, 0.5];
    const ctx = contextual(parts.map((problem, i) => ({ problem, weight: w[i], name: `g${i}` })));
    expect(ctx.upperKind).toBe("sum");
    expect(ctx.contexts[2].name).toBe("g2");
    const x = randomVector(parts[0].n, 34);
    const ref = weightedGrad(parts, w, x);
    const ex = hypergradient(ctx.problem, x, { method: "exact", lower: TIGHT });
    expect(Math.abs(ex.value - ref.value)).toBeLessThan(1e-12 * Math.max(1, Math.abs(ref.value)));
    expect(maxRel(ex.grad, ref.grad)).toBeLessThan(1e-9);
    expect(maxRel(hypergradient(ctx.problem, x, { method: "finite-difference", lower: TIGHT }).grad, ref.grad)).toBeLessThan(1e-6);
    expect(() => hypergradient(ctx.problem, x, { method: "amd" })).toThrow(/upperReturn/);
    // Stackelberg contexts: P_x per block (dense union)
    const st = [stackelbergProblem(41), stackelbergProblem(42)];
    const sctx = contextual(st.map((problem, i) => ({ problem, weight: [0.7, 0.3][i] })));
    expect(sctx.problem.mdp.kind).toBe("dense");
    const xs = randomVector(st[0].n, 43);
    const sref = weightedGrad(st, [0.7, 0.3], xs);
    const sex = hypergradient(sctx.problem, xs, { method: "exact", lower: TIGHT });
    expect(Math.abs(sex.value - sref.value)).toBeLessThan(1e-12 * Math.max(1, Math.abs(sref.value)));
    expect(maxRel(sex.grad, sref.grad)).toBeLessThan(1e-9);
    expect(maxRel(hypergradient(sctx.problem, xs, { method: "finite-difference", lower: TIGHT }).grad, sref.grad)).toBeLessThan(1e-6);
  });

  it.each(BUILDS)("on the %s build gives the model-free estimator of Σ_c w_c ∇φ_c for trajectory objectives in pairs (within 4 standard errors)", (name) => {
    const backend = backendOf(name);
    const a = rlhf({ S: 3, A: 2, H: 2, seed: 1, backend } as never), b = rlhf({ S: 3, A: 2, H: 2, seed: 2, backend } as never);
    const w = [0.6, 0.4];
    const ctx = contextual([{ problem: a.problem, weight: w[0] }, { problem: b.problem, weight: w[1] }]);
    expect(ctx.upperKind).toBe("sum");
    const x = Float64Array.from(a.x0);
    const ref = weightedGrad([a.problem, b.problem], w, x);
    expect(maxRel(hypergradient(ctx.problem, x, { method: "exact", lower: TIGHT }).grad, ref.grad)).toBeLessThan(1e-9);
    const est = modelFreeHypergradient(ctx.problem, x, { groups: 20000, derivative: "exact", seed: 5 });
    const z = Array.from(est.grad, (g, k) => (g - ref.grad[k]) / est.stdError[k]);
    expect(Math.max(...z.map(Math.abs))).toBeLessThan(4.5);
    expect(Math.abs(est.value - ref.value)).toBeLessThan(4.5 * est.valueStdError);
    // same seed, same estimate
    const again = modelFreeHypergradient(ctx.problem, x, { groups: 200, derivative: "exact", seed: 9 });
    expect(Array.from(modelFreeHypergradient(ctx.problem, x, { groups: 200, derivative: "exact", seed: 9 }).grad)).toEqual(Array.from(again.grad));
  });
});

describe("every algorithm on a contextual problem", () => {
  it.each(BUILDS)("on the %s build runs a few iterations of each algorithm with finite results", (name) => {
    const backend = backendOf(name);
    const { ctx } = threeContexts(backend);
    const a = rlhf({ seed: 1, backend } as never), b = rlhf({ seed: 2, backend } as never);
    const traj = contextual([{ problem: a.problem, weight: 0.5 }, { problem: b.problem, weight: 0.5 }]);
    for (const alg of ALGORITHM_LIST) {
      const onTraj = alg.info.needsTrajectory;
      const problem = onTraj ? traj.problem : ctx.problem;
      const x0 = onTraj ? a.x0 : new Float64Array(4).fill(0.1);
      const r = alg.run(problem, { x0, iterations: 3, record: { phiEvery: 1 } } as never);
      expect(r.history.length, alg.name).toBe(3);
      expect(r.status, alg.name).toBe("max-iterations");
      for (const row of r.history) {
        expect(Number.isFinite(row.f), alg.name).toBe(true);
        expect(Number.isFinite(row.phi!), alg.name).toBe(true);
      }
      expect(Array.from(r.x).every(Number.isFinite), alg.name).toBe(true);
    }
  });
});

describe("one sampled context per iteration (sampledContexts)", () => {
  it("draws c_k ~ w from (seed, k) alone: the frequencies pass a χ² test and the draws are reproducible", () => {
    const w = [0.5, 0.3, 0.2, 0];
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 20000; k++) counts[contextAt(w, 7, k)]++;
    expect(counts[3]).toBe(0);
    const { stat, df } = chiSquare(counts.slice(0, 3), w.slice(0, 3));
    expect(chiSquareSurvival(stat, df)).toBeGreaterThan(1e-3);
    expect(Array.from({ length: 50 }, (_, k) => contextAt(w, 7, k))).toEqual(Array.from({ length: 50 }, (_, k) => contextAt(w, 7, k)));
    expect(Array.from({ length: 50 }, (_, k) => contextAt(w, 7, k))).not.toEqual(Array.from({ length: 50 }, (_, k) => contextAt(w, 8, k)));
  });

  it.each(BUILDS)("on the %s build is seeded and reproducible, resumes like an uninterrupted run, and its mean direction is ∇φ (within 4 standard errors)", (name) => {
    const { ctx, parts, w } = threeContexts(backendOf(name));
    const x0 = randomVector(4, 60);
    const alg = sampledContexts(exactDescent, ctx, { seed: 3 });
    const r1 = alg.run(ctx.problem, { x0, iterations: 6, beta: 0.05, record: { phiEvery: 1 } });
    const r2 = alg.run(ctx.problem, { x0, iterations: 6, beta: 0.05, record: { phiEvery: 1 } });
    expect(r2.history).toEqual(r1.history);
    expect(Array.from(r2.x)).toEqual(Array.from(r1.x));
    const other = sampledContexts(exactDescent, ctx, { seed: 4 }).run(ctx.problem, { x0, iterations: 6, beta: 0.05 });
    expect(Array.from(other.x)).not.toEqual(Array.from(r1.x));
    // 3 + 3 iterations from the state = 6 iterations
    const half = alg.run(ctx.problem, { x0, iterations: 3, beta: 0.05 });
    const rest = alg.run(ctx.problem, { state: half.state, iterations: 3 });
    expect(Array.from(rest.x)).toEqual(Array.from(r1.x));
    // the first step is −β ∇φ_{c_0}
    const c0 = contextAt(w, 3, 0);
    const g0 = hypergradient(parts[c0], x0, { method: "exact", lower: { tol: 1e-10 } }).grad;
    const x1 = alg.run(ctx.problem, { x0, iterations: 1, beta: 0.05 }).x;
    for (let k = 0; k < 4; k++) expect(Math.abs(x1[k] - (x0[k] - 0.05 * g0[k]))).toBeLessThan(1e-8);
    // E over the draws of ∇φ_{c_k} = ∇φ: 4000 draws at a fixed x
    const gs = parts.map((p) => hypergradient(p, x0, { method: "exact", lower: TIGHT }).grad);
    const full = hypergradient(ctx.problem, x0, { method: "exact", lower: TIGHT }).grad;
    const K = 4000;
    for (let k = 0; k < 4; k++) {
      let m = 0, m2 = 0;
      for (let i = 0; i < K; i++) {
        const g = gs[contextAt(w, 11, i)][k];
        m += g;
        m2 += g * g;
      }
      m /= K;
      const se = Math.sqrt(Math.max(m2 / K - m * m, 0) / K);
      expect(Math.abs(m - full[k])).toBeLessThan(4 * se + 1e-12);
    }
  });

  it("refuses another problem than the contextual one it was built for", () => {
    const { ctx, parts } = threeContexts(backendOf("simd"));
    const alg = sampledContexts(exactDescent, ctx, { seed: 1 });
    expect(() => alg.run(parts[0], { iterations: 1 })).toThrow(ShapeError);
    expect(() => sampledContexts(exactDescent, ctx, { seed: -1 })).toThrow(DomainError);
  });
});

describe("bad contexts", () => {
  it("name the index and value of a bad weight, and the sum when the weights do not sum to 1", () => {
    const { parts } = threeContexts(backendOf("simd"));
    expect(() => contextual([{ problem: parts[0], weight: 1.2 }, { problem: parts[1], weight: -0.2 }])).toThrow(/contexts\[1\]\.weight.*≥ 0.*-0\.2/);
    expect(() => contextual([{ problem: parts[0], weight: 0.5 }, { problem: parts[1], weight: 0.6 }])).toThrow(/sum to 1.*1\.1/);
    expect(() => contextual([{ problem: parts[0], weight: NaN }])).toThrow(DomainError);
    expect(() => contextual([])).toThrow(ShapeError);
  });

  it("requires the same A, γ, τ and n in every context", () => {
    const b = backendOf("simd");
    const p = incentiveContext(4, "dense", 1, b);
    const other = new BilevelProblem({ mdp: p.mdp, tau: 0.9, reward: p.reward, upper: p.upper });
    expect(() => contextual([{ problem: p, weight: 0.5 }, { problem: other, weight: 0.5 }])).toThrow(/contexts\[1\]\.tau/);
    const m2 = TabularMDP.dense({ ...randomDense(4, 2, GAMMA, 5), backend: b });
    const rF = new Float64Array(8);
    const twoActions = new BilevelProblem({ mdp: m2, tau: TAU, reward: additiveReward(rF), upper: incentiveObjective({ rD: rF }) });
    expect(() => contextual([{ problem: p, weight: 0.5 }, { problem: twoActions, weight: 0.5 }])).toThrow(/contexts\[1\]\.mdp/);
    const m3 = TabularMDP.dense({ ...randomDense(4, A, 0.5, 5), backend: b });
    const g = new BilevelProblem({ mdp: m3, tau: TAU, reward: p.reward, upper: p.upper });
    expect(() => contextual([{ problem: p, weight: 0.5 }, { problem: g, weight: 0.5 }])).toThrow(/gamma/);
  });
});

describe("contextual experiment files", () => {
  const ctxDoc = (weights: unknown[]) => ({
    version: 1,
    seed: 0,
    iterations: 2,
    algorithm: { name: "exactDescent" },
    problem: { contexts: weights.map((weight, i) => ({ weight, problem: { builtin: "incentive", params: { seed: i } } })) },
  });

  it("reject a negative weight and weights not summing to 1 with JSON pointers naming the index and value", () => {
    const neg = validateExperiment(ctxDoc([1.5, -0.5]));
    expect(neg.ok).toBe(false);
    if (!neg.ok) expect(neg.errors.some((e) => e.path === "/problem/contexts/1/weight" && /-0\.5/.test(e.message))).toBe(true);
    const sum = validateExperiment(ctxDoc([0.5, 0.6]));
    expect(sum.ok).toBe(false);
    if (!sum.ok) expect(sum.errors).toEqual([{ path: "/problem/contexts", message: expect.stringMatching(/summing to 1.*1\.1/) }]);
    const ok = validateExperiment(ctxDoc([0.5, 0.5]));
    expect(ok.ok).toBe(true);
  });
});
