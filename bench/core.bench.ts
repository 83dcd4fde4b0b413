// Core benchmarks: the SIMD build, the scalar build and the plain-TS reference
// (src/reference) on the same seeded problems, in the same process.
//
//   npm run bench                 full run (≈ 4–6 min on 2 cores), writes bench/results/
//   BENCH_QUICK=1 npm run bench   tiny sizes, seconds; writes bench/results/quick/ (or pass --quick)
//   BENCH_OUT=dir                 write the results somewhere else
//   BENCH_NUMPY=0                 skip the numpy/scipy columns (bench/numpy_ref.py under /usr/bin/python3)
//
// Run directly: node --expose-gc --import ./scripts/register-wasm.mjs --import tsx bench/core.bench.ts
// Problem setup, calibration and correctness checks happen outside the timed ops.
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { init, sampleTrajectories, softValueIteration, solveLinear, type Backend, type TabularMDP } from "../src/index";
import * as ref from "../src/reference/index";
import type { RefMDP } from "../src/reference/index";
import { dotKernel, jsSum } from "./lib/bandwidth";
import { bestOf, gc, gitState, niceCeil, runEnvironment, type CaseOptions, type VariantResult, runSuiteQuietly } from "./lib/harness";
import { randomCsr, randomDense, randomPolicy, randomVector, toMDP } from "./lib/problems";
import { renderMarkdown, type BandwidthResult, type CaseResult, type Summary, type Target } from "./lib/report";
import { maxRelDiff } from "./lib/diff";
import { numpyUnavailable, runNumpy, type NumpyCase } from "./lib/numpy";
import { measurePeak } from "./lib/peak";

const QUICK = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const GROUPS = ["dense", "bandwidth", "csr", "lu", "sampling"] as const;
/** BENCH_ONLY=csr,sampling runs only those groups (csr = CSR sweeps + Krylov solves). */
const ONLY = (process.env.BENCH_ONLY ?? "").split(",").map((x) => x.trim()).filter(Boolean);
for (const g of ONLY) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`BENCH_ONLY: unknown group '${g}' (groups: ${GROUPS.join(", ")})`);
const runs = (g: (typeof GROUPS)[number]) => ONLY.length === 0 || ONLY.includes(g);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const OUT = path.resolve(process.env.BENCH_OUT ?? path.join(HERE, "results", QUICK ? "quick" : ONLY.length ? "partial" : ""));
const t0 = performance.now();

// ---------------------------------------------------------------- configuration
const A = 4;
const TAU = 0.5;
/** Dense sweeps use γ = 0.999 so that no run of K ≤ 5000 sweeps reaches an exactly zero residual (which would stop early). */
const GAMMA_SWEEP = 0.999;
/** CSR problems (sweeps and Krylov) and LU problems. */
const GAMMA = 0.9;
const NNZ_PER_ROW = 5;
const KRYLOV_TOL = 1e-10;
const cfg = QUICK
  ? {
      dense: [16, 48], csr: [500], lu: [40, 60], luNoRef: 60, samplingCsrS: 500, samplingDenseS: 16, episodes: 20, horizon: 50,
      bandwidthBytes: 4 * 2 ** 20, targetMs: 1, csrKmin: 1, diagS: 500,
      normal: { minSamples: 2, maxTime: 0.02, minTime: 0.002 }, heavy: { minSamples: 2, maxTime: 0.02, minTime: 0.002 },
    }
  : {
      dense: [100, 300, 1000, 1500], csr: [1e4, 1e5, 1e6], lu: [200, 1000, 2000], luNoRef: 2000, samplingCsrS: 1e4, samplingDenseS: 100, episodes: 1000, horizon: 1000,
      bandwidthBytes: 256 * 2 ** 20, targetMs: 25, csrKmin: 10, diagS: 1e5,
      normal: { minSamples: 5, maxTime: 1, minTime: 0.02 }, heavy: { minSamples: 5, maxTime: 1, minTime: 0.02 },
    };
/** Cases during which other processes used more than this many cores on average are flagged. */
const CONTENDED = 0.15;
/** A contended case is rerun (after waiting for a quiet machine) up to this many times in all… */
const MAX_ATTEMPTS = QUICK ? 1 : 3;
/** …while the whole run has lasted less than this many seconds. */
const RETRY_BUDGET_S = 200;
/** An op slower than this gets the `heavy` sample budget. */
const HEAVY_MS = 300;

/** numpy/scipy on the same arrays, unless BENCH_NUMPY=0 or Python/numpy is missing. */
const NUMPY_SKIPPED = process.env.BENCH_NUMPY === "0" ? "BENCH_NUMPY=0" : numpyUnavailable();
let numpyVersions: string | undefined;

