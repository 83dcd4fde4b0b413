// Boundary checks shared by every public entry. Each failure throws a ShapeError or
// DomainError naming the argument, the rule, the position and the value.
import { DomainError, ShapeError } from "./errors";

/** Tolerance for "sums to 1" checks on P, π and ρ. */
export const SUM_TOL = 1e-9;

export function positiveInt(arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) throw new DomainError(arg, "must be a positive integer", v);
  return v;
}

/** The largest count a kernel's i32 parameter holds (2³¹ − 1). */
export const I32_MAX = 2147483647;

/** A positive integer that is passed to a kernel as an i32 (iteration caps, sizes, counts). */
export function positiveI32(arg: string, v: unknown): number {
  const n = positiveInt(arg, v);
  if (n > I32_MAX) throw new DomainError(arg, `must be at most 2³¹ − 1 = ${I32_MAX} (a 32-bit count in the kernels)`, v);
  return n;
}

/** An optional boolean. */
export function flag(arg: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw new DomainError(arg, "must be a boolean", v);
  return v;
}

export function finiteNumber(arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new DomainError(arg, "must be a finite number", v);
  return v;
}

export function nonNegative(arg: string, v: unknown): number {
  const x = finiteNumber(arg, v);
  if (x < 0) throw new DomainError(arg, "must be ≥ 0", v);
  return x;
}

export function discount(v: unknown): number {
  const g = finiteNumber("gamma", v);
  if (g < 0 || g >= 1) throw new DomainError("gamma", "must satisfy 0 ≤ gamma < 1", v);
  return g;
}

export function seed(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new DomainError("seed", "must be a non-negative safe integer", v);
  return v;
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** A finite Float64Array of the given length (the input itself when it already is one). */
export function float64(arg: string, v: unknown, length: number, shape?: string): Float64Array {
  if (!isArrayLike(v)) throw new ShapeError(arg, "must be a Float64Array or an array of numbers", v);
  if (v.length !== length) throw new ShapeError(arg, `must have length ${length}${shape ? ` (${shape})` : ""}`, v.length);
  const out = v instanceof Float64Array ? v : new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) throw new DomainError(arg, "entries must be finite numbers", x, i);
    if (out !== v) out[i] = x;
  }
  return out;
}

/** An Int32Array of integers (the input itself when it already is one). */
export function int32(arg: string, v: unknown, length?: number): Int32Array {
  if (!isArrayLike(v)) throw new ShapeError(arg, "must be an Int32Array or an array of integers", v);
  if (length !== undefined && v.length !== length) throw new ShapeError(arg, `must have length ${length}`, v.length);
  const out = v instanceof Int32Array ? v : new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) {
      throw new DomainError(arg, "entries must be 32-bit integers", x, i);
    }
    if (out !== v) out[i] = x;
  }
  return out;
}

/** ρ: S non-negative entries summing to 1. */
export function distribution(arg: string, v: unknown, S: number): Float64Array {
  const d = float64(arg, v, S, "S");
  let sum = 0;
  for (let i = 0; i < S; i++) {
    if (d[i] < 0) throw new DomainError(arg, "entries must be ≥ 0 (a probability distribution)", d[i], i);
    sum += d[i];
  }
  if (Math.abs(sum - 1) > SUM_TOL) throw new DomainError(arg, `must sum to 1 within ${SUM_TOL}`, sum);
  return d;
}

/** π: S·A entries, each row π(·|s) a distribution over actions. */
export function policy(arg: string, v: unknown, S: number, A: number): Float64Array {
  const p = float64(arg, v, S * A, "S·A, index s·A + a");
  for (let s = 0; s < S; s++) {
    let sum = 0;
    for (let a = 0; a < A; a++) {
      const x = p[s * A + a];
      if (x < 0) throw new DomainError(arg, "entries must be ≥ 0", x, { s, a });
      sum += x;
    }
    if (Math.abs(sum - 1) > SUM_TOL) throw new DomainError(arg, `row must sum to 1 within ${SUM_TOL}`, sum, { s });
  }
  return p;
}

/** Dense P: non-negative rows (s,a) summing to 1; reports the worst row. */
export function stochasticDense(P: Float64Array, S: number, A: number): void {
  let worst = -1, worstSum = 1, worstErr = 0;
  for (let i = 0; i < S * A; i++) {
    let sum = 0;
    const base = i * S;
    for (let j = 0; j < S; j++) {
      const x = P[base + j];
      if (x < 0) throw new DomainError("P", "entries must be ≥ 0", x, { s: Math.floor(i / A), a: i % A, next: j });
      sum += x;
    }
    const err = Math.abs(sum - 1);
    if (err > worstErr) { worst = i; worstErr = err; worstSum = sum; }
  }
  if (worstErr > SUM_TOL) {
    throw new DomainError("P", `each row must sum to 1 within ${SUM_TOL}; worst row sums to ${worstSum}`, worstSum, { s: Math.floor(worst / A), a: worst % A });
  }
}

