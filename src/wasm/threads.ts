// Opt-in threads (docs/math.md#threads): n − 1 workers plus the caller share each soft
// Bellman sweep by contiguous ranges of states, over the MDP's shared wasm memory. Loaded
// by init() through a dynamic import only when threads > 1: the shared-memory builds and
// the worker source never reach a bundle that does not ask for them.
//
// Protocol: one control SharedArrayBuffer per pool. The caller writes a job (kind, memory
// id, pointers, γ, τ and every part's state range), bumps GEN and notifies; each worker
// (waiting with Atomics.waitAsync, so its event loop stays free to receive new memories by
// postMessage) runs its part on its own instance of the same module over the same memory,
// writes its part's bounds and bumps DONE. The caller runs part 0 meanwhile, then waits
// for DONE (Atomics.wait where the agent may block, e.g. Node's main thread; a spin on
// Atomics.load on a page's main thread, where blocking is forbidden).
import simdThreadsBytes from "../../build/bilevel-simd-threads.wasm";
import scalarThreadsBytes from "../../build/bilevel-scalar-threads.wasm";
import { MAX_THREADS, WorkersLost, nextWorkerGeneration, type PoolMember, type SampleJob, type SweepJob, type SweepPool } from "./pool";

// control words (Int32 indices) and f64 slots (Float64 indices) of the control buffer
const GEN = 0, DONE = 1, ACK = 2, KIND = 3, MEM = 4, FAIL = 5, ARGS = 8; // ARGS..ARGS+23: a job's integer arguments
const F_GAMMA = 16, F_TAU = 17; // f64 indices (bytes 128, 136)
const DID = 512; // i32 index: the job (GEN) worker p did last, at DID + p (bytes 2048…)
const BOUNDS = 1024; // i32 index: s0, s1 of part p at BOUNDS + 2p (bytes 4096…)
const RESULTS = 1024; // f64 index: dmin, dmax of part p at RESULTS + 2p (bytes 8192…)
const CTL_BYTES = 8192 + MAX_THREADS * 16;
/**
 * How long a thread spins for the next job or for the workers' parts before it blocks (ms),
 * when there are at least as many cores as threads; with more threads than cores a spinning
 * thread would hold the core the thread it waits for needs, so then nobody spins.
 */
const SPIN_MS = 0.05;
const KIND_EXIT = 0, KIND_DENSE = 1, KIND_CSR = 2, KIND_SAMPLE = 3, KIND_LU = 4, KIND_PRODUCT = 5;
/** Columns of a dense LU's trailing update below which the caller does it alone. */
const MIN_LU_COLS = 64;
/**
 * How many fewer columns the caller updates than a worker, for the panel it factors
 * meanwhile: a 64-column panel costs about as much as updating 64 columns (half the flops
 * at half the speed), half of which the caller gives away. 0, 32, 64 and 96 measured alike
 * within this machine's noise (n = 2000).
 */
const LU_LOOKAHEAD_COLS = 32;
/** How long init waits for the workers to start before it falls back to one thread (ms). */
const START_TIMEOUT_MS = 15_000;
let startTimeoutMs = START_TIMEOUT_MS;
/**
 * A worker that has not finished its part this long after the caller finished its own is
 * taken for dead (a crashed or killed worker never answers, and the caller must not block
 * forever): at least JOIN_MIN_MS, and JOIN_FACTOR times the caller's own part, whose size is
 * the same. Time while the whole process is suspended (a laptop asleep, SIGSTOP) is not
 * counted: the caller waits in slices of JOIN_SLICE_MS and counts at most two slices per wake.
 */
const JOIN_MIN_MS = 30_000, JOIN_FACTOR = 200, JOIN_SLICE_MS = 100;
let joinMinMs = JOIN_MIN_MS;
const ABANDON_GRACE_MS = 100;
/** Episodes the sampler draws in lockstep (BLOCK in assembly/sampling.ts): parts are whole blocks. */
const SAMPLE_BLOCK = 16;

/**
 * State ranges of the parts: part p sweeps states [bounds[2p], bounds[2p+1]), contiguous,
 * in order, covering 0..S−1 once; sizes differ by at most one (the first S mod n parts get
 * the extra state). Empty parts when S < n.
 */
export function splitStates(S: number, n: number): Int32Array {
  const b = new Int32Array(2 * n);
  const q = Math.floor(S / n), extra = S - q * n;
  let s = 0;
  for (let p = 0; p < n; p++) {
    b[2 * p] = s;
    s += q + (p < extra ? 1 : 0);
    b[2 * p + 1] = s;
  }
  return b;
}