const backends: Record<"simd" | "scalar", Backend> = {
  simd: await init({ simd: true }),
  scalar: await init({ simd: false }),
};
mkdirSync(OUT, { recursive: true });
const cases: CaseResult[] = [];
const diagnostics: Record<string, unknown> = {};
const log = (s: string) => console.log(s);

// ---------------------------------------------------------------- helpers
function mdps(m: RefMDP): Record<"simd" | "scalar", TabularMDP> {
  return { simd: toMDP(m, backends.simd), scalar: toMDP(m, backends.scalar) };
}

function optionsFor(slowestMs: number): CaseOptions {
  return slowestMs > HEAVY_MS ? cfg.heavy : cfg.normal;
}

function speedups(v: Record<string, VariantResult>) {
  const ref = v.reference?.ms ?? NaN;
  return {
    simdVsRef: ref / v.simd.ms,
    scalarVsRef: ref / v.scalar.ms,
    simdVsScalar: v.scalar.ms / v.simd.ms,
  };
}

/** The numpy/scipy twin of a case: the arrays it reads, what it does, and how its result is checked. */
interface NumpySpec {
  kind: NumpyCase["kind"];
  arrays: NumpyCase["arrays"];
  params: NumpyCase["params"];
  op: string;
  check: (out: Float64Array) => { ok: boolean; detail: string };
}

async function bench(
  c: Omit<CaseResult, "variants" | "speedup" | "file" | "options" | "otherCores" | "attempts">,
  ops: { simd: () => unknown; scalar: () => unknown; reference?: () => unknown },
  slowestMs: number,
  np?: NumpySpec,
): Promise<CaseResult> {
  const options = optionsFor(slowestMs);
  const { results: variants, otherCores, attempts } = await runSuiteQuietly(c.title, c.id, ops as Record<string, () => unknown>, options, QUIET);
  const res: CaseResult = { ...c, variants: variants as CaseResult["variants"], speedup: speedups(variants), options, otherCores, attempts, file: path.relative(ROOT, path.join(OUT, `${c.id}.json`)) };
  if (np && !NUMPY_SKIPPED) {
    const r = runNumpy([{ id: c.id, kind: np.kind, arrays: np.arrays, params: np.params }], { ...options, log });
    const one = r.one?.cases[c.id], all = r.all?.cases[c.id];
    const out = one?.out ?? all?.out;
    if (r.one) numpyVersions = `Python ${r.one.python}, numpy ${r.one.numpy}, scipy ${r.one.scipy}, OPENBLAS_CORETYPE ${r.one.openblasCoretype}`;
    const strip = (t: typeof one) => (t ? { ms: t.ms, minMs: t.minMs, samples: t.samples, otherCores: t.otherCores, factorSolveMs: t.factorSolveMs } : undefined);
    res.numpy = { one: strip(one), all: strip(all), op: np.op, check: out ? np.check(out) : { ok: false, detail: "numpy produced no result" } };
    res.speedup.simdVsNumpy = (one?.ms ?? NaN) / res.variants.simd.ms;
    res.speedup.simdVsNumpyAll = (all?.ms ?? NaN) / res.variants.simd.ms;
  }
  cases.push(res);
  const vsNp = res.numpy ? `, simd ${res.speedup.simdVsNumpy!.toFixed(2)}× numpy (1 thread), ${res.speedup.simdVsNumpyAll!.toFixed(2)}× (all threads); numpy check: ${res.numpy.check.ok ? "ok" : "FAILED"} (${res.numpy.check.detail})` : "";
  log(`    → simd ${res.speedup.simdVsRef.toFixed(2)}× ref, scalar ${res.speedup.scalarVsRef.toFixed(2)}× ref, simd ${res.speedup.simdVsScalar.toFixed(2)}× scalar${vsNp}; check: ${c.check.ok ? "ok" : "FAILED"} (${c.check.detail})\n`);
  return res;
}

/** numpy's K sweeps from V = 0 (bench/numpy_ref.py 'sweep') against the library's V. */
function numpySweep(m: RefMDP, r: Float64Array, K: number, V: Float64Array): NumpySpec {
  const arrays: NumpyCase["arrays"] = m.kind === "dense" ? { P: m.P, r } : { P: m.probs, indices: m.indices, indptr: m.indptr, r };
  return {
    kind: "sweep", arrays, params: { S: m.S, A: m.A, gamma: m.gamma, tau: TAU, K },
    op: `K sweeps V ← τ·logsumexp((r + γ·P@V)/τ) with ${m.kind === "dense" ? "a dense ndarray P" : "a scipy.sparse CSR P"} (max-shifted exp/log, vectorised over (S, A))`,
    check: (out) => { const d = maxRelDiff(out, V); return { ok: d < 1e-9, detail: `max rel |V_numpy − V| ${d.toExponential(1)}` }; },
  };
}

