// The 'amd' hypergradient against 'exact' on problems of growing size (docs/math.md#amd):
//   gridGoal (CSR grid, γ = 0.9, softmax goal features, n = S, fixed r_U), sizes 10…55 (S = 100…3025);
//   garnet (CSR, branching 3, A = 4, γ = 0.9) with r_x = r + Φx and the x-dependent upper
//   reward r_U(x) = r_D − ½Φx (Φ one-hot state features, n = S; docs/math.md#upper-reward).
// Columns: exact (cold: lower solve from V = 0), amd cold (no state), amd warm (the state of
// a call at x − δ, δ a 1e-3 step, as an outer loop would pass it), and exact warm (the lower
// solve warm-started from V at x − δ) for fairness. Median of `reps` timed calls; setup and
// the agreement check outside the timed part. SIMD build.
//
//   npm run bench:amd                 writes bench/results/amd.{json,md}
//   BENCH_QUICK=1 npm run bench:amd   the two smallest sizes of each family (or pass --quick)
import { mkdirSync, writeFileSync } from "node:fs";
import { BilevelProblem, TabularMDP, garnet, gridGoal, hypergradient, init, linearReward, upperReturn, type HypergradientResult } from "../src/index";
import { oneHotFeatures } from "../src/problems/gridGoal";
import { Rng } from "../src/util/random";

const QUICK = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");

await init({ simd: true });

interface Row {
  family: string;
  S: number;
  n: number;
  exactMs: number;
  exactWarmMs: number;
  amdColdMs: number;
  amdWarmMs: number;
  /** max |amd − exact| / max |exact| over ∇φ. */
  relDiff: number;
  coldWork: number;
  warmWork: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(reps: number, f: () => unknown): number {
  f(); // warm-up (JIT, memory growth)
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
}

function relDiff(a: Float64Array, b: Float64Array): number {
  let d = 0, m = 0;
  for (let k = 0; k < a.length; k++) {
    d = Math.max(d, Math.abs(a[k] - b[k]));
    m = Math.max(m, Math.abs(b[k]));
  }
  return m === 0 ? d : d / m;
}

const work = (r: HypergradientResult) => r.diagnostics.lowerIterations + r.diagnostics.linearIterations;

function measure(family: string, problem: BilevelProblem, x: Float64Array, reps: number): Row {
  const xPrev = x.map((v, k) => v - 1e-3 * Math.cos(k));
  const prevAmd = hypergradient(problem, xPrev, { method: "amd" });
  const prevExact = hypergradient(problem, xPrev, { method: "exact" });
  const ex = hypergradient(problem, x, { method: "exact" });
  const cold = hypergradient(problem, x, { method: "amd" });
  const warm = hypergradient(problem, x, { method: "amd", amd: { state: prevAmd.amdState } });
  const row: Row = {
    family,
    S: problem.mdp.S,
    n: problem.n,
    exactMs: time(reps, () => hypergradient(problem, x, { method: "exact" })),
    exactWarmMs: time(reps, () => hypergradient(problem, x, { method: "exact", lower: { V0: prevExact.V } })),
    amdColdMs: time(reps, () => hypergradient(problem, x, { method: "amd" })),
    amdWarmMs: time(reps, () => hypergradient(problem, x, { method: "amd", amd: { state: prevAmd.amdState } })),
    relDiff: Math.max(relDiff(cold.grad, ex.grad), relDiff(warm.grad, ex.grad)),
    coldWork: work(cold),
    warmWork: work(warm),
  };
  console.log(`${family} S=${row.S} n=${row.n}: exact ${row.exactMs.toFixed(2)} ms, exact warm ${row.exactWarmMs.toFixed(2)} ms, amd cold ${row.amdColdMs.toFixed(2)} ms, amd warm ${row.amdWarmMs.toFixed(2)} ms, rel diff ${row.relDiff.toExponential(1)}`);
  return row;
}

function garnetProblem(S: number): { problem: BilevelProblem; x: Float64Array } {
  const g = garnet({ S, A: 4, branching: 3, gamma: 0.9, seed: 1 });
  const rng = new Rng(2);
  const rD = rng.normals(S * 4);
  const Phi = oneHotFeatures(S, 4);
  const lower = linearReward(Phi, S);
  const reward = {
    dim: S,
    rows: S * 4,
    reward: (x: Float64Array, out: Float64Array) => {
      lower.reward(x, out);
      for (let i = 0; i < out.length; i++) out[i] += g.reward[i];
    },
    vjp: (x: Float64Array, u: Float64Array, out: Float64Array) => lower.vjp!(x, u, out),
  };
  const upperModel = {
    dim: S,
    rows: S * 4,
    reward: (x: Float64Array, out: Float64Array) => {
      lower.reward(x, out);
      for (let i = 0; i < out.length; i++) out[i] = rD[i] - 0.5 * out[i];
    },
    vjp: (x: Float64Array, u: Float64Array, out: Float64Array) => {
      lower.vjp!(x, u, out);
      for (let k = 0; k < out.length; k++) out[k] *= -0.5;
    },
  };
  const problem = new BilevelProblem({ mdp: g.mdp as TabularMDP, tau: 0.1, reward, upper: upperReturn({ r: upperModel, lambda: 1e-3 }) });
  return { problem, x: rng.normals(S).map((v) => 0.1 * v) };
}

const rows: Row[] = [];
const gridSizes = QUICK ? [10, 20] : [10, 20, 40, 55];
for (const size of gridSizes) {
  const inst = gridGoal({ size });
  rows.push(measure("gridGoal", inst.problem, inst.x0, size >= 40 ? 3 : 7));
}
const garnetSizes = QUICK ? [100, 300] : [100, 300, 1000, 3000];
for (const S of garnetSizes) {
  const { problem, x } = garnetProblem(S);
  rows.push(measure("garnet, r_U(x)", problem, x, S >= 1000 ? 3 : 7));
}

const md = [
  "# 'amd' vs 'exact' hypergradient (SIMD build, Node " + process.version + ")",
  "",
  "Median wall-clock per call. *warm*: amd with the `amdState` of a call at a point 1e-3 away; exact with the lower solve warm-started from V there. *work*: lower iterations + linear iterations (cold → warm).",
  "",
  "| problem | S | n | exact (ms) | exact warm (ms) | amd cold (ms) | amd warm (ms) | amd cold / exact | max rel. diff | work cold → warm |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.family} | ${r.S} | ${r.n} | ${r.exactMs.toFixed(2)} | ${r.exactWarmMs.toFixed(2)} | ${r.amdColdMs.toFixed(2)} | ${r.amdWarmMs.toFixed(2)} | ${(r.amdColdMs / r.exactMs).toFixed(2)} | ${r.relDiff.toExponential(1)} | ${r.coldWork} → ${r.warmWork} |`),
  "",
].join("\n");
const dir = QUICK ? "bench/results/quick" : "bench/results";
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/amd.json`, JSON.stringify({ node: process.version, rows }, null, 2) + "\n");
writeFileSync(`${dir}/amd.md`, md);
console.log("\n" + md);
