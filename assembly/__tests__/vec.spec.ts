// Specs for assembly/vec.ts (dot, axpy, csrDot, fill) and the two helpers of index.ts.
// Each spec runs twice (SIMD build and scalar build, see as-pect.config.js); the lane-
// order references below must match both, bit for bit.
import { dot, axpy, axpy2, csrDot, fill, pow2Scale, sumSquaresScaled, scale } from "../vec";
import { heapBase, simdBuild } from "../index";
import { f64s, i32s, Lcg, relDiff, naiveDot, bits } from "./helpers";

// Lengths around the SIMD block sizes (8 for dot, 4 for axpy, 2 for the pair loops).
const LENGTHS: i32[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33];

/** n + 2 doubles in [lo, hi), followed by two NaN sentinels. */
function data(n: i32, rng: Lcg, lo: f64, hi: f64): Float64Array {
  const a = new Float64Array(n + 2);
  for (let i = 0; i < n; i++) a[i] = rng.range(lo, hi);
  a[n] = NaN;
  a[n + 1] = NaN;
  return a;
}

/** Σ x[i]·y[i] accumulated in the order of the SIMD path: eight running sums for the
 *  blocks of 8 (sum j takes the elements i ≡ j mod 8), folded into two lanes as
 *  (s0 + s2) + (s4 + s6) and (s1 + s3) + (s5 + s7), then pairs into the two lanes,
 *  lane 0 + lane 1, and the odd last element. */
function laneOrderDot(x: Float64Array, y: Float64Array, n: i32): f64 {
  const s = new Float64Array(8);
  const blocks = n & ~7;
  for (let i = 0; i < blocks; i++) s[i & 7] += x[i] * y[i];
  let l0 = (s[0] + s[2]) + (s[4] + s[6]);
  let l1 = (s[1] + s[3]) + (s[5] + s[7]);
  const pairs = n & ~1;
  for (let i = blocks; i < pairs; i += 2) {
    l0 += x[i] * y[i];
    l1 += x[i + 1] * y[i + 1];
  }
  let sum = l0 + l1;
  if (n & 1) sum += x[n - 1] * y[n - 1];
  return sum;
}

/** Σ probs[k]·v[indices[k]] over [k0, k1) in the SIMD lane order: even and odd
 *  positions of the row in two lanes, lane 0 + lane 1, then the odd last entry. */
function laneOrderCsrDot(indices: Int32Array, probs: Float64Array, v: Float64Array, k0: i32, k1: i32): f64 {
  let l0: f64 = 0, l1: f64 = 0;
  let k = k0;
  for (; k + 2 <= k1; k += 2) {
    l0 += probs[k] * v[indices[k]];
    l1 += probs[k + 1] * v[indices[k + 1]];
  }
  let sum = l0 + l1;
  if (k < k1) sum += probs[k] * v[indices[k]];
  return sum;
}

describe("index", () => {
  it("simdBuild reports 1 exactly when the module was compiled with SIMD enabled", () => {
    expect(simdBuild()).toBe(ASC_FEATURE_SIMD ? 1 : 0);
    log(ASC_FEATURE_SIMD ? "variant under test: SIMD" : "variant under test: scalar");
  });

  it("heapBase returns a nonzero offset (not necessarily 16-byte aligned: the host rounds it up)", () => {
    expect(heapBase()).toBeGreaterThan(0);
  });
});