const QUIET = { out: OUT, contended: CONTENDED, maxAttempts: MAX_ATTEMPTS, budgetS: RETRY_BUDGET_S, startedAt: t0, log };

/** K sweeps per op so that one SIMD op lasts about `targetMs`; also the fixed per-call cost of softValueIteration. */
function calibrateSweeps(run: (K: number) => unknown, targetMs: number, Kmin: number): { K: number; perSweepMs: number; callOverheadMs: number } {
  run(1);
  const t1 = bestOf(3, () => run(1));
  const Kp = t1 > 50 ? 3 : 6;
  const tp = bestOf(3, () => run(Kp));
  const perSweepMs = Math.max((tp - t1) / (Kp - 1), tp / Kp / 10);
  const callOverheadMs = Math.max(0, t1 - perSweepMs);
  const K = Math.min(5000, niceCeil(Math.max(Kmin, (targetMs - callOverheadMs) / perSweepMs)));
  return { K, perSweepMs, callOverheadMs };
}

/** Reference: K × bellmanSweep from V = 0 (buffers allocated once). Returns the final V (a live buffer). */
function refSweeps(m: RefMDP, r: Float64Array, K: number, tau: number): () => Float64Array {
  const V = new Float64Array(m.S), W = new Float64Array(m.S), Q = new Float64Array(m.S * m.A);
  return () => {
    V.fill(0);
    let a = V, b = W;
    for (let k = 0; k < K; k++) {
      ref.bellmanSweep(m, r, a, Q, b, tau);
      const t = a; a = b; b = t;
    }
    return a;
  };
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const s = performance.now();
  const value = f();
  return { value, ms: performance.now() - s };
}

/**
 * A sweep case: K calibrated so a SIMD op lasts about targetMs, the three ops (K sweeps of
 * softValueIteration on each build, K reference sweeps), and the check that all three ran K
 * sweeps to the same V.
 */
function sweepCase(m: RefMDP, r: Float64Array, md: { simd: TabularMDP; scalar: TabularMDP }, Kmin: number) {
  const cal = calibrateSweeps((K) => softValueIteration(md.simd, r, { tau: TAU, tol: 0, maxIter: K }), cfg.targetMs, Kmin);
  const K = cal.K;
  const opts = { tau: TAU, tol: 0, maxIter: K };
  const refRun = refSweeps(m, r, K, TAU);
  const vs = softValueIteration(md.simd, r, opts), vc = softValueIteration(md.scalar, r, opts);
  const vr = timed(() => Float64Array.from(refRun()));
  const dS = maxRelDiff(vs.V, vr.value), dC = maxRelDiff(vc.V, vr.value);
  const ok = vs.iterations === K && vc.iterations === K && dS < 1e-9 && dC < 1e-9;
  return {
    cal,
    K,
    ops: { simd: () => softValueIteration(md.simd, r, opts), scalar: () => softValueIteration(md.scalar, r, opts), reference: refRun },
    check: { ok, detail: `iterations ${vs.iterations}/${vc.iterations} of ${K}; max rel |V−V_ref| simd ${dS.toExponential(1)}, scalar ${dC.toExponential(1)}` },
    refOnceMs: vr.ms,
    V: vs.V,
  };
}

// ---------------------------------------------------------------- dense soft sweeps
async function denseSweep(S: number): Promise<void> {
  const m = randomDense(S, A, GAMMA_SWEEP, 1000 + S);
  const r = randomVector(S * A, 2000 + S);
  const md = mdps(m);
  const { cal, K, ops, check, refOnceMs, V } = sweepCase(m, r, md, 1);
  const bytesP = S * A * S * 8;
  const res = await bench(
    {
      id: `dense-sweep-S${S}`, group: "dense-sweep", title: `dense soft sweep S=${S} A=${A} τ=${TAU} (${K} sweeps/op)`,
      params: { S, A, tau: TAU, gamma: GAMMA_SWEEP, K, bytesOfP: bytesP },
      unit: { name: "sweep", perOp: K },
      check,
      notes: [
        `op = softValueIteration(mdp, r, { tau, tol: 0, maxIter: K }) (includes checking and copying r in and copying V, Q, π out; the last sweep writes π: ≈ ${cal.callOverheadMs.toFixed(2)} ms per call on SIMD, ${((100 * cal.callOverheadMs) / (cal.callOverheadMs + K * cal.perSweepMs)).toFixed(1)}% of an op); reference = K × reference.bellmanSweep on preallocated buffers`,
      ],
    },
    ops,
    refOnceMs,
    numpySweep(m, r, K, V),
  );
  res.derived = Object.fromEntries((["simd", "scalar", "reference"] as const).map((v) => [`${v}GBps`, bytesP / (res.variants[v]!.ms / K / 1e3) / 1e9]));
  res.derived.simdCallOverheadMs = cal.callOverheadMs;
  res.derived.simdVsRefExclCallOverhead = res.variants.reference!.ms / Math.max(1e-9, res.variants.simd.ms - cal.callOverheadMs);
}

