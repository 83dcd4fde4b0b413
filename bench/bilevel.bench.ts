// Bilevel benchmarks: the exact hypergradient of the 50 × 50 GridWorld goal problem
// (GRID_GOAL_BENCHMARK: S = 2500, A = 4, γ = 0.99, τ = 0.05, n = 2500 one-hot goal
// features, lower level solved to 1e-10) with value or policy iteration × banded LU or
// GMRES, and M-SoBiRL on E1 for 3000 iterations: the SIMD build, the scalar build and a
// plain-TS reference path composed of src/reference kernels (bench/lib/bilevelReference.ts),
// in the same process, in that order, with the harness of the core suite.
//
//   npm run bench:bilevel                     full run (≈ 2 min on a quiet 2-core machine, longer with reruns), writes bench/results/bilevel.{json,md}
//   BENCH_QUICK=1 npm run bench:bilevel       10 × 10 grid, 300 E1 iterations; writes bench/results/quick/ (or pass --quick)
//   BENCH_ONLY=e1 npm run bench:bilevel       only some groups: hypergradient, e1, target (writes bench/results/partial/)
//   BENCH_OUT=dir                             write the results elsewhere
//   BENCH_NUMPY=0                             skip the numpy/scipy hypergradient (bench/numpy_ref.py under /usr/bin/python3)
//
// Run directly: node --expose-gc --import ./scripts/register-wasm.mjs --import tsx bench/bilevel.bench.ts
// Problem setup and the correctness checks happen outside the timed ops.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GRID_GOAL_BENCHMARK, e1, gridGoal, hypergradient, init, mSoBiRL, solveLower, type Backend, type LinearMethod, type LowerSolver } from "../src/index";
import { implicitGrad } from "../src/bilevel/hypergradient";
import { Rng } from "../src/util/random";
import type { RefCsr } from "../src/reference/index";
import { refE1, refGridGoal, refHypergradient, refMSoBiRL, type RefLinear } from "./lib/bilevelReference";
import { bestOf, gc, gitState, runEnvironment, type CaseOptions, type VariantName, type VariantResult, runSuiteQuietly } from "./lib/harness";
import { closingSections, type RunEnvironment } from "./lib/report";
import { maxRelDiff } from "./lib/diff";
import { numpyUnavailable, runNumpy } from "./lib/numpy";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { compareAlgorithms } from "../src/bilevel/compare";
import { MATRIX_PROBLEMS, applicability } from "../examples/defaults";
import type { NumpyResult } from "./lib/report";

const QUICK = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const GROUPS = ["hypergradient", "e1", "target"] as const;
type Group = (typeof GROUPS)[number];
/**
 * BENCH_ONLY=e1 runs only the named groups of this suite. Names of the core suite's groups
 * are ignored here (so one BENCH_ONLY can serve `npm run bench`); when BENCH_ONLY names
 * none of this suite's groups, the suite does nothing.
 */
const ONLY_RAW = (process.env.BENCH_ONLY ?? "").split(",").map((x) => x.trim()).filter(Boolean);
const ONLY = ONLY_RAW.filter((g): g is Group => (GROUPS as readonly string[]).includes(g));
const runs = (g: Group) => ONLY_RAW.length === 0 || ONLY.includes(g);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const OUT = path.resolve(process.env.BENCH_OUT ?? path.join(HERE, "results", QUICK ? "quick" : ONLY_RAW.length ? "partial" : ""));
const t0 = performance.now();
const log = (s: string) => console.log(s);

if (ONLY_RAW.length > 0 && ONLY.length === 0) {
  log(`bilevel benchmarks: BENCH_ONLY=${ONLY_RAW.join(",")} names none of this suite's groups (${GROUPS.join(", ")}); nothing to do`);
  process.exit(0);
}

// ---------------------------------------------------------------- configuration
const cfg = QUICK
  ? { size: 10, e1Iterations: 300, options: { minSamples: 2, maxTime: 0.05, minTime: 0.002 } }
  : { size: GRID_GOAL_BENCHMARK.size ?? 50, e1Iterations: 3000, options: { minSamples: 5, maxTime: 1, minTime: 0.02 } };
/** Lower-level tolerance ‖G(V) − V‖∞ of every hypergradient. */
const LOWER_TOL = 1e-10;
/** μ of gridGoal's (μ/2)‖x‖² (its default; checked against the library's ∂f/∂x below). */
const MU = 1e-3;
/** Agreement required between the library and the reference. */
const CHECK_REL = 1e-8;
/** Targets of the issue (Node 20, this machine), ms per op, SIMD build. */
const TARGET_HYPERGRADIENT_MS = 100;
const TARGET_E1_MS = 75;
/** Figures quoted in the issue for comparison (measured outside this suite; not re-measured here). */
const EXTERNAL = [
  { id: "numpy-hypergradient", group: "hypergradient" as const, what: "vectorised numpy/scipy implementation, 50 × 50 exact hypergradient (value iteration: ≈ 2300 sweeps)", ms: 450 },
  { id: "numpy-e1", group: "e1" as const, what: "vectorised numpy/scipy implementation, M-SoBiRL on E1, 3000 iterations", ms: 150 },
  { id: "pytorch-e1", group: "e1" as const, what: "the SoBiRL authors' PyTorch code, M-SoBiRL on E1, 3000 iterations, one CPU thread", ms: 55000 },
];
/** Cases during which other processes used more than this many cores on average are flagged. */
const CONTENDED = 0.15;
const MAX_ATTEMPTS = QUICK ? 1 : 3;
/** Reruns only while the whole run is younger than this (the reference ops are slow). */
const RETRY_BUDGET_S = 400;