let split = splitStates;

/** @internal for tests: replace the split (e.g. a deliberately wrong one), or restore it (undefined). */
export function setSplitForTests(f: ((S: number, n: number) => Int32Array) | undefined): void {
  split = f ?? splitStates;
}

// The worker: no imports, runs as a CommonJS script (Node's worker_threads, eval) or as a
// module worker (browsers, from a Blob URL). It only instantiates the module on memories it
// is given and runs sweep parts.
const WORKER_SOURCE = `
// a worker_threads worker (Node, Bun: where self may exist too) has a parentPort; a Web Worker has none
const nodePort = (() => { try { return typeof require === "function" ? require("node:worker_threads").parentPort : null; } catch { return null; } })();
const isNode = !!nodePort;
const port = isNode ? nodePort : self;
const post = (m) => port.postMessage(m);
let ctl, f64, mod, index, spinMs = 0, seen = 0;
const insts = new Map();
function onMessage(m) {
  if (m.type === "init") {
    ctl = new Int32Array(m.ctl); f64 = new Float64Array(m.ctl); mod = m.module; index = m.index; spinMs = m.spinMs;
    seen = Atomics.load(ctl, ${GEN});
    post({ type: "ready" });
    loop();
  } else if (m.type === "mem") {
    try {
      const abort = () => { throw new Error("abort in a kernel"); };
      const parallelProduct = () => { throw new Error("a worker never splits a product"); };
      const inst = new WebAssembly.Instance(mod, { env: { memory: m.memory, abort, trace() {}, seed: () => 0, parallelProduct } });
      insts.set(m.id, inst.exports);
    } catch (e) {
      Atomics.store(ctl, ${FAIL}, 1);
    }
    Atomics.add(ctl, ${ACK}, 1);
    Atomics.notify(ctl, ${ACK});
  } else if (m.type === "drop") {
    insts.delete(m.id);
  }
}
function run(kind) {
  const s0 = ctl[${BOUNDS} + 2 * index], s1 = ctl[${BOUNDS} + 2 * index + 1];
  let dmin = Infinity, dmax = -Infinity;
  if (s1 > s0) {
    const e = insts.get(ctl[${MEM}]);
    if (!e) { Atomics.store(ctl, ${FAIL}, 2); return; }
    const a = ${ARGS}, g = f64[${F_GAMMA}], t = f64[${F_TAU}];
    try {
      if (kind === ${KIND_LU}) {
        e.luUpdateCols(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], s0, s1);
      } else if (kind === ${KIND_PRODUCT}) {
        e.ppiRows(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 7], s0, s1);
      } else if (kind === ${KIND_SAMPLE}) {
        const c = (i) => ctl[a + i];
        e.sampleTrajectoriesRange(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7), s0, s1, c(8), c(9), c(10), c(11) + index * c(12), c(13), c(14), c(15), c(16), c(17), c(18));
      } else {
        if (kind === ${KIND_DENSE}) e.bellmanDenseRows(ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 8], ctl[a + 9], g, t, ctl[a + 7], s0, s1);
        else e.bellmanCsrRows(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 8], ctl[a + 9], g, t, ctl[a + 7], s0, s1);
        dmin = e.deltaMin.value; dmax = e.deltaMax.value;
      }
    } catch (err) {
      Atomics.store(ctl, ${FAIL}, 3);
    }
  }
  f64[${RESULTS} + 2 * index] = dmin;
  f64[${RESULTS} + 2 * index + 1] = dmax;
}
// After a job, spin a while for the next one (value iteration posts sweeps back to back; a
// wake from Atomics.waitAsync goes through the event loop and costs tens of µs), then wait.
function spin() {
  const t0 = performance.now();
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctl, ${GEN}) !== seen) return true;
  } while (performance.now() - t0 < spinMs);
  return false;
}
async function loop() {
  for (;;) {
    if (!spin()) {
      const w = Atomics.waitAsync(ctl, ${GEN}, seen);
      if (w.async) await w.value;
    }
    const gen = Atomics.load(ctl, ${GEN});
    // A wake without a new job: the caller bumps GEN and then notifies, so a worker that saw the
    // new GEN while spinning, finished the job and waits again can be woken by that same
    // notify. It must not run the job twice (an extra DONE let the caller read a stale part).
    if (gen === seen) continue;
    seen = gen;
    const kind = ctl[${KIND}];
    if (kind === ${KIND_EXIT}) { if (isNode) process.exit(0); else self.close(); return; }
    run(kind);
    Atomics.store(ctl, ${DID} + index, seen);
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
if (isNode) port.on("message", onMessage); else self.onmessage = (e) => onMessage(e.data);
`;