// ---------------------------------------------------------------- memory bandwidth
async function bandwidth(): Promise<BandwidthResult> {
  const bytes = cfg.bandwidthBytes;
  const kS = dotKernel(path.join(ROOT, "build/bilevel-simd.wasm"), bytes);
  const kC = dotKernel(path.join(ROOT, "build/bilevel-scalar.wasm"), bytes);
  const a = new Float64Array(bytes / 8).fill(1), c = new Float64Array(bytes / 8);
  const ops = {
    "wasm SIMD dot": () => kS.dot(kS.x, kS.y, kS.n),
    "wasm scalar dot": () => kC.dot(kC.x, kC.y, kC.n),
    "JS Float64Array sum": () => jsSum(a),
    "Float64Array.prototype.set copy": () => c.set(a),
  };
  const mb = bytes / 2 ** 20;
  const { results: v, otherCores, attempts } = await runSuiteQuietly(`single-thread memory read bandwidth (2 × ${mb} MB dot, ${mb} MB sum/copy)`, "memory-bandwidth", ops, cfg.normal, QUIET);
  const readBytes: Record<string, number> = { "wasm SIMD dot": 2 * bytes, "wasm scalar dot": 2 * bytes, "JS Float64Array sum": bytes, "Float64Array.prototype.set copy": bytes };
  const methods = Object.keys(ops).map((name) => ({ name, bytesRead: readBytes[name], ms: v[name].ms, GBps: readBytes[name] / (v[name].ms / 1e3) / 1e9 }));
  for (const x of methods) log(`    ${x.name}: ${x.GBps.toFixed(1)} GB/s read`);
  return {
    file: path.relative(ROOT, path.join(OUT, "memory-bandwidth.json")),
    otherCores,
    attempts,
    methods,
    ceilingGBps: methods[0].GBps,
    ceilingMethod: `exported dot(x, y, n) of build/bilevel-simd.wasm (the kernel the dense sweep runs on each row of P) over two disjoint ${mb} MB vectors in a private instance's memory: ${2 * mb} MB read per call, median of benny samples`,
  };
}

// ---------------------------------------------------------------- CSR sweeps + Krylov
async function csr(S: number): Promise<void> {
  const m = randomCsr(S, A, GAMMA, NNZ_PER_ROW, 3000 + S);
  const r = randomVector(S * A, 4000 + S);
  const md = mdps(m);
  const nnz = m.indices.length;
  {
    const { cal, K, ops, check, refOnceMs, V } = sweepCase(m, r, md, cfg.csrKmin);
    const res = await bench(
      {
        id: `csr-sweep-S${S}`, group: "csr-sweep", title: `CSR soft sweep S=${S} A=${A} nnz/row=${NNZ_PER_ROW} τ=${TAU} (${K} sweeps/op)`,
        params: { S, A, nnzPerRow: NNZ_PER_ROW, nnz, tau: TAU, gamma: GAMMA, K },
        unit: { name: "sweep", perOp: K },
        check,
        notes: [
          `op = softValueIteration(mdp, r, { tau, tol: 0, maxIter: K }); its fixed per-call cost (check and copy r in, copy V, Q, π out; the last sweep writes π) ≈ ${cal.callOverheadMs.toFixed(2)} ms on SIMD = ${((100 * cal.callOverheadMs) / (cal.callOverheadMs + K * cal.perSweepMs)).toFixed(1)}% of an op, counted in the per-sweep time; reference = K × reference.bellmanSweep`,
        ],
      },
      ops,
      refOnceMs,
      numpySweep(m, r, K, V),
    );
    res.derived = Object.fromEntries((["simd", "scalar", "reference"] as const).map((v) => [`${v}NsPerNnz`, (res.variants[v]!.ms / K / nnz) * 1e6]));
    res.derived.simdCallOverheadMs = cal.callOverheadMs;
    res.derived.simdVsRefExclCallOverhead = res.variants.reference!.ms / Math.max(1e-9, res.variants.simd.ms - cal.callOverheadMs);
  }
  if (S === cfg.diagS) {
    // How much of a CSR sweep is exp/log: τ = 0 (hard max) skips them.
    const K = 5;
    const sim = (tau: number) => bestOf(3, () => softValueIteration(md.simd, r, { tau, tol: 0, maxIter: K }));
    const sim1 = (tau: number) => bestOf(3, () => softValueIteration(md.simd, r, { tau, tol: 0, maxIter: 1 }));
    const refT = (tau: number) => { const f = refSweeps(m, r, K, tau); f(); return bestOf(3, f) / K; };
    const simdSweep = (tau: number) => (sim(tau) - sim1(tau)) / (K - 1);
    const d = {
      S, nnz, K,
      simdMsPerSweepTau05: simdSweep(TAU), simdMsPerSweepTau0: simdSweep(0),
      refMsPerSweepTau05: refT(TAU), refMsPerSweepTau0: refT(0),
      note: "best of 3; SIMD per-sweep = (T(K=5) − T(K=1)) / 4, i.e. without the fixed per-call cost; reference = K × bellmanSweep / K",
    };
    diagnostics.csrExpLog = d;
    log(`    diagnostics S=${S}: SIMD ${d.simdMsPerSweepTau05.toFixed(2)} ms/sweep (τ=0.5) vs ${d.simdMsPerSweepTau0.toFixed(2)} (τ=0); reference ${d.refMsPerSweepTau05.toFixed(2)} vs ${d.refMsPerSweepTau0.toFixed(2)}\n`);
  }
  const pi = randomPolicy(S, A, 5000 + S), b = randomVector(S, 6000 + S);
  await krylov(m, md, pi, b, "krylov");
  // 'krylov' may be another method than the reference's BiCGSTAB (GMRES(m) since the solver
  // rework); when the library also offers 'bicgstab', time that too: the same algorithm.
  let hasBicgstab = true;
  try { solveLinear(md.simd, pi, b, { method: "bicgstab" as never, tol: KRYLOV_TOL, maxIter: 1 }); } catch { hasBicgstab = false; }
  if (hasBicgstab) await krylov(m, md, pi, b, "bicgstab");
}

