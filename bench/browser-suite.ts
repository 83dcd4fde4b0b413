// The browser benchmark suite: plain code that runs unchanged in Chromium (bundled by
// bench/browser-run.ts through bench/browser.bench.ts) and in Node (for the comparison
// column), on the SIMD build, the scalar build and the plain-TS reference (src/reference)
// where one exists.
//
// Timing: Chromium's performance.now() ticks in 0.1 ms (it is coarsened outside
// cross-origin-isolated pages), so every sample runs enough work to last about `targetMs`
// (50 ms: the tick is 0.2% of a sample), e.g. K dense sweeps per sample; variants are
// interleaved sample by sample so that a slow phase of the machine hits them all alike,
// and the median sample is reported.
import { GRID_GOAL_BENCHMARK, gridGoal, hypergradient, init, softValueIteration, type Backend } from "../src/index";
import * as ref from "../src/reference/index";
import { randomDense, randomVector, toMDP } from "./lib/problems";
import { maxRelDiff } from "./lib/diff";

export type Variant = "simd" | "scalar" | "reference";

export interface VariantTiming {
  /** Median time per unit (one sweep, one hypergradient), ms. */
  ms: number;
  /** Fastest sample per unit, ms. */
  minMs: number;
  /** Units per sample. */
  perSample: number;
  samples: number;
}

export interface BenchCase {
  id: string;
  title: string;
  unit: string;
  params: Record<string, number | string>;
  variants: Partial<Record<Variant, VariantTiming>>;
  /** Time ratios: reference ÷ simd, reference ÷ scalar, scalar ÷ simd (when both exist). */
  speedup: { simdVsRef?: number; scalarVsRef?: number; simdVsScalar: number };
  /** Results of the variants agree (and their fingerprint, equal in every engine). */
  check: { ok: boolean; detail: string; fingerprint: string };
  notes: string[];
}

export interface SuiteOptions {
  /** Tiny sizes and short samples (seconds in all). */
  quick?: boolean;
  log?: (line: string) => void;
}

export interface SuiteResult {
  quick: boolean;
  targetMs: number;
  samples: number;
  /** Smallest step performance.now() was seen to take, ms. */
  timerResolutionMs: number;
  cases: BenchCase[];
  totalMs: number;
}

const A = 4;
const TAU = 0.5;
/** As bench/core.bench.ts: no run of K sweeps reaches a zero residual (which would stop early). */
const GAMMA_SWEEP = 0.999;

let sink: unknown;
const now = () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The smallest non-zero step of performance.now(). */
function timerResolution(): number {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const t0 = now();
    let t1 = now();
    while (t1 === t0) t1 = now();
    best = Math.min(best, t1 - t0);
  }
  return best;
}

function fnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < bytes.length; i++) h = ((h ^ BigInt(bytes[i])) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}
const hashF64 = (a: Float64Array) => fnv1a64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/**
 * Time `op(K)` (K units of work per call) for each variant: K chosen so that a sample lasts
 * about targetMs, one warm-up, then `samples` interleaved samples. Returns ms per unit.
 */
function timeVariants(ops: Partial<Record<Variant, (K: number) => unknown>>, targetMs: number, samples: number, maxK: number): Partial<Record<Variant, VariantTiming>> {
  const names = Object.keys(ops) as Variant[];
  const K: Partial<Record<Variant, number>> = {};
  for (const v of names) {
    const op = ops[v]!;
    sink = op(1); // warm-up (compilation, first-touch of memory)
    let k = 1, t = 0;
    for (;;) {
      const t0 = now();
      sink = op(k);
      t = now() - t0;
      if (t >= targetMs / 4 || k >= maxK) break;
      k = Math.min(maxK, k * (t > 0 ? Math.max(2, Math.ceil(targetMs / 4 / t)) : 16));
    }
    K[v] = Math.max(1, Math.min(maxK, Math.round((k * targetMs) / Math.max(t, 0.1))));
  }
  const times: Record<string, number[]> = Object.fromEntries(names.map((v) => [v, []]));
  for (let i = 0; i < samples; i++) {
    for (const v of names) {
      const t0 = now();
      sink = ops[v]!(K[v]!);
      times[v].push((now() - t0) / K[v]!);
    }
  }
  const out: Partial<Record<Variant, VariantTiming>> = {};
  for (const v of names) out[v] = { ms: median(times[v]), minMs: Math.min(...times[v]), perSample: K[v]!, samples };
  return out;
}

function speedups(v: Partial<Record<Variant, VariantTiming>>): BenchCase["speedup"] {
  const out: BenchCase["speedup"] = { simdVsScalar: v.scalar!.ms / v.simd!.ms };
  if (v.reference) {
    out.simdVsRef = v.reference.ms / v.simd!.ms;
    out.scalarVsRef = v.reference.ms / v.scalar!.ms;
  }
  return out;
}

