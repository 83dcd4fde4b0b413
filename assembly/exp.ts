// e^x on (−∞, 0] for the soft maximum of the Bellman sweeps. Not re-exported by index.ts:
// the scalar build must not see the v128 signature of expNeg2 (only reached under
// ASC_FEATURE_SIMD). Specs import this file directly.
// After the max shift every exponent is ≤ 0, so the sweep only needs e^x on (−∞, 0]:
// x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^13 (error < 2e-17), and
// 2^k from its bits. Results below e^−708 (relative to a term equal to 1) flush to 0.
// About 30 operations instead of the library exp's ~100, and two lanes at once.
const INV_LN2: f64 = 1.44269504088896338700;
const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const ROUND: f64 = 6755399441055744.0; // 1.5·2^52: adding it rounds to an integer in the low bits
const EXP_FLUSH: f64 = -708.0;

// @ts-ignore: decorator
@inline
function expPoly(r: f64): f64 {
  let p: f64 = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  return 1.0 + (r + r * r * p);
}

// e^x for x ≤ 0 (scalar; the lane-wise twin of expNeg2).
// @ts-ignore: decorator
@inline
export function expNeg(x: f64): f64 {
  if (!(x >= EXP_FLUSH)) return 0;
  const kk = x * INV_LN2 + ROUND;
  const k = kk - ROUND;
  const r = (x - k * LN2_HI) - k * LN2_LO;
  const scale = reinterpret<f64>((reinterpret<i64>(kk) - reinterpret<i64>(ROUND) + 1023) << 52);
  return expPoly(r) * scale;
}

// e^x lane by lane for two x ≤ 0, the same operations as expNeg in each lane.
// @ts-ignore: decorator
@inline
export function expNeg2(x: v128): v128 {
  const kk = f64x2.add(f64x2.mul(x, f64x2.splat(INV_LN2)), f64x2.splat(ROUND));
  const k = f64x2.sub(kk, f64x2.splat(ROUND));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  let p = f64x2.splat(1.0 / 6227020800.0);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 479001600.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  const er = f64x2.add(f64x2.splat(1.0), f64x2.add(r, f64x2.mul(f64x2.mul(r, r), p)));
  const bits = i64x2.shl(i64x2.add(i64x2.sub(kk, i64x2.splat(reinterpret<i64>(ROUND))), i64x2.splat(1023)), 52);
  const e = f64x2.mul(er, bits);
  // lanes below the flush threshold (or NaN) → 0
  return v128.and(e, f64x2.ge(x, f64x2.splat(EXP_FLUSH)));
}
