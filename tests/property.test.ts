// Issue 12 (hardening): property-based tests of the core API, the bilevel API and experiment
// files. The property: every call either throws a typed error (ShapeError, DomainError,
// NumericalError, MemoryLimitError, or an experiment's ExperimentError) or returns a finite,
// correctly shaped result whose reported residual is the true one.
//
// fast-check draws a fresh seed per run and prints it with the shrunk counterexample when a
// property fails ("seed: …, path: …"). Reproduce with FC_SEED=<seed> (and FC_PATH=<path>);
// FC_RUNS scales the number of cases (default: a few thousand in all, well under a minute).
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  actorCritic,
  BilevelProblem,
  DomainError,
  exactDescent,
  ExperimentError,
  hypergradient,
  init,
  linearReward,
  MemoryLimitError,
  mSoBiRL,
  NumericalError,
  parl,
  parseExperiment,
  pbrl,
  phiSigma,
  policyEvaluation,
  policyL2,
  policyLinear,
  resultToJSON,
  runExperiment,
  ShapeError,
  softValueIteration,
  solveLinear,
  TabularMDP,
  type Backend,
} from "../src/index";
import * as ref from "../src/reference/index";
import { systemResidual } from "../src/reference/krylov";
import type { RefMDP } from "../src/reference/index";

const RUNS = Number(process.env.FC_RUNS ?? 1);
const params = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Math.max(1, Math.round(numRuns * RUNS)),
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
  ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
});

/** Run a property; on failure the thrown message (seed, path, counterexample) is what vitest prints. */
function check<T>(arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns: number): void {
  const out = fc.check(fc.property(arb, body), params(numRuns));
  if (out.failed) {
    const cause = out.errorInstance instanceof Error ? `\nCause: ${out.errorInstance.message}` : "";
    throw new Error(`${fc.defaultReportMessage(out) ?? `property failed (seed ${out.seed})`}${cause}`);
  }
}

/** Generous: CI machines are shared (each property takes seconds on an idle core). */
const TIMEOUT = 120_000;

const TYPED = [ShapeError, DomainError, NumericalError, MemoryLimitError, ExperimentError];
/** Runs fn; a typed error is an allowed outcome (returns undefined), anything else fails the property. */
function typedOr<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (TYPED.some((cls) => e instanceof cls)) {
      expect((e as Error).message.length).toBeGreaterThan(0);
      return undefined;
    }
    throw e;
  }
}

/** The level below which two computations of the relative residual ‖b − Ax‖/‖b‖ may disagree. */
function roundingLevel(x: ArrayLike<number>, b: ArrayLike<number>, S: number): number {
  let mx = 0, mb = 0;
  for (let i = 0; i < x.length; i++) mx = Math.max(mx, Math.abs(x[i]));
  for (let i = 0; i < b.length; i++) mb = Math.max(mb, Math.abs(b[i]));
  return 16 * Number.EPSILON * S * (1 + 2 * (mb > 0 ? mx / mb : mx));
}

function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

let backend: Backend;
beforeAll(async () => {
  backend = await init();
});

// ---------- arbitraries ----------

/** Mostly ordinary numbers, sometimes extreme or not numbers at all. */
const anyNumber = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -5, max: 5, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 1e300, -1e300, 1e-300, 0, -0, 2 ** 31, 2 ** 32 + 3) },
  { weight: 1, arbitrary: fc.double() },
);

/** A random MDP: rows of P drawn as positive weights then normalised (or, rarely, not). */
const mdpArb = fc
  .record({
    S: fc.integer({ min: 1, max: 7 }),
    A: fc.integer({ min: 1, max: 3 }),
    gamma: fc.oneof(fc.double({ min: 0, max: 0.99, noNaN: true }), fc.constantFrom(0, 0.999, 1, -0.1, NaN)),
    sparse: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    corrupt: fc.constantFrom(false, false, false, false, true),
  })
  .map(({ S, A, gamma, sparse, seed, corrupt }) => {
    let z = seed >>> 0;
    const u = () => ((z = (Math.imul(z, 1664525) + 1013904223) >>> 0) / 4294967296);
    const P = new Float64Array(S * A * S);
    for (let i = 0; i < S * A; i++) {
      let sum = 0;
      for (let j = 0; j < S; j++) {
        const w = u() < 0.4 ? 0 : u();
        P[i * S + j] = w;
        sum += w;
      }
      if (sum === 0) P[i * S + (i % S)] = sum = 1;
      for (let j = 0; j < S; j++) P[i * S + j] /= sum;
    }
    if (corrupt) P[0] = P[0] + 0.25;
    return { S, A, gamma, sparse, P };
  });

