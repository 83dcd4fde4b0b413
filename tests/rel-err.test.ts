// The tests' comparison helper itself (tests/helpers/compare.ts): an approximate-equality
// helper that was never tested can pass at the first close element.
import { describe, expect, it } from "vitest";
import { relErr } from "./helpers/compare";

describe("relErr, the one relative error of the tests", () => {
  it("is the largest deviation relative to the largest reference entry, b being the reference", () => {
    expect(relErr([1, 2, 3.5], [1, 2, 3])).toBeCloseTo(0.5 / 3, 15);
    expect(relErr([0, 0], [0, 1])).toBe(1);
    // not symmetric: the denominator is ‖b‖∞
    expect(relErr([1, 2, 3], [1, 2, 3.5])).toBeCloseTo(0.5 / 3.5, 15);
    expect(relErr(Float64Array.of(-4, 1), Float64Array.of(-2, 1))).toBe(1);
  });

  it("fails a tolerance check on a difference in the last element only", () => {
    const want = Float64Array.of(1, 2, 3, 4);
    expect(relErr(Float64Array.of(1, 2, 3, 4 + 4e-12), want) <= 1e-12).toBe(false);
    expect(relErr(Float64Array.of(1, 2, 3, 4 + 2e-12), want) <= 1e-12).toBe(true);
  });

  it("is 0 for equal arrays, both all zeros included", () => {
    expect(relErr([0, 0, 0], [0, 0, 0])).toBe(0);
    expect(relErr(Float64Array.of(1.5, -2), [1.5, -2])).toBe(0);
    expect(relErr([], [])).toBe(0);
  });

  it("is Infinity, so that no tolerance check passes, on NaN, ±Infinity, a length mismatch either way, or a zero reference", () => {
    const want = [1, 2, 3];
    for (const a of [[1, 2, NaN], [Infinity, 2, 3], [1, 2, -Infinity], [1, 2], [1, 2, 3, 4]]) {
      expect(relErr(a, want), JSON.stringify(a)).toBe(Infinity);
    }
    expect(relErr(want, [1, NaN, 3])).toBe(Infinity);
    expect(relErr([0, 1e-300], [0, 0])).toBe(Infinity);
  });
});
