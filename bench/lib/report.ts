// Shapes of bench/results/summary.json and its Markdown rendering (summary.md).
import type { CaseOptions, VariantResult } from "./harness";

export interface CaseResult {
  id: string;
  group: "dense-sweep" | "csr-sweep" | "lu" | "krylov" | "sampling";
  title: string;
  params: Record<string, number | string>;
  /** A benny op is `perOp` units (K sweeps for the sweep cases; 1 otherwise). */
  unit: { name: string; perOp: number };
  /** Per benny op (not per unit). */
  variants: { simd: VariantResult; scalar: VariantResult; reference?: VariantResult };
  /**
   * Time ratios: reference ÷ simd, reference ÷ scalar, scalar ÷ simd, and numpy (one
   * OpenBLAS thread, all threads) ÷ simd (> 1 means the build is faster); NaN when absent.
   */
  speedup: { simdVsRef: number; scalarVsRef: number; simdVsScalar: number; simdVsNumpy?: number; simdVsNumpyAll?: number };
  /** numpy/scipy on the same arrays (bench/numpy_ref.py), per benny op like `variants`. */
  numpy?: NumpyResult;
  derived?: Record<string, number>;
  check: { ok: boolean; detail: string };
  notes: string[];
  options: CaseOptions;
  /** Average CPU cores used by other processes while this case ran (NaN off Linux). */
  otherCores: number;
  /** Runs of the suite (reruns happen when other processes disturbed it; the least disturbed is kept). */
  attempts: number;
  /** benny's JSON for this case. */
  file: string;
}

export interface NumpyResult {
  /** OPENBLAS_NUM_THREADS=1, and unset (all threads). */
  one?: { ms: number; minMs: number; samples: number; otherCores: number; factorSolveMs?: number };
  all?: { ms: number; minMs: number; samples: number; otherCores: number; factorSolveMs?: number };
  /** What the numpy op does. */
  op: string;
  check: { ok: boolean; detail: string };
}

export interface BandwidthResult {
  file: string;
  otherCores: number;
  attempts: number;
  methods: { name: string; bytesRead: number; ms: number; GBps: number }[];
  ceilingGBps: number;
  ceilingMethod: string;
}

export interface Target {
  name: string;
  required: number;
  measured: number;
  unit: "×" | "%" | "GFLOP/s";
  met: boolean;
  case: string;
}

/** Where and when a suite ran (runEnvironment() in harness.ts). */
export interface RunEnvironment {
  date: string;
  engine: string;
  v8: string;
  cpu: string;
  cores: number;
  platform: string;
  totalMemGB: number;
}

export interface Summary extends RunEnvironment {
  mode: "full" | "quick";
  loadavgStart: number[];
  loadavgEnd: number[];
  commit: string;
  /** Files under assembly/ and src/ that differ from the commit when the run started. */
  uncommitted: string[];
  wasm: Record<string, { path: string; bytes: number; built: string }>;
  durationS: number;
  contendedAboveCores: number;
  /** Cases during which other processes used more than `contendedAboveCores` cores. */
  contendedCases: string[];
  retries: { maxAttempts: number; budgetS: number };
  /** The numpy/scipy comparison: versions, or why it was skipped. */
  numpy?: { versions?: string; skipped?: string };
  settings: Record<string, unknown>;
  cases: CaseResult[];
  /** null when the bandwidth group did not run (BENCH_ONLY). */
  bandwidth: (BandwidthResult & { denseSweepCase: string | null; denseSweepGBps: number; fraction: number }) | null;
  /** Groups that ran. */
  groups: string[];
  targets: Target[];
  diagnostics: Record<string, unknown>;
}

const f3 = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toPrecision(3)) : "—");
const cores = (x: number, limit: number) => (Number.isFinite(x) ? (x > limit ? `**${x.toFixed(2)}** ⚠` : x.toFixed(2)) : "n/a");
const fx = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "—");

