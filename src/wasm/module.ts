// The only place that compiles WebAssembly. The module bytes are embedded in the
// bundle (no fetch or fs at run time); each build is compiled once and cached.
import simdBytes from "../../build/bilevel-simd.wasm";
import scalarBytes from "../../build/bilevel-scalar.wasm";
import { DomainError, InitError, ShapeError } from "../errors";
import { MAX_THREADS, attachPool, workerGeneration } from "./pool";

/** A compiled kernel module: one per build, shared by every MDP created with it. */
export interface Backend {
  /** True for the SIMD (f64x2) build, false for the scalar twin. */
  readonly simd: boolean;
  readonly module: WebAssembly.Module;
  /**
   * Threads that share each soft Bellman sweep of an MDP created on this backend (the
   * caller's included; see `InitOptions.threads`). 1 when threads were not asked for,
   * cannot run here, or the workers were lost (one did not finish its part of a job within
   * max(30 s, 200 × the caller's part)): `threadsNote` then says why.
   */
  readonly threads: number;
  /** Why fewer threads than asked for run (e.g. a page that is not cross-origin isolated, or workers lost mid-job), or undefined. */
  readonly threadsNote?: string;
}

// (module (func (result v128) v128.const i64x2 0 0)): validates only where SIMD exists.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** True when this engine validates a tiny module that uses a v128 instruction. */
export function simdSupported(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

const cache = new Map<boolean, Promise<Backend>>();
let current: Backend | undefined;

/** Compile (once) the SIMD or scalar build. */
export function loadBackend(simd: boolean): Promise<Backend> {
  let p = cache.get(simd);
  if (!p) {
    p = (async () => {
      if (typeof WebAssembly !== "object") throw new InitError("this JavaScript engine has no WebAssembly support");
      const bytes = simd ? simdBytes : scalarBytes;
      const module = await WebAssembly.compile(bytes as BufferSource);
      return { simd, module, threads: 1 };
    })();
    p.catch(() => cache.delete(simd));
    cache.set(simd, p);
  }
  return p;
}

/** Options of `init`. */
export interface InitOptions {
  /** Force the SIMD build (`true`) or the scalar build (`false`); default: SIMD when the engine supports it. */
  simd?: boolean;
  /**
   * Threads for the soft Bellman sweeps, the sampler and the linear solves (an integer, 1 to
   * 256; default 1). With n > 1, MDPs created afterwards live in shared wasm memory; each
   * sweep of value iteration is split by states, each sampler call by blocks of episodes, each
   * P_π product of the iterative solves by rows, and each panel's trailing update of the
   * dense LU by columns, over the caller and n − 1 workers (worker_threads in Node, Web Workers in browsers): bit-identical
   * to one thread, still synchronous for the caller. Needs `SharedArrayBuffer` and
   * `Atomics.waitAsync`; a browser page must be cross-origin isolated (headers
   * `Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`).
   * Where that is missing, init resolves with one thread and `Backend.threadsNote` saying
   * why. Small sweeps and products (below about 10⁶ stored transition entries), sampler calls
   * (below 65 536 steps) and dense LUs (n < 256) stay on the caller's thread.
   */
  threads?: number;
}

const threaded = new Map<string, Promise<Backend>>();

/** A backend whose MDPs share their sweeps with n − 1 workers, or the one-thread backend with a note. */
function loadThreaded(simd: boolean, n: number): Promise<Backend> {
  const key = `${simd}:${n}:${workerGeneration()}`;
  let p = threaded.get(key);
  if (!p) {
    p = (async () => {
      const one = await loadBackend(simd);
      // a dynamic import: the shared-memory builds and the worker stay out of bundles that never ask for threads
      const { createPool } = await import("./threads");
      // a pool whose workers are lost (one did not finish a part in time) runs one thread from then on, and says so here
      const backend: { -readonly [K in keyof Backend]: Backend[K] } = { simd, module: one.module, threads: n };
      const made = await createPool(simd, n, (note) => {
        backend.threads = 1;
        backend.threadsNote = note;
        if (threaded.get(key) === p) threaded.delete(key); // the next init({ threads: n }) starts new workers
      });
      if ("note" in made) return { ...one, threadsNote: `init({ threads: ${n} }) runs one thread: ${made.note}` };
      backend.module = made.module;
      attachPool(backend, made.pool);
      return backend;
    })();
    // a fallback is not kept: the next init may find what was missing (e.g. a worker that could start)
    p.then((b) => { if (b.threadsNote) threaded.delete(key); }, () => threaded.delete(key));
    threaded.set(key, p);
  }
  return p;
}

/**
 * Compile the kernels and make them the default backend for MDPs created afterwards.
 * Call once, before anything else; later calls are cheap. Resolves to the backend.
 */
export async function init(options: InitOptions = {}): Promise<Backend> {
  // plain JavaScript callers can pass anything: reject it here, before a property read fails
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ShapeError("init(options)", "options must be an object such as { simd: true } or left out", options);
  }
  const want = options.simd;
  if (want !== undefined && typeof want !== "boolean") throw new ShapeError("init(options): simd", "must be true, false or left out", want);
  const supported = simdSupported();
  if (want === true && !supported) {
    throw new InitError("init({ simd: true }): this engine does not support WebAssembly SIMD; call init() or init({ simd: false }) to use the scalar build");
  }
  const n = options.threads;
  if (n !== undefined) {
    if (typeof n !== "number") throw new ShapeError("init(options): threads", "must be a number (an integer from 1 to 256) or left out", n);
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new DomainError("init(options): threads", `must be an integer from 1 to ${MAX_THREADS}`, n);
  }
  current = n !== undefined && n > 1 ? await loadThreaded(want ?? supported, n) : await loadBackend(want ?? supported);
  return current;
}

/** The backend chosen by the last `init()`; throws when `init()` has not completed. */
export function defaultBackend(): Backend {
  if (!current) throw new InitError("bilevel-rl is not initialised: call `await init()` once before creating an MDP");
  return current;
}
