// Threads benchmark (init({ threads }), docs/math.md#threads): soft Bellman sweeps, dense LU
// solves (trailing updates split by rows) and GMRES iterations (P_π products split) on 1…4
// threads, both builds, for the issue's targets (dense S = 1500, A = 4; CSR S = 10⁶, A = 4,
// 5 non-zeros per row: 2 threads ≥ 1.6× one thread) and small dense sweeps forced onto the
// threads (the dispatch cost per sweep, which sets the size below which threads do not pay).
//
//   node --import ./scripts/register-wasm.mjs --import tsx bench/threads.bench.ts [--quick] [--only=csr-S1000000,…]
//
// Writes bench/results/threads.json and threads.md (with --quick: bench/results/quick/).
// A sample is one softValueIteration call of K sweeps (tol 0, so exactly K) divided by K;
// the thread counts take turns sample by sample (so a change of machine load hits them all
// alike); the figure is the median. Each case records the load of other processes on the
// machine while it ran (cores, from /proc/stat) and /proc/loadavg; before each case it waits
// up to a minute for the others to go quiet (≤ 0.15 cores).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { init, softValueIteration, solveLinear, type Backend, type TabularMDP } from "../src/index";
import { setMinParallelWork } from "../src/wasm/pool";
import { contentionProbe, gc, gitState, runEnvironment, waitQuiet } from "./lib/harness";
import { randomCsr, randomDense, randomVector, toMDP } from "./lib/problems";
import { runNumpy } from "./lib/numpy";

const QUICK = process.argv.includes("--quick");
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const OUT = path.join(HERE, "results", QUICK ? "quick" : process.argv.some((a) => a.startsWith("--only=")) ? "partial" : "");
const THREADS = [1, 2, 3, 4];
const A = 4, TAU = 0.5, GAMMA = 0.999, NNZ = 5;

interface Case {
  id: string;
  title: string;
  kind: "dense" | "csr";
  /** What a sample times: K sweeps (default), K dense LU solves, or K GMRES iterations (P_π products); transposed or not. */
  op?: "sweep" | "lu" | "gmres";
  transpose?: boolean;
  S: number;
  K: number;
  rounds: number;
  /** Thread even sweeps below the default size threshold. */
  forced?: boolean;
  target?: number;
}

const allCases: Case[] = QUICK
  ? [
      { id: "dense-S300", title: "dense S=300", kind: "dense", S: 300, K: 20, rounds: 5 },
      { id: "csr-S20000", title: "CSR S=20000", kind: "csr", S: 20000, K: 10, rounds: 5 },
    ]
  : [
      { id: "dense-S1500", title: "dense S=1500 A=4 (72 MB of P)", kind: "dense", S: 1500, K: 20, rounds: 15, target: 1.6 },
      { id: "csr-S1000000", title: "CSR S=10⁶ A=4 nnz/row=5 (20 M non-zeros)", kind: "csr", S: 1e6, K: 3, rounds: 11, target: 1.6 },
      { id: "dense-S600", title: "dense S=600 A=4 (11.5 MB of P, just above the threshold)", kind: "dense", S: 600, K: 100, rounds: 15 },
      { id: "dense-S100-forced", title: "dense S=100 A=4, threaded below the threshold (dispatch cost)", kind: "dense", S: 100, K: 2000, rounds: 15, forced: true },
      { id: "lu-n1000", title: "solveLinear 'lu', n = 1000 (dense A=4; build I − γP_π, factor, solve)", kind: "dense", op: "lu", S: 1000, K: 3, rounds: 9 },
      { id: "lu-n1000-T", title: "solveLinear 'lu', transposed, n = 1000", kind: "dense", op: "lu", transpose: true, S: 1000, K: 3, rounds: 9 },
      { id: "lu-n2000", title: "solveLinear 'lu', n = 2000 (dense A=4; build I − γP_π, factor, solve)", kind: "dense", op: "lu", S: 2000, K: 1, rounds: 7 },
      { id: "lu-n2000-T", title: "solveLinear 'lu', transposed, n = 2000", kind: "dense", op: "lu", transpose: true, S: 2000, K: 1, rounds: 7 },
      { id: "gmres-dense-S1500", title: "GMRES iterations (P_π products), dense S=1500 A=4", kind: "dense", op: "gmres", S: 1500, K: 40, rounds: 11 },
      { id: "gmres-dense-S1500-T", title: "GMRES iterations (P_πᵀ products), dense S=1500 A=4, transposed", kind: "dense", op: "gmres", transpose: true, S: 1500, K: 40, rounds: 11 },
      { id: "gmres-csr-S1000000", title: "GMRES iterations (P_π products), CSR S=10⁶ A=4 nnz/row=5", kind: "csr", op: "gmres", S: 1e6, K: 10, rounds: 7 },
      { id: "gmres-csr-S1000000-T", title: "GMRES iterations (P_πᵀ products), CSR S=10⁶, transposed", kind: "csr", op: "gmres", transpose: true, S: 1e6, K: 10, rounds: 7 },
    ];