describe("dot", () => {
  it("computes a small hand-checked product exactly: [1, 2, 3]·[4, 5, 6] = 32", () => {
    const x = f64s([1, 2, 3]), y = f64s([4, 5, 6]);
    expect(dot(x.dataStart, y.dataStart, 3)).toBe(32.0);
  });

  it("returns 0 for n = 0 and reads nothing", () => {
    const x = f64s([NaN, NaN]), y = f64s([NaN, NaN]);
    expect(bits(dot(x.dataStart, y.dataStart, 0))).toBe(bits(0.0));
  });

  it("equals, bit for bit, a reference loop that sums in the SIMD lane order for every tested length", () => {
    const rng = new Lcg(12345);
    let orderMatters = 0;
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n, rng, -1.0, 1.0), y = data(n, rng, -3.0, 3.0);
      const got = dot(x.dataStart, y.dataStart, n);
      const want = laneOrderDot(x, y, n);
      expect(bits(got)).toBe(bits(want), "n = " + n.toString());
      if (bits(want) != bits(naiveDot(x, y, n))) orderMatters++;
    }
    // the data must be rounding-sensitive, or a wrong summation order would go unnoticed
    expect(orderMatters).toBeGreaterThan(0, "summation order changed no result: the test data is too regular");
  });

  it("never reads past n: NaN sentinels after the last element leave the sum finite", () => {
    const rng = new Lcg(7);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n, rng, -1.0, 1.0), y = data(n, rng, -1.0, 1.0);
      expect(isFinite(dot(x.dataStart, y.dataStart, n))).toBe(true, "n = " + n.toString());
    }
  });

  it("agrees with a naive left-to-right sum within 1e-12 relative error", () => {
    const rng = new Lcg(99);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      // positive data: no cancellation, so the relative error bound is meaningful
      const x = data(n, rng, 0.5, 1.5), y = data(n, rng, 0.5, 1.5);
      const got = dot(x.dataStart, y.dataStart, n);
      expect(relDiff(got, naiveDot(x, y, n))).toBeLessThanOrEqual(1e-12, "n = " + n.toString());
    }
  });

  it("gives the same bits at an 8-byte (not 16-byte) aligned offset", () => {
    const rng = new Lcg(5);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n + 1, rng, -1.0, 1.0), y = data(n + 1, rng, -1.0, 1.0);
      // reference on the shifted contents
      const xr = new Float64Array(n), yr = new Float64Array(n);
      for (let i = 0; i < n; i++) { xr[i] = x[i + 1]; yr[i] = y[i + 1]; }
      const got = dot(x.dataStart + 8, y.dataStart + 8, n);
      expect(bits(got)).toBe(bits(laneOrderDot(xr, yr, n)), "n = " + n.toString());
    }
  });
});

describe("axpy", () => {
  it("computes y + alpha·x element by element, bit for bit equal to a plain loop, for every tested length", () => {
    const rng = new Lcg(2024);
    const alpha = -0.7312345678901234;
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n, rng, -2.0, 2.0), y = data(n, rng, -2.0, 2.0);
      const want = new Float64Array(n);
      for (let i = 0; i < n; i++) want[i] = y[i] + alpha * x[i];
      axpy(y.dataStart, alpha, x.dataStart, n);
      for (let i = 0; i < n; i++) {
        expect(bits(y[i])).toBe(bits(want[i]), "n = " + n.toString() + ", i = " + i.toString());
      }
    }
  });

  it("leaves the elements of y past n untouched", () => {
    const rng = new Lcg(31);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n, rng, -1.0, 1.0), y = data(n, rng, -1.0, 1.0);
      y[n] = 123.0;
      y[n + 1] = -456.0;
      axpy(y.dataStart, 2.5, x.dataStart, n);
      expect(y[n]).toBe(123.0, "n = " + n.toString());
      expect(y[n + 1]).toBe(-456.0, "n = " + n.toString());
    }
  });

  it("gives the same result at an 8-byte (not 16-byte) aligned offset, as luFactor calls it", () => {
    const rng = new Lcg(77);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n + 1, rng, -1.0, 1.0), y = data(n + 1, rng, -1.0, 1.0);
      const want = new Float64Array(n + 1);
      want[0] = y[0];
      for (let i = 0; i < n; i++) want[i + 1] = y[i + 1] + 0.375 * x[i + 1];
      axpy(y.dataStart + 8, 0.375, x.dataStart + 8, n);
      for (let i = 0; i <= n; i++) {
        expect(bits(y[i])).toBe(bits(want[i]), "n = " + n.toString() + ", i = " + i.toString());
      }
    }
  });

  it("computes a small hand-checked update exactly: [1, 2, 3] + 2·[0.5, -1, 4] = [2, 0, 11]", () => {
    const y = f64s([1, 2, 3]), x = f64s([0.5, -1, 4]);
    axpy(y.dataStart, 2.0, x.dataStart, 3);
    expect(y[0]).toBe(2.0);
    expect(y[1]).toBe(0.0);
    expect(y[2]).toBe(11.0);
  });
});

