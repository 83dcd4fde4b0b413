// Comparison helpers shared by the node and browser tests: normwise relative error,
// bitwise equality with the first differing position, and the RefMDP → TabularMDP bridge.
// No vitest and no Node imports here, so the browser project can load it unchanged.
import { TabularMDP, type Backend } from "../../src/index";
import type { RefMDP } from "../../src/reference/index";

export type NumArray = Float64Array | Int32Array;

/**
 * The tests' one relative error: normwise ‖a − b‖∞ / ‖b‖∞, b the trusted value. 0 when a
 * and b are equal (also both all zeros); Infinity on a length mismatch, when either side
 * holds NaN or ±Infinity, or when b is all zeros and a is not. So `relErr(a, b) <= tol`
 * passes only for two finite arrays of the same length, and `relErr(a, b) > tol` (they
 * differ) also holds for arrays that cannot be compared. Tested in tests/rel-err.test.ts.
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
    const d = Math.abs(x - y);
    if (d > diff) diff = d;
    if (Math.abs(y) > norm) norm = Math.abs(y);
  }
  if (diff === 0) return 0;
  return norm === 0 ? Infinity : diff / norm;
}

/** ‖x‖∞. */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/**
 * Bitwise comparison of two arrays of the same type: undefined when every element has
 * the same bits (so +0 ≠ −0 and NaN payloads count), otherwise a description of the
 * first difference.
 */
export function firstBitDiff(a: NumArray, b: NumArray): string | undefined {
  if (a.constructor !== b.constructor) return `types differ: ${a.constructor.name} vs ${b.constructor.name}`;
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const width = a.BYTES_PER_ELEMENT;
  for (let k = 0; k < ua.length; k++) {
    if (ua[k] !== ub[k]) {
      const i = Math.floor(k / width);
      return `element ${i} differs: ${a[i]} vs ${b[i]} (difference ${a[i] - b[i]})`;
    }
  }
  return undefined;
}

/** The same transitions as a TabularMDP on the given build. */
export function toTabular(m: RefMDP, backend: Backend, rho?: Float64Array): TabularMDP {
  if (m.kind === "dense") return TabularMDP.dense({ S: m.S, A: m.A, gamma: m.gamma, P: m.P, rho, backend });
  return TabularMDP.sparse({
    S: m.S,
    A: m.A,
    gamma: m.gamma,
    indptr: m.indptr,
    indices: m.indices,
    probs: m.probs,
    rho,
    backend,
  });
}

/** Dense (S·A, S) row-major copy of a RefMDP's transitions. */
export function denseP(m: RefMDP): Float64Array {
  if (m.kind === "dense") return Float64Array.from(m.P);
  const P = new Float64Array(m.S * m.A * m.S);
  for (let i = 0; i < m.S * m.A; i++) {
    for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) P[i * m.S + m.indices[k]] += m.probs[k];
  }
  return P;
}

/** Uniform initial distribution of length S. */
export function uniform(S: number): Float64Array {
  return new Float64Array(S).fill(1 / S);
}

/** Dense (S·A × S) copy of a library MDP's transitions, whatever its storage. */
export function denseOf(mdp: TabularMDP): Float64Array {
  const t = mdp.transitions();
  if ("P" in t) return t.P;
  const { S, A } = mdp;
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) for (let k = t.indptr[i]; k < t.indptr[i + 1]; k++) P[i * S + t.indices[k]] += t.probs[k];
  return P;
}
