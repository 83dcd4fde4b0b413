// Seeded random problems for the benchmarks. One generator (mulberry32, as in
// tests/helpers) so every run and every build sees the same numbers; the CSR generator
// draws distinct columns by rejection (O(nnz), usable at S = 1e6).
import { TabularMDP, type Backend } from "../../src/index";
import type { RefCsr, RefDense } from "../../src/reference/index";

/** mulberry32: a tiny seeded PRNG returning doubles in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Dense MDP: every row P(·|s,a) has S strictly positive entries summing to 1. */
export function randomDense(S: number, A: number, gamma: number, seed: number): RefDense {
  const rand = mulberry32(seed);
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) {
    const base = i * S;
    let sum = 0;
    for (let j = 0; j < S; j++) {
      const w = 0.01 + rand();
      P[base + j] = w;
      sum += w;
    }
    const inv = 1 / sum;
    for (let j = 0; j < S; j++) P[base + j] *= inv;
  }
  return { kind: "dense", S, A, gamma, P };
}

/** CSR MDP: every row has k distinct, sorted random columns with positive probabilities summing to 1. */
export function randomCsr(S: number, A: number, gamma: number, k: number, seed: number): RefCsr {
  if (k < 1 || k > S) throw new RangeError(`k must be in [1, ${S}]`);
  const rand = mulberry32(seed);
  const n = S * A;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * k);
  const probs = new Float64Array(n * k);
  const cols = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let c = 0;
    while (c < k) {
      const j = Math.floor(rand() * S);
      let dup = false;
      for (let t = 0; t < c; t++) if (cols[t] === j) { dup = true; break; }
      if (!dup) cols[c++] = j;
    }
    cols.sort();
    const base = i * k;
    let sum = 0;
    for (let t = 0; t < k; t++) {
      const w = 0.01 + rand();
      indices[base + t] = cols[t];
      probs[base + t] = w;
      sum += w;
    }
    for (let t = 0; t < k; t++) probs[base + t] /= sum;
    indptr[i + 1] = base + k;
  }
  return { kind: "csr", S, A, gamma, indptr, indices, probs };
}

/** Stochastic policy table (S·A) with strictly positive rows summing to 1. */
export function randomPolicy(S: number, A: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let sum = 0;
    for (let a = 0; a < A; a++) {
      const w = 0.05 + rand();
      pi[s * A + a] = w;
      sum += w;
    }
    for (let a = 0; a < A; a++) pi[s * A + a] /= sum;
  }
  return pi;
}

/** n entries uniform in [lo, hi). */
export function randomVector(n: number, seed: number, lo = 0, hi = 1): Float64Array {
  const rand = mulberry32(seed);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rand();
  return v;
}

/** The same problem as a library MDP on the given backend (copies P into its own wasm memory). */
export function toMDP(m: RefDense | RefCsr, backend: Backend): TabularMDP {
  if (m.kind === "dense") return TabularMDP.dense({ S: m.S, A: m.A, gamma: m.gamma, P: m.P, backend });
  return TabularMDP.sparse({ S: m.S, A: m.A, gamma: m.gamma, indptr: m.indptr, indices: m.indices, probs: m.probs, backend });
}