describe("csrDot", () => {
  it("computes a hand-checked sparse row exactly: 0.5·v[3] + 0.25·v[0] + 0.25·v[2] = 3.25 for v = [1, 2, 3, 4.5]", () => {
    const indices = i32s([3, 0, 2]);
    const probs = f64s([0.5, 0.25, 0.25]);
    const v = f64s([1, 2, 3, 4.5]);
    // 0.5·4.5 + 0.25·1 + 0.25·3 = 2.25 + 0.25 + 0.75 = 3.25
    expect(csrDot(indices.dataStart, probs.dataStart, v.dataStart, 0, 3)).toBe(3.25);
  });

  it("returns 0 for an empty row (k0 == k1)", () => {
    const indices = i32s([0, 1]);
    const probs = f64s([NaN, NaN]);
    const v = f64s([1, 2]);
    expect(bits(csrDot(indices.dataStart, probs.dataStart, v.dataStart, 1, 1))).toBe(bits(0.0));
  });

  it("equals, bit for bit, a reference loop in the SIMD lane order for every tested row length at an odd start offset", () => {
    const rng = new Lcg(4242);
    const m = 40;
    const v = new Float64Array(m);
    for (let j = 0; j < m; j++) v[j] = rng.range(-5.0, 5.0);
    for (let t = 0; t < LENGTHS.length; t++) {
      const len = LENGTHS[t];
      const k0 = 3, k1 = k0 + len;
      const indices = new Int32Array(k1 + 2);
      const probs = new Float64Array(k1 + 2);
      for (let k = 0; k < k1 + 2; k++) {
        indices[k] = (k * 7 + 3) % m;
        probs[k] = k >= k0 && k < k1 ? rng.range(0.0, 1.0) : NaN; // NaN outside the row
      }
      const got = csrDot(indices.dataStart, probs.dataStart, v.dataStart, k0, k1);
      expect(bits(got)).toBe(bits(laneOrderCsrDot(indices, probs, v, k0, k1)), "row length = " + len.toString());
    }
  });

  it("agrees with a naive left-to-right sum within 1e-12 relative error", () => {
    const rng = new Lcg(8);
    const m = 25;
    const v = new Float64Array(m);
    for (let j = 0; j < m; j++) v[j] = rng.range(0.5, 1.5);
    for (let t = 0; t < LENGTHS.length; t++) {
      const len = LENGTHS[t];
      const indices = new Int32Array(len), probs = new Float64Array(len);
      let naive: f64 = 0;
      for (let k = 0; k < len; k++) {
        indices[k] = (k * 11 + 5) % m;
        probs[k] = rng.range(0.5, 1.5);
        naive += probs[k] * v[indices[k]];
      }
      const got = csrDot(indices.dataStart, probs.dataStart, v.dataStart, 0, len);
      expect(relDiff(got, naive)).toBeLessThanOrEqual(1e-12, "row length = " + len.toString());
    }
  });
});

describe("fill", () => {
  it("writes the value into exactly n doubles and nothing after them", () => {
    const x = f64s([1, 2, 3, 4, 5]);
    fill(x.dataStart, -2.5, 3);
    expect(x[0]).toBe(-2.5);
    expect(x[1]).toBe(-2.5);
    expect(x[2]).toBe(-2.5);
    expect(x[3]).toBe(4.0);
    expect(x[4]).toBe(5.0);
  });
});