let workerSource = WORKER_SOURCE;

/**
 * @internal for tests: start workers from another source (`edit` rewrites the default one),
 * wait for them this long (ms) at start and for a part at least `joinMs`, or restore the
 * defaults (undefined).
 */
export function setWorkerStartForTests(o: { source?: string; edit?: (source: string) => string; timeoutMs?: number; joinMs?: number } | undefined): void {
  workerSource = o?.source ?? (o?.edit ? o.edit(WORKER_SOURCE) : WORKER_SOURCE);
  nextWorkerGeneration();
  startTimeoutMs = o?.timeoutMs ?? START_TIMEOUT_MS;
  joinMinMs = o?.joinMs ?? JOIN_MIN_MS;
}


interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
  unref?(): void;
}

/** Why threads cannot run here, or undefined when they can (before any worker is started). */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== "function") {
    return "SharedArrayBuffer is not available (a browser page must be cross-origin isolated: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) {
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  if (typeof (Atomics as { waitAsync?: unknown }).waitAsync !== "function") return "this engine has no Atomics.waitAsync";
  return undefined;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string" && typeof (globalThis as { window?: unknown }).window === "undefined";
}

async function startWorker(onMessage: (m: { type: string }) => void, onError: (e: unknown) => void): Promise<AnyWorker> {
  if (isNode()) {
    const name = "node:worker_threads"; // a variable: bundlers for browsers must not resolve it
    const { Worker } = (await import(/* @vite-ignore */ name)) as typeof import("node:worker_threads");
    const w = new Worker(workerSource, { eval: true });
    w.on("message", onMessage);
    w.on("error", onError);
    return w;
  }
  const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  const w = new Worker(url, { type: "module" });
  w.onmessage = (e: MessageEvent) => onMessage(e.data as { type: string });
  w.onerror = (e: ErrorEvent) => onError(new Error(e.message));
  return w;
}

/** Logical cores: navigator.hardwareConcurrency (browsers, Node ≥ 21, Deno, Bun), else Node's os module; 1 when unknown. */
async function cores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  if (isNode()) {
    try {
      const name = "node:os";
      const os = (await import(/* @vite-ignore */ name)) as typeof import("node:os");
      return os.availableParallelism?.() ?? os.cpus().length;
    } catch {
      return 1;
    }
  }
  return 1;
}

/** May this agent block in Atomics.wait (Node's main thread, any worker) or must it spin (a page's main thread)? */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

class Pool implements SweepPool {
  private readonly ctl: Int32Array;
  private readonly f64: Float64Array;
  // keyed by memory: the instances of one memory (a workspace's, the one ppi calls back from) share the workers' instance
  private readonly ids = new WeakMap<WebAssembly.Memory, number>();
  private nextId = 1;
  private readonly block = canBlock();
  private readonly dropped = new FinalizationRegistry<number>((id) => {
    for (const w of this.workers) w.postMessage({ type: "drop", id });
  });
  /** Why the workers were given up (one did not finish a part in time), or undefined while they run. */
  lost: string | undefined;

  constructor(
    readonly n: number,
    private readonly workers: AnyWorker[],
    ctl: SharedArrayBuffer,
    private readonly spinMs: number,
    private readonly onLost: (note: string) => void,
  ) {
    this.ctl = new Int32Array(ctl);
    this.f64 = new Float64Array(ctl);
  }

  sharedMemory(): WebAssembly.Memory {
    return new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  }

  /**
   * Wait until done() holds; false when it did not within limitMs of counted time (see
   * JOIN_MIN_MS). Spins first (the parts are about equal, so the workers are usually about
   * done), then blocks in slices on ctl[i] where this agent may block.
   */
  private waitUntil(i: number, done: () => boolean, limitMs: number): boolean {
    const c = this.ctl;
    const t0 = performance.now();
    let last = t0, counted = 0;
    for (;;) {
      const v = Atomics.load(c, i);
      if (done()) return true;
      const now = performance.now();
      counted += Math.min(now - last, 2 * JOIN_SLICE_MS);
      last = now;
      if (counted > limitMs) return false;
      if (this.block && now - t0 > this.spinMs) Atomics.wait(c, i, v, JOIN_SLICE_MS);
    }
  }

