// Single-thread memory read bandwidth, measured three ways on a buffer far larger than
// any cache. The figure used as the ceiling for the dense sweep is the wasm `dot`
// kernel of the SIMD build (the same inner loop the dense sweep runs per row of P),
// called directly on a private instance of build/bilevel-simd.wasm.
import { readFileSync } from "node:fs";

const PAGE = 65536;

export interface DotKernel {
  /** Σ x[i]·y[i] over n doubles; x, y are byte offsets into `memory`. */
  dot(x: number, y: number, n: number): number;
  memory: WebAssembly.Memory;
  /** Byte offsets of two disjoint vectors of `n` doubles, each filled with ones. */
  x: number;
  y: number;
  n: number;
}

/** A fresh instance of a kernel build with two vectors of `bytesEach` bytes laid out above heapBase(). */
export function dotKernel(wasmPath: string, bytesEach: number): DotKernel {
  const mod = new WebAssembly.Module(readFileSync(wasmPath));
  const inst = new WebAssembly.Instance(mod, {});
  const ex = inst.exports as unknown as { memory: WebAssembly.Memory; heapBase(): number; dot(x: number, y: number, n: number): number };
  const align = (p: number) => Math.ceil(p / 64) * 64;
  const x = align(ex.heapBase());
  const y = align(x + bytesEach);
  const end = y + bytesEach;
  const have = ex.memory.buffer.byteLength;
  if (end > have) ex.memory.grow(Math.ceil((end - have) / PAGE));
  const n = bytesEach / 8;
  // touch every page so the timed loop measures reads, not page faults
  new Float64Array(ex.memory.buffer, x, n).fill(1);
  new Float64Array(ex.memory.buffer, y, n).fill(1);
  return { dot: ex.dot, memory: ex.memory, x, y, n };
}

/** Plain JS sum over a Float64Array (one read stream, scalar, bounds-checked). */
export function jsSum(a: Float64Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  for (; i < n; i++) s0 += a[i];
  return s0 + s1 + s2 + s3;
}