describe("axpy2", () => {
  it("equals two axpy calls bit for bit, at aligned and 8-byte offsets, for every tested length, and leaves y past n untouched", () => {
    const rng = new Lcg(4242);
    const a1 = -0.3141592653589793, a2 = 1.2718281828459045;
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      for (let off = 0; off < 2; off++) {
        const x1 = data(n + 1, rng, -2.0, 2.0), x2 = data(n + 1, rng, -2.0, 2.0), y = data(n + 1, rng, -2.0, 2.0);
        const twice = new Float64Array(n + 3);
        for (let i = 0; i < n + 3; i++) twice[i] = y[i];
        const o = <usize>(off << 3);
        axpy(twice.dataStart + o, a1, x1.dataStart + o, n);
        axpy(twice.dataStart + o, a2, x2.dataStart + o, n);
        axpy2(y.dataStart + o, a1, x1.dataStart + o, a2, x2.dataStart + o, n);
        for (let i = 0; i < n + 3; i++) {
          if (isNaN(twice[i])) expect(isNaN(y[i])).toBe(true, "sentinel, n = " + n.toString());
          else expect(bits(y[i])).toBe(bits(twice[i]), "n = " + n.toString() + ", off = " + off.toString() + ", i = " + i.toString());
        }
      }
    }
  });
});

describe("pow2Scale", () => {
  it("is 1 for zero, non-finite and ordinary vectors (max|x| in [2^-400, 2^400])", () => {
    expect(pow2Scale(f64s([0, 0]).dataStart, 2)).toBe(1.0);
    expect(pow2Scale(f64s([1, -3, 1e100, -1e-100]).dataStart, 4)).toBe(1.0);
    expect(pow2Scale(f64s([1, Infinity]).dataStart, 2)).toBe(1.0);
    expect(pow2Scale(f64s([NaN, 2]).dataStart, 2)).toBe(1.0);
  });

  it("is a power of two that maps max|x| into [0.5, 1) for tiny and huge vectors", () => {
    const vals: f64[] = [1e-300, -3e-170, 2.5e-121, 7e200, -1e300, 2.6e120];
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      const x = f64s([v / 3, v, -v / 7]);
      const s = pow2Scale(x.dataStart, 3);
      const m = abs(v) * s;
      expect(m >= 0.5 && m < 1.0).toBe(true, "v = " + v.toString());
      expect(reinterpret<u64>(s) & 0x000fffffffffffff).toBe(0, "a power of two");
    }
  });

  it("clamps the exponent to ±1022 for subnormal and near-overflow maxima", () => {
    expect(pow2Scale(f64s([5e-324]).dataStart, 1)).toBe(reinterpret<f64>(<u64>(1022 + 1023) << 52));
    expect(pow2Scale(f64s([1.7e308]).dataStart, 1)).toBe(reinterpret<f64>(<u64>(1) << 52));
  });
});

describe("sumSquaresScaled", () => {
  it("with σ = 1 equals dot(x, x, n) bit for bit for every tested length", () => {
    const rng = new Lcg(31);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n, rng, -2.0, 2.0);
      expect(bits(sumSquaresScaled(x.dataStart, 1.0, n))).toBe(bits(dot(x.dataStart, x.dataStart, n)), "n = " + n.toString());
    }
  });

  it("with σ a power of two equals σ²·dot(x, x, n) bit for bit (scaling is exact), where the plain sum would overflow", () => {
    const rng = new Lcg(32);
    for (let t = 0; t < LENGTHS.length; t++) {
      const n = LENGTHS[t];
      const x = data(n, rng, -2.0, 2.0);
      const big = new Float64Array(n + 2);
      const up = reinterpret<f64>(<u64>(600 + 1023) << 52), down = reinterpret<f64>(<u64>(-600 + 1023) << 52); // 2^±600
      for (let i = 0; i < n; i++) big[i] = x[i] * up;
      const got = sumSquaresScaled(big.dataStart, down, n);
      expect(bits(got)).toBe(bits(dot(x.dataStart, x.dataStart, n)), "n = " + n.toString());
    }
  });
});

describe("scale", () => {
  it("multiplies every entry and nothing past n", () => {
    const x = f64s([1, -2, 3, NaN]);
    scale(x.dataStart, 0.5, 3);
    expect(x[0]).toBe(0.5);
    expect(x[1]).toBe(-1.0);
    expect(x[2]).toBe(1.5);
    expect(isNaN(x[3])).toBe(true);
  });
});