function derivedText(c: CaseResult): string {
  const d = c.derived ?? {};
  switch (c.group) {
    case "dense-sweep":
      return `P streamed: ${f3(d.simdGBps)} / ${f3(d.scalarGBps)} / ${f3(d.referenceGBps)} GB/s`;
    case "csr-sweep":
      return `${f3(d.simdNsPerNnz)} / ${f3(d.scalarNsPerNnz)} / ${f3(d.referenceNsPerNnz)} ns per non-zero; simd vs ref without softValueIteration's per-call cost ${fx(d.simdVsRefExclCallOverhead)}`;
    case "lu":
      return `factor ≈ ${f3(d.simdGflops)} / ${f3(d.referenceGflops)} GFLOP/s (simd / ref, ⅔n³ over the whole op)${d.numpyGflops ? `; numpy ${f3(d.numpyGflops)} (${f3(d.numpyFactorSolveGflops)} for factor + solve alone, ${f3(c.numpy?.one?.factorSolveMs ?? NaN)} ms)` : ""}`;
    case "krylov":
      return `${c.params.iterationsSimd} / ${c.params.iterationsRef} iterations as reported (simd / ref${c.params.method === "krylov" ? "; the library may count matrix–vector products, the reference counts BiCGSTAB iterations of 2 products" : ""}), ${f3(d.simdMsPerIteration)} / ${f3(d.referenceMsPerIteration)} ms per reported iteration`;
    case "sampling":
      return `${f3(d.simdNsPerStep)} / ${f3(d.scalarNsPerStep)} / ${f3(d.referenceNsPerStep)} ns per step`;
  }
}