async function krylov(m: RefMDP, md: Record<"simd" | "scalar", TabularMDP>, pi: Float64Array, b: Float64Array, method: "krylov" | "bicgstab"): Promise<void> {
  const S = m.S;
  const o = { method: method as never, tol: KRYLOV_TOL };
  const xs = solveLinear(md.simd, pi, b, o), xc = solveLinear(md.scalar, pi, b, o);
  const xr = timed(() => ref.bicgstab(m, pi, b, { tol: KRYLOV_TOL }));
  const dS = maxRelDiff(xs.x, xr.value.x), dC = maxRelDiff(xc.x, xr.value.x);
  const ok = xs.converged && xc.converged && xr.value.converged && dS < 1e-8 && dC < 1e-8;
  const res = await bench(
    {
      id: `${method}-S${S}`, group: "krylov", title: `solveLinear '${method}' S=${S} A=${A} nnz/row=${NNZ_PER_ROW} γ=${GAMMA} tol=${KRYLOV_TOL} vs reference BiCGSTAB`,
      params: { S, A, method, nnzPerRow: NNZ_PER_ROW, gamma: GAMMA, tol: KRYLOV_TOL, iterationsSimd: xs.iterations, iterationsScalar: xc.iterations, iterationsRef: xr.value.iterations },
      unit: { name: "solve", perOp: 1 },
      check: { ok, detail: `iterations as reported ${xs.iterations}/${xc.iterations}/${xr.value.iterations} (simd/scalar/ref); residual ${xs.residual.toExponential(1)}/${xc.residual.toExponential(1)}/${xr.value.residual.toExponential(1)}; max rel |x−x_ref| ${dS.toExponential(1)}, ${dC.toExponential(1)}` },
      notes: [`op = solveLinear(mdp, π, b, { method: '${method}', tol: ${KRYLOV_TOL} }) (copies π, b in and x out, plus the final true residual) vs reference.bicgstab(m, π, b, { tol: ${KRYLOV_TOL} }) (BiCGSTAB, 2 P_π products per iteration)`],
    },
    {
      simd: () => solveLinear(md.simd, pi, b, o),
      scalar: () => solveLinear(md.scalar, pi, b, o),
      reference: () => ref.bicgstab(m, pi, b, { tol: KRYLOV_TOL }),
    },
    xr.ms,
  );
  res.derived = { simdMsPerIteration: res.variants.simd.ms / xs.iterations, referenceMsPerIteration: res.variants.reference!.ms / xr.value.iterations };
}

