// Specs for assembly/exp.ts: e^x on (−∞, 0] for the soft maximum.
import { expNeg, expNeg2 } from "../exp";
import { Lcg, bits } from "./helpers";

describe("expNeg", () => {
  it("stays within 2 ulp of the library exp on [−708, 0] and is exactly 1 at 0", () => {
    const rng = new Lcg(11);
    let worst: i64 = 0;
    for (let i = 0; i < 20000; i++) {
      const x = i < 10000 ? rng.range(-708.0, 0.0) : rng.range(-3.0, 0.0);
      const d = <i64>bits(expNeg(x)) - <i64>bits(Math.exp(x));
      worst = max<i64>(worst, d < 0 ? -d : d);
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(expNeg(0.0)).toBe(1.0);
    expect(expNeg(-0.0)).toBe(1.0);
  });

  it("flushes below e^−708 and for −∞ or NaN to exactly 0", () => {
    expect(expNeg(-708.5)).toBe(0.0);
    expect(expNeg(-1e300)).toBe(0.0);
    expect(expNeg(-Infinity)).toBe(0.0);
    expect(expNeg(NaN)).toBe(0.0);
    expect(expNeg(-707.9)).toBeGreaterThan(0.0);
  });
});

describe("expNeg2", () => {
  it("gives, lane by lane, the bits of expNeg (SIMD build only)", () => {
    if (ASC_FEATURE_SIMD) {
      const rng = new Lcg(12);
      for (let i = 0; i < 5000; i++) {
        const a = rng.range(-720.0, 0.0), b = i % 7 == 0 ? -Infinity : rng.range(-4.0, 0.0);
        const e = expNeg2(f64x2(a, b));
        expect(bits(f64x2.extract_lane(e, 0))).toBe(bits(expNeg(a)));
        expect(bits(f64x2.extract_lane(e, 1))).toBe(bits(expNeg(b)));
      }
    }
    expect(true).toBe(true);
  });
});
