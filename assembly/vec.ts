// Shared vector helpers for the kernels. Pointers are byte offsets laid out by the
// host (16-byte aligned). Each helper has a SIMD path and a scalar twin that adds in
// the same order as the SIMD lanes, so both builds give the same bits.

// Σ x[i]·y[i] over n doubles. Called once per row by every sweep and product.
// @ts-ignore: decorator
@inline
export function dot(x: usize, y: usize, n: i32): f64 {
  let i = 0;
  let sum: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 3;
      a0 = f64x2.add(a0, f64x2.mul(v128.load(x + o), v128.load(y + o)));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(x + o, 32), v128.load(y + o, 32)));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(x + o, 48), v128.load(y + o, 48)));
    }
    let a = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      a = f64x2.add(a, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    }
    sum = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  } else {
    // lanes: (l0,l1) of a0..a3, combined as the SIMD path combines them
    let a00: f64 = 0, a01: f64 = 0, a10: f64 = 0, a11: f64 = 0;
    let a20: f64 = 0, a21: f64 = 0, a30: f64 = 0, a31: f64 = 0;
    for (; i + 8 <= n; i += 8) {
      const px = x + (<usize>i << 3), py = y + (<usize>i << 3);
      a00 += load<f64>(px) * load<f64>(py);
      a01 += load<f64>(px, 8) * load<f64>(py, 8);
      a10 += load<f64>(px, 16) * load<f64>(py, 16);
      a11 += load<f64>(px, 24) * load<f64>(py, 24);
      a20 += load<f64>(px, 32) * load<f64>(py, 32);
      a21 += load<f64>(px, 40) * load<f64>(py, 40);
      a30 += load<f64>(px, 48) * load<f64>(py, 48);
      a31 += load<f64>(px, 56) * load<f64>(py, 56);
    }
    let l0 = (a00 + a10) + (a20 + a30);
    let l1 = (a01 + a11) + (a21 + a31);
    for (; i + 2 <= n; i += 2) {
      const px = x + (<usize>i << 3), py = y + (<usize>i << 3);
      l0 += load<f64>(px) * load<f64>(py);
      l1 += load<f64>(px, 8) * load<f64>(py, 8);
    }
    sum = l0 + l1;
  }
  if (i < n) sum += load<f64>(x + (<usize>i << 3)) * load<f64>(y + (<usize>i << 3));
  return sum;
}

// y[i] += alpha·x[i] over n doubles (element-wise, so both builds agree bit for bit).
// @ts-ignore: decorator
@inline
export function axpy(y: usize, alpha: f64, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f64x2.splat(alpha);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(va, v128.load(x + o))));
      v128.store(y + o, f64x2.add(v128.load(y + o, 16), f64x2.mul(va, v128.load(x + o, 16))), 16);
    }
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(va, v128.load(x + o))));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const py = y + (<usize>i << 3), px = x + (<usize>i << 3);
      store<f64>(py, load<f64>(py) + alpha * load<f64>(px));
      store<f64>(py, load<f64>(py, 8) + alpha * load<f64>(px, 8), 8);
      store<f64>(py, load<f64>(py, 16) + alpha * load<f64>(px, 16), 16);
      store<f64>(py, load<f64>(py, 24) + alpha * load<f64>(px, 24), 24);
    }
  }
  for (; i < n; i++) {
    const py = y + (<usize>i << 3);
    store<f64>(py, load<f64>(py) + alpha * load<f64>(x + (<usize>i << 3)));
  }
}

// y[i] = (y[i] + a1·x1[i]) + a2·x2[i]: two axpy passes fused into one sweep over y, with
// the same two roundings per element as two separate axpy calls.
// @ts-ignore: decorator
@inline
export function axpy2(y: usize, a1: f64, x1: usize, a2: f64, x2: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v1 = f64x2.splat(a1), v2 = f64x2.splat(a2);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const t0 = f64x2.add(v128.load(y + o), f64x2.mul(v1, v128.load(x1 + o)));
      const t1 = f64x2.add(v128.load(y + o, 16), f64x2.mul(v1, v128.load(x1 + o, 16)));
      v128.store(y + o, f64x2.add(t0, f64x2.mul(v2, v128.load(x2 + o))));
      v128.store(y + o, f64x2.add(t1, f64x2.mul(v2, v128.load(x2 + o, 16))), 16);
    }
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(y + o, f64x2.add(f64x2.add(v128.load(y + o), f64x2.mul(v1, v128.load(x1 + o))), f64x2.mul(v2, v128.load(x2 + o))));
    }
  } else {
    for (; i + 2 <= n; i += 2) {
      const py = y + (<usize>i << 3), p1 = x1 + (<usize>i << 3), p2 = x2 + (<usize>i << 3);
      store<f64>(py, (load<f64>(py) + a1 * load<f64>(p1)) + a2 * load<f64>(p2));
      store<f64>(py, (load<f64>(py, 8) + a1 * load<f64>(p1, 8)) + a2 * load<f64>(p2, 8), 8);
    }
  }
  for (; i < n; i++) {
    const py = y + (<usize>i << 3);
    store<f64>(py, (load<f64>(py) + a1 * load<f64>(x1 + (<usize>i << 3))) + a2 * load<f64>(x2 + (<usize>i << 3)));
  }
}

