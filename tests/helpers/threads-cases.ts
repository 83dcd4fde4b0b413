// Cases of the threads identity check (docs/math.md#threads), shared by the node and browser
// tests: soft value iteration on one thread and on n threads must agree bit for bit in V, Q,
// π, the residual and the sweep count (or throw the same error). No vitest, no Node imports.
import { TabularMDP, sampleTrajectories, softValueIteration, solveLinear, type Backend } from "../../src/index";
import type { RefMDP } from "../../src/reference/index";
import { firstBitDiff } from "./compare";
import { luSolveDense, memoryOf } from "../../src/wasm/routines/index";
import { randomCsr, randomDense, randomVector } from "./random-mdp";

export interface ThreadCase {
  name: string;
  m: RefMDP;
  r: Float64Array;
  tau: number;
  terminal?: Uint8Array;
  extrapolate?: boolean;
  maxIter?: number;
}

function terminalEvery(S: number, k: number): Uint8Array {
  const t = new Uint8Array(S);
  for (let s = k - 1; s < S; s += k) t[s] = 1;
  return t;
}

/** Shapes: S not divisible by the threads, S below the threads, A odd and A = 1, τ = 0, terminal states, extrapolation, a capped run, an overflowing one. */
export function threadCases(): ThreadCase[] {
  const c: ThreadCase[] = [];
  const add = (name: string, m: RefMDP, extra: Partial<ThreadCase> = {}, scale = 1): void => {
    const r = randomVector(m.S * m.A, m.S * 31 + m.A);
    if (scale !== 1) for (let i = 0; i < r.length; i++) r[i] *= scale;
    c.push({ name, m, r, tau: 0.3, ...extra });
  };
  add("dense S=7 A=3", randomDense(7, 3, 0.9, 11));
  add("dense S=2 A=5 (S < threads)", randomDense(2, 5, 0.9, 12));
  add("dense S=1 A=1", randomDense(1, 1, 0.9, 13));
  add("dense S=50 A=4 τ=0", randomDense(50, 4, 0.95, 14), { tau: 0 });
  add("dense S=37 A=3 extrapolate", randomDense(37, 3, 0.99, 15), { extrapolate: true });
  add("dense S=23 A=2 terminal", randomDense(23, 2, 0.95, 16), { terminal: terminalEvery(23, 5) });
  add("dense S=31 A=3 capped at 7 sweeps", randomDense(31, 3, 0.95, 17), { maxIter: 7 });
  add("csr S=101 A=3", randomCsr(101, 3, 0.95, 3, 21));
  add("csr S=2 A=1", randomCsr(2, 1, 0.9, 2, 22));
  add("csr S=64 A=5 τ=0 extrapolate", randomCsr(64, 5, 0.98, 4, 23), { tau: 0, extrapolate: true });
  add("csr S=55 A=2 terminal", randomCsr(55, 2, 0.95, 3, 24), { terminal: terminalEvery(55, 4) });
  add("csr S=40 A=3 overflow", randomCsr(40, 3, 0.999, 3, 25), { tau: 1e-300 }, 1e308);
  return c;
}

export function tabular(m: RefMDP, backend: Backend, terminal?: Uint8Array): TabularMDP {
  if (m.kind === "dense") return TabularMDP.dense({ S: m.S, A: m.A, gamma: m.gamma, P: m.P, terminal, backend });
  return TabularMDP.sparse({ S: m.S, A: m.A, gamma: m.gamma, indptr: m.indptr, indices: m.indices, probs: m.probs, terminal, backend });
}

type Outcome = { V: Float64Array; Q: Float64Array; pi: Float64Array; residual: number; iterations: number } | { error: string };

export function runCase(c: ThreadCase, backend: Backend): Outcome {
  try {
    const res = softValueIteration(tabular(c.m, backend, c.terminal), c.r, { tau: c.tau, tol: 1e-10, maxIter: c.maxIter, extrapolate: c.extrapolate });
    return { V: res.V, Q: res.Q, pi: res.pi, residual: res.residual, iterations: res.iterations };
  } catch (e) {
    return { error: String(e) };
  }
}