function denseSweep(S: number, backends: Record<"simd" | "scalar", Backend>, targetMs: number, samples: number): BenchCase {
  const m = randomDense(S, A, GAMMA_SWEEP, 1000 + S); // the seeds of bench/core.bench.ts
  const r = randomVector(S * A, 2000 + S);
  const md = { simd: toMDP(m, backends.simd), scalar: toMDP(m, backends.scalar) };
  const V = new Float64Array(S), W = new Float64Array(S), Q = new Float64Array(S * A);
  const refSweeps = (K: number) => {
    V.fill(0);
    let a = V, b = W;
    for (let k = 0; k < K; k++) {
      ref.bellmanSweep(m, r, a, Q, b, TAU);
      const t = a;
      a = b;
      b = t;
    }
    return a;
  };
  // correctness outside the timing: 20 sweeps on each variant
  const vs = softValueIteration(md.simd, r, { tau: TAU, tol: 0, maxIter: 20 });
  const vc = softValueIteration(md.scalar, r, { tau: TAU, tol: 0, maxIter: 20 });
  const vr = Float64Array.from(refSweeps(20));
  const dS = maxRelDiff(vs.V, vr), dC = maxRelDiff(vc.V, vr);
  const same = hashF64(vs.V) === hashF64(vc.V);
  const variants = timeVariants(
    {
      simd: (K) => softValueIteration(md.simd, r, { tau: TAU, tol: 0, maxIter: K }),
      scalar: (K) => softValueIteration(md.scalar, r, { tau: TAU, tol: 0, maxIter: K }),
      reference: refSweeps,
    },
    targetMs,
    samples,
    20_000,
  );
  return {
    id: `dense-sweep-S${S}`,
    title: `dense soft sweep S=${S} A=${A} τ=${TAU}`,
    unit: "sweep",
    params: { S, A, tau: TAU, gamma: GAMMA_SWEEP, bytesOfP: 8 * S * A * S },
    variants,
    speedup: speedups(variants),
    check: {
      ok: same && dS < 1e-9 && dC < 1e-9,
      detail: `20 sweeps: SIMD ${same ? "=" : "≠"} scalar bit for bit; max rel |V − V_ref| ${dS.toExponential(1)}`,
      fingerprint: hashF64(vs.V),
    },
    notes: ["op = softValueIteration(mdp, r, { tau, tol: 0, maxIter: K }) (K sweeps per sample, per-call copies included); reference = K × reference.bellmanSweep on preallocated buffers"],
  };
}

function gridGoalHypergradient(backends: Record<"simd" | "scalar", Backend>, samples: number, quick: boolean): BenchCase {
  const options = quick ? { ...GRID_GOAL_BENCHMARK, size: 12 } : GRID_GOAL_BENCHMARK;
  const inst = { simd: gridGoal({ ...options, backend: backends.simd }), scalar: gridGoal({ ...options, backend: backends.scalar }) };
  const hg = (v: "simd" | "scalar") => hypergradient(inst[v].problem, inst[v].x0, { lower: { solver: "policy-iteration" }, linear: "lu" });
  const a = hg("simd"), b = hg("scalar");
  const same = hashF64(a.grad) === hashF64(b.grad) && a.value === b.value;
  const variants = timeVariants(
    {
      simd: (K) => { let r; for (let i = 0; i < K; i++) r = hg("simd"); return r; },
      scalar: (K) => { let r; for (let i = 0; i < K; i++) r = hg("scalar"); return r; },
    },
    1, // one hypergradient per sample: each lasts hundreds of ms, far above the timer's tick
    samples,
    1,
  );
  const { S, A: nA } = inst.simd.problem.mdp;
  const size = options.size ?? 50;
  return {
    id: `hypergradient-gridgoal-${size}x${size}`,
    title: `exact hypergradient, gridGoal ${size}×${size} (S=${S}, A=${nA}, γ=${options.gamma}, τ=${options.tau}, n=${S}), policy iteration + LU`,
    unit: "hypergradient",
    params: { S, A: nA, n: inst.simd.problem.n, gamma: options.gamma!, tau: options.tau!, lower: "policy-iteration", linear: "lu" },
    variants,
    speedup: speedups(variants),
    check: {
      ok: same && a.diagnostics.lowerConverged === true && a.diagnostics.linearConverged === true,
      detail: `φ = ${a.value}; SIMD ${same ? "=" : "≠"} scalar bit for bit; ${a.diagnostics.lowerIterations} Newton steps, linear residual ${Number(a.diagnostics.linearResidual).toExponential(1)}`,
      fingerprint: hashF64(a.grad),
    },
    notes: ["op = hypergradient(problem, x0, { lower: { solver: 'policy-iteration' }, linear: 'lu' }) on GRID_GOAL_BENCHMARK (ramp x0, one-hot features); no plain-TS reference of the whole hypergradient exists (src/reference has its kernels only)"],
  };
}

export async function runSuite(options: SuiteOptions = {}): Promise<SuiteResult> {
  const quick = !!options.quick;
  const log = options.log ?? (() => {});
  const t0 = now();
  const targetMs = quick ? 5 : 50;
  const samples = quick ? 3 : 9;
  const backends = { simd: await init({ simd: true }), scalar: await init({ simd: false }) };
  await init({ simd: true });
  const cases: BenchCase[] = [];
  for (const S of quick ? [48, 100] : [300, 1000]) {
    log(`dense soft sweep S=${S} …`);
    cases.push(denseSweep(S, backends, targetMs, samples));
    log(`  ${fmtCase(cases[cases.length - 1])}`);
  }
  log(`exact hypergradient on gridGoal ${quick ? "12×12" : "50×50"} …`);
  cases.push(gridGoalHypergradient(backends, quick ? 2 : 7, quick));
  log(`  ${fmtCase(cases[cases.length - 1])}`);
  void sink;
  return { quick, targetMs, samples, timerResolutionMs: timerResolution(), cases, totalMs: now() - t0 };
}

function fmtCase(c: BenchCase): string {
  const v = (n: Variant) => (c.variants[n] ? `${n} ${c.variants[n]!.ms.toPrecision(3)} ms` : "");
  return [v("simd"), v("scalar"), v("reference")].filter(Boolean).join(", ") + ` per ${c.unit}; check ${c.check.ok ? "ok" : "FAILED"}`;
}
