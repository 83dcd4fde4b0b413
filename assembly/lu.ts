// Dense LU with partial pivoting, PA = LU, stored in place (row-major n × n), for
// (I − γP_π) and its transpose at small and medium S. Called once per exact solve.
import { dot, axpy } from "./vec";

// Factor M in place; piv[k] is the row swapped with row k. Returns 0, or k + 1 when the
// k-th pivot is exactly zero (singular matrix).
export function luFactor(M: usize, piv: usize, n: i32): i32 {
  const row = <usize>n << 3;
  for (let k = 0; k < n; k++) {
    const ck = <usize>k << 3;
    let p = k;
    let best = abs(load<f64>(M + <usize>k * row + ck));
    for (let i = k + 1; i < n; i++) {
      const v = abs(load<f64>(M + <usize>i * row + ck));
      if (v > best) { best = v; p = i; }
    }
    store<i32>(piv + (<usize>k << 2), p);
    if (best == 0) return k + 1;
    const mk = M + <usize>k * row;
    if (p != k) {
      const mp = M + <usize>p * row;
      for (let j = 0; j < n; j++) {
        const o = <usize>j << 3;
        const t = load<f64>(mk + o);
        store<f64>(mk + o, load<f64>(mp + o));
        store<f64>(mp + o, t);
      }
    }
    const inv = 1.0 / load<f64>(mk + ck);
    const len = n - k - 1;
    const src = mk + ck + 8;
    for (let i = k + 1; i < n; i++) {
      const mi = M + <usize>i * row;
      const l = load<f64>(mi + ck) * inv;
      store<f64>(mi + ck, l);
      if (l != 0) axpy(mi + ck + 8, -l, src, len);
    }
  }
  return 0;
}

// Solve M x = b in place in b, given luFactor's output.
export function luSolve(M: usize, piv: usize, b: usize, n: i32): void {
  const row = <usize>n << 3;
  for (let k = 0; k < n; k++) {
    const p = load<i32>(piv + (<usize>k << 2));
    if (p != k) {
      const a = b + (<usize>k << 3), c = b + (<usize>p << 3);
      const t = load<f64>(a);
      store<f64>(a, load<f64>(c));
      store<f64>(c, t);
    }
  }
  for (let i = 1; i < n; i++) {
    const o = b + (<usize>i << 3);
    store<f64>(o, load<f64>(o) - dot(M + <usize>i * row, b, i));
  }
  for (let i = n - 1; i >= 0; i--) {
    const mi = M + <usize>i * row;
    const o = b + (<usize>i << 3);
    const tail = <usize>(i + 1) << 3;
    store<f64>(o, (load<f64>(o) - dot(mi + tail, b + tail, n - i - 1)) / load<f64>(mi + (<usize>i << 3)));
  }
}
