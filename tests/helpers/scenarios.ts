// A fixed, deterministic set of scenarios run identically in Node (tests/kernels.test.ts)
// and in Chromium (tests/browser/equivalence.browser.test.ts): each runs on the SIMD and
// the scalar build and on the plain-TS reference, and every result array is hashed
// (FNV-1a 64 over its bytes) so the two runtimes can be compared bit for bit.
// No vitest and no Node imports: both sides load this file as is.
import {
  occupancy,
  policyEvaluation,
  sampleTrajectories,
  softValueIteration,
  solveLinear,
  type Backend,
} from "../../src/index";
import * as ref from "../../src/reference/index";
import type { RefMDP } from "../../src/reference/index";
import { firstBitDiff, relErr, toTabular, type NumArray } from "./compare";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./random-mdp";

/** Agreement demanded between the wasm builds and the plain-TS reference. */
export const REL_TOL = 1e-12;

export type Arrays = Record<string, NumArray>;

/** How an array of a scenario is checked against the reference. */
export type RefCheck = "rel" | "exact";

export interface Scenario {
  name: string;
  /** Run on one build; every returned array is hashed and compared between the builds. */
  run(backend: Backend): Arrays;
  /** The reference's values for the arrays listed in `check` (may use the build's output, e.g. its sweep count). */
  reference(fromBuild: Arrays): Arrays;
  /** Arrays compared with the reference: relative 1e-12 ('rel') or bit for bit ('exact'). */
  check: Record<string, RefCheck>;
}

const f64 = (...xs: number[]) => Float64Array.from(xs);
const i32 = (...xs: number[]) => Int32Array.from(xs);

/** Soft value iteration run for a fixed number of sweeps (tol 0), so the reference runs the same sweeps. */
function sviScenario(name: string, m: RefMDP, rSeed: number, tau: number, sweeps: number): Scenario {
  const r = randomVector(m.S * m.A, rSeed);
  return {
    name,
    run(backend) {
      const out = softValueIteration(toTabular(m, backend), r, { tau, tol: 0, maxIter: sweeps });
      return { V: out.V, Q: out.Q, pi: out.pi, iterations: i32(out.iterations), residual: f64(out.residual), converged: i32(+out.converged) };
    },
    reference() {
      const out = ref.softValueIteration(m, r, { tau, tol: 0, maxIter: sweeps });
      return { V: out.V, Q: out.Q, pi: out.pi, iterations: i32(out.iterations) };
    },
    check: { V: "rel", Q: "rel", pi: "rel", iterations: "exact" },
  };
}

/** Soft value iteration to its default tolerance; the reference then runs exactly as many sweeps. */
function sviConvergedScenario(name: string, m: RefMDP, rSeed: number, tau: number): Scenario {
  const r = randomVector(m.S * m.A, rSeed);
  return {
    name,
    run(backend) {
      const out = softValueIteration(toTabular(m, backend), r, { tau });
      return { V: out.V, Q: out.Q, pi: out.pi, iterations: i32(out.iterations), residual: f64(out.residual), converged: i32(+out.converged) };
    },
    reference(fromBuild) {
      const sweeps = fromBuild.iterations[0];
      const out = ref.softValueIteration(m, r, { tau, tol: 0, maxIter: sweeps });
      return { V: out.V, Q: out.Q, pi: out.pi, converged: i32(1) };
    },
    check: { V: "rel", Q: "rel", pi: "rel", converged: "exact" },
  };
}

/** One solve with (I − γP_π) or its transpose; x is compared with the reference's exact LU answer. */
function solveScenario(name: string, m: RefMDP, seed: number, method: "lu" | "krylov" | "bicgstab" | "richardson", transpose: boolean): Scenario {
  const pi = randomPolicy(m.S, m.A, seed);
  const b = randomVector(m.S, seed + 1);
  // iterative methods are run to (near) the precision floor so that x is exact to 1e-12
  const opts = method === "lu" ? { method, transpose } : { method, transpose, tol: 1e-14, maxIter: 5000 };
  return {
    name,
    run(backend) {
      const out = solveLinear(toTabular(m, backend), pi, b, opts);
      return { x: out.x, info: f64(out.iterations, out.residual) };
    },
    reference() {
      return { x: ref.solveLinear(m, pi, b, { method: "lu", transpose }).x };
    },
    check: { x: "rel" },
  };
}

