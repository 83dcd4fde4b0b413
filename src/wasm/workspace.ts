// Host-side layout of one kernel instance's linear memory (the pointer layer: only
// src/wasm/routines/ uses it). A workspace holds a persistent region (the MDP's
// transitions, ρ, generator state) and a scratch stack above it that each routine
// rewinds, so repeated solves reuse the same bytes. Every view is derived after the last
// allocation of a call (growth detaches views).
import { instantiateSync } from "@assemblyscript/loader";
import { MemoryLimitError } from "../errors";
import type { Backend } from "./module";
import type { Kernels } from "./kernels";
import { poolOf } from "./pool";

const PAGE = 65536;
/** wasm32 addresses at most 65 536 pages of 64 KiB. */
export const MAX_WASM_BYTES = 65536 * PAGE;
const ALIGN = 16;

export class Workspace {
  readonly k: Kernels;
  readonly backend: Backend;
  readonly memory: WebAssembly.Memory;
  private top: number;
  // Whole-memory views, re-derived when growth replaces memory.buffer (growth detaches
  // the old buffer); slicing them is much cheaper than building a view per call.
  private heapF64: Float64Array;
  private heapI32: Int32Array;

  constructor(backend: Backend) {
    const { exports, memory } = instantiateKernels(backend);
    this.k = exports;
    this.backend = backend;
    this.memory = memory;
    this.top = align(exports.heapBase());
    this.heapF64 = new Float64Array(memory.buffer);
    this.heapI32 = new Int32Array(memory.buffer);
  }

  private f64Heap(): Float64Array {
    // growth detaches the old buffer, and a detached view has length 0 (alloc re-derives
    // the views of a shared memory, whose old buffer keeps its old length)
    if (this.heapF64.length === 0) {
      this.heapF64 = new Float64Array(this.memory.buffer);
      this.heapI32 = new Int32Array(this.memory.buffer);
    }
    return this.heapF64;
  }

  private i32Heap(): Int32Array {
    this.f64Heap();
    return this.heapI32;
  }

  /** Bytes of linear memory currently reserved by the engine. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Reserve `bytes` (16-byte aligned), growing memory when needed. */
  alloc(bytes: number, advice = "use sparse (CSR) transitions or a smaller problem"): number {
    const p = this.top;
    const end = align(p + bytes);
    if (end > MAX_WASM_BYTES) throw new MemoryLimitError(end, MAX_WASM_BYTES, advice);
    const have = this.f64Heap().length * 8;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        throw new MemoryLimitError(end, have, `the engine refused to grow wasm memory; ${advice}`);
      }
      this.heapF64 = new Float64Array(this.memory.buffer);
      this.heapI32 = new Int32Array(this.memory.buffer);
    }
    this.top = end;
    return p;
  }

  allocF64(n: number): number {
    return this.alloc(n * 8);
  }

  allocI32(n: number): number {
    return this.alloc(n * 4);
  }

  /** Copy a host array into fresh memory; returns its pointer. */
  putF64(data: ArrayLike<number>): number {
    const p = this.allocF64(data.length);
    this.f64Heap().set(data, p >>> 3);
    return p;
  }

  putI32(data: ArrayLike<number>): number {
    const p = this.allocI32(data.length);
    this.i32Heap().set(data, p >>> 2);
    return p;
  }

  /** The current allocation mark; `release(mark)` frees everything allocated after it. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** A view on module memory; invalid after the next allocation that grows memory. */
  f64(p: number, n: number): Float64Array {
    return this.f64Heap().subarray(p >>> 3, (p >>> 3) + n);
  }

  i32(p: number, n: number): Int32Array {
    return this.i32Heap().subarray(p >>> 2, (p >>> 2) + n);
  }

  /** A copy out of module memory, safe to keep. */
  copyF64(p: number, n: number): Float64Array {
    return this.f64Heap().slice(p >>> 3, (p >>> 3) + n);
  }

  copyI32(p: number, n: number): Int32Array {
    return this.i32Heap().slice(p >>> 2, (p >>> 2) + n);
  }

  /** Copy `src` into memory at p (no view is created). */
  writeF64(p: number, src: ArrayLike<number>): void {
    this.f64Heap().set(src, p >>> 3);
  }

  /** Fill n doubles at p with `value`. */
  fillF64(p: number, value: number, n: number): void {
    this.f64Heap().fill(value, p >>> 3, (p >>> 3) + n);
  }

  /** Copy n doubles at p into `out` (no allocation for short vectors). */
  readF64(p: number, out: Float64Array, n = out.length): Float64Array {
    const heap = this.f64Heap();
    const o = p >>> 3;
    if (n < 64) for (let i = 0; i < n; i++) out[i] = heap[o + i];
    else out.set(heap.subarray(o, o + n));
    return out;
  }

  /** The whole memory as doubles (index = byte offset / 8); invalid after growth. */
  heap(): Float64Array {
    return this.f64Heap();
  }
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
  instantiate: (module: WebAssembly.Module, imports: Record<string, Record<string, unknown>>) => { instance: WebAssembly.Instance } = (m, i) => instantiateSync(m, i),
): { exports: Kernels; memory: WebAssembly.Memory } {
  let instance: WebAssembly.Instance;
  // a threaded backend's build imports a shared memory (its workers instantiate on the same one)
  const pool = poolOf(backend);
  let imports: Record<string, Record<string, unknown>> = {};
  let member: { memory: WebAssembly.Memory; k: Kernels } | undefined;
  if (pool) {
    // ppi hands its P_π products back here while productThreads is set (a solve worth splitting)
    const parallelProduct = (P: number, indptr: number, indices: number, pi: number, v: number, out: number, S: number, A: number): void => {
      pool.product(member!, P, indptr, indices, pi, v, out, S, A);
    };
    imports = { env: { memory: pool.sharedMemory(), parallelProduct } };
  }
  try {
    ({ instance } = instantiate(backend.module, imports));
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
  member = { memory: exports.memory, k: exports };
  instanceBytes = Math.max(instanceBytes, exports.memory.buffer.byteLength);
  return { exports, memory: exports.memory };
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
