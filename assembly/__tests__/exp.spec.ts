// Specs for assembly/exp.ts: expNeg (both builds) and expNeg2 (SIMD build).
import { expNeg, expNeg2 } from "../exp";
import { Lcg, bits } from "./helpers";

// Distance in units in the last place between two positive doubles.
function ulps(a: f64, b: f64): i64 {
  const d = <i64>reinterpret<u64>(a) - <i64>reinterpret<u64>(b);
  return d < 0 ? -d : d;
}

describe("expNeg", () => {
  it("is within 1 ulp of Math.exp on 200 000 points of [−708, 0]", () => {
    const rng = new Lcg(5);
    let worst: i64 = 0;
    for (let i = 0; i < 200000; i++) {
      // half the points on [−1, 0], where the soft backup's arguments mostly are
      const x = i & 1 ? rng.range(-1.0, 0.0) : rng.range(-708.0, 0.0);
      const u = ulps(expNeg(x), Math.exp(x));
      if (u > worst) worst = u;
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it("is exact where exp is: exp(0) = 1, exp(−0) = 1, exp(−k·ln2) a power of two to 1 ulp", () => {
    expect(expNeg(0.0)).toBe(1.0);
    expect(expNeg(-0.0)).toBe(1.0);
    expect(ulps(expNeg(-10.0 * Math.LN2), 1.0 / 1024.0)).toBeLessThanOrEqual(1);
  });

  it("hands x < −708, −∞ and NaN to Math.exp: subnormals, 0 and NaN", () => {
    expect(bits(expNeg(-708.5))).toBe(bits(Math.exp(-708.5)));
    expect(bits(expNeg(-740.0))).toBe(bits(Math.exp(-740.0)));
    expect(expNeg(-800.0)).toBe(0.0);
    expect(expNeg(-Infinity)).toBe(0.0);
    expect(isNaN(expNeg(NaN))).toBe(true);
  });
});

describe("expNeg2", () => {
  it("gives both lanes the bits of expNeg, on the straight path and on mixed lanes", () => {
    if (!ASC_FEATURE_SIMD) {
      log("scalar build: expNeg2 is SIMD-only");
      return;
    }
    const rng = new Lcg(9);
    let mismatches = 0;
    for (let i = 0; i < 20000; i++) {
      const x0 = rng.range(-30.0, 0.0), x1 = i % 97 == 0 ? -720.0 : rng.range(-30.0, 0.0);
      const e = expNeg2(f64x2.replace_lane(f64x2.splat(x0), 1, x1));
      if (bits(f64x2.extract_lane(e, 0)) != bits(expNeg(x0))) mismatches++;
      if (bits(f64x2.extract_lane(e, 1)) != bits(expNeg(x1))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