  /** Give the workers up: stop them, run everything on the caller from now on, and say why on the backend. */
  private abandon(why: string): void {
    this.lost = `${why}; the workers were stopped and this backend runs one thread from now on (call init({ threads }) again for new workers)`;
    for (const w of this.workers) w.terminate();
    // a worker that was only slow stops at its next loop check; give it that long before its part is redone
    const t0 = performance.now();
    if (this.block) Atomics.wait(this.ctl, FAIL, Atomics.load(this.ctl, FAIL), ABANDON_GRACE_MS);
    else while (performance.now() - t0 < ABANDON_GRACE_MS);
    this.onLost(this.lost);
  }

  /** Give every worker an instance on the workspace's memory (once), before its first job; undefined once the workers are lost. */
  private idOf(ws: PoolMember): number | undefined {
    if (this.lost) return undefined;
    let id = this.ids.get(ws.memory);
    if (id !== undefined) return id;
    id = this.nextId++;
    Atomics.store(this.ctl, ACK, 0);
    Atomics.store(this.ctl, FAIL, 0);
    for (const w of this.workers) w.postMessage({ type: "mem", id, memory: ws.memory });
    // no kernel runs meanwhile: instantiation rewrites the data segments (identical bytes)
    const all = this.workers.length;
    if (!this.waitUntil(ACK, () => Atomics.load(this.ctl, ACK) >= all, joinMinMs)) {
      this.abandon(`bilevel-rl threads: ${all - Atomics.load(this.ctl, ACK)} of ${all} workers did not instantiate the kernels on a new memory within ${joinMinMs / 1000} s`);
      return undefined;
    }
    if (Atomics.load(this.ctl, FAIL)) throw new Error("bilevel-rl threads: a worker could not instantiate the kernels on shared memory");
    this.ids.set(ws.memory, id);
    this.dropped.register(ws.memory, id);
    return id;
  }

  /** Post a job to the workers (they start at once), with each part's range. */
  private post(kind: number, id: number, args: number[], bounds: Int32Array, gamma = 0, tau = 0): void {
    const { ctl, f64 } = this;
    ctl[KIND] = kind;
    ctl[MEM] = id;
    ctl[FAIL] = 0;
    ctl.set(args, ARGS);
    f64[F_GAMMA] = gamma;
    f64[F_TAU] = tau;
    ctl.set(bounds, BOUNDS);
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
  }

  /**
   * Wait for every worker's part; throw when one failed. Returns the parts whose workers did
   * not finish in time (then given up, see abandon), for the caller to run: empty normally.
   */
  private join(what: string, ownMs: number): number[] {
    // done = every worker has stored this job's number (a count alone would trust every increment)
    const c = this.ctl, gen = Atomics.load(c, GEN);
    const limit = Math.max(joinMinMs, JOIN_FACTOR * ownMs);
    const finished = () => {
      for (let p = 1; p < this.n; p++) if (Atomics.load(c, DID + p) !== gen) return false;
      return true;
    };
    if (!this.waitUntil(DONE, finished, limit)) {
      const missing: number[] = [];
      for (let p = 1; p < this.n; p++) if (Atomics.load(c, DID + p) !== gen) missing.push(p);
      this.abandon(`bilevel-rl threads: worker${missing.length > 1 ? "s" : ""} ${missing.join(", ")} did not finish ${what} within ${(limit / 1000).toFixed(1)} s (the caller's own part took ${ownMs.toFixed(1)} ms)`);
      return missing;
    }
    const fail = Atomics.load(c, FAIL);
    if (fail) throw new Error(`bilevel-rl threads: a worker failed its part of ${what} (code ${fail})`);
    return [];
  }

  /**
   * Run part 0 on the caller while the workers run theirs, then the parts of any worker lost
   * meanwhile (part(p) runs part p's range; parts are independent and their writes disjoint,
   * so a part run again gives the same bits). The workers are always joined: a job must not
   * outlive its call.
   */
  private share(what: string, part: (p: number) => void): void {
    const t0 = performance.now();
    let missing: number[];
    try {
      part(0);
    } finally {
      missing = this.join(what, performance.now() - t0);
    }
    for (const p of missing) part(p);
  }

