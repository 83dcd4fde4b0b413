// Tier 2 of the test plan: the SIMD build, its scalar twin and the plain-TS reference
// (src/reference/) on random dense and CSR MDPs of many shapes, including the SIMD tail
// sizes S = 1..5, 8, 9, 16, 17 and S = 37, with A = 1..4.
//
// Agreement with the reference is normwise relative, ‖x − x_ref‖∞ ≤ 1e-12·‖x_ref‖∞.
// Between the two builds it is bit for bit: assembly/vec.ts promises that each scalar
// helper adds in the SIMD lane order, so every kernel built on them gives the same bits.
// The Node hashes of the shared scenarios (tests/helpers/scenarios.ts) are written to
// build/node-hashes.json for the browser run to compare against.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import {
  init,
  occupancy,
  policyEvaluation,
  sampleTrajectories,
  softValueIteration,
  solveLinear,
  type Backend,
} from "../src/index";
import * as ref from "../src/reference/index";
import simdBytes from "../build/bilevel-simd.wasm";
import scalarBytes from "../build/bilevel-scalar.wasm";
import type { RefMDP } from "../src/reference/index";
import { firstBitDiff, maxAbs, relErr, toTabular, uniform, type NumArray } from "./helpers/compare";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";
import {
  NODE_HASHES_PATH,
  REL_TOL,
  SCENARIOS,
  disagreements,
  fnv1a64,
  hashDifferences,
  hashOutcomes,
  runScenarios,
  type HashFile,
} from "./helpers/scenarios";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = { simd: fnv1a64(simdBytes), scalar: fnv1a64(scalarBytes) };

let simd: Backend;
let scalar: Backend;
beforeAll(async () => {
  simd = await init({ simd: true });
  scalar = await init({ simd: false });
});

const SIZES = [1, 2, 3, 4, 5, 8, 9, 16, 17, 37];
/** Every linear method of solveLinear ('krylov' is restarted GMRES). */
const METHODS = ["lu", "krylov", "bicgstab", "richardson"] as const;
const ACTIONS = [1, 2, 3, 4];
/** Each seed also fixes γ and, for CSR, the non-zeros per row (1 = deterministic rows). */
const VARIANTS = [
  { seed: 11, gamma: 0.9, nnz: 3 },
  { seed: 29, gamma: 0.6, nnz: 4 },
  { seed: 47, gamma: 0.95, nnz: 1 },
];

interface Case {
  label: string;
  m: RefMDP;
  seed: number;
}

function cases(kind: "dense" | "csr"): Case[] {
  const out: Case[] = [];
  for (const { seed, gamma, nnz } of VARIANTS)
    for (const S of SIZES)
      for (const A of ACTIONS) {
        const s = seed * 10007 + S * 31 + A;
        const m = kind === "dense" ? randomDense(S, A, gamma, s) : randomCsr(S, A, gamma, Math.min(S, nnz), s);
        const label = `${kind} S=${S} A=${A} γ=${gamma}${kind === "csr" ? ` nnz/row=${Math.min(S, nnz)}` : ""} seed=${s}`;
        out.push({ label, m, seed: s });
      }
  return out;
}

/** ‖a − b‖₁ / ‖b‖₁ (Infinity for non-finite entries). */
function relErr1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += Math.abs(a[i] - b[i]);
    n += Math.abs(b[i]);
  }
  return Number.isFinite(d) ? d / n : Infinity;
}

/** Collects readable failures so that one assertion reports every case that broke. */
class Problems {
  readonly list: string[] = [];
  rel(where: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = REL_TOL): void {
    const e = relErr(got, want);
    if (!(e <= tol)) this.list.push(`${where}: relative error ${e} > ${tol}`);
  }
  bits(where: string, a: NumArray, b: NumArray): void {
    const d = firstBitDiff(a, b);
    if (d) this.list.push(`${where}: SIMD vs scalar not bitwise equal: ${d}`);
  }
  same(where: string, got: unknown, want: unknown): void {
    if (!Object.is(got, want)) this.list.push(`${where}: ${String(got)} ≠ ${String(want)}`);
  }
  check(where: string, ok: boolean, what: string): void {
    if (!ok) this.list.push(`${where}: ${what}`);
  }
  /** Runs fn; an exception becomes a recorded problem (and undefined) instead of ending the test. */
  attempt<T>(where: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.list.push(`${where}: threw ${(e as Error).name}: ${(e as Error).message}`);
      return undefined;
    }
  }
}