/** --only=id,id runs only those cases (and no bandwidth probe); the output goes to bench/results/partial/. */
const ONLY = (process.argv.find((a) => a.startsWith("--only=")) ?? "").slice(7).split(",").filter(Boolean);
const cases = ONLY.length ? allCases.filter((c) => ONLY.includes(c.id)) : allCases;
if (ONLY.length && cases.length !== ONLY.length) throw new Error(`--only: unknown case among ${ONLY.join(", ")} (cases: ${allCases.map((c) => c.id).join(", ")})`);

function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim();
  } catch {
    return "n/a";
  }
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const results: unknown[] = [];
const md: string[] = [];
const env = runEnvironment();
md.push("# Threads: soft Bellman sweeps, dense LU solves and GMRES products on 1–4 threads", "");
md.push(`${env.engine}, ${env.cpu}, ${env.cores} cores, ${env.date}. Commit ${gitState(ROOT).commit}.`);
md.push("Command: `node --import ./scripts/register-wasm.mjs --import tsx bench/threads.bench.ts`.");
md.push("ms per sweep, solve or iteration = median over samples (one call of K sweeps, K solveLinear 'lu' calls, or one GMRES call of K iterations (tol 0, restart 30), divided by K), thread counts taking turns. Every thread count's output (V or x) is checked bit for bit against one thread's first. `others` = cores used by other processes while the case ran.", "");