// ---------------------------------------------------------------- dense LU
/** Both orientations: the adjoint solve (transpose) is the one every exact hypergradient needs. */
async function lu(n: number, transpose: boolean): Promise<void> {
  const m = randomDense(n, A, GAMMA, 7000 + n);
  const md = mdps(m);
  const pi = randomPolicy(n, A, 8000 + n), b = randomVector(n, 9000 + n);
  // the reference factors the system it solves (the transposed one when asked), as before
  const refSolve = () => {
    const M = ref.buildSystem(m, pi, transpose);
    const piv = ref.luFactor(M, n);
    return ref.luSolve(M, piv, Float64Array.from(b));
  };
  const withRef = n < cfg.luNoRef;
  const o = { method: "lu" as const, transpose };
  const xs = solveLinear(md.simd, pi, b, o), xc = solveLinear(md.scalar, pi, b, o);
  let same = xs.x.length === xc.x.length;
  for (let i = 0; same && i < xs.x.length; i++) same = Object.is(xs.x[i], xc.x[i]);
  const xr = withRef ? timed(refSolve) : undefined;
  const dS = xr ? maxRelDiff(xs.x, xr.value) : NaN, dC = xr ? maxRelDiff(xc.x, xr.value) : NaN;
  const ok = xs.converged && xc.converged && same && (!xr || (dS < 1e-9 && dC < 1e-9));
  const tr = transpose ? "T" : "";
  const res = await bench(
    {
      id: `lu${tr}-n${n}`, group: "lu", title: `dense LU solve${transpose ? " (transposed)" : ""} n=S=${n} A=${A}`,
      params: { n, S: n, A, gamma: GAMMA, transpose: String(transpose) },
      unit: { name: "solve", perOp: 1 },
      check: { ok, detail: `residual ${xs.residual.toExponential(1)}/${xc.residual.toExponential(1)}; simd and scalar x ${same ? "bitwise equal" : "DIFFER"}${xr ? `; max rel |x−x_ref| ${dS.toExponential(1)}, ${dC.toExponential(1)}` : "; no reference at this size (too slow to time)"}` },
      notes: [
        `op = solveLinear(mdp, π, b, { method: 'lu'${transpose ? ", transpose: true" : ""} }): builds I − γP_π from the dense P (reads S·A·S doubles), factors it (blocked LU), solves ${transpose ? "with Uᵀ and Lᵀ from the same factors" : "with L and U"}, and then computes the true residual (one more P_π product); reference = buildSystem${transpose ? " (transposed)" : ""} + luFactor + luSolve (building included, no residual)${withRef ? "" : "; not timed at this size"}`,
      ],
    },
    {
      simd: () => solveLinear(md.simd, pi, b, o),
      scalar: () => solveLinear(md.scalar, pi, b, o),
      ...(withRef ? { reference: refSolve } : {}),
    },
    xr?.ms ?? 0,
    {
      kind: "lu", arrays: { P: m.P, pi, b }, params: { S: n, A, gamma: GAMMA, transpose },
      op: `M = I − γ·P_π (P_π by a batched matmul of π(s, ·) with P(·|s, ·)), then scipy.linalg.lu_factor(M) and lu_solve(·, b, trans=${transpose ? 1 : 0}) (LAPACK dgetrf + dgetrs); factor + solve alone on the built M in the derived column`,
      check: (out) => { const d = maxRelDiff(out, xs.x); return { ok: d < 1e-9, detail: `max rel |x_numpy − x| ${d.toExponential(1)}` }; },
    },
  );
  const flops = (2 / 3) * n ** 3;
  res.derived = { simdGflops: flops / (res.variants.simd.ms / 1e3) / 1e9, referenceGflops: flops / ((res.variants.reference?.ms ?? NaN) / 1e3) / 1e9 };
  if (res.numpy?.one) {
    res.derived.numpyGflops = flops / (res.numpy.one.ms / 1e3) / 1e9;
    res.derived.numpyFactorSolveGflops = flops / ((res.numpy.one.factorSolveMs ?? NaN) / 1e3) / 1e9;
  }
}