describe.each(["dense", "csr"] as const)("%s transitions: SIMD build vs scalar build vs plain-TS reference", (kind) => {
  const all = cases(kind);

  test("softValueIteration run for a fixed number of sweeps gives V, Q and pi within 1e-12 of the reference and the same sweep count, bitwise equal between builds", () => {
    const p = new Problems();
    for (const { label, m, seed } of all) {
      const r = randomVector(m.S * m.A, seed + 1);
      const ms = toTabular(m, simd);
      const mc = toTabular(m, scalar);
      for (const tau of [0, 0.3, 1])
        for (const sweeps of [1, 2, 25]) {
          const where = `${label} τ=${tau} sweeps=${sweeps}`;
          const opts = { tau, tol: 0, maxIter: sweeps };
          const a = softValueIteration(ms, r, opts);
          const b = softValueIteration(mc, r, opts);
          const want = ref.softValueIteration(m, r, opts);
          for (const key of ["V", "Q", "pi"] as const) {
            p.bits(`${where} ${key}`, a[key], b[key]);
            p.rel(`${where} ${key} (SIMD)`, a[key], want[key]);
            p.rel(`${where} ${key} (scalar)`, b[key], want[key]);
          }
          p.same(`${where} iterations (SIMD)`, a.iterations, sweeps);
          p.same(`${where} iterations (scalar)`, b.iterations, sweeps);
          p.same(`${where} iterations (reference)`, want.iterations, sweeps);
          p.same(`${where} residual SIMD vs scalar`, a.residual, b.residual);
        }
    }
    expect(p.list).toEqual([]);
  });

  test("softValueIteration run to its tolerance stops after the same sweep on both builds with bitwise equal V, Q, pi and residual", () => {
    const p = new Problems();
    for (const { label, m, seed } of all) {
      const r = randomVector(m.S * m.A, seed + 2);
      for (const tau of [0, 0.5]) {
        const where = `${label} τ=${tau}`;
        const a = softValueIteration(toTabular(m, simd), r, { tau });
        const b = softValueIteration(toTabular(m, scalar), r, { tau });
        p.bits(`${where} V`, a.V, b.V);
        p.bits(`${where} Q`, a.Q, b.Q);
        p.bits(`${where} pi`, a.pi, b.pi);
        p.same(`${where} iterations`, a.iterations, b.iterations);
        p.same(`${where} residual`, a.residual, b.residual);
        p.check(where, a.converged && b.converged, "did not converge");
      }
    }
    expect(p.list).toEqual([]);
  });

  test("softValueIteration run to tol stops at the first sweep whose residual is ≤ tol (up to roundoff), and V, Q, pi there match the reference to 1e-12", () => {
    const p = new Problems();
    const tol = 1e-10;
    for (const { label, m, seed } of all) {
      const r = randomVector(m.S * m.A, seed + 3);
      for (const tau of [0, 0.5]) {
        const where = `${label} τ=${tau}`;
        const got = softValueIteration(toTabular(m, simd), r, { tau, tol });
        const k = got.iterations;
        // the reference run for exactly the same number of sweeps
        const at = ref.softValueIteration(m, r, { tau, tol: 0, maxIter: k });
        for (const key of ["V", "Q", "pi"] as const) p.rel(`${where} ${key}`, got[key], at[key]);
        // residuals are differences of O(‖V‖) numbers: they agree to roundoff of ‖V‖
        const slack = REL_TOL * Math.max(1, maxAbs(at.V));
        p.check(where, got.residual <= tol && at.residual <= tol + slack, `sweep ${k}: residual ${got.residual} (reference ${at.residual}) exceeds tol`);
        if (k > 1) {
          const before = ref.softValueIteration(m, r, { tau, tol: 0, maxIter: k - 1 });
          p.check(where, before.residual > tol - slack, `already converged at sweep ${k - 1} (reference residual ${before.residual}) but ran to ${k}`);
        }
      }
    }
    expect(p.list).toEqual([]);
  });

  test("policyEvaluation with the LU, Krylov and Richardson solvers matches the reference's soft V and Q to 1e-12, bitwise equal between builds", () => {
    const p = new Problems();
    for (const { label, m, seed } of all) {
      const r = randomVector(m.S * m.A, seed + 4);
      const pi = randomPolicy(m.S, m.A, seed + 5);
      const ms = toTabular(m, simd);
      const mc = toTabular(m, scalar);
      for (const tau of [0, 0.7]) {
        const want = ref.policyEvaluation(m, r, pi, tau);
        for (const method of METHODS) {
          const where = `${label} τ=${tau} ${method}`;
          const opts = method === "lu" ? { tau, method } : { tau, method, tol: 1e-14, maxIter: 5000 };
          const a = policyEvaluation(ms, r, pi, opts);
          const b = policyEvaluation(mc, r, pi, opts);
          for (const key of ["V", "Q"] as const) {
            p.bits(`${where} ${key}`, a[key], b[key]);
            p.rel(`${where} ${key}`, a[key], want[key]);
          }
          p.same(`${where} iterations SIMD vs scalar`, a.iterations, b.iterations);
        }
      }
    }
    expect(p.list).toEqual([]);
  });

  test("solveLinear with each method, transposed or not, for a random and a uniform right-hand side, matches the reference's exact LU solution to 1e-12, bitwise equal between builds", () => {
    const p = new Problems();
    for (const { label, m, seed } of all) {
      const pi = randomPolicy(m.S, m.A, seed + 6);
      const ms = toTabular(m, simd);
      const mc = toTabular(m, scalar);
      // a uniform b is the occupancy of the default ρ: for the transposed system 1ᵀ is a left eigenvector
      for (const [rhs, b] of [["random b", randomVector(m.S, seed + 7)], ["uniform b", uniform(m.S)]] as const)
        for (const transpose of [false, true]) {
          const want = ref.solveLinear(m, pi, b, { method: "lu", transpose });
          for (const method of METHODS) {
            const where = `${label} ${rhs} ${method}${transpose ? " transposed" : ""}`;
            // iterative solves run to the precision floor so that x is exact to 1e-12
            const opts = method === "lu" ? { method, transpose } : { method, transpose, tol: 1e-14, maxIter: 5000 };
            const x = solveLinear(ms, pi, b, opts);
            const y = solveLinear(mc, pi, b, opts);
            p.bits(`${where} x`, x.x, y.x);
            p.same(`${where} residual SIMD vs scalar`, x.residual, y.residual);
            p.same(`${where} iterations SIMD vs scalar`, x.iterations, y.iterations);
            p.rel(`${where} x`, x.x, want.x);
          }
        }
      // the reference's Richardson at the default tolerance stops where the builds' does
      for (const transpose of [false, true]) {
        const b = randomVector(m.S, seed + 7);
        const kr = ref.solveLinear(m, pi, b, { method: "richardson", transpose });
        const kx = solveLinear(ms, pi, b, { method: "richardson", transpose });
        p.same(`${label} richardson${transpose ? " transposed" : ""} iterations vs reference`, kx.iterations, kr.iterations);
        p.rel(`${label} richardson${transpose ? " transposed" : ""} x vs reference richardson`, kx.x, kr.x);
      }
    }
    expect(p.list).toEqual([]);
  });

  test("occupancy matches the reference to 1e-12 for the MDP's own ρ and for a given ρ, bitwise equal between builds", () => {
    const p = new Problems();
    for (const { label, m, seed } of all) {
      const pi = randomPolicy(m.S, m.A, seed + 8);
      const rho = randomPolicy(1, m.S, seed + 9);
      const ms = toTabular(m, simd, rho);
      const mc = toTabular(m, scalar, rho);
      const want = ref.occupancy(m, pi, rho);
      const a = occupancy(ms, pi);
      const b = occupancy(mc, pi);
      p.bits(`${label} own ρ`, a, b);
      p.rel(`${label} own ρ`, a, want);
      const u = uniform(m.S);
      const wantU = ref.occupancy(m, pi, u);
      const c = occupancy(ms, pi, u);
      const d = occupancy(mc, pi, u);
      p.bits(`${label} given ρ`, c, d);
      p.rel(`${label} given ρ`, c, wantU);
      // The iterative paths at their default tolerance (occupancy throws when the solve does not
      // converge). With ‖b − Ax‖₂ ≤ tol‖b‖₂, A = I − γP_πᵀ, ‖A‖₁ ≤ 1 + γ, ‖A⁻¹‖₁ ≤ 1/(1 − γ):
      // ‖x − x*‖₁/‖x*‖₁ ≤ (1 + γ)/(1 − γ)·√S·tol.
      const bound = ((1 + m.gamma) / (1 - m.gamma)) * Math.sqrt(m.S) * 1e-12;
      for (const [name, rho0, want0] of [["uniform ρ", u, wantU], ["random ρ", rho, want]] as const)
        for (const method of ["krylov", "bicgstab", "richardson"] as const) {
          const where = `${label} ${name}, ${method}`;
          const e = p.attempt(where, () => occupancy(ms, pi, rho0, { method }));
          if (e) p.check(where, relErr1(e, want0) <= bound, `‖x − x*‖₁/‖x*‖₁ = ${relErr1(e, want0)} > ${bound}`);
        }
    }
    expect(p.list).toEqual([]);
  });

  test("sampled states, actions and rewards are bitwise identical between the SIMD build, the scalar build and the reference sampler", () => {
    const p = new Problems();
    for (const { label, m, seed } of all) {
      const pi = randomPolicy(m.S, m.A, seed + 10);
      const rho = randomPolicy(1, m.S, seed + 11);
      const r = randomVector(m.S * m.A, seed + 12);
      const opts = { episodes: 30, horizon: 25, seed: seed * 7919, r };
      const a = sampleTrajectories(toTabular(m, simd, rho), pi, opts);
      const b = sampleTrajectories(toTabular(m, scalar, rho), pi, opts);
      const want = ref.sampleTrajectories(m, pi, { ...opts, rho });
      for (const key of ["states", "actions", "rewards"] as const) {
        const x = a[key];
        const y = b[key];
        const z = want[key];
        if (!x || !y || !z) {
          p.list.push(`${label}: ${key} missing`);
          continue;
        }
        p.bits(`${label} ${key}`, x, y);
        const d = firstBitDiff(x, z);
        if (d) p.list.push(`${label} ${key}: build vs reference sampler: ${d}`);
      }
    }
    expect(p.list).toEqual([]);
  });
});

