// The only place that compiles WebAssembly. The module bytes are embedded in the
// bundle (no fetch or fs at run time); each build is compiled once and cached.
import { instantiateSync } from "@assemblyscript/loader";
import simdBytes from "../../build/bilevel-simd.wasm";
import scalarBytes from "../../build/bilevel-scalar.wasm";
import { InitError, MemoryLimitError } from "../errors";
import type { Kernels } from "./kernels";

/** A compiled kernel module: one per build, shared by every MDP created with it. */
export interface Backend {
  /** True for the SIMD (f64x2) build, false for the scalar twin. */
  readonly simd: boolean;
  readonly module: WebAssembly.Module;
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
      return { simd, module };
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
}

/**
 * Compile the kernels and make them the default backend for MDPs created afterwards.
 * Call once, before anything else; later calls are cheap. Resolves to the backend.
 */
export async function init(options: InitOptions = {}): Promise<Backend> {
  const want = options.simd;
  if (want !== undefined && typeof want !== "boolean") throw new TypeError(`init: simd must be a boolean; got ${typeof want}`);
  const supported = simdSupported();
  if (want === true && !supported) {
    throw new InitError("init({ simd: true }): this engine does not support WebAssembly SIMD; call init() or init({ simd: false }) to use the scalar build");
  }
  current = await loadBackend(want ?? supported);
  return current;
}

/** The backend chosen by the last `init()`; throws when `init()` has not completed. */
export function defaultBackend(): Backend {
  if (!current) throw new InitError("bilevel-rl is not initialised: call `await init()` once before creating an MDP");
  return current;
}

/** Linear memory of a fresh instance (bytes), as last seen: what a new instance needs at least. */
let instanceBytes = 0;

/**
 * A fresh instance (its own linear memory) of a backend's module. The loader supplies
 * the `env` imports (an `abort` that becomes a readable Error); hot paths call the raw
 * exports, never the loader's array helpers.
 */
export function instantiateKernels(
  backend: Backend,
  /** @internal for tests: stands in for the loader's instantiateSync. */
  instantiate: (module: WebAssembly.Module) => { instance: WebAssembly.Instance } = (m) => instantiateSync(m, {}),
): { exports: Kernels; memory: WebAssembly.Memory } {
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = instantiate(backend.module));
  } catch (e) {
    // Each instance reserves its own linear memory (on 64-bit engines, several GiB of
    // address space with guard regions): V8 runs out after roughly 12 800 live ones and
    // throws a RangeError ("WebAssembly.Instance(): Out of memory").
    if (e instanceof RangeError) {
      throw new MemoryLimitError(
        instanceBytes,
        0,
        `the engine could not create another kernel instance (${e.message}). Every MDP (and DenseMatrix) owns one ` +
          `wasm instance until it is garbage-collected: drop references to MDPs you no longer need, reuse one MDP ` +
          `(setTransitions for dense P), or run fewer problems per process`,
      );
    }
    throw e;
  }
  const exports = instance.exports as unknown as Kernels;
  instanceBytes = Math.max(instanceBytes, exports.memory.buffer.byteLength);
  return { exports, memory: exports.memory };
}