// ---------------------------------------------------------------- sampling
async function sampling(kind: "csr" | "dense", S: number): Promise<void> {
  const m = kind === "csr" ? randomCsr(S, A, GAMMA, NNZ_PER_ROW, 3000 + S) : randomDense(S, A, GAMMA, 1000 + S);
  const md = mdps(m);
  const pi = randomPolicy(S, A, 10000 + S);
  const rho = new Float64Array(S).fill(1 / S);
  const o = { episodes: cfg.episodes, horizon: cfg.horizon, seed: 42 };
  const ts = sampleTrajectories(md.simd, pi, o), tc = sampleTrajectories(md.scalar, pi, o);
  const tr = timed(() => ref.sampleTrajectories(m, pi, { ...o, rho }));
  let same = true;
  for (let i = 0; i < ts.states.length; i++) {
    if (ts.states[i] !== tr.value.states[i] || ts.actions[i] !== tr.value.actions[i] || tc.states[i] !== ts.states[i] || tc.actions[i] !== ts.actions[i]) { same = false; break; }
  }
  const steps = o.episodes * o.horizon;
  const res = await bench(
    {
      id: `sampling-${kind}-S${S}`, group: "sampling", title: `sampling ${o.episodes}×${o.horizon} = ${steps} steps, ${kind} S=${S} A=${A}`,
      params: { kind, S, A, episodes: o.episodes, horizon: o.horizon, steps, ...(kind === "csr" ? { nnzPerRow: NNZ_PER_ROW } : {}) },
      unit: { name: `call (${steps} steps)`, perOp: 1 },
      check: { ok: same, detail: same ? "states and actions identical in all three" : "trajectories differ" },
      notes: ["op = sampleTrajectories(mdp, π, { episodes, horizon, seed }) without rewards (copies states, actions out) vs reference.sampleTrajectories (allocates its outputs)"],
    },
    {
      simd: () => sampleTrajectories(md.simd, pi, o),
      scalar: () => sampleTrajectories(md.scalar, pi, o),
      reference: () => ref.sampleTrajectories(m, pi, { ...o, rho }),
    },
    tr.ms,
  );
  res.derived = Object.fromEntries((["simd", "scalar", "reference"] as const).map((v) => [`${v}NsPerStep`, (res.variants[v]!.ms / steps) * 1e6]));
}

/** Sampling with S = 1, A = 1: every draw is trivial, so this is the generator + loop + output floor per step. */
function samplingFloor(): void {
  const m: RefMDP = { kind: "dense", S: 1, A: 1, gamma: GAMMA, P: new Float64Array([1]) };
  const md = toMDP(m, backends.simd);
  const pi = new Float64Array([1]), rho = new Float64Array([1]);
  const o = { episodes: cfg.episodes, horizon: cfg.horizon, seed: 42 };
  const steps = o.episodes * o.horizon;
  sampleTrajectories(md, pi, o);
  ref.sampleTrajectories(m, pi, { ...o, rho });
  const d = {
    steps,
    simdNsPerStep: (bestOf(5, () => sampleTrajectories(md, pi, o)) / steps) * 1e6,
    refNsPerStep: (bestOf(5, () => ref.sampleTrajectories(m, pi, { ...o, rho })) / steps) * 1e6,
    note: "S = 1, A = 1 (draws are one predictable comparison): xoshiro128** + loop + stores + copies out; best of 5",
  };
  diagnostics.samplingFloor = d;
  log(`    diagnostics sampling floor (S=1, A=1): SIMD ${d.simdNsPerStep.toFixed(1)} ns/step, reference ${d.refNsPerStep.toFixed(1)} ns/step\n`);
}

// ---------------------------------------------------------------- run
const { commit, dirty } = gitState(ROOT);
const loadStart = os.loadavg();
log(`bilevel-rl benchmarks (${QUICK ? "QUICK smoke run" : "full run"}) on Node ${process.version}, V8 ${process.versions.v8}, ${os.cpus()[0]?.model} × ${os.cpus().length}; results → ${path.relative(ROOT, OUT) || "."}\n`);
if (!(globalThis as { gc?: unknown }).gc) log("(run node with --expose-gc to free big problems between cases)\n");

if (runs("dense")) for (const S of cfg.dense) { await denseSweep(S); gc(); }
const bw: BandwidthResult | undefined = runs("bandwidth") ? await bandwidth() : undefined;
gc();
if (runs("csr")) for (const S of cfg.csr) { await csr(S); gc(); }
if (runs("lu")) {
  for (const n of cfg.lu) for (const t of [false, true]) { await lu(n, t); gc(); }
  const peak = await measurePeak();
  diagnostics.f64x2Peak = peak;
  log(`    diagnostics f64x2 mul+sub peak (the LU's 4 × 4 tile on L1 data): ${peak.gflops.toFixed(1)} GFLOP/s wall, ${peak.cpuGflops.toFixed(1)} GFLOP/s by CPU time\n`);
}
if (runs("sampling")) {
  await sampling("csr", cfg.samplingCsrS);
  await sampling("dense", cfg.samplingDenseS);
  samplingFloor();
}