// ---------------------------------------------------------------- result shapes
interface BilevelCase {
  id: string;
  group: Group;
  title: string;
  params: Record<string, number | string>;
  /** Per benny op: one hypergradient / one 3000-iteration run. */
  variants: Record<VariantName, VariantResult>;
  /** Time ratios: ref ÷ simd, ref ÷ scalar, scalar ÷ simd, numpy (1 thread / all) ÷ simd. */
  speedup: { simdVsRef: number; scalarVsRef: number; simdVsScalar: number; simdVsNumpy?: number; simdVsNumpyAll?: number };
  /** numpy/scipy on the same arrays (bench/numpy_ref.py). */
  numpy?: NumpyResult;
  /** Work counts and the SIMD build's time breakdown (outside the timed ops). */
  derived: Record<string, number | string>;
  check: { ok: boolean; detail: string };
  notes: string[];
  options: CaseOptions;
  otherCores: number;
  attempts: number;
  file: string;
}

interface BilevelTarget {
  name: string;
  /** The op must take less than this many ms (median, SIMD build). */
  requiredMs: number;
  measuredMs: number;
  met: boolean;
  case: string;
}

interface BilevelSummary extends RunEnvironment {
  suite: "bilevel";
  mode: "full" | "quick";
  loadavgStart: number[];
  loadavgEnd: number[];
  commit: string;
  uncommitted: string[];
  wasm: Record<string, { path: string; bytes: number; built: string; sha256: string }>;
  /** The build files changed on disk while the run lasted (the run keeps the bytes it loaded at start). */
  wasmRebuiltDuringRun: boolean;
  durationS: number;
  contendedAboveCores: number;
  contendedCases: string[];
  retries: { maxAttempts: number; budgetS: number };
  groups: string[];
  settings: Record<string, unknown>;
  cases: BilevelCase[];
  targets: BilevelTarget[];
  /** Time to within 1% of the best φ, every algorithm at its defaults (group 'target'). */
  timeToTarget: TargetRow[];
  external: typeof EXTERNAL;
  /** The numpy/scipy comparison: versions, or why it was skipped. */
  numpy: { versions?: string; skipped?: string };
}

/** One algorithm's time to within 1% of the gap to φ_best on one problem (defaults, seed 0). */
interface TargetRow {
  problem: string;
  algorithm: string;
  via: "native" | "withTrajectory";
  iterationsBudget: number;
  phi0: number;
  phiBest: number;
  phiFinal: number;
  /** First k with φ(x_k) − φ_best ≤ 1% of (φ(x_0) − φ_best); null when not reached within the budget. */
  iterationsToTarget: number | null;
  /** The run's time (no φ evaluations) until x_k was reached; null when not reached. */
  msToTarget: number | null;
  /** msToTarget ÷ exactDescent's. */
  vsExactDescent: number | null;
  status: string;
}