function policyEvaluationScenario(name: string, m: RefMDP, seed: number, tau: number): Scenario {
  const pi = randomPolicy(m.S, m.A, seed);
  const r = randomVector(m.S * m.A, seed + 1);
  return {
    name,
    run(backend) {
      const out = policyEvaluation(toTabular(m, backend), r, pi, { tau });
      return { V: out.V, Q: out.Q, info: f64(out.iterations, out.residual) };
    },
    reference() {
      const out = ref.policyEvaluation(m, r, pi, tau);
      return { V: out.V, Q: out.Q };
    },
    check: { V: "rel", Q: "rel" },
  };
}

function occupancyScenario(name: string, m: RefMDP, seed: number): Scenario {
  const pi = randomPolicy(m.S, m.A, seed);
  const rho = randomPolicy(1, m.S, seed + 1); // one row of a policy table = a distribution over S
  return {
    name,
    run(backend) {
      return { d: occupancy(toTabular(m, backend), pi, rho) };
    },
    reference() {
      return { d: ref.occupancy(m, pi, rho) };
    },
    check: { d: "rel" },
  };
}

function samplingScenario(name: string, m: RefMDP, seed: number, episodes: number, horizon: number): Scenario {
  const pi = randomPolicy(m.S, m.A, 77);
  const r = randomVector(m.S * m.A, 78);
  const rho = randomPolicy(1, m.S, 79);
  return {
    name,
    run(backend) {
      const out = sampleTrajectories(toTabular(m, backend, rho), pi, { episodes, horizon, seed, r });
      return { states: out.states, actions: out.actions, rewards: out.rewards ?? new Float64Array(0) };
    },
    reference() {
      const out = ref.sampleTrajectories(m, pi, { episodes, horizon, seed, rho, r });
      return { states: out.states, actions: out.actions, rewards: out.rewards ?? new Float64Array(0) };
    },
    check: { states: "exact", actions: "exact", rewards: "exact" },
  };
}

const dense37 = randomDense(37, 4, 0.9, 2024);
const csr37 = randomCsr(37, 3, 0.95, 5, 2025);
const dense5 = randomDense(5, 3, 0.8, 2026);
const csr9 = randomCsr(9, 2, 0.9, 3, 2027);

/** The deterministic scenario list shared by the Node and the browser runs. */
export const SCENARIOS: readonly Scenario[] = [
  sviScenario("soft VI, dense S=37 A=4, γ=0.9, τ=0.5, 120 sweeps", dense37, 1, 0.5, 120),
  sviScenario("hard VI, CSR S=37 A=3 (5 per row), γ=0.95, τ=0, 150 sweeps", csr37, 2, 0, 150),
  sviConvergedScenario("soft VI to tol 1e-10, dense S=5 A=3, γ=0.8, τ=1", dense5, 3, 1),
  sviConvergedScenario("soft VI to tol 1e-10, CSR S=9 A=2, γ=0.9, τ=0.2", csr9, 4, 0.2),
  solveScenario("LU solve, dense S=37 A=4", dense37, 10, "lu", false),
  solveScenario("LU solve, transposed, dense S=37 A=4", dense37, 11, "lu", true),
  solveScenario("LU solve, CSR S=37 A=3", csr37, 12, "lu", false),
  solveScenario("Krylov (GMRES) solve, CSR S=37 A=3", csr37, 13, "krylov", false),
  solveScenario("Krylov (GMRES) solve, transposed, CSR S=37 A=3", csr37, 14, "krylov", true),
  solveScenario("Krylov (GMRES) solve, transposed, dense S=37 A=4", dense37, 15, "krylov", true),
  solveScenario("BiCGSTAB solve, dense S=37 A=4", dense37, 18, "bicgstab", false),
  solveScenario("BiCGSTAB solve, transposed, CSR S=37 A=3", csr37, 19, "bicgstab", true),
  solveScenario("Richardson solve, dense S=5 A=3", dense5, 16, "richardson", false),
  solveScenario("Richardson solve, transposed, CSR S=9 A=2", csr9, 17, "richardson", true),
  policyEvaluationScenario("soft policy evaluation, CSR S=37 A=3, τ=0.3", csr37, 20, 0.3),
  policyEvaluationScenario("policy evaluation, dense S=5 A=3, τ=0", dense5, 21, 0),
  occupancyScenario("occupancy, dense S=37 A=4", dense37, 30),
  occupancyScenario("occupancy, CSR S=9 A=2", csr9, 31),
  samplingScenario("sampling, dense S=37 A=4, seed 12345, 300 episodes × 40 steps", dense37, 12345, 300, 40),
  samplingScenario("sampling, CSR S=37 A=3, seed 2^53 − 1, 200 episodes × 60 steps", csr37, 2 ** 53 - 1, 200, 60),
  samplingScenario("sampling, dense S=5 A=3, seed 0, 500 episodes × 7 steps", dense5, 0, 500, 7),
];