/** The first difference between two outcomes, or undefined when they are the same bits. */
export function outcomeDiff(a: Outcome, b: Outcome): string | undefined {
  if ("error" in a || "error" in b) return "error" in a && "error" in b && a.error === b.error ? undefined : `outcomes differ: ${JSON.stringify("error" in a ? a.error : "ok")} vs ${JSON.stringify("error" in b ? b.error : "ok")}`;
  const diffs: string[] = [];
  if (a.iterations !== b.iterations) diffs.push(`sweeps ${a.iterations} vs ${b.iterations}`);
  if (!Object.is(a.residual, b.residual)) diffs.push(`residual ${a.residual} vs ${b.residual}`);
  for (const f of ["V", "Q", "pi"] as const) {
    const d = firstBitDiff(a[f], b[f]);
    if (d) diffs.push(`${f}: ${d}`);
  }
  return diffs.length ? diffs.join("; ") : undefined;
}

export interface SampleCase {
  name: string;
  m: RefMDP;
  episodes: number;
  horizon: number;
  seed: number;
  terminal?: Uint8Array;
  rewards?: boolean;
}

/** Sampler shapes: episodes not a multiple of the 16-episode block, fewer blocks than threads, long rows (bisection), terminal states, rewards. */
export function sampleCases(): SampleCase[] {
  return [
    { name: "dense S=30 A=3, 50 episodes × 20", m: randomDense(30, 3, 0.9, 41), episodes: 50, horizon: 20, seed: 7, rewards: true },
    { name: "dense S=5 A=2, 17 episodes × 9", m: randomDense(5, 2, 0.9, 42), episodes: 17, horizon: 9, seed: 2 ** 40 + 3 },
    { name: "csr S=200 A=4, 100 episodes × 33, terminal", m: randomCsr(200, 4, 0.95, 20, 43), episodes: 100, horizon: 33, seed: 11, terminal: terminalEvery(200, 7), rewards: true },
    { name: "csr S=50 A=1, 33 episodes × 5", m: randomCsr(50, 1, 0.9, 3, 44), episodes: 33, horizon: 5, seed: 0 },
  ];
}

/** Sampled states, actions, rewards and lengths, concatenated as doubles (for a bitwise comparison). */
export function runSample(c: SampleCase, backend: Backend): Float64Array {
  const mdp = tabular(c.m, backend, c.terminal);
  const { S, A } = c.m;
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) pi[s * A + a] = (1 + ((s + 2 * a) % 3)) / [...Array(A).keys()].reduce((t, b) => t + 1 + ((s + 2 * b) % 3), 0);
  const r = c.rewards ? randomVector(S * A, 5) : undefined;
  const t = sampleTrajectories(mdp, pi, { episodes: c.episodes, horizon: c.horizon, seed: c.seed, r });
  return Float64Array.from([...t.states, ...t.actions, ...(t.rewards ?? []), ...t.lengths]);
}

const memoryBytes = (mdp: TabularMDP): number => memoryOf(mdp).bytes;

/**
 * Memory growth after the workers joined: a sweep (which hands the MDP's memory to the
 * workers), then a sampler call that grows that memory by megabytes, whose later episodes
 * the workers write into the new pages; the whole run as doubles, for a bitwise comparison.
 */
export function runGrowth(backend: Backend): Float64Array {
  const m = randomCsr(300, 3, 0.95, 4, 61);
  const mdp = tabular(m, backend);
  const r = randomVector(m.S * m.A, 62);
  const { V, pi } = softValueIteration(mdp, r, { tau: 0.2 });
  const before = memoryBytes(mdp);
  const t = sampleTrajectories(mdp, pi, { episodes: 2000, horizon: 100, seed: 5, r });
  const grew = memoryBytes(mdp) - before;
  if (grew < 2 ** 21) throw new Error(`the sampler call grew memory by only ${grew} bytes`);
  return Float64Array.from([...V, ...t.states, ...t.actions, ...t.rewards!, ...t.lengths]);
}