export function renderMarkdown(s: Summary): string {
  const L: string[] = [];
  L.push(`# bilevel-rl benchmark summary${s.mode === "quick" ? " (QUICK smoke run: tiny sizes, not meaningful for the targets)" : ""}`);
  L.push("");
  if (s.groups.length < 5) L.push(`Partial run: groups ${s.groups.join(", ")} only.\n`);
  L.push(`- Engine: **${s.engine}**, V8 ${s.v8}`);
  L.push(`- CPU: ${s.cpu} × ${s.cores} cores (${s.platform}), ${s.totalMemGB.toFixed(0)} GB RAM`);
  L.push(`- Date: ${s.date}; commit ${s.commit}${s.uncommitted.length ? ` plus uncommitted changes to ${s.uncommitted.join(", ")}` : ""}; wasm built ${s.wasm.simd?.built ?? "?"}`);
  L.push(`- Load average (1/5/15 min) at start ${s.loadavgStart.map((x) => x.toFixed(2)).join("/")}, at end ${s.loadavgEnd.map((x) => x.toFixed(2)).join("/")}; whole run ${s.durationS.toFixed(0)} s`);
  L.push(
    s.contendedCases.length
      ? `- **Warning:** other processes used more than ${s.contendedAboveCores} CPU cores on average during ${s.contendedCases.join(", ")} (column "others"): those figures are disturbed; rerun on a quiet machine.`
      : `- No case saw other processes use more than ${s.contendedAboveCores} CPU cores on average (column "others", from /proc/stat).`,
  );
  L.push(`- A disturbed case is rerun after waiting for a quiet machine (at most ${s.retries.maxAttempts} runs, while the run is younger than ${s.retries.budgetS} s); the least disturbed run is kept. Reruns this time: ${[...s.cases, ...(s.bandwidth ? [{ id: "memory-bandwidth", attempts: s.bandwidth.attempts }] : [])].filter((c) => c.attempts > 1).map((c) => `${c.id} (${c.attempts} runs)`).join(", ") || "none"}.`);
  L.push(`- Times are the **median** of benny's samples (benny's ops/s, the mean, is in each case's JSON). Speed-ups are time ratios: ref ÷ simd, ref ÷ scalar, scalar ÷ simd.`);
  L.push("");
  L.push("## Targets (issue, Node 20)");
  L.push("");
  L.push("| target | required | measured | status |");
  L.push("|---|---:|---:|---|");
  for (const t of s.targets) {
    const measured = t.unit === "%" ? `${t.measured.toFixed(0)}%` : t.unit === "GFLOP/s" ? `${t.measured.toFixed(1)} GFLOP/s` : `${t.measured.toFixed(2)}×`;
    const req = t.unit === "%" ? `≥ ${t.required}%` : t.unit === "GFLOP/s" ? `≥ ${t.required} GFLOP/s` : `≥ ${t.required}×`;
    const short = t.met ? "" : ` (${t.unit === "%" ? `${(t.required - t.measured).toFixed(0)} points short` : `${((100 * (t.required - t.measured)) / t.required).toFixed(0)}% short; needs ${(t.required / t.measured).toFixed(2)}× more`})`;
    L.push(`| ${t.name} | ${req} | ${measured} | ${t.met ? "**met**" : `**not met**${short}`} |`);
  }
  L.push("");
  L.push("## Results");
  L.push("");
  L.push("| case | per | simd ms | scalar ms | ref ms | numpy ms (1 thread / all) | simd vs ref | scalar vs ref | simd vs scalar | simd vs numpy (1 / all) | derived (simd / scalar / ref) | check | others |");
  L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|");
  for (const c of s.cases) {
    const per = (v: { ms: number } | undefined) => (v ? f3(v.ms / c.unit.perOp) : "—");
    const np = c.numpy ? `${per(c.numpy.one)} / ${per(c.numpy.all)}` : "—";
    const npx = c.numpy ? `${fx(c.speedup.simdVsNumpy ?? NaN)} / ${fx(c.speedup.simdVsNumpyAll ?? NaN)}` : "—";
    const check = c.check.ok && (!c.numpy || c.numpy.check.ok) ? "ok" : "**FAILED**";
    L.push(`| ${c.title} | ${c.unit.name} | ${per(c.variants.simd)} | ${per(c.variants.scalar)} | ${per(c.variants.reference)} | ${np} | ${fx(c.speedup.simdVsRef)} | ${fx(c.speedup.scalarVsRef)} | ${fx(c.speedup.simdVsScalar)} | ${npx} | ${derivedText(c)} | ${check} | ${cores(c.otherCores, s.contendedAboveCores)} |`);
  }
  if (s.numpy) L.push("", s.numpy.skipped ? `numpy columns skipped: ${s.numpy.skipped}.` : `numpy: ${s.numpy.versions}; "simd vs numpy" is numpy's time ÷ the SIMD build's (> 1: the SIMD build is faster). Others' cores during the numpy runs are in summary.json.`);
  const bw = s.bandwidth;
  if (bw) {
    L.push("");
    L.push("## Memory bandwidth (single thread)");
    L.push("");
    L.push("| method | bytes read per op | ms | GB/s |");
    L.push("|---|---:|---:|---:|");
    for (const m of bw.methods) L.push(`| ${m.name} | ${(m.bytesRead / 2 ** 20).toFixed(0)} MB | ${f3(m.ms)} | ${f3(m.GBps)} |`);
    L.push("");
    L.push(`Other processes during this measurement: ${cores(bw.otherCores, s.contendedAboveCores)} cores.`);
    L.push("");
    L.push(`Ceiling used: ${bw.ceilingMethod} = **${f3(bw.ceilingGBps)} GB/s**.`);
    if (bw.denseSweepCase) {
      L.push(`The ${bw.denseSweepCase} SIMD sweep streams P at ${f3(bw.denseSweepGBps)} GB/s = **${(100 * bw.fraction).toFixed(0)}%** of it (bytes of P = S·A·S·8 per sweep; V, r and Q are comparatively tiny).`);
    }
  }
  const d = s.diagnostics.csrExpLog as Record<string, number> | undefined;
  const sf = s.diagnostics.samplingFloor as Record<string, number> | undefined;
  const pk = s.diagnostics.f64x2Peak as { gflops: number; cpuGflops: number; note: string } | undefined;
  if (d || sf || pk) {
    L.push("");
    L.push("## Diagnostics");
    L.push("");
  }
  if (pk) {
    const lus = s.cases.filter((c) => c.group === "lu");
    L.push(`f64x2 arithmetic ceiling of the dense LU: **${f3(pk.gflops)} GFLOP/s** (${f3(pk.cpuGflops)} GFLOP/s by CPU time) — ${pk.note}. The LU cases reach ${lus.map((c) => `${c.id} ${f3(c.derived?.simdGflops ?? NaN)}`).join(", ")} GFLOP/s (⅔n³ over the whole solveLinear op, building and residual included)${lus.some((c) => c.derived?.numpyGflops) ? `; numpy with one OpenBLAS thread ${lus.filter((c) => c.derived?.numpyGflops).map((c) => `${c.id} ${f3(c.derived!.numpyGflops)}`).join(", ")}` : ""}.`);
    L.push("");
  }
  if (sf) {
    L.push(`Sampling floor (S = 1, A = 1, every draw trivial: generator + loop + stores + copies), ${sf.steps} steps: SIMD ${f3(sf.simdNsPerStep)} ns/step, reference ${f3(sf.refNsPerStep)} ns/step (${fx(sf.refNsPerStep / sf.simdNsPerStep)}). Whatever a real problem adds above this floor is the draws themselves: dependent loads of random rows of P (cache misses for large S), the running sums, and any mispredicted branches.`);
    L.push("");
  }
  if (d) {
    L.push(`CSR sweep S=${d.S} (nnz ${d.nnz}), best of 3, ms per sweep without the per-call cost:`);
    L.push("");
    L.push("| | τ = 0.5 (exp/log backup) | τ = 0 (hard max) | share of τ = 0.5 spent in exp/log |");
    L.push("|---|---:|---:|---:|");
    L.push(`| SIMD | ${f3(d.simdMsPerSweepTau05)} | ${f3(d.simdMsPerSweepTau0)} | ${(100 * (1 - d.simdMsPerSweepTau0 / d.simdMsPerSweepTau05)).toFixed(0)}% |`);
    L.push(`| reference | ${f3(d.refMsPerSweepTau05)} | ${f3(d.refMsPerSweepTau0)} | ${(100 * (1 - d.refMsPerSweepTau0 / d.refMsPerSweepTau05)).toFixed(0)}% |`);
    L.push(`| speed-up | ${fx(d.refMsPerSweepTau05 / d.simdMsPerSweepTau05)} | ${fx(d.refMsPerSweepTau0 / d.simdMsPerSweepTau0)} | |`);
  }
  L.push(...closingSections(s.cases, s.settings));
  return L.join("\n");
}

/** The closing sections both suites' markdown share: what each op measures, and the settings. */
export function closingSections(
  cases: readonly { id: string; notes: readonly string[]; check: { detail: string }; variants: { simd: { samples: number }; scalar: { samples: number }; reference?: { samples: number } }; numpy?: { op: string; check: { detail: string } } }[],
  settings: unknown,
): string[] {
  const L = ["", "## What each op measures", ""];
  for (const c of cases) {
    const np = c.numpy ? ` numpy: ${c.numpy.op}; check: ${c.numpy.check.detail}.` : "";
    L.push(`- **${c.id}** (${c.variants.simd.samples}/${c.variants.scalar.samples}/${c.variants.reference?.samples ?? "no"} samples): ${c.notes.map((n) => (n.endsWith(".") ? n : n + ".")).join(" ")} Check: ${c.check.detail}.${np}`);
  }
  L.push("", `Settings: ${JSON.stringify(settings)}`, "");
  return L;
}