export interface ScenarioOutcome {
  name: string;
  simd: Arrays;
  scalar: Arrays;
  reference: Arrays;
  check: Record<string, RefCheck>;
}

/** Run every scenario on both builds and on the reference. */
export function runScenarios(simd: Backend, scalar: Backend): ScenarioOutcome[] {
  return SCENARIOS.map((sc) => {
    const a = sc.run(simd);
    const b = sc.run(scalar);
    return { name: sc.name, simd: a, scalar: b, reference: sc.reference(a), check: sc.check };
  });
}

/**
 * Every disagreement, as readable lines (empty when all agree): SIMD vs scalar must agree
 * bit for bit on every array (the scalar twin sums in the SIMD lane order); both builds
 * must match the reference to REL_TOL ('rel') or bit for bit ('exact').
 */
export function disagreements(outcomes: readonly ScenarioOutcome[]): string[] {
  const out: string[] = [];
  for (const o of outcomes) {
    for (const key of Object.keys(o.simd)) {
      const d = firstBitDiff(o.simd[key], o.scalar[key]);
      if (d) out.push(`${o.name}: ${key}, SIMD vs scalar: ${d}`);
    }
    for (const [key, how] of Object.entries(o.check)) {
      const want = o.reference[key];
      for (const build of ["simd", "scalar"] as const) {
        const got = o[build][key];
        if (how === "exact") {
          const d = firstBitDiff(got, want);
          if (d) out.push(`${o.name}: ${key}, ${build} vs reference: ${d}`);
        } else {
          const e = relErr(got, want);
          if (!(e <= REL_TOL)) out.push(`${o.name}: ${key}, ${build} vs reference: relative error ${e} > ${REL_TOL}`);
        }
      }
    }
  }
  return out;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a, 64-bit, of a byte sequence, as 16 lowercase hex digits. */
export function fnv1a64(bytes: Uint8Array): string {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h ^= BigInt(bytes[i]);
    h = (h * FNV_PRIME) & MASK64;
  }
  return h.toString(16).padStart(16, "0");
}

/** FNV-1a 64 of a typed array's bytes (little-endian element order, as stored). */
export function hashArray(a: NumArray): string {
  return fnv1a64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Hashes file layout: the wasm bytes' hashes, then build → scenario → array → hash. */
export interface HashFile {
  runtime: string;
  scenarios: number;
  /** FNV-1a 64 of build/bilevel-{simd,scalar}.wasm, so results of different builds are never compared. */
  wasm: { simd: string; scalar: string };
  simd: Record<string, Record<string, string>>;
  scalar: Record<string, Record<string, string>>;
}

export function hashOutcomes(outcomes: readonly ScenarioOutcome[], runtime: string, wasm: HashFile["wasm"]): HashFile {
  const file: HashFile = { runtime, scenarios: outcomes.length, wasm, simd: {}, scalar: {} };
  for (const o of outcomes) {
    for (const build of ["simd", "scalar"] as const) {
      const h: Record<string, string> = {};
      for (const [key, arr] of Object.entries(o[build])) h[key] = hashArray(arr);
      file[build][o.name] = h;
    }
  }
  return file;
}

/** Where the Node run writes its hashes, relative to the project root. */
export const NODE_HASHES_PATH = "build/node-hashes.json";

/** Lines naming every (build, scenario, array) whose hash differs between two hash files. */
export function hashDifferences(mine: HashFile, theirs: HashFile): string[] {
  const out: string[] = [];
  for (const build of ["simd", "scalar"] as const) {
    const names = new Set([...Object.keys(mine[build]), ...Object.keys(theirs[build] ?? {})]);
    for (const name of names) {
      const a = mine[build][name];
      const b = theirs[build]?.[name];
      if (!a || !b) {
        out.push(`${build} / ${name}: only in ${a ? mine.runtime : theirs.runtime}`);
        continue;
      }
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (a[key] !== b[key]) out.push(`${build} / ${name} / ${key}: ${mine.runtime} ${a[key]} vs ${theirs.runtime} ${b[key]}`);
      }
    }
  }
  return out;
}