// ---------------------------------------------------------------- helpers
function sameBits(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

function wasmInfo() {
  return Object.fromEntries(["simd", "scalar"].map((k) => {
    const p = path.join(ROOT, `build/bilevel-${k}.wasm`);
    const st = statSync(p);
    const sha256 = createHash("sha256").update(readFileSync(p)).digest("hex").slice(0, 16);
    return [k, { path: path.relative(ROOT, p), bytes: st.size, built: st.mtime.toISOString(), sha256 }];
  }));
}

const QUIET = { out: OUT, contended: CONTENDED, maxAttempts: MAX_ATTEMPTS, budgetS: RETRY_BUDGET_S, startedAt: t0, log };

const cases: BilevelCase[] = [];
const timeToTarget: TargetRow[] = [];
/** numpy/scipy on the same arrays, unless BENCH_NUMPY=0 or Python/numpy is missing. */
const NUMPY_SKIPPED = process.env.BENCH_NUMPY === "0" ? "BENCH_NUMPY=0" : numpyUnavailable();
let numpyVersions: string | undefined;

/** The numpy twin of a hypergradient case, timed right after it; its ∇φ is checked against the library's. */
function numpyHypergradient(res: BilevelCase, arrays: Record<string, Float64Array | Int32Array>, params: Record<string, number | string | boolean>, grad: Float64Array, op: string): void {
  if (NUMPY_SKIPPED) return;
  const r = runNumpy([{ id: res.id, kind: "hypergradient", arrays, params }], { ...cfg.options, log });
  const one = r.one?.cases[res.id], all = r.all?.cases[res.id];
  if (r.one) numpyVersions = `Python ${r.one.python}, numpy ${r.one.numpy}, scipy ${r.one.scipy}, OPENBLAS_CORETYPE ${r.one.openblasCoretype}`;
  const out = one?.out ?? all?.out;
  const d = out ? maxRelDiff(out, grad) : NaN;
  const strip = (t: typeof one) => (t ? { ms: t.ms, minMs: t.minMs, samples: t.samples, otherCores: t.otherCores } : undefined);
  res.numpy = { one: strip(one), all: strip(all), op, check: { ok: d <= CHECK_REL, detail: out ? `max rel |∇φ_numpy − ∇φ| ${d.toExponential(1)} (≤ ${CHECK_REL})` : "numpy produced no result" } };
  res.speedup.simdVsNumpy = (one?.ms ?? NaN) / res.variants.simd.ms;
  res.speedup.simdVsNumpyAll = (all?.ms ?? NaN) / res.variants.simd.ms;
  log(`    → simd ${res.speedup.simdVsNumpy.toFixed(2)}× numpy (1 thread), ${res.speedup.simdVsNumpyAll.toFixed(2)}× (all threads); numpy check: ${res.numpy.check.ok ? "ok" : "FAILED"} (${res.numpy.check.detail})\n`);
}

async function bench(c: Omit<BilevelCase, "variants" | "speedup" | "file" | "options" | "otherCores" | "attempts">, ops: Record<VariantName, () => unknown>): Promise<BilevelCase> {
  const file = `bilevel-${c.id}`;
  const { results: v, otherCores, attempts } = await runSuiteQuietly(c.title, file, ops, cfg.options, QUIET);
  const variants = v as BilevelCase["variants"];
  const res: BilevelCase = {
    ...c,
    variants,
    speedup: { simdVsRef: variants.reference.ms / variants.simd.ms, scalarVsRef: variants.reference.ms / variants.scalar.ms, simdVsScalar: variants.scalar.ms / variants.simd.ms },
    options: cfg.options,
    otherCores,
    attempts,
    file: path.relative(ROOT, path.join(OUT, `${file}.json`)),
  };
  cases.push(res);
  log(`    → simd ${res.speedup.simdVsRef.toFixed(2)}× ref, scalar ${res.speedup.scalarVsRef.toFixed(2)}× ref, simd ${res.speedup.simdVsScalar.toFixed(2)}× scalar; check: ${c.check.ok ? "ok" : "FAILED"} (${c.check.detail})\n`);
  return res;
}

// ---------------------------------------------------------------- backends
const wasmStart = wasmInfo();
const backends: Record<"simd" | "scalar", Backend> = {
  simd: await init({ simd: true }),
  scalar: await init({ simd: false }),
};
await init({ simd: true }); // the default backend again (e1() builds its MDP on the default backend)
mkdirSync(OUT, { recursive: true });

// ---------------------------------------------------------------- exact hypergradient, GridWorld goal
const SOLVER_SHORT: Record<LowerSolver, string> = { "value-iteration": "VI", "policy-iteration": "PI" };
/** The lower solvers timed: value iteration with error bounds (the library's default), plain
 *  value iteration (for comparison: no target), soft policy iteration. */
const LOWER_VARIANTS = [
  { solver: "value-iteration", extrapolate: true, id: "vi", short: "VI" },
  { solver: "value-iteration", extrapolate: false, id: "vi-plain", short: "VI without error bounds" },
  { solver: "policy-iteration", extrapolate: false, id: "pi", short: "PI" },
] as const;
/** A hypergradient case's lower solver, as in the tables. */
const lowerShort = (params: Record<string, string | number>): string => LOWER_VARIANTS.find((v) => v.id === params.lowerId)?.short ?? SOLVER_SHORT[params.solver as LowerSolver];
const LINEAR_SHORT: Record<RefLinear, string> = { lu: "banded LU", krylov: "GMRES" };

async function hypergradientGroup(): Promise<void> {
  const size = cfg.size;
  for (const linear of ["lu", "krylov"] as const satisfies readonly (LinearMethod & RefLinear)[]) {
    // the upper objective's evaluations and d̃ use the same linear method as everything else
    const inst = {
      simd: gridGoal({ ...GRID_GOAL_BENCHMARK, size, linear, backend: backends.simd }),
      scalar: gridGoal({ ...GRID_GOAL_BENCHMARK, size, linear, backend: backends.scalar }),
    };
    const { problem, x0 } = inst.simd;
    const { S, A, gamma } = problem.mdp;
    const tr = problem.mdp.transitions();
    if (!("indptr" in tr)) throw new Error("gridGoal: expected CSR transitions");
    const m: RefCsr = { kind: "csr", S, A, gamma, indptr: tr.indptr, indices: tr.indices, probs: tr.probs };
    const rU = (problem.upper as { rU?: Float64Array }).rU;
    if (!rU) throw new Error("gridGoal: expected an upperReturn objective");
    const p = refGridGoal(m, problem.tau, MU, rU, problem.mdp.rho);
    // the setup the reference assumes: one-hot r = Φx, ∂f/∂x = μx, band = grid width
    const rLib = problem.rewardAt(x0);
    let oneHot = true;
    for (let i = 0; i < S * A; i++) if (rLib[i] !== x0[Math.floor(i / A)]) { oneHot = false; break; }
    const muOk = maxRelDiff(problem.gradX(x0, new Float64Array(S * A).fill(1 / A)), x0.map((v) => MU * v)) < 1e-15;
    const bandOk = p.band.kl === inst.simd.grid.width && p.band.ku === inst.simd.grid.width;

    for (const { solver, extrapolate, id: lowerId, short } of LOWER_VARIANTS) {
      const opts = { method: "exact" as const, lower: { solver, tol: LOWER_TOL, linear, extrapolate }, linear };
      const refOpts = { solver, linear, tol: LOWER_TOL, extrapolate };
      const hs = hypergradient(inst.simd.problem, inst.simd.x0, opts);
      const hc = hypergradient(inst.scalar.problem, inst.scalar.x0, opts);
      const tRef = performance.now();
      const hr = refHypergradient(p, x0, refOpts);
      const refOnceMs = performance.now() - tRef;
      const dS = maxRelDiff(hs.grad, hr.grad), dC = maxRelDiff(hc.grad, hr.grad);
      const dV = Math.abs(hs.value - hr.value) / Math.abs(hr.value);
      const dSC = maxRelDiff(hs.grad, hc.grad);
      const conv = hs.diagnostics.lowerConverged && hc.diagnostics.lowerConverged && hs.diagnostics.linearConverged && hc.diagnostics.linearConverged && hr.lowerResidual <= LOWER_TOL;
      const ok = oneHot && muOk && bandOk && conv && dS <= CHECK_REL && dC <= CHECK_REL && dV <= CHECK_REL;

      // where the SIMD build's time goes (best of 3, outside the timed ops)
      const lowMs = bestOf(3, () => solveLower(problem, x0, opts.lower));
      const low = solveLower(problem, x0, opts.lower);
      const valueMs = bestOf(3, () => problem.value(x0, low.pi));
      const implicitMs = bestOf(3, () => implicitGrad(problem, x0, low, linear));

      const its = solver === "value-iteration" ? "sweeps" : "Newton steps";
      const res = await bench(
        {
          id: `hypergradient-${lowerId}-${linear}`,
          group: "hypergradient",
          title: `exact hypergradient, gridGoal ${size}×${size} (S=${S}, A=${A}, γ=${gamma}, τ=${problem.tau}, n=${problem.n}), ${short} + ${LINEAR_SHORT[linear]}`,
          params: { size, S, A, n: problem.n, gamma, tau: problem.tau, mu: MU, lowerTol: LOWER_TOL, solver, extrapolate: String(extrapolate), lowerId, linear, bandKl: p.band.kl, bandKu: p.band.ku },
          derived: {
            lowerIterationsLib: hs.diagnostics.lowerIterations,
            lowerIterationsRef: hr.lowerIterations,
            lowerIterationsUnit: its,
            finalLinearIterationsLib: hs.diagnostics.linearIterations,
            krylovIterationsRef: hr.stats.krylovIterations,
            solvesRef: hr.stats.solves,
            richardsonFinishesRef: hr.stats.richardsonFinishes,
            simdLowerMs: lowMs,
            simdValueMs: valueMs,
            simdImplicitMs: implicitMs,
            referenceOnceMs: refOnceMs,
          },
          check: {
            ok,
            detail: `max rel |∇φ − ∇φ_ref| simd ${dS.toExponential(1)}, scalar ${dC.toExponential(1)} (≤ ${CHECK_REL}); |φ − φ_ref|/|φ_ref| ${dV.toExponential(1)}; simd vs scalar ${dSC === 0 && sameBits(hs.grad, hc.grad) ? "bit for bit" : dSC.toExponential(1)}; ${its} ${hs.diagnostics.lowerIterations}/${hc.diagnostics.lowerIterations}/${hr.lowerIterations} (simd/scalar/ref), lower residual ${hs.diagnostics.lowerResidual.toExponential(1)}/${hr.lowerResidual.toExponential(1)}; final transposed solve ${hs.diagnostics.linearIterations} product${hs.diagnostics.linearIterations === 1 ? "" : "s"}, residual ${hs.diagnostics.linearResidual.toExponential(1)}${oneHot && muOk && bandOk ? "" : `; SETUP MISMATCH (one-hot ${oneHot}, μ ${muOk}, band ${bandOk})`}`,
          },
          notes: [
            `op = hypergradient(problem, x0, { method: 'exact', lower: { solver: '${solver}', tol: ${LOWER_TOL}, linear: '${linear}'${solver === "value-iteration" ? `, extrapolate: ${extrapolate}` : ""} }, linear: '${linear}' }) on gridGoal({ ...GRID_GOAL_BENCHMARK, linear: '${linear}' }) (ramp x0), so policy iteration's evaluations, the upper objective's evaluations and d̃, and the transposed solve all use '${linear}'`,
            `reference = refHypergradient (bench/lib/bilevelReference.ts): the same steps with src/reference kernels (${solver === "value-iteration" ? `reference.softValueIteration${extrapolate ? " with the same error bounds" : ""}` : "bellmanSweep + softmaxPolicy, then softRewardPi + solve + qFromV per Newton step"}; ${linear === "lu" ? "a plain-TS banded LU mirroring assembly/lu.ts, band = grid width" : "reference.gmres(30), finished by reference.richardson when a restart cycle stagnates, as the library's 'krylov' does"}; two τ = 0 evaluations under r_U and one transposed solve for d̃, as the library; no true-residual checks)`,
          ],
        },
        {
          simd: () => hypergradient(inst.simd.problem, inst.simd.x0, opts),
          scalar: () => hypergradient(inst.scalar.problem, inst.scalar.x0, opts),
          reference: () => refHypergradient(p, x0, refOpts),
        },
      );
      // numpy solves sparsely (SuperLU) whatever the library's linear method: time it once, beside 'lu'
      if (linear === "lu") {
        numpyHypergradient(
          res,
          { P: m.probs, indices: m.indices, indptr: m.indptr, x: x0, rU, rho: problem.mdp.rho },
          { S, A, gamma, tau: problem.tau, mu: MU, tol: LOWER_TOL, solver, extrapolate },
          hs.grad,
          `the same steps vectorised over (S, A) with P a scipy.sparse CSR matrix: ${solver === "value-iteration" ? `value iteration${extrapolate ? " with the same error bounds" : ""} to ${LOWER_TOL}` : `soft policy iteration to ${LOWER_TOL}, each evaluation by scipy.sparse.linalg.spsolve`}; then one scipy.sparse.linalg.splu of I − γP_π (CSC) for the r_U evaluation and the two transposed solves`,
        );
      }
      gc();
    }
  }
}

// ---------------------------------------------------------------- M-SoBiRL on E1
async function e1Group(): Promise<void> {
  const iterations = cfg.e1Iterations;
  await init({ simd: false });
  const instC = e1({ seed: 0 });
  await init({ simd: true });
  const instS = e1({ seed: 0 });
  if (!instS.problem.mdp.simd || instC.problem.mdp.simd) throw new Error("e1: the instances are not on the intended builds");
  const { S, A, gamma } = instS.problem.mdp;
  const p = refE1(0);
  const w0 = new Rng(0).normals(S); // the library's default w_0 for seed 0
  // the reference regenerates the instance: check it is the library's
  const tr = instS.problem.mdp.transitions();
  const sameP = "P" in tr && sameBits(tr.P, p.m.P);
  const sameX0 = sameBits(instS.x0, p.x0);
  const r0 = instS.problem.rewardAt(instS.x0);
  let quad = 0;
  for (let i = 0; i < p.n; i++) { let acc = 0; for (let j = 0; j < p.n; j++) acc += p.Msym[i * p.n + j] * p.x0[j]; quad += p.x0[i] * acc; }
  const dR = maxRelDiff(r0, p.c.map((ci) => ci * 0.5 * quad));

  const opts = { iterations, x0: instS.x0, seed: 0, preset: "paper" as const }; // the authors' settings, which refMSoBiRL implements
  const rs = mSoBiRL.run(instS.problem, opts);
  const rc = mSoBiRL.run(instC.problem, { ...opts, x0: instC.x0 });
  const tRef = performance.now();
  const rr = refMSoBiRL(p, { iterations, w0 });
  const refOnceMs = performance.now() - tRef;
  const dS = maxRelDiff(rs.x, rr.x), dC = maxRelDiff(rc.x, rr.x);
  const fLast = rs.history[rs.history.length - 1].f;
  const ok = sameP && sameX0 && dR < 1e-12 && dS <= CHECK_REL && dC <= CHECK_REL && rs.counters.sweeps === rr.sweeps;
  await bench(
    {
      id: `e1-msobirl-${iterations}`,
      group: "e1",
      title: `M-SoBiRL on E1 (S=${S}, A=${A}, γ=${gamma}, τ=${instS.problem.tau}, n=${instS.problem.n}), ${iterations} iterations`,
      params: { S, A, n: instS.problem.n, gamma, tau: instS.problem.tau, iterations, N: 10, earlyStop: 1e-6, beta: 8e-3, zeta: 0.5 },
      derived: {
        sweepsLib: rs.counters.sweeps,
        sweepsRef: rr.sweeps,
        simdUsPerIteration: NaN, // filled in below
        referenceOnceMs: refOnceMs,
        finalF: fLast,
        finalXInfNorm: Math.max(...Array.from(rr.x, Math.abs)),
      },
      check: {
        ok,
        detail: `instance regenerated identically (P ${sameP ? "same bits" : "DIFFERS"}, x0 ${sameX0 ? "same bits" : "DIFFERS"}, r_x0 rel ${dR.toExponential(1)}); max rel |x − x_ref| after ${iterations} iterations simd ${dS.toExponential(1)}, scalar ${dC.toExponential(1)} (≤ ${CHECK_REL}); sweeps ${rs.counters.sweeps}/${rc.counters.sweeps}/${rr.sweeps} (simd/scalar/ref); final f ${fLast.toPrecision(8)} (ref ${rr.f.toPrecision(8)}), ‖x‖∞ ${Math.max(...Array.from(rr.x, Math.abs)).toExponential(1)}`,
      },
      notes: [
        `op = mSoBiRL.run(problem, { iterations: ${iterations}, x0, seed: 0, preset: "paper" }) on e1({ seed: 0 }) (least-squares w step, N = 10 warm-started sweeps with early stop 1e-6, β = 8e-3, ζ = 0.5; the driver keeps a history row per iteration)`,
        "reference = refMSoBiRL (bench/lib/bilevelReference.ts): the same iteration with src/reference kernels (softmaxPolicy, ppiT/ppi for b = Uᵀv and the w step, bellmanSweep with warm start and early stop) on preallocated buffers, (M + Mᵀ)x computed once per x as in src/problems/e1.ts; no history",
      ],
    },
    {
      simd: () => mSoBiRL.run(instS.problem, opts),
      scalar: () => mSoBiRL.run(instC.problem, { ...opts, x0: instC.x0 }),
      reference: () => refMSoBiRL(p, { iterations, w0 }),
    },
  );
  const c = cases[cases.length - 1];
  c.derived.simdUsPerIteration = (c.variants.simd.ms / iterations) * 1e3;
  c.derived.referenceUsPerIteration = (c.variants.reference.ms / iterations) * 1e3;
}

// ---------------------------------------------------------------- time to target (defaults)
/**
 * Every algorithm at its default options (seed 0, as the defaults matrix) on gridGoal and
 * incentive, one iteration per call with φ(x_k) evaluated between calls (not timed):
 * the run time until φ(x_k) is within 1% of the gap φ(x_0) − φ_best of the best φ any
 * algorithm reached within the budget. One run per algorithm (these are whole runs of
 * 10²–10⁴ ms, not micro-benchmarks); the one-call-per-iteration path adds each call's state
 * check to every algorithm alike.
 */
async function targetGroup(): Promise<void> {
  await init({ simd: true });
  for (const name of ["gridGoal", "incentive"]) {
    const p = MATRIX_PROBLEMS.find((q) => q.name === name)!;
    const K = QUICK ? 20 : p.iterations;
    const rows: { alg: string; via: "native" | "withTrajectory"; row: ReturnType<typeof compareAlgorithms>[number] }[] = [];
    for (const alg of ALGORITHM_LIST) {
      const how = applicability(alg, p);
      if (!how.applies) continue;
      const make = how.via === "withTrajectory" ? () => p.makeTrajectory!(0) : () => p.make(0);
      const options = { ...(alg.info.params.some((q) => q.name === "seed") ? { seed: 0 } : {}), ...(p.constraint ?? {}) };
      const [row] = compareAlgorithms(make, [{ name: alg.name, algorithm: alg, options }], { iterations: K, phiEvery: 1, timeline: true, onError: "record" });
      rows.push({ alg: alg.name, via: how.via, row });
      log(`target ${name} ${alg.name}: ${row.iterations} iterations in ${row.timeMs.toFixed(0)} ms, φ ${row.phi0.toPrecision(5)} → ${row.phiFinal.toPrecision(5)}`);
    }
    const phis = (r: (typeof rows)[number]["row"]) => [...r.history.map((h) => h.phi ?? NaN), r.phiFinal].filter(Number.isFinite);
    const phiBest = Math.min(...rows.flatMap(({ row }) => phis(row)));
    const out: TargetRow[] = rows.map(({ alg, via, row }) => {
      const target = phiBest + 0.01 * (row.phi0 - phiBest);
      const seq = [...row.history.map((h) => h.phi ?? NaN), row.phiFinal]; // φ(x_0), …, φ(x_K)
      const k = seq.findIndex((v) => v <= target);
      const ms = k < 0 ? null : k === 0 ? 0 : row.timeline![k - 1];
      return { problem: name, algorithm: alg, via, iterationsBudget: K, phi0: row.phi0, phiBest, phiFinal: row.phiFinal, iterationsToTarget: k < 0 ? null : k, msToTarget: ms, vsExactDescent: null, status: row.status };
    });
    const ref = out.find((r) => r.algorithm === "exactDescent")?.msToTarget;
    for (const r of out) r.vsExactDescent = r.msToTarget !== null && ref ? r.msToTarget / ref : null;
    timeToTarget.push(...out);
  }
}

// ---------------------------------------------------------------- report
const f3 = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toPrecision(3)) : "—");
const fx = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "—");
const coresText = (x: number, limit: number) => (Number.isFinite(x) ? (x > limit ? `**${x.toFixed(2)}** ⚠` : x.toFixed(2)) : "n/a");