for (const c of cases) {
  for (const simd of [true, false]) {
    const build = simd ? "simd" : "scalar";
    const m = c.kind === "dense" ? randomDense(c.S, A, GAMMA, 1000 + c.S) : randomCsr(c.S, A, GAMMA, NNZ, 3000 + c.S);
    const r = randomVector(c.S * A, 2000 + c.S);
    const backends: Backend[] = [];
    for (const n of THREADS) backends.push(await init({ simd, threads: n }));
    const mdps: TabularMDP[] = backends.map((b) => toMDP(m, b));
    const entries = c.kind === "dense" ? c.S * A * c.S : m.kind === "csr" ? m.indices.length : 0;
    const bytes = c.kind === "dense" ? entries * 8 : entries * 12 + (c.S * A + 1) * 4;
    setMinParallelWork(c.forced ? 0 : undefined);
    const op = c.op ?? "sweep";
    // the solves' policy and right-hand side: the soft-optimal π of r, b = r_π
    const pi = op === "sweep" ? undefined : softValueIteration(mdps[0], r, { tau: TAU, maxIter: 50 }).pi;
    const b = randomVector(c.S, 4000 + c.S);
    /** One sample's work: K sweeps, K LU solves or K GMRES iterations; returns the output (V or x). */
    const work = (mdp: TabularMDP): Float64Array => {
      if (op === "sweep") return softValueIteration(mdp, r, { tau: TAU, tol: 0, maxIter: c.K }).V;
      if (op === "gmres") return solveLinear(mdp, pi!, b, { method: "krylov", transpose: c.transpose, tol: 0, maxIter: c.K, restart: 30 }).x;
      let x: Float64Array = new Float64Array(0);
      for (let k = 0; k < c.K; k++) x = solveLinear(mdp, pi!, b, { method: "lu", transpose: c.transpose }).x;
      return x;
    };
    // warm-up, and the identity check: every thread count gives one thread's bits
    const V1 = work(mdps[0]);
    for (let i = 1; i < mdps.length; i++) {
      const V = work(mdps[i]);
      for (let s = 0; s < c.S; s++) if (!Object.is(V[s], V1[s])) throw new Error(`${c.id} ${build}: ${THREADS[i]} threads differ from one at ${op === "sweep" ? "V" : "x"}[${s}]`);
    }
    const samples: number[][] = THREADS.map(() => []);
    // wait (up to a minute) until other processes use at most 0.15 cores: this machine is shared
    const waited = QUICK ? 0 : await waitQuiet(0.15, 60);
    const load0 = loadavg();
    const probe = contentionProbe();
    for (let round = 0; round < c.rounds; round++) {
      for (let i = 0; i < mdps.length; i++) {
        const t = performance.now();
        work(mdps[i]);
        samples[i].push((performance.now() - t) / c.K);
      }
    }
    const others = probe();
    const load1 = loadavg();
    const ms = samples.map(median);
    // LU: numpy/scipy on the same arrays (lu_factor + lu_solve after building I − γP_π), 1 and all OpenBLAS threads
    let numpy: { oneMs?: number; allMs?: number; skipped?: string; maxRelDiff?: number } | undefined;
    if (op === "lu" && !QUICK && simd && process.env.BENCH_NUMPY !== "0" && m.kind === "dense") {
      const np = runNumpy([{ id: c.id, kind: "lu", arrays: { P: m.P, pi: pi!, b }, params: { S: c.S, A, gamma: GAMMA, transpose: !!c.transpose } }], { minSamples: 5, maxTime: 1, log: console.log });
      const one = np.one?.cases[c.id], all = np.all?.cases[c.id];
      let d = 0;
      const out = one?.out ?? all?.out;
      if (out) for (let s = 0; s < c.S; s++) d = Math.max(d, Math.abs(out[s] - V1[s]) / Math.max(1e-300, Math.abs(V1[s])));
      numpy = { oneMs: one?.ms, allMs: all?.ms, skipped: np.skipped, maxRelDiff: out ? d : undefined };
    }
    const row = {
      id: c.id, op, transpose: !!c.transpose, build, title: c.title, S: c.S, A, K: c.K, rounds: c.rounds, forced: !!c.forced, bytesOfTransitions: bytes,
      threads: THREADS, msPerSweep: ms, speedup: ms.map((x) => ms[0] / x), GBps: ms.map((x) => bytes / (x / 1e3) / 1e9),
      samplesMs: samples, otherCores: others, waitedForQuietS: waited, loadavgBefore: load0, loadavgAfter: load1,
      target: c.target, met: c.target === undefined ? undefined : ms[0] / ms[1] >= c.target,
      numpy,
    };
    results.push(row);
    // LU: GFLOP/s of the factorisation's (2/3)n³ over the whole solve (the build, the O(n²) solves and the residual included)
    const gflops = op === "lu" ? ms.map((x) => ((2 / 3) * c.S ** 3) / (x / 1e3) / 1e9) : undefined;
    Object.assign(row, { GFLOPs: gflops });
    const line = THREADS.map((n, i) => `${n}: ${ms[i].toFixed(3)} ms (${row.speedup[i].toFixed(2)}×${gflops ? `, ${gflops[i].toFixed(1)} GFLOP/s` : ""})`).join(", ");
    console.log(`${c.id} ${build}: ${line}; others ${others.toFixed(2)} cores; loadavg ${load1}; waited ${waited.toFixed(0)} s for quiet`);
    md.push(`## ${c.title}, ${build}${c.target ? ` (target: 2 threads ≥ ${c.target}× one: ${row.met ? "met" : "NOT met"})` : ""}`, "");
    const unit = op === "sweep" ? "sweep" : op === "lu" ? "solve" : "iteration";
    if (gflops && numpy?.oneMs) {
      md.push(`| threads | ms/${unit} | × one thread | GFLOP/s ((2/3)n³ per solve) | × numpy (1 OpenBLAS thread) | × numpy (all threads) |`, "|---:|---:|---:|---:|---:|---:|");
      THREADS.forEach((n, i) => md.push(`| ${n} | ${ms[i].toFixed(2)} | ${row.speedup[i].toFixed(2)} | ${gflops[i].toFixed(1)} | ${(numpy.oneMs! / ms[i]).toFixed(2)} | ${numpy.allMs ? (numpy.allMs / ms[i]).toFixed(2) : "—"} |`));
      md.push("", `numpy/scipy on the same P, π and b (build I − γP_π, scipy.linalg.lu_factor + lu_solve): ${numpy.oneMs.toFixed(2)} ms with one OpenBLAS thread, ${numpy.allMs?.toFixed(2) ?? "—"} ms with all; max rel |x_numpy − x| ${numpy.maxRelDiff?.toExponential(1)}. × numpy > 1: this library faster.`);
    } else if (gflops) {
      md.push(`| threads | ms/${unit} | × one thread | GFLOP/s ((2/3)n³ per solve) |`, "|---:|---:|---:|---:|");
      THREADS.forEach((n, i) => md.push(`| ${n} | ${ms[i].toFixed(2)} | ${row.speedup[i].toFixed(2)} | ${gflops[i].toFixed(1)} |`));
    } else {
      md.push(`| threads | ms/${unit} | × one thread | GB/s of transitions |`, "|---:|---:|---:|---:|");
      THREADS.forEach((n, i) => md.push(`| ${n} | ${ms[i].toFixed(3)} | ${row.speedup[i].toFixed(2)} | ${row.GBps[i].toFixed(1)} |`));
    }
    md.push("", `K = ${c.K} ${unit}s per sample, ${c.rounds} samples per thread count; others ${others.toFixed(2)} cores; loadavg before ${load0}, after ${load1}.`, "");
    setMinParallelWork(undefined);
    mdps.length = 0;
    gc();
  }
}