function build(spec: { S: number; A: number; gamma: number; sparse: boolean; P: Float64Array }): TabularMDP {
  const { S, A, gamma, sparse, P } = spec;
  if (!sparse) return TabularMDP.dense({ S, A, P, gamma, backend });
  const indptr = [0], indices: number[] = [], probs: number[] = [];
  for (let i = 0; i < S * A; i++) {
    for (let j = 0; j < S; j++) if (P[i * S + j] !== 0) { indices.push(j); probs.push(P[i * S + j]); }
    indptr.push(indices.length);
  }
  return TabularMDP.sparse({ S, A, indptr, indices, probs, gamma, backend });
}

function refOf(spec: { S: number; A: number; gamma: number; P: Float64Array }): RefMDP {
  return { kind: "dense", S: spec.S, A: spec.A, gamma: spec.gamma, P: spec.P } as unknown as RefMDP;
}

/** A policy: a random distribution per state, or (rarely) something that is not one. */
const policyArb = (S: number, A: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: S * A, maxLength: S * A }).map((w) => {
      const pi = Float64Array.from(w);
      for (let s = 0; s < S; s++) {
        let z = 0;
        for (let a = 0; a < A; a++) z += pi[s * A + a];
        for (let a = 0; a < A; a++) pi[s * A + a] /= z;
      }
      return pi;
    }) },
    { weight: 1, arbitrary: fc.array(anyNumber, { minLength: 0, maxLength: S * A + 1 }) },
  );

/** A vector of length n, usually; any length and any numbers sometimes. */
const vectorArb = (n: number, scale: fc.Arbitrary<number> = fc.constantFrom(1, 1, 1, 1e-170, 1e160, 1e-300, 1e300)) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }), scale).map(([v, c]) => v.map((x) => x * c)) },
    { weight: 1, arbitrary: fc.array(anyNumber, { minLength: 0, maxLength: n + 1 }) },
  );

const optionalCount = fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 400 }), fc.constantFrom(0, -1, 2.5, 2 ** 31, 2 ** 32 + 3, NaN));

// ---------- the core API ----------