function renderBilevelMarkdown(s: BilevelSummary): string {
  const L: string[] = [];
  L.push(`# bilevel-rl bilevel benchmarks${s.mode === "quick" ? " (QUICK smoke run: tiny sizes, not meaningful for the targets)" : ""}`);
  L.push("");
  if (s.groups.length < GROUPS.length) L.push(`Partial run: groups ${s.groups.join(", ")} only.\n`);
  L.push(`- Engine: **${s.engine}**, V8 ${s.v8}`);
  L.push(`- CPU: ${s.cpu} × ${s.cores} cores (${s.platform}), ${s.totalMemGB.toFixed(0)} GB RAM`);
  L.push(`- Date: ${s.date}; commit ${s.commit}${s.uncommitted.length ? ` plus uncommitted changes to ${s.uncommitted.join(", ")}` : ""}; wasm built ${s.wasm.simd?.built ?? "?"} (sha256 ${s.wasm.simd?.sha256 ?? "?"}… simd, ${s.wasm.scalar?.sha256 ?? "?"}… scalar)${s.wasmRebuiltDuringRun ? " — **the build files changed on disk during the run** (the run used the bytes loaded at its start)" : ""}`);
  L.push(`- Load average (1/5/15 min) at start ${s.loadavgStart.map((x) => x.toFixed(2)).join("/")}, at end ${s.loadavgEnd.map((x) => x.toFixed(2)).join("/")}; whole run ${s.durationS.toFixed(0)} s`);
  L.push(
    s.contendedCases.length
      ? `- **Warning:** other processes used more than ${s.contendedAboveCores} CPU cores on average during ${s.contendedCases.join(", ")} (column "others"): those figures are disturbed; rerun on a quiet machine.`
      : `- No case saw other processes use more than ${s.contendedAboveCores} CPU cores on average (column "others", from /proc/stat).`,
  );
  L.push(`- A disturbed case is rerun after waiting for a quiet machine (at most ${s.retries.maxAttempts} runs, while the run is younger than ${s.retries.budgetS} s); the least disturbed run is kept. Reruns this time: ${s.cases.filter((c) => c.attempts > 1).map((c) => `${c.id} (${c.attempts} runs)`).join(", ") || "none"}.`);
  L.push(`- Times are the **median** of benny's samples, ms per op (one hypergradient; one whole ${s.cases.find((c) => c.group === "e1")?.params.iterations ?? 3000}-iteration run). Speed-ups are time ratios: ref ÷ simd, ref ÷ scalar, scalar ÷ simd. The reference is the same algorithm in plain TS on src/reference kernels (\`bench/lib/bilevelReference.ts\`).`);
  L.push(`- Command: \`npm run bench:bilevel\` (= \`node --expose-gc --import ./scripts/register-wasm.mjs --import tsx bench/bilevel.bench.ts\`).`);
  L.push("");
  L.push("## Targets (issue, Node 20, this machine)");
  L.push("");
  if (s.mode === "quick") L.push("Not evaluated: the quick run's sizes are not the issue's.");
  else {
    L.push("| target | required | measured (SIMD build, median) | status |");
    L.push("|---|---:|---:|---|");
  }
  for (const t of s.targets) L.push(`| ${t.name} | < ${t.requiredMs} ms | ${f3(t.measuredMs)} ms | ${t.met ? "**met**" : `**not met** (${(t.measuredMs / t.requiredMs).toFixed(2)}× the budget)`} |`);
  L.push("");
  L.push("## Results");
  L.push("");
  L.push("| case | simd ms | scalar ms | ref ms | numpy ms (1 thread / all) | simd vs ref | scalar vs ref | simd vs scalar | simd vs numpy (1 / all) | work (simd / ref) | check | others |");
  L.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|");
  for (const c of s.cases) {
    const d = c.derived;
    const work = c.group === "hypergradient"
      ? `${d.lowerIterationsLib} / ${d.lowerIterationsRef} ${d.lowerIterationsUnit}${c.params.linear === "krylov" ? `; ref: ${d.krylovIterationsRef} GMRES/Richardson products over ${d.solvesRef} solves` : `; ref: ${d.solvesRef} banded LU solves`}`
      : `${d.sweepsLib} / ${d.sweepsRef} sweeps; ${f3(Number(d.simdUsPerIteration))} / ${f3(Number(d.referenceUsPerIteration))} µs per iteration`;
    const np = c.numpy ? `${f3(c.numpy.one?.ms ?? NaN)} / ${f3(c.numpy.all?.ms ?? NaN)}` : "—";
    const npx = c.numpy ? `${fx(c.speedup.simdVsNumpy ?? NaN)} / ${fx(c.speedup.simdVsNumpyAll ?? NaN)}` : "—";
    const check = c.check.ok && (!c.numpy || c.numpy.check.ok) ? "ok" : "**FAILED**";
    L.push(`| ${c.title} | ${f3(c.variants.simd.ms)} | ${f3(c.variants.scalar.ms)} | ${f3(c.variants.reference.ms)} | ${np} | ${fx(c.speedup.simdVsRef)} | ${fx(c.speedup.scalarVsRef)} | ${fx(c.speedup.simdVsScalar)} | ${npx} | ${work} | ${check} | ${coresText(c.otherCores, s.contendedAboveCores)} |`);
  }
  L.push("", s.numpy.skipped ? `numpy skipped: ${s.numpy.skipped}.` : `numpy: ${s.numpy.versions}; "simd vs numpy" is numpy's time ÷ the SIMD build's (> 1: the SIMD build is faster).`);
  const hg = s.cases.filter((c) => c.group === "hypergradient");
  if (hg.length) {
    L.push("");
    L.push("## Where the SIMD build's hypergradient time goes");
    L.push("");
    L.push("Best of 3 outside the timed ops, on the same problem: the lower solve (`solveLower`), the upper objective f (`problem.value`: one τ = 0 evaluation) and the implicit part (`implicitGrad`: ∇_π f = one τ = 0 evaluation + the transposed solve for d̃, then b = Uᵀv, the transposed solve for w and the combination).");
    L.push("");
    L.push("| case | lower solve ms | f ms | implicit part ms | sum | median op |");
    L.push("|---|---:|---:|---:|---:|---:|");
    for (const c of hg) {
      const d = c.derived as Record<string, number>;
      L.push(`| ${lowerShort(c.params)} + ${c.params.linear} | ${f3(d.simdLowerMs)} | ${f3(d.simdValueMs)} | ${f3(d.simdImplicitMs)} | ${f3(d.simdLowerMs + d.simdValueMs + d.simdImplicitMs)} | ${f3(c.variants.simd.ms)} |`);
    }
  }
  const ext = s.external.filter((e) => s.cases.some((c) => c.group === e.group));
  if (ext.length) {
    L.push("");
    L.push("## For comparison (quoted in the issue, not measured by this suite)");
    L.push("");
    if (s.mode === "quick") L.push("(Quick run: the sizes differ from the quoted ones, so no ratios.)\n");
    L.push("| implementation | ms | this suite, SIMD build, median ms (quoted ÷ ours) |");
    L.push("|---|---:|---|");
    for (const e of ext) {
      const ours = s.cases.filter((c) => c.group === e.group);
      const txt = ours.map((c) => `${c.group === "hypergradient" ? `${lowerShort(c.params)} + ${LINEAR_SHORT[c.params.linear as RefLinear]}` : `${c.params.iterations} iterations`}: ${f3(c.variants.simd.ms)}${s.mode === "quick" ? "" : ` (${fx(e.ms / c.variants.simd.ms)})`}`).join("; ");
      L.push(`| ${e.what} | ≈ ${e.ms} | ${txt} |`);
    }
  }
  if (s.timeToTarget.length) {
    L.push("");
    L.push("## Time to within 1% of φ_best, at the defaults");
    L.push("");
    L.push("Every algorithm with its default options (seed 0) on the problem's seed-0 instance, SIMD build: the run time (no φ evaluations) until φ(x_k) − φ_best ≤ 1% of φ(x_0) − φ_best, φ_best the lowest φ any algorithm reached within the budget; one run each, one iteration per call (docs/defaults.md has the whole matrix).");
    L.push("");
    L.push("| problem | algorithm | budget K | φ(x₀) | φ_best | final φ | iterations to target | ms to target | × exactDescent | status |");
    L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const r of s.timeToTarget) {
      L.push(`| ${r.problem} | ${r.algorithm}${r.via === "withTrajectory" ? " (withTrajectory)" : ""} | ${r.iterationsBudget} | ${r.phi0.toPrecision(5)} | ${r.phiBest.toPrecision(5)} | ${Number.isFinite(r.phiFinal) ? r.phiFinal.toPrecision(5) : "—"} | ${r.iterationsToTarget ?? "not reached"} | ${r.msToTarget === null ? "—" : f3(r.msToTarget)} | ${r.vsExactDescent === null ? "—" : fx(r.vsExactDescent)} | ${r.status} |`);
    }
  }
  L.push(...closingSections(s.cases, s.settings));
  return L.join("\n");
}

