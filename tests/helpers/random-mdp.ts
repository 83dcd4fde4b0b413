// Seeded random tabular MDPs, policies and vectors for tests. Uses its own mulberry32
// generator, independent of the library's xoshiro128**, so tests never share its stream.
import type { RefCsr, RefDense } from '../../src/reference/index.js';

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
    let sum = 0;
    for (let j = 0; j < S; j++) {
      const w = 0.01 + rand();
      P[i * S + j] = w;
      sum += w;
    }
    for (let j = 0; j < S; j++) P[i * S + j] /= sum;
  }
  return { kind: 'dense', S, A, gamma, P };
}

/**
 * CSR MDP: every row has nnzPerRow distinct, sorted columns with positive probabilities
 * summing to 1. The columns are a partial Fisher–Yates shuffle whose swaps are undone after
 * each row, so a row costs O(nnzPerRow) and S = 1e6 is fine (the benchmarks use it too).
 */
export function randomCsr(S: number, A: number, gamma: number, nnzPerRow: number, seed: number): RefCsr {
  if (nnzPerRow < 1 || nnzPerRow > S) throw new RangeError(`nnzPerRow must be in [1, ${S}]; got ${nnzPerRow}`);
  const rand = mulberry32(seed);
  const n = S * A;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * nnzPerRow);
  const probs = new Float64Array(n * nnzPerRow);
  const perm = new Int32Array(S);
  for (let j = 0; j < S; j++) perm[j] = j;
  const swapped = new Int32Array(nnzPerRow);
  const cols = new Int32Array(nnzPerRow);
  for (let i = 0; i < n; i++) {
    // partial Fisher–Yates: the first nnzPerRow entries are a uniform random subset
    for (let j = 0; j < nnzPerRow; j++) {
      const k = j + Math.floor(rand() * (S - j));
      swapped[j] = k;
      const t = perm[j];
      perm[j] = perm[k];
      perm[k] = t;
    }
    cols.set(perm.subarray(0, nnzPerRow));
    cols.sort();
    for (let j = nnzPerRow - 1; j >= 0; j--) {
      const k = swapped[j];
      const t = perm[j];
      perm[j] = perm[k];
      perm[k] = t;
    }
    const base = i * nnzPerRow;
    let sum = 0;
    for (let j = 0; j < nnzPerRow; j++) {
      const w = 0.01 + rand();
      indices[base + j] = cols[j];
      probs[base + j] = w;
      sum += w;
    }
    for (let j = 0; j < nnzPerRow; j++) probs[base + j] /= sum;
    indptr[i + 1] = base + nnzPerRow;
  }
  return { kind: 'csr', S, A, gamma, indptr, indices, probs };
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

/** Vector of n entries uniform in [lo, hi) (default [−1, 1)). */
export function randomVector(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const rand = mulberry32(seed);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rand();
  return v;
}