export interface SolveCase {
  name: string;
  m: RefMDP;
  method: "lu" | "krylov" | "bicgstab" | "richardson";
  transpose: boolean;
  terminal?: Uint8Array;
}

/**
 * Linear solves whose P_π products (Krylov, Richardson and every residual) and dense LU
 * trailing updates are split over the threads: S not a multiple of the row groups, several
 * LU panels (64 columns each), both orientations, dense and CSR, terminal states.
 */
let solveCaseList: SolveCase[] | undefined;
export function solveCases(): SolveCase[] {
  if (solveCaseList) return solveCaseList;
  const c: SolveCase[] = (solveCaseList = []);
  const shapes: [string, RefMDP, Uint8Array?][] = [
    ["dense S=203 A=3", randomDense(203, 3, 0.95, 71)],
    ["dense S=9 A=2", randomDense(9, 2, 0.9, 72)],
    ["csr S=301 A=4", randomCsr(301, 4, 0.99, 5, 73)],
    ["csr S=150 A=2 terminal", randomCsr(150, 2, 0.95, 4, 74), terminalEvery(150, 6)],
  ];
  for (const [name, m, terminal] of shapes) {
    for (const method of ["lu", "krylov", "bicgstab", "richardson"] as const) {
      // the banded LU (narrow CSR bands) is not split: only the dense shapes take the dense LU
      for (const transpose of [false, true]) c.push({ name: `${name} ${method}${transpose ? " transposed" : ""}`, m, method, transpose, terminal });
    }
  }
  return c;
}

const solveMdps = new WeakMap<RefMDP, Map<Backend, TabularMDP>>();

/** x, the residual and the iteration count of one solve, as doubles (for a bitwise comparison). */
export function runSolve(c: SolveCase, backend: Backend): Float64Array {
  // one MDP per shape and backend: a shared memory reserves its maximum (4 GiB) of address
  // space, and a page runs out of it after a few dozen live ones
  let byBackend = solveMdps.get(c.m);
  if (!byBackend) solveMdps.set(c.m, (byBackend = new Map()));
  let mdp = byBackend.get(backend);
  if (!mdp) byBackend.set(backend, (mdp = tabular(c.m, backend, c.terminal)));
  const { S, A } = c.m;
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let t = 0;
    for (let a = 0; a < A; a++) t += pi[s * A + a] = 1 + ((3 * s + a) % 4);
    for (let a = 0; a < A; a++) pi[s * A + a] /= t;
  }
  const b = randomVector(S, S + 7);
  const res = solveLinear(mdp, pi, b, { method: c.method, transpose: c.transpose, tol: 1e-11 });
  return Float64Array.from([...res.x, res.residual, res.iterations, res.converged ? 1 : 0]);
}

const luHosts = new Map<Backend, TabularMDP>();

/**
 * y = M⁻¹ rhs for a general m × m matrix (entries uniform in [−1, 1]: partial pivoting swaps
 * rows at almost every column, which I − γP_π, diagonally dominant, rarely does), through the
 * routine that factors φ-Σ's Newton systems, in the scratch memory of one small MDP per backend.
 */
export function runGeneralLu(m: number, backend: Backend): Float64Array {
  let host = luHosts.get(backend);
  if (!host) luHosts.set(backend, (host = tabular(randomDense(3, 2, 0.9, 1), backend)));
  const y = new Float64Array(m);
  const bad = luSolveDense(host, randomVector(m * m, 2 * m + 1), randomVector(m, 3 * m), m, y, "");
  if (bad !== 0) throw new Error(`general LU, m = ${m}: zero pivot at column ${bad - 1}`);
  return y;
}