// Σ probs[k]·v[indices[k]] over one CSR row [k0, k1).
// @ts-ignore: decorator
@inline
export function csrDot(indices: usize, probs: usize, v: usize, k0: i32, k1: i32): f64 {
  let k = k0;
  let sum: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a = f64x2.splat(0);
    for (; k + 2 <= k1; k += 2) {
      const pi = indices + (<usize>k << 2);
      const g = f64x2.replace_lane(
        f64x2.splat(load<f64>(v + (<usize>load<i32>(pi) << 3))), 1,
        load<f64>(v + (<usize>load<i32>(pi, 4) << 3)));
      a = f64x2.add(a, f64x2.mul(v128.load(probs + (<usize>k << 3)), g));
    }
    sum = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  } else {
    let l0: f64 = 0, l1: f64 = 0;
    for (; k + 2 <= k1; k += 2) {
      const pi = indices + (<usize>k << 2), pp = probs + (<usize>k << 3);
      l0 += load<f64>(pp) * load<f64>(v + (<usize>load<i32>(pi) << 3));
      l1 += load<f64>(pp, 8) * load<f64>(v + (<usize>load<i32>(pi, 4) << 3));
    }
    sum = l0 + l1;
  }
  if (k < k1) sum += load<f64>(probs + (<usize>k << 3)) * load<f64>(v + (<usize>load<i32>(indices + (<usize>k << 2)) << 3));
  return sum;
}

// Fill n doubles with a value.
// @ts-ignore: decorator
@inline
export function fill(x: usize, value: f64, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(x + (<usize>i << 3), value);
}

// Right-hand sides with max|b_i| outside [2^-400, 2^400] are solved as σb with σ a power of
// two: sums of squares of b and of residuals then neither overflow nor underflow, and
// multiplying by σ (and by 1/σ afterwards) is exact. Inside the range σ = 1, which leaves
// ordinary solves bit for bit as they were.
const SCALE_LO: f64 = 3.872591914849318e-121; // 2^-400
const SCALE_HI: f64 = 2.5822498780869086e120; // 2^400

// σ = 2^-e with 2^(e-1) ≤ max|x_i| < 2^e (clamped to [2^-1022, 2^1022]), or 1 when max|x_i|
// is 0, not finite or within [2^-400, 2^400]. A max is order-free: both builds agree.
export function pow2Scale(x: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = abs(load<f64>(x + (<usize>i << 3)));
    if (v > m) m = v;
  }
  if (!(m < Infinity) || m == 0 || (m >= SCALE_LO && m <= SCALE_HI)) return 1.0;
  const biased = <i32>((reinterpret<u64>(m) >> 52) & 0x7ff); // 0 for subnormals
  let k = 1022 - biased; // σ = 2^k puts max|x| into [0.5, 1) for normal m
  if (k > 1022) k = 1022;
  if (k < -1022) k = -1022;
  return reinterpret<f64>(<u64>(k + 1023) << 52);
}

// Σ (σx_i)² over n doubles, in the lane order of dot (with σ = 1, the bits of dot(x, x, n)).
// @ts-ignore: decorator
@inline
export function sumSquaresScaled(x: usize, sigma: f64, n: i32): f64 {
  let i = 0;
  let sum: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f64x2.splat(sigma);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 3;
      const v0 = f64x2.mul(vs, v128.load(x + o)), v1 = f64x2.mul(vs, v128.load(x + o, 16));
      const v2 = f64x2.mul(vs, v128.load(x + o, 32)), v3 = f64x2.mul(vs, v128.load(x + o, 48));
      a0 = f64x2.add(a0, f64x2.mul(v0, v0));
      a1 = f64x2.add(a1, f64x2.mul(v1, v1));
      a2 = f64x2.add(a2, f64x2.mul(v2, v2));
      a3 = f64x2.add(a3, f64x2.mul(v3, v3));
    }
    let a = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    for (; i + 2 <= n; i += 2) {
      const v = f64x2.mul(vs, v128.load(x + (<usize>i << 3)));
      a = f64x2.add(a, f64x2.mul(v, v));
    }
    sum = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  } else {
    let a00: f64 = 0, a01: f64 = 0, a10: f64 = 0, a11: f64 = 0;
    let a20: f64 = 0, a21: f64 = 0, a30: f64 = 0, a31: f64 = 0;
    for (; i + 8 <= n; i += 8) {
      const px = x + (<usize>i << 3);
      const v0 = sigma * load<f64>(px), v1 = sigma * load<f64>(px, 8), v2 = sigma * load<f64>(px, 16), v3 = sigma * load<f64>(px, 24);
      const v4 = sigma * load<f64>(px, 32), v5 = sigma * load<f64>(px, 40), v6 = sigma * load<f64>(px, 48), v7 = sigma * load<f64>(px, 56);
      a00 += v0 * v0; a01 += v1 * v1; a10 += v2 * v2; a11 += v3 * v3;
      a20 += v4 * v4; a21 += v5 * v5; a30 += v6 * v6; a31 += v7 * v7;
    }
    let l0 = (a00 + a10) + (a20 + a30);
    let l1 = (a01 + a11) + (a21 + a31);
    for (; i + 2 <= n; i += 2) {
      const px = x + (<usize>i << 3);
      const v0 = sigma * load<f64>(px), v1 = sigma * load<f64>(px, 8);
      l0 += v0 * v0;
      l1 += v1 * v1;
    }
    sum = l0 + l1;
  }
  if (i < n) {
    const v = sigma * load<f64>(x + (<usize>i << 3));
    sum += v * v;
  }
  return sum;
}

// x[i] *= c over n doubles (element-wise; c a power of two is exact).
// @ts-ignore: decorator
@inline
export function scale(x: usize, c: f64, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 3);
    store<f64>(p, c * load<f64>(p));
  }
}