describe("the core API: a typed error, or a finite, correctly shaped result whose residual is true", () => {
  it("solveLinear (every method, plain and transposed, b at any scale)", () => {
    const arb = mdpArb.chain((m) =>
      fc.record({
        m: fc.constant(m),
        pi: policyArb(m.S, m.A),
        b: vectorArb(m.S),
        method: fc.constantFrom("lu", "krylov", "bicgstab", "richardson", "cg"),
        transpose: fc.boolean(),
        tol: fc.oneof(fc.constant(undefined), fc.constantFrom(1e-12, 1e-8, 0, -1, NaN)),
        maxIter: optionalCount,
      }),
    );
    check(arb, ({ m, pi, b, method, transpose, tol, maxIter }) => {
      const mdp = typedOr(() => build(m));
      if (!mdp) return;
      const res = typedOr(() => solveLinear(mdp, pi as ArrayLike<number>, b as ArrayLike<number>, { method: method as never, transpose, tol, maxIter }));
      if (!res) return;
      expect(res.x).toHaveLength(m.S);
      expect(allFinite(res.x)).toBe(true);
      expect(Number.isFinite(res.residual) && res.residual >= 0).toBe(true);
      const bb = Float64Array.from(b as ArrayLike<number>);
      const truth = systemResidual(refOf(m), Float64Array.from(pi as ArrayLike<number>), bb, res.x, transpose);
      // two evaluations of ‖b − Ax‖/‖b‖ differ by rounding: about ε(1 + γ)‖x‖/‖b‖ per entry
      expect(Math.abs(res.residual - truth)).toBeLessThanOrEqual(1e-6 * truth + roundingLevel(res.x, bb, m.S));
      if (res.converged) expect(res.residual).toBeLessThanOrEqual(Math.max(tol ?? 1e-12, method === "lu" ? 1e-10 : 0));
    }, 1200);
  }, TIMEOUT);

  it("softValueIteration: ‖G(V) − V‖∞ ≤ γ·residual (one more sweep moves V by at most γ times the last)", () => {
    const arb = mdpArb.chain((m) =>
      fc.record({
        m: fc.constant(m),
        r: vectorArb(m.S * m.A, fc.constantFrom(1, 1, 10, 1e3)),
        tau: fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constantFrom(0, -1, NaN)),
        maxIter: optionalCount,
      }),
    );
    check(arb, ({ m, r, tau, maxIter }) => {
      const mdp = typedOr(() => build(m));
      if (!mdp) return;
      const res = typedOr(() => softValueIteration(mdp, r as ArrayLike<number>, { tau, maxIter }));
      if (!res) return;
      const { S, A } = m;
      expect(res.V).toHaveLength(S);
      expect(res.Q).toHaveLength(S * A);
      expect(res.pi).toHaveLength(S * A);
      expect(allFinite(res.V) && allFinite(res.Q) && allFinite(res.pi)).toBe(true);
      for (let s = 0; s < S; s++) {
        let z = 0;
        for (let a = 0; a < A; a++) z += res.pi[s * A + a];
        expect(Math.abs(z - 1)).toBeLessThan(1e-9);
      }
      // the reported residual is ‖V_k − V_{k−1}‖∞; the γ-contraction bounds the next move
      const Vnext = new Float64Array(S);
      const move = ref.bellmanSweep(refOf(m), Float64Array.from(r as ArrayLike<number>), res.V, new Float64Array(S * A), Vnext, tau);
      let big = 1;
      for (let s = 0; s < S; s++) big = Math.max(big, Math.abs(res.V[s]));
      expect(move).toBeLessThanOrEqual(m.gamma * res.residual + 1e-9 * big);
      expect(res.converged).toBe(res.residual <= 1e-10);
    }, 500);
  }, TIMEOUT);

  it("policyEvaluation: the residual is that of (I − γP_π)V = r_π + τH_π", () => {
    const arb = mdpArb.chain((m) =>
      fc.record({
        m: fc.constant(m),
        r: vectorArb(m.S * m.A),
        pi: policyArb(m.S, m.A),
        tau: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.constantFrom(-1, NaN)),
        method: fc.constantFrom("lu", "krylov", "bicgstab", "richardson"),
      }),
    );
    check(arb, ({ m, r, pi, tau, method }) => {
      const mdp = typedOr(() => build(m));
      if (!mdp) return;
      const res = typedOr(() => policyEvaluation(mdp, r as ArrayLike<number>, pi as ArrayLike<number>, { tau, method }));
      if (!res) return;
      expect(res.V).toHaveLength(m.S);
      expect(res.Q).toHaveLength(m.S * m.A);
      expect(allFinite(res.V) && allFinite(res.Q)).toBe(true);
      const p = Float64Array.from(pi as ArrayLike<number>);
      const b = ref.softRewardPi(Float64Array.from(r as ArrayLike<number>), p, m.S, m.A, tau);
      const truth = systemResidual(refOf(m), p, b, res.V, false);
      expect(Math.abs(res.residual - truth)).toBeLessThanOrEqual(1e-6 * truth + roundingLevel(res.V, b, m.S));
    }, 500);
  }, TIMEOUT);
});

// ---------- the bilevel API ----------

const bilevelArb = mdpArb
  .filter((m) => m.gamma >= 0 && m.gamma <= 0.95)
  .chain((m) => {
    const SA = m.S * m.A;
    return fc.record({
      m: fc.constant({ ...m, corrupt: false }),
      n: fc.integer({ min: 1, max: 3 }),
      tau: fc.oneof(fc.double({ min: 0.05, max: 2, noNaN: true }), fc.constantFrom(0, -1)),
      phiScale: fc.constantFrom(1, 1, 1, 1e3, 1e16),
      seed: fc.integer({ min: 0, max: 1000 }),
      linearUpper: fc.boolean(),
      x: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 3 }),
      SA: fc.constant(SA),
    });
  });