describe("deterministic scenarios shared with the browser run", () => {
  test("every shared scenario agrees bit for bit between the SIMD and scalar builds and with the reference to 1e-12 (bit for bit for sampling)", () => {
    const outcomes = runScenarios(simd, scalar);
    expect(outcomes).toHaveLength(SCENARIOS.length);
    expect(disagreements(outcomes)).toEqual([]);
  });

  test("the scenarios are deterministic: a second run in the same process hashes to the same values", () => {
    const first = hashOutcomes(runScenarios(simd, scalar), "node", WASM);
    const second = hashOutcomes(runScenarios(simd, scalar), "node", WASM);
    expect(hashDifferences(first, second)).toEqual([]);
  });

  test("writes the FNV-1a hashes of every scenario result to build/node-hashes.json, with equal hashes for the SIMD and scalar builds", () => {
    const hashes = hashOutcomes(runScenarios(simd, scalar), "node", WASM);
    const file = resolve(ROOT, NODE_HASHES_PATH);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(hashes, null, 2) + "\n");
    const back = JSON.parse(readFileSync(file, "utf8")) as HashFile;
    expect(back).toEqual(hashes);
    expect(Object.keys(back.simd)).toEqual(SCENARIOS.map((s) => s.name));
    expect(back.scalar).toEqual(back.simd);
    expect(back.wasm).toEqual(WASM);
  });
});