// ---------------------------------------------------------------- run
const { commit, dirty } = gitState(ROOT);
const loadStart = os.loadavg();
log(`bilevel-rl bilevel benchmarks (${QUICK ? "QUICK smoke run" : "full run"}) on Node ${process.version}, V8 ${process.versions.v8}, ${os.cpus()[0]?.model} × ${os.cpus().length}; results → ${path.relative(ROOT, OUT) || "."}\n`);
if (!(globalThis as { gc?: unknown }).gc) log("(run node with --expose-gc to free memory between cases)\n");

if (runs("hypergradient")) await hypergradientGroup();
if (runs("e1")) await e1Group();
if (runs("target")) await targetGroup();

// the targets are absolute times at the issue's sizes: not evaluated on the quick run's tiny sizes
const targets: BilevelTarget[] = [];
for (const c of QUICK ? [] : cases) {
  const ms = c.variants.simd.ms;
  if (c.group === "hypergradient" && c.params.lowerId !== "vi-plain") targets.push({ name: `${c.params.size}×${c.params.size} exact hypergradient, ${lowerShort(c.params)} + ${LINEAR_SHORT[c.params.linear as RefLinear]}`, requiredMs: TARGET_HYPERGRADIENT_MS, measuredMs: ms, met: ms < TARGET_HYPERGRADIENT_MS, case: c.id });
  if (c.group === "e1") targets.push({ name: `M-SoBiRL on E1, ${c.params.iterations} iterations`, requiredMs: TARGET_E1_MS, measuredMs: ms, met: ms < TARGET_E1_MS, case: c.id });
}
const wasmEnd = wasmInfo();
const summary: BilevelSummary = {
  suite: "bilevel",
  mode: QUICK ? "quick" : "full",
  ...runEnvironment(),
  loadavgStart: loadStart,
  loadavgEnd: os.loadavg(),
  commit,
  uncommitted: dirty,
  wasm: wasmStart,
  wasmRebuiltDuringRun: wasmStart.simd.sha256 !== wasmEnd.simd.sha256 || wasmStart.scalar.sha256 !== wasmEnd.scalar.sha256,
  durationS: (performance.now() - t0) / 1e3,
  contendedAboveCores: CONTENDED,
  contendedCases: cases.filter((c) => c.otherCores > CONTENDED).map((c) => c.id),
  retries: { maxAttempts: MAX_ATTEMPTS, budgetS: RETRY_BUDGET_S },
  groups: ONLY.length ? ONLY : [...GROUPS],
  settings: { gridSize: cfg.size, lowerTol: LOWER_TOL, mu: MU, checkRel: CHECK_REL, e1Iterations: cfg.e1Iterations, targetsMs: { hypergradient: TARGET_HYPERGRADIENT_MS, e1: TARGET_E1_MS }, benny: cfg.options },
  cases,
  targets,
  timeToTarget,
  external: EXTERNAL,
  numpy: NUMPY_SKIPPED ? { skipped: NUMPY_SKIPPED } : { versions: numpyVersions },
};
writeFileSync(path.join(OUT, "bilevel.json"), JSON.stringify(summary, null, 2) + "\n");
writeFileSync(path.join(OUT, "bilevel.md"), renderBilevelMarkdown(summary));
log(renderBilevelMarkdown(summary));
log(`done in ${summary.durationS.toFixed(0)} s; wrote ${path.relative(ROOT, path.join(OUT, "bilevel.json"))} and bilevel.md`);
const failedChecks = cases.filter((c) => !c.check.ok || (c.numpy && !c.numpy.check.ok));
if (failedChecks.length) {
  console.error(`correctness checks FAILED: ${failedChecks.map((c) => c.id).join(", ")}`);
  process.exitCode = 1;
}
