// How far a result is from the reference's, for the benchmarks' correctness checks (no
// Node APIs: the browser suite uses it too).

/** max_i |x_i − y_i| / max_i |y_i| (absolute when y is all zeros). */
export function maxRelDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    s = Math.max(s, Math.abs(y[i]));
  }
  return d / (s > 0 ? s : 1);
}
