// exp(x) for the max-shifted arguments x = (Q(s,a) − max_a Q(s,·))/τ ≤ 0 of the soft
// backup. A general exp spends branches on overflow, NaN and tiny |x| (the maximiser's
// own x = 0 is one of those, once per state and unpredictably placed); here x ≤ 0 and
// only x < −708 (a subnormal or zero result) leaves the straight path.
//   x = k·ln2/128 + r, |r| ≤ ln2/256;  exp(x) = 2^(k/128)·(1 + tail_k)·exp(r),
//   exp(r) − 1 ≈ r + r²/2 + r³/6 + r⁴/24 + r⁵/120   (truncation below 2^-60 on |r| ≤ ln2/256).
// The SIMD path evaluates two lanes with the same operations in the same order as the
// scalar one, so both builds give the same bits.
import { EXP_TABLE } from "./expTable";

// @ts-ignore: decorator
@inline const INV_LN2_N: f64 = 184.6649652337873;                        // 128/ln2
// @ts-ignore: decorator
@inline const NEG_LN2_HI_N: f64 = reinterpret<f64>(0xBF762E42FEFA0000);  // −ln2/128, 42 bits: k·hi is exact
// @ts-ignore: decorator
@inline const NEG_LN2_LO_N: f64 = reinterpret<f64>(0xBD0CF79ABC9E3B3A);  // the rest of −ln2/128
// @ts-ignore: decorator
@inline const SHIFT: f64 = 6755399441055744.0;                           // 1.5·2^52: x + SHIFT rounds to an integer
// @ts-ignore: decorator
@inline const LOWEST: f64 = -708.0;                                      // below: leave it to Math.exp
// @ts-ignore: decorator
@inline const C2: f64 = 0.5;
// @ts-ignore: decorator
@inline const C3: f64 = 0.16666666666666666;
// @ts-ignore: decorator
@inline const C4: f64 = 0.041666666666666664;
// @ts-ignore: decorator
@inline const C5: f64 = 0.008333333333333333;

/** exp(x) for x ≤ 0 (any x is accepted; x < −708 and NaN go to Math.exp). */
// @ts-ignore: decorator
@inline
export function expNeg(x: f64): f64 {
  if (!(x >= LOWEST)) return Math.exp(x);
  let kd = INV_LN2_N * x + SHIFT;
  const ki = reinterpret<u64>(kd);
  kd -= SHIFT;
  const r = x + kd * NEG_LN2_HI_N + kd * NEG_LN2_LO_N;
  const t = EXP_TABLE + (<usize>(ki & 127) << 4);
  const scale = reinterpret<f64>(load<u64>(t, 8) + (ki << 45));
  const r2 = r * r;
  const tmp = load<f64>(t) + r + r2 * (C2 + r * C3) + r2 * r2 * (C4 + r * C5);
  return scale + scale * tmp;
}

/** expNeg on both lanes of an f64x2 (SIMD build only). */
// @ts-ignore: decorator
@inline
export function expNeg2(x: v128): v128 {
  if (!v128.all_true<i64>(f64x2.ge(x, f64x2.splat(LOWEST)))) {
    return f64x2.replace_lane(f64x2.splat(expNeg(f64x2.extract_lane(x, 0))), 1, expNeg(f64x2.extract_lane(x, 1)));
  }
  const shift = f64x2.splat(SHIFT);
  let kd = f64x2.add(f64x2.mul(f64x2.splat(INV_LN2_N), x), shift);
  const ki = kd;
  kd = f64x2.sub(kd, shift);
  const r = f64x2.add(f64x2.add(x, f64x2.mul(kd, f64x2.splat(NEG_LN2_HI_N))), f64x2.mul(kd, f64x2.splat(NEG_LN2_LO_N)));
  const t0 = EXP_TABLE + (<usize>(i64x2.extract_lane(ki, 0) & 127) << 4);
  const t1 = EXP_TABLE + (<usize>(i64x2.extract_lane(ki, 1) & 127) << 4);
  const tail = f64x2.replace_lane(f64x2.splat(load<f64>(t0)), 1, load<f64>(t1));
  const sbits = i64x2.replace_lane(i64x2.splat(load<i64>(t0, 8)), 1, load<i64>(t1, 8));
  const scale = i64x2.add(sbits, i64x2.shl(ki, 45));
  const r2 = f64x2.mul(r, r);
  const p1 = f64x2.mul(r2, f64x2.add(f64x2.splat(C2), f64x2.mul(r, f64x2.splat(C3))));
  const p2 = f64x2.mul(f64x2.mul(r2, r2), f64x2.add(f64x2.splat(C4), f64x2.mul(r, f64x2.splat(C5))));
  const tmp = f64x2.add(f64x2.add(f64x2.add(tail, r), p1), p2);
  return f64x2.add(scale, f64x2.mul(scale, tmp));
}