function bilevel(v: { m: { S: number; A: number; gamma: number; sparse: boolean; P: Float64Array }; n: number; tau: number; phiScale: number; seed: number; linearUpper: boolean; SA: number }): BilevelProblem {
  let z = v.seed + 1;
  const u = () => ((z = (Math.imul(z, 69069) + 1) >>> 0) / 4294967296) * 2 - 1;
  const Phi = Float64Array.from({ length: v.SA * v.n }, () => u() * v.phiScale);
  const upper = v.linearUpper ? policyLinear(Float64Array.from({ length: v.SA }, u), 0.1) : policyL2();
  return new BilevelProblem({ mdp: build(v.m), tau: v.tau, reward: linearReward(Phi, v.n), upper });
}

describe("the bilevel API: a typed error, or a finite, correctly shaped result", () => {
  it("the exact hypergradient: shaped and finite; where it reports no loss of precision it matches finite differences", () => {
    check(bilevelArb, (v) => {
      const problem = typedOr(() => bilevel(v));
      if (!problem) return;
      const hg = typedOr(() => hypergradient(problem, v.x));
      if (!hg) return;
      expect(hg.grad).toHaveLength(v.n);
      expect(allFinite(hg.grad) && Number.isFinite(hg.value)).toBe(true);
      expect(hg.pi).toHaveLength(v.SA);
      const d = hg.diagnostics;
      expect(d.lowerResidual >= 0 && d.linearResidual >= 0).toBe(true);
      // finite differences are a fair judge only where φ is smooth on the scale of their step:
      // rewards of moderate size, a step well inside τ/‖Φ‖
      if (d.precisionLost === false && v.phiScale <= 1e3) {
        const fd = hypergradient(problem, v.x, { method: "finite-difference", h: (1e-3 * v.tau) / v.phiScale });
        // FD's truncation error is relative to the gradient's natural size ‖Φ‖/τ, which a
        // gradient near a stationary point can lie far below
        let diff = 0, size = 1 + v.phiScale / v.tau;
        for (let k = 0; k < v.n; k++) {
          diff = Math.max(diff, Math.abs(fd.grad[k] - hg.grad[k]));
          size = Math.max(size, Math.abs(hg.grad[k]));
        }
        expect(diff, `exact ${Array.from(hg.grad)} vs FD ${Array.from(fd.grad)}`).toBeLessThanOrEqual(1e-5 * size);
      }
    }, 250);
  }, TIMEOUT);

  it("every algorithm for 1–3 iterations with random options: x of length n, one history row per iteration, finite records", () => {
    const algs = { exactDescent, mSoBiRL, pbrl, parl, actorCritic, phiSigma } as const;
    const arb = fc.record({
      v: bilevelArb,
      alg: fc.constantFrom(...(Object.keys(algs) as (keyof typeof algs)[])),
      iterations: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, -1, 1.5, NaN)),
      beta: fc.oneof(fc.constant(undefined), fc.double({ min: 1e-4, max: 0.5, noNaN: true }), fc.constantFrom(0, -1, NaN)),
    });
    check(arb, ({ v, alg, iterations, beta }) => {
      const problem = typedOr(() => bilevel(v));
      if (!problem) return;
      const opts: Record<string, unknown> = { iterations, x0: v.x };
      if (beta !== undefined) opts[alg === "phiSigma" || alg === "actorCritic" ? (alg === "phiSigma" ? "eta" : "alpha") : "beta"] = beta;
      if (alg === "phiSigma") opts.n = 2;
      const run = typedOr(() => (algs[alg].run as (p: BilevelProblem, o: object) => { x: Float64Array; history: { f: number; hnorm: number }[]; state: { k: number } })(problem, opts));
      if (!run) return;
      expect(run.x).toHaveLength(v.n);
      expect(allFinite(run.x)).toBe(true);
      expect(run.history).toHaveLength(iterations);
      expect(run.state.k).toBe(iterations);
    }, 250);
  }, TIMEOUT);
});

// ---------- experiment files ----------

