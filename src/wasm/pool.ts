// The seam between a threaded backend and the routines: which backends have a worker pool,
// and the pool's interface. Kept tiny and free of wasm bytes: the pool itself
// (src/wasm/threads.ts, with the shared-memory builds and the worker source) is loaded by a
// dynamic import only when init() is asked for threads, so it stays out of default bundles.
import type { Backend } from "./module";

/** A soft Bellman sweep's arguments (byte offsets into one workspace's memory). */
export interface SweepJob {
  dense: boolean;
  indptr: number;
  indices: number;
  P: number;
  r: number;
  V: number;
  Q: number;
  Vout: number;
  S: number;
  A: number;
  gamma: number;
  tau: number;
  pi: number;
}

/** A sampler call's arguments: sampleTrajectories' (assembly/sampling.ts), with n scratch areas of workBytes each from work. */
export interface SampleJob {
  P: number;
  indptr: number;
  indices: number;
  pi: number;
  rho: number;
  r: number;
  S: number;
  A: number;
  episodes: number;
  horizon: number;
  lo: number;
  hi: number;
  work: number;
  workBytes: number;
  states: number;
  actions: number;
  rewards: number;
  cdf: number;
  term: number;
  lengths: number;
}

/** Kernels and memory of one workspace, as the pool needs them. */
export interface PoolMember {
  readonly memory: WebAssembly.Memory;
  readonly k: {
    bellmanDenseRows(P: number, r: number, V: number, Q: number, Vout: number, S: number, A: number, gamma: number, tau: number, pi: number, s0: number, s1: number): number;
    bellmanCsrRows(indptr: number, indices: number, probs: number, r: number, V: number, Q: number, Vout: number, S: number, A: number, gamma: number, tau: number, pi: number, s0: number, s1: number): number;
    sampleTrajectoriesRange(P: number, indptr: number, indices: number, pi: number, rho: number, r: number, S: number, A: number, e1: number, e2: number, horizon: number, lo: number, hi: number, work: number, states: number, actions: number, rewards: number, cdf: number, term: number, lengths: number): void;
    luFactor(M: number, piv: number, n: number): number;
    luPanel(M: number, piv: number, n: number, k0: number): number;
    luUpdateCols(M: number, piv: number, n: number, k0: number, j0: number, j1: number): void;
    luSwapCols(M: number, piv: number, n: number, k0: number, j0: number, j1: number): void;
    ppiRows(P: number, indptr: number, indices: number, pi: number, v: number, out: number, S: number, A: number, s0: number, s1: number): void;
    readonly LU_PANEL: WebAssembly.Global;
    readonly deltaMin: WebAssembly.Global;
    readonly deltaMax: WebAssembly.Global;
  };
}

export interface SweepPool {
  /** Threads, the caller's included. */
  readonly n: number;
  /**
   * Why the workers were given up (one did not finish its part in time, e.g. it crashed), or
   * undefined. Once set, every job runs on the caller alone, with the same bits.
   */
  readonly lost: string | undefined;
  /** A fresh shared memory for a workspace of this backend. */
  sharedMemory(): WebAssembly.Memory;
  /** One sweep split by states over the threads; returns ‖ΔV‖∞ and the combined bounds. */
  sweep(ws: PoolMember, job: SweepJob): { residual: number; deltaMin: number; deltaMax: number };
  /** One sampler call split by blocks of episodes over the threads (each with its own scratch at work + p·workBytes). */
  sample(ws: PoolMember, job: SampleJob): void;
  /**
   * luFactor of the n × n matrix at M (pivots at piv), one panel at a time, the columns right
   * of each panel (their U₁₂ and trailing update) split over the threads; returns luFactor's
   * code. Throws WorkersLost when a worker was lost mid-update (M is then spoiled).
   */
  luFactor(ws: PoolMember, M: number, piv: number, n: number): number;
  /** out ← P_π v (ppi, not transposed) split by rows over the threads. */
  product(ws: PoolMember, P: number, indptr: number, indices: number, pi: number, v: number, out: number, S: number, A: number): void;
}

/**
 * Thrown by a pool's luFactor when a worker was lost during a trailing update: its columns
 * may be half updated, so the caller must rebuild the matrix and factor it on one thread.
 * Never leaves the routine layer.
 */
export class WorkersLost extends Error {
  override name = "WorkersLost";
}

/** Most threads `init({ threads })` accepts. */
export const MAX_THREADS = 256;

const pools = new WeakMap<Backend, SweepPool>();

/** The worker pool of a threaded backend, or undefined (one thread). */
export function poolOf(backend: Backend): SweepPool | undefined {
  return pools.get(backend);
}

export function attachPool(backend: Backend, pool: SweepPool): void {
  pools.set(backend, pool);
}

/**
 * Below this many stored transition entries (S·A·S dense, nnz CSR; 2^20 ≈ dense S = 512 at
 * A = 4, a sweep of a few tenths of a ms) a sweep runs on the caller's thread alone: a
 * dispatch costs a few µs on idle cores but up to tenths of a ms when other processes hold
 * them. Either way the bits are the same.
 */
const MIN_PARALLEL_WORK = 1 << 20;
const MIN_PARALLEL_STEPS = 1 << 16;
let minParallelWork = MIN_PARALLEL_WORK;

export function parallelWorth(entries: number): boolean {
  return entries >= minParallelWork;
}

/** Below this order a dense LU runs on the caller's thread alone (n = 256: about 11 M flops, 1 ms). */
const MIN_PARALLEL_LU = 256;
let minParallelLu = MIN_PARALLEL_LU;

export function parallelLuWorth(n: number): boolean {
  return n >= minParallelLu;
}

/** Below this many sampled steps (episodes × horizon) a sampler call stays on the caller's thread. */
let minParallelSteps = MIN_PARALLEL_STEPS;

export function parallelSamplingWorth(steps: number): boolean {
  return steps >= minParallelSteps;
}

let generation = 0;

/** Which worker source pools start (a test may swap it): pools are cached per generation. */
export function workerGeneration(): number {
  return generation;
}

/** @internal for tests: a new worker source, so the next init({ threads }) starts new pools. */
export function nextWorkerGeneration(): void {
  generation++;
}

/** @internal for tests: thread even the smallest sweeps (0), or restore the default (undefined). */
export function setMinParallelWork(n: number | undefined): void {
  minParallelWork = n ?? MIN_PARALLEL_WORK;
  minParallelSteps = n ?? MIN_PARALLEL_STEPS;
  minParallelLu = n ?? MIN_PARALLEL_LU;
}