/** CSR P's structure: indptr of length S·A + 1, from 0 and non-decreasing; indices and probs of length indptr[S·A]. */
export function csrStructure(indptr: ArrayLike<number>, indices: ArrayLike<number>, probs: ArrayLike<number>, S: number, A: number): void {
  const n = S * A;
  if (indptr.length !== n + 1) throw new ShapeError("indptr", `must have length S·A + 1 = ${n + 1}`, indptr.length);
  if (indptr[0] !== 0) throw new DomainError("indptr", "must start at 0", indptr[0], 0);
  for (let i = 0; i < n; i++) {
    if (indptr[i + 1] < indptr[i]) throw new DomainError("indptr", "must be non-decreasing", indptr[i + 1], i + 1);
  }
  const nnz = indptr[n];
  if (indices.length !== nnz) throw new ShapeError("indices", `must have length indptr[S·A] = ${nnz}`, indices.length);
  if (probs.length !== nnz) throw new ShapeError("probs", `must have length indptr[S·A] = ${nnz}`, probs.length);
}

/**
 * The entries of row i = s·A + a of a CSR P (structure checked): next states in [0, S), none
 * twice (`seen[j] === i` marks state j as seen in row i; `seen` starts filled with −1), and
 * non-negative probabilities. Returns the row's sum.
 */
export function csrRow(indptr: ArrayLike<number>, indices: ArrayLike<number>, probs: ArrayLike<number>, S: number, A: number, i: number, seen: Int32Array): number {
  let sum = 0;
  for (let k = indptr[i]; k < indptr[i + 1]; k++) {
    const j = indices[k];
    if (j < 0 || j >= S) throw new DomainError("indices", `must lie in [0, S) = [0, ${S})`, j, k);
    if (seen[j] === i) throw new DomainError("indices", "must not repeat within a row", j, { s: Math.floor(i / A), a: i % A, k });
    seen[j] = i;
    if (probs[k] < 0) throw new DomainError("probs", "entries must be ≥ 0", probs[k], k);
    sum += probs[k];
  }
  return sum;
}

/** CSR P: monotone indptr, in-range and unique column indices, stochastic rows; reports the worst row. */
export function stochasticCsr(indptr: Int32Array, indices: Int32Array, probs: Float64Array, S: number, A: number): void {
  csrStructure(indptr, indices, probs, S, A);
  const n = S * A;
  const seen = new Int32Array(S).fill(-1);
  let worst = -1, worstSum = 1, worstErr = 0;
  for (let i = 0; i < n; i++) {
    const sum = csrRow(indptr, indices, probs, S, A, i, seen);
    const err = Math.abs(sum - 1);
    if (err > worstErr) { worst = i; worstErr = err; worstSum = sum; }
  }
  if (worstErr > SUM_TOL) {
    throw new DomainError("P", `each row must sum to 1 within ${SUM_TOL}; worst row sums to ${worstSum}`, worstSum, { s: Math.floor(worst / A), a: worst % A });
  }
}

/**
 * Terminal states (docs/math.md#terminal-states) as a mask of length S (1 = terminal): from
 * booleans or a Uint8Array of 0/1 (a mask of length S), or from numbers (an array of
 * distinct state indices in [0, S)). Returns undefined when no state is terminal.
 */
export function terminal(arg: string, v: unknown, S: number): Uint8Array | undefined {
  if (!isArrayLike(v)) throw new ShapeError(arg, "must be a mask (booleans or a Uint8Array of 0/1, length S) or an array of state indices", v);
  const mask = new Uint8Array(S);
  const bytes = v instanceof Uint8Array;
  if (bytes || (v.length > 0 && typeof v[0] === "boolean")) {
    if (v.length !== S) throw new ShapeError(arg, `a mask must have length S = ${S}`, v.length);
    for (let s = 0; s < S; s++) {
      const x = v[s];
      if (x === true || (bytes && x === 1)) mask[s] = 1;
      else if (bytes ? x !== 0 : x !== false) throw new DomainError(arg, bytes ? "mask entries must be 0 or 1" : "mask entries must all be booleans", x, s);
    }
  } else {
    for (let i = 0; i < v.length; i++) {
      const s = v[i];
      if (typeof s !== "number" || !Number.isInteger(s) || s < 0 || s >= S) throw new DomainError(arg, `state indices must be integers in [0, S) = [0, ${S})`, s, i);
      if (mask[s]) throw new DomainError(arg, "must not list a state twice", s, i);
      mask[s] = 1;
    }
  }
  return mask.includes(1) ? mask : undefined;
}