  sweep(ws: PoolMember, j: SweepJob): { residual: number; deltaMin: number; deltaMax: number } {
    const { f64 } = this;
    const id = this.idOf(ws);
    const n = id === undefined ? 1 : this.n;
    const b = split(j.S, n);
    const part = (p: number) => {
      const s0 = b[2 * p], s1 = b[2 * p + 1];
      let dmin = Infinity, dmax = -Infinity;
      if (s1 > s0) {
        if (j.dense) ws.k.bellmanDenseRows(j.P, j.r, j.V, j.Q, j.Vout, j.S, j.A, j.gamma, j.tau, j.pi, s0, s1);
        else ws.k.bellmanCsrRows(j.indptr, j.indices, j.P, j.r, j.V, j.Q, j.Vout, j.S, j.A, j.gamma, j.tau, j.pi, s0, s1);
        dmin = ws.k.deltaMin.value as number;
        dmax = ws.k.deltaMax.value as number;
      }
      f64[RESULTS + 2 * p] = dmin;
      f64[RESULTS + 2 * p + 1] = dmax;
    };
    if (id === undefined) part(0);
    else {
      this.post(j.dense ? KIND_DENSE : KIND_CSR, id, [j.indptr, j.indices, j.P, j.r, j.V, j.Q, j.Vout, j.pi, j.S, j.A], b, j.gamma, j.tau);
      this.share("a sweep", part);
    }
    return combineParts(f64.subarray(RESULTS, RESULTS + 2 * n));
  }

  sample(ws: PoolMember, j: SampleJob): void {
    const id = this.idOf(ws);
    const b = splitEpisodes(j.episodes, id === undefined ? 1 : this.n);
    // a lost worker's part runs in the caller's own scratch (the worker's may still be written by it as it stops)
    const part = (p: number) => {
      if (b[2 * p + 1] > b[2 * p]) ws.k.sampleTrajectoriesRange(j.P, j.indptr, j.indices, j.pi, j.rho, j.r, j.S, j.A, b[2 * p], b[2 * p + 1], j.horizon, j.lo, j.hi, j.work, j.states, j.actions, j.rewards, j.cdf, j.term, j.lengths);
    };
    if (id === undefined) return part(0);
    this.post(KIND_SAMPLE, id, [j.P, j.indptr, j.indices, j.pi, j.rho, j.r, j.S, j.A, j.horizon, j.lo, j.hi, j.work, j.workBytes, j.states, j.actions, j.rewards, j.cdf, j.term, j.lengths], b);
    this.share("sampling", part);
  }

  /**
   * The blocked LU with a look-ahead of one panel (docs/math.md#threads): while the workers
   * apply panel k0's swaps and update to their columns, the caller updates the next panel's
   * columns first, factors that panel, then updates the rest of its share. Panels swap rows
   * only within themselves; the columns left of a panel get its swaps from the caller (nobody
   * reads them meanwhile). Every column gets every swap and update in luFactor's order.
   */
  luFactor(ws: PoolMember, M: number, piv: number, n: number): number {
    const id = this.idOf(ws);
    if (id === undefined) return ws.k.luFactor(M, piv, n);
    const k = ws.k;
    const nb = k.LU_PANEL.value as number;
    let bad = k.luPanel(M, piv, n, 0);
    for (let k0 = 0; bad === 0; k0 += nb) {
      k.luSwapCols(M, piv, n, k0, 0, k0);
      const k1 = Math.min(k0 + nb, n);
      if (k1 >= n) break;
      const k2 = Math.min(k1 + nb, n);
      if (n - k2 < MIN_LU_COLS) {
        k.luUpdateCols(M, piv, n, k0, k1, n);
        bad = k.luPanel(M, piv, n, k1);
        continue;
      }
      // whole groups of 4 columns (the update's register tile); the caller's share is
      // LU_LOOKAHEAD_COLS smaller, for the panel it factors, and starts with that panel
      const b = splitRows(k1 - LU_LOOKAHEAD_COLS, n, this.n, 4);
      b[0] = k1;
      for (let i = 1; i < b.length; i++) if (b[i] < k2) b[i] = k2;
      this.post(KIND_LU, id, [M, piv, n, k0], b);
      const part = (p: number) => {
        if (p !== 0) throw new WorkersLost(this.lost); // a lost worker may have left its columns half updated
        k.luUpdateCols(M, piv, n, k0, k1, k2);
        bad = k.luPanel(M, piv, n, k1);
        if (b[1] > k2) k.luUpdateCols(M, piv, n, k0, k2, b[1]);
      };
      this.share("an LU update", part);
    }
    return bad;
  }