describe("the comparison helpers themselves", () => {
  test("relErr catches a difference in the last element only, NaN, Infinity and a length mismatch", () => {
    const want = Float64Array.of(1, 2, 3, 4);
    expect(relErr(Float64Array.of(1, 2, 3, 4), want)).toBe(0);
    expect(relErr(Float64Array.of(1, 2, 3, 4 + 4e-12), want)).toBeGreaterThan(REL_TOL);
    expect(relErr(Float64Array.of(1, 2, 3, 4 + 2e-12), want)).toBeLessThanOrEqual(REL_TOL);
    expect(relErr(Float64Array.of(1, 2, 3, NaN), want)).toBe(Infinity);
    expect(relErr(Float64Array.of(Infinity, 2, 3, 4), want)).toBe(Infinity);
    expect(relErr(Float64Array.of(1, 2, 3), want)).toBe(Infinity);
    expect(relErr(Float64Array.of(0, 1e-300), Float64Array.of(0, 0))).toBe(Infinity);
  });

  test("firstBitDiff tells +0 from −0, names the first differing element and rejects mixed types", () => {
    expect(firstBitDiff(Float64Array.of(1, 2), Float64Array.of(1, 2))).toBeUndefined();
    expect(firstBitDiff(Float64Array.of(1, 0), Float64Array.of(1, -0))).toMatch(/element 1/);
    expect(firstBitDiff(Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 3 + 2 ** -51))).toMatch(/element 2/);
    expect(firstBitDiff(Int32Array.of(5, 6), Int32Array.of(5, 7))).toMatch(/element 1/);
    expect(firstBitDiff(Int32Array.of(5), Float64Array.of(5))).toMatch(/types differ/);
  });

  test("fnv1a64 reproduces the published FNV-1a 64-bit test vectors", () => {
    const enc = new TextEncoder();
    expect(fnv1a64(new Uint8Array(0))).toBe("cbf29ce484222325");
    expect(fnv1a64(enc.encode("a"))).toBe("af63dc4c8601ec8c");
    expect(fnv1a64(enc.encode("foobar"))).toBe("85944171f73967e8");
  });
});