describe("experiment files: a list of errors with JSON paths, a typed error, a diverged run named as such, or a finite result", () => {
  const base = {
    version: 1,
    name: "property",
    seed: 0,
    problem: {
      mdp: { S: 2, A: 2, gamma: 0.9, P: [[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0, 1]]] },
      reward: { linear: { Phi: [[1, 0], [0, 1], [1, 1], [0, 0]], n: 2 } },
      upper: { policyL2: {} },
      tau: 0.5,
    },
    algorithm: { name: "exactDescent", beta: 0.5 },
    iterations: 2,
    x0: [0.3, -0.2],
    record: { phiEvery: 1, x: true },
  };
  type Json = unknown;
  /** Edits of one field: a value of the right kind, an extreme one, or one of another type. */
  const edits: [string[], fc.Arbitrary<Json>][] = [
    [["problem", "mdp", "gamma"], fc.oneof(fc.double({ min: 0, max: 0.99, noNaN: true }), fc.constantFrom(1, -0.5, "0.9", null))],
    [["problem", "tau"], fc.oneof(fc.double({ min: 0.01, max: 2, noNaN: true }), fc.constantFrom(0, -1, 1e300, "x"))],
    [["problem", "mdp", "P", "0", "1", "0"], fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-0.1, null, "0.2"))],
    [["problem", "reward", "linear", "Phi", "2", "1"], fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(1e200, null, [1]))],
    [["problem", "reward", "linear", "n"], fc.constantFrom(2, 1, 3, 0, 2 ** 31)],
    [["algorithm", "name"], fc.constantFrom("exactDescent", "mSoBiRL", "pbrl", "parl", "actorCritic", "phiSigma", "noSuch")],
    [["algorithm", "beta"], fc.oneof(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.constantFrom(0, -1, 1e308, "fast"))],
    [["iterations"], fc.constantFrom(1, 2, 3, 0, -1, 2.5, "3")],
    [["x0"], fc.oneof(fc.constant("problem"), fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 3 }))],
    [["record", "phiEvery"], fc.constantFrom(0, 1, 2, -1, 1.5)],
    [["seed"], fc.constantFrom(0, 7, -1, 2 ** 53, 1.5)],
  ];
  const editArb = fc.array(fc.integer({ min: 0, max: edits.length - 1 }), { minLength: 1, maxLength: 3 }).chain((which) =>
    fc.tuple(...which.map((i) => edits[i][1].map((value) => [edits[i][0], value] as const))),
  );

  it("random edits of a small experiment", () => {
    check(editArb, (changes) => {
      const doc = JSON.parse(JSON.stringify(base));
      for (const [path, value] of changes) {
        let o = doc;
        for (const key of path.slice(0, -1)) o = o[key];
        o[path[path.length - 1]] = value;
      }
      if (doc.algorithm.name !== "exactDescent" && doc.algorithm.name !== "mSoBiRL" && doc.algorithm.name !== "pbrl" && doc.algorithm.name !== "parl") delete doc.algorithm.beta;
      const v = parseExperiment(JSON.stringify(doc));
      if (!v.ok) {
        expect(v.errors.length).toBeGreaterThan(0);
        for (const e of v.errors) {
          expect(typeof e.path).toBe("string");
          expect(e.path === "" || e.path.startsWith("/")).toBe(true);
          expect(e.message.length).toBeGreaterThan(0);
        }
        return;
      }
      const result = typedOr(() => runExperiment(v.experiment, { backend }));
      if (!result) return;
      if (result.status === "diverged") {
        // a blow-up is reported, never scored: the message names the iteration and the step
        expect(result.message).toMatch(/^diverged at iteration k = \d+: .*likely cause/);
        expect(result.final.phi).toBeUndefined();
        expect(result.iterations).toBeLessThanOrEqual(v.experiment.iterations);
        return;
      }
      expect(result.status).toBe("max-iterations");
      expect(result.iterations).toBe(v.experiment.iterations);
      const rw = (v.experiment.problem as { reward?: Record<string, unknown> }).reward;
      expect(result.final.x).toHaveLength(rw && "linear" in rw ? (rw.linear as { n: number }).n : result.final.x.length);
      expect(allFinite(result.final.x)).toBe(true);
      for (const row of result.history) expect(Number.isFinite(row.f) && Number.isFinite(row.hnorm)).toBe(true);
      expect(resultToJSON(result)).not.toMatch(/NaN|Infinity/);
    }, 300);
  }, TIMEOUT);
});