  product(ws: PoolMember, P: number, indptr: number, indices: number, pi: number, v: number, out: number, S: number, A: number): void {
    const id = this.idOf(ws);
    const b = split(S, id === undefined ? 1 : this.n);
    const part = (p: number) => {
      if (b[2 * p + 1] > b[2 * p]) ws.k.ppiRows(P, indptr, indices, pi, v, out, S, A, b[2 * p], b[2 * p + 1]);
    };
    if (id === undefined) return part(0);
    this.post(KIND_PRODUCT, id, [P, indptr, indices, pi, v, out, S, A], b);
    this.share("a P_π product", part);
  }
}

/** Row ranges of the parts over [r0, r1): whole groups of `group` rows (the last group may be short), split as splitStates splits states. */
export function splitRows(r0: number, r1: number, n: number, group: number): Int32Array {
  const b = split(Math.ceil((r1 - r0) / group), n);
  for (let i = 0; i < b.length; i++) b[i] = Math.min(r1, r0 + b[i] * group);
  return b;

}

/** Episode ranges of the parts: whole blocks of 16 episodes (the sampler's lockstep block), split as evenly as splitStates splits states. */
export function splitEpisodes(episodes: number, n: number): Int32Array {
  return splitRows(0, episodes, n, SAMPLE_BLOCK);
}

/**
 * The bounds of a whole sweep from its parts' (dmin, dmax) pairs, in state order: the same
 * left-first pseudo-min/max the kernel folds over states (so ±0 ties resolve as in one
 * pass), NaN when any part saw NaN, and ‖ΔV‖∞ = max(dmax, −dmin).
 */
export function combineParts(parts: Float64Array): { residual: number; deltaMin: number; deltaMax: number } {
  let dmin = Infinity, dmax = -Infinity, nan = false;
  for (let p = 0; p < parts.length; p += 2) {
    const lo = parts[p], hi = parts[p + 1];
    if (lo !== lo || hi !== hi) nan = true;
    else {
      if (lo < dmin) dmin = lo;
      if (dmax < hi) dmax = hi;
    }
  }
  if (nan) return { residual: NaN, deltaMin: NaN, deltaMax: NaN };
  return { residual: Math.max(dmax, -dmin), deltaMin: dmin, deltaMax: dmax };
}

/**
 * A pool of n − 1 workers for the SIMD or scalar shared-memory build, or a reason why not.
 * Resolves only once every worker is running (browsers start a worker only after the page's
 * thread yields, so this must happen before any synchronous sweep waits on one).
 */
export async function createPool(simd: boolean, n: number, onLost: (note: string) => void = () => {}): Promise<{ module: WebAssembly.Module; pool: SweepPool } | { note: string }> {
  const why = threadsUnavailable();
  if (why) return { note: why };
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile((simd ? simdThreadsBytes : scalarThreadsBytes) as BufferSource);
  } catch (e) {
    return { note: `this engine cannot compile the shared-memory kernels (${(e as Error).message})` };
  }
  const ctl = new SharedArrayBuffer(CTL_BYTES);
  const spinMs = n <= (await cores()) ? SPIN_MS : 0;
  const workers: AnyWorker[] = [];
  try {
    const ready: Promise<void>[] = [];
    for (let i = 1; i < n; i++) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      ready.push(new Promise<void>((r, j) => ((resolve = r), (reject = j))));
      const w = await startWorker((m) => { if (m.type === "ready") resolve(); }, (e) => reject(e));
      workers.push(w);
      w.postMessage({ type: "init", ctl, module, index: i, spinMs });
    }
    // a worker that never answers (an engine that cannot run this one) must not hang init
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`no answer from the workers within ${startTimeoutMs / 1000} s`)), startTimeoutMs);
    });
    try {
      const all = Promise.all(ready);
      all.catch(() => {}); // after a timeout, a late failure has nobody to tell
      await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
    }
    // idle workers must not keep Node alive; not before they are ready (the wait for them would be all that is left)
    for (const w of workers) w.unref?.();
  } catch (e) {
    for (const w of workers) w.terminate();
    return { note: `workers could not be started (${(e as Error).message})` };
  }
  return { module, pool: new Pool(n, workers, ctl, spinMs, onLost) };
}