// What bounds the dense sweep: the machine's memory read bandwidth with 1 and with 2 threads
// reading at once (each its own wasm instance running the SIMD build's dot over 2 × 64 MB,
// the dense sweep's inner loop), started together through a shared flag.
async function readBandwidth(threads: number): Promise<number> {
  const bytesEach = QUICK ? 4 * 2 ** 20 : 64 * 2 ** 20, reps = QUICK ? 5 : 20;
  const src = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    const { wasm, bytesEach, reps, flag } = workerData;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasm)), {});
    const ex = inst.exports;
    const x = Math.ceil(ex.heapBase() / 64) * 64, y = x + bytesEach, end = y + bytesEach;
    ex.memory.grow(Math.ceil((end - ex.memory.buffer.byteLength) / 65536) + 1);
    new Float64Array(ex.memory.buffer, x, bytesEach / 8).fill(1);
    new Float64Array(ex.memory.buffer, y, bytesEach / 8).fill(1);
    ex.dot(x, y, bytesEach / 8);
    const f = new Int32Array(flag);
    Atomics.add(f, 1, 1); Atomics.notify(f, 1);
    Atomics.wait(f, 0, 0);
    const t = performance.now();
    for (let i = 0; i < reps; i++) ex.dot(x, y, bytesEach / 8);
    parentPort.postMessage(performance.now() - t);`;
  const flag = new SharedArrayBuffer(8);
  const f = new Int32Array(flag);
  const wasm = path.join(ROOT, "build/bilevel-simd.wasm");
  const ws = Array.from({ length: threads }, () => new Worker(src, { eval: true, workerData: { wasm, bytesEach, reps, flag } }));
  const done = ws.map((w) => new Promise<number>((r) => w.once("message", r)));
  while (Atomics.load(f, 1) < threads) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(f, 0, 1);
  Atomics.notify(f, 0);
  const ms = Math.max(...(await Promise.all(done)));
  await Promise.all(ws.map((w) => w.terminate()));
  return (threads * reps * 2 * bytesEach) / (ms / 1e3) / 1e9;
}
if (!QUICK && !ONLY.length) await waitQuiet(0.15, 60);
const bw = { load: loadavg(), probe: contentionProbe(), one: [] as number[], two: [] as number[] };
for (let i = 0; i < (ONLY.length ? 0 : 3); i++) {
  bw.one.push(await readBandwidth(1));
  bw.two.push(await readBandwidth(2));
}
const bandwidth = { oneThreadGBps: median(bw.one), twoThreadsGBps: median(bw.two), otherCores: bw.probe(), loadavg: bw.load };
if (!ONLY.length) {
  console.log(`memory read bandwidth (wasm SIMD dot): 1 thread ${bandwidth.oneThreadGBps.toFixed(1)} GB/s, 2 threads together ${bandwidth.twoThreadsGBps.toFixed(1)} GB/s; others ${bandwidth.otherCores.toFixed(2)} cores`);
  md.push("## Memory read bandwidth (what bounds the dense sweep)", "");
  md.push(`The SIMD build's \`dot\` over 2 × 64 MB, in 1 thread and in 2 threads at once (each its own memory), median of 3: **${bandwidth.oneThreadGBps.toFixed(1)} GB/s** and **${bandwidth.twoThreadsGBps.toFixed(1)} GB/s** together (${(bandwidth.twoThreadsGBps / bandwidth.oneThreadGBps).toFixed(2)}×); others ${bandwidth.otherCores.toFixed(2)} cores, loadavg ${bandwidth.loadavg}. A dense sweep reads all of P once per sweep, so its GB/s on 2 threads cannot exceed the 2-thread total; its speedup over one thread can exceed the ratio only where one thread stays below the 1-thread figure.`, "");
}

mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, "threads.json"), JSON.stringify({ environment: env, bandwidth, results }, null, 2) + "\n");
writeFileSync(path.join(OUT, "threads.md"), md.join("\n") + "\n");
console.log(`wrote ${path.relative(ROOT, path.join(OUT, "threads.json"))} and threads.md`);
