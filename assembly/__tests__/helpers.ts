// Shared helpers for the kernel specs (imported by the specs; not a spec itself).
// Kernels take byte offsets into linear memory: the specs allocate typed arrays and
// pass `arr.dataStart` (16-byte aligned by the runtime's allocator).

/** A Float64Array holding the given values. */
export function f64s(values: f64[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** An Int32Array holding the given values. */
export function i32s(values: i32[]): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** A copy of a Float64Array. */
export function copyOf(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

/** Deterministic pseudo-random numbers for test data (a 32-bit LCG, independent of the
 *  kernels' own generator). */
export class Lcg {
  state: u32;
  constructor(seed: u32) { this.state = seed; }
  /** Next 32-bit output. */
  nextU32(): u32 {
    this.state = this.state * 1664525 + 1013904223;
    return this.state;
  }
  /** Uniform in [0, 1) with 53 random bits. Full-width mantissas matter: with short
   *  ones, sums of products are exact in any order and lane-order tests prove nothing. */
  next(): f64 {
    const hi = this.nextU32() >>> 5, lo = this.nextU32() >>> 6;
    return (<f64>hi * 67108864.0 + <f64>lo) / 9007199254740992.0;
  }
  /** Uniform in [lo, hi). */
  range(lo: f64, hi: f64): f64 { return lo + (hi - lo) * this.next(); }
}

/** rows × cols row-stochastic matrix (row-major). When sparse, roughly a third of
 *  the entries are exactly zero (every row keeps at least one positive entry). */
export function randomStochastic(rows: i32, cols: i32, rng: Lcg, sparse: bool): Float64Array {
  const P = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) {
      let p = rng.range(0.1, 1.0);
      if (sparse && j != i % cols && rng.next() < 0.35) p = 0;
      P[i * cols + j] = p;
      sum += p;
    }
    for (let j = 0; j < cols; j++) P[i * cols + j] /= sum;
  }
  return P;
}

/** A matrix in CSR form. */
export class Csr {
  indptr: Int32Array;
  indices: Int32Array;
  probs: Float64Array;
  constructor(indptr: Int32Array, indices: Int32Array, probs: Float64Array) {
    this.indptr = indptr;
    this.indices = indices;
    this.probs = probs;
  }
}

/** CSR form of a dense rows × cols matrix, keeping only its nonzero entries. */
export function denseToCsr(P: Float64Array, rows: i32, cols: i32): Csr {
  let nnz = 0;
  for (let i = 0; i < rows * cols; i++) if (P[i] != 0) nnz++;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const probs = new Float64Array(nnz);
  let k = 0;
  for (let i = 0; i < rows; i++) {
    indptr[i] = k;
    for (let j = 0; j < cols; j++) {
      const p = P[i * cols + j];
      if (p != 0) { indices[k] = j; probs[k] = p; k++; }
    }
  }
  indptr[rows] = k;
  return new Csr(indptr, indices, probs);
}

/** |a − b| / max(|a|, |b|, tiny): relative difference, 0 when both are 0. */
export function relDiff(a: f64, b: f64): f64 {
  const d = abs(a - b);
  if (d == 0) return 0;
  return d / max(max(abs(a), abs(b)), 1e-300);
}

/** max_i |a[i] − b[i]| / max(‖b‖∞, tiny). */
export function relDiffInf(a: Float64Array, b: Float64Array, n: i32): f64 {
  let d: f64 = 0, s: f64 = 0;
  for (let i = 0; i < n; i++) {
    d = max(d, abs(a[i] - b[i]));
    s = max(s, abs(b[i]));
  }
  return d == 0 ? 0 : d / max(s, 1e-300);
}

/** Σ x[i]·y[i] summed left to right. */
export function naiveDot(x: Float64Array, y: Float64Array, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

/** Bits of a double, for exact (bit for bit) comparisons. */
// @ts-ignore: decorator
@inline
export function bits(x: f64): u64 { return reinterpret<u64>(x); }
