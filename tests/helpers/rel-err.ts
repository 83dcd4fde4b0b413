// The two relative-error helpers the bilevel tests compare gradients with. Both are
// ‖a − b‖∞ / ‖b‖∞ with b the reference; they differ only at the edges, and each test file
// keeps the one it was written against.
import { expect } from 'vitest';
import { maxAbs } from './compare.js';

/** ‖a − b‖∞ / ‖b‖∞ over b's entries; NaN or Infinity when b is all zeros, so a `< tol` check fails. */
export function relErrInf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let k = 0; k < b.length; k++) {
    num = Math.max(num, Math.abs(a[k] - b[k]));
    den = Math.max(den, Math.abs(b[k]));
  }
  return num / den;
}

/** ‖a − b‖∞ / max(‖b‖∞, 1e-300), after expecting a and b to have the same length. */
export function relErrChecked(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / Math.max(maxAbs(b), 1e-300);
}