// ---------------------------------------------------------------- targets and summary
const targets: Target[] = [];
const byId = (id: string) => cases.find((c) => c.id === id);
for (const c of cases) {
  const x = c.speedup.simdVsRef;
  if (c.group === "dense-sweep" && Number(c.params.S) >= 300) targets.push({ name: `dense sweep S=${c.params.S}: SIMD vs reference`, required: 4, measured: x, unit: "×", met: x >= 4, case: c.id });
  if (c.group === "csr-sweep") targets.push({ name: `CSR sweep S=${c.params.S}: SIMD vs reference`, required: 2.5, measured: x, unit: "×", met: x >= 2.5, case: c.id });
  if (c.group === "lu" && c.variants.reference) targets.push({ name: `LU${c.params.transpose === "true" ? "ᵀ" : ""} n=${c.params.n}: SIMD vs reference`, required: 6, measured: x, unit: "×", met: x >= 6, case: c.id });
  // issue 14: within 2× of numpy (one OpenBLAS thread) at n ≥ 1000, both orientations; ≥ 20 GFLOP/s at n = 2000
  const np = c.speedup.simdVsNumpy;
  if (c.group === "lu" && Number(c.params.n) >= 1000 && np !== undefined && Number.isFinite(np)) targets.push({ name: `LU${c.params.transpose === "true" ? "ᵀ" : ""} n=${c.params.n}: numpy (1 thread) time ÷ SIMD time`, required: 0.5, measured: np, unit: "×", met: np >= 0.5, case: c.id });
  if (c.group === "lu" && Number(c.params.n) >= 2000 && c.derived) targets.push({ name: `LU${c.params.transpose === "true" ? "ᵀ" : ""} n=${c.params.n}: SIMD GFLOP/s (⅔n³ over the whole op)`, required: 20, measured: c.derived.simdGflops, unit: "GFLOP/s", met: c.derived.simdGflops >= 20, case: c.id });
  if (c.group === "sampling") targets.push({ name: `sampling ${c.params.kind} S=${c.params.S}: SIMD vs reference`, required: 3, measured: x, unit: "×", met: x >= 3, case: c.id });
}
const bwCase = byId(`dense-sweep-S${cfg.dense[cfg.dense.length - 1]}`);
let bandwidthFraction = NaN;
if (bwCase?.derived && bw) {
  bandwidthFraction = bwCase.derived.simdGBps / bw.ceilingGBps;
  targets.push({ name: `dense sweep S=${bwCase.params.S}: bytes of P per second vs single-thread read bandwidth`, required: 60, measured: 100 * bandwidthFraction, unit: "%", met: bandwidthFraction >= 0.6, case: bwCase.id });
}

const wasm = Object.fromEntries(["simd", "scalar"].map((k) => {
  const p = path.join(ROOT, `build/bilevel-${k}.wasm`);
  const st = statSync(p);
  return [k, { path: path.relative(ROOT, p), bytes: st.size, built: st.mtime.toISOString() }];
}));

const summary: Summary = {
  mode: QUICK ? "quick" : "full",
  ...runEnvironment(),
  loadavgStart: loadStart,
  loadavgEnd: os.loadavg(),
  commit,
  uncommitted: dirty,
  wasm,
  durationS: (performance.now() - t0) / 1e3,
  contendedAboveCores: CONTENDED,
  groups: ONLY.length ? ONLY : [...GROUPS],
  contendedCases: [...cases.filter((c) => c.otherCores > CONTENDED).map((c) => c.id), ...(bw && bw.otherCores > CONTENDED ? ["memory-bandwidth"] : [])],
  retries: { maxAttempts: MAX_ATTEMPTS, budgetS: RETRY_BUDGET_S },
  numpy: NUMPY_SKIPPED ? { skipped: NUMPY_SKIPPED } : { versions: numpyVersions },
  settings: { A, tau: TAU, gammaDenseSweep: GAMMA_SWEEP, gamma: GAMMA, nnzPerRow: NNZ_PER_ROW, krylovTol: KRYLOV_TOL, targetMsPerOp: cfg.targetMs, benny: { normal: cfg.normal, heavy: cfg.heavy, heavyAboveMs: HEAVY_MS } },
  cases,
  bandwidth: bw ? { ...bw, denseSweepCase: bwCase?.id ?? null, denseSweepGBps: bwCase?.derived?.simdGBps ?? NaN, fraction: bandwidthFraction } : null,
  targets,
  diagnostics,
};
writeFileSync(path.join(OUT, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
writeFileSync(path.join(OUT, "summary.md"), renderMarkdown(summary));
log(renderMarkdown(summary));
log(`done in ${summary.durationS.toFixed(0)} s; wrote ${path.relative(ROOT, path.join(OUT, "summary.json"))} and summary.md`);
const failedChecks = cases.filter((c) => !c.check.ok || (c.numpy && !c.numpy.check.ok));
if (failedChecks.length) {
  console.error(`correctness checks FAILED: ${failedChecks.map((c) => c.id).join(", ")}`);
  process.exitCode = 1;
}
