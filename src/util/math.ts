// Deterministic elementary functions for host-side numerics. Engines are free to compute
// Math.exp, Math.log, Math.pow and Math.cos differently (Node 20's V8 and Chromium's
// differ in the last bit for a few percent of arguments), but +, −, ×, ÷ and √ are exact
// IEEE operations everywhere, so functions built from them alone give the same bits in
// every runtime. Accuracy: within a few ulp of the correctly rounded result.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian words: u32[1] holds sign and exponent

const LN2_HI = 6.93147180369123816490e-1; // ln 2 rounded to 32 significant bits: k·LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10; // ln 2 − LN2_HI
const INV_LN2 = 1.44269504088896338700;
const EXP_MAX = 709.782712893383973096;
const EXP_MIN = -745.133219101941108420;

/** 2^k for −1074 ≤ k ≤ 1023 at index k + 1074, built by exact doublings and halvings. */
const POW2 = (() => {
  const t = new Float64Array(2098);
  t[1074] = 1;
  for (let k = 1; k <= 1023; k++) t[1074 + k] = t[1073 + k] * 2;
  for (let k = 1; k <= 1074; k++) t[1074 - k] = t[1075 - k] * 0.5;
  return t;
})();

/** 2^k for integer −1074 ≤ k ≤ 1023. */
function pow2(k: number): number {
  return POW2[k + 1074];
}

/** e^x. */
export function exp(x: number): number {
  if (x !== x) return NaN;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  if (x === 0) return 1;
  // x = k·ln2 + r with |r| ≤ ln2/2
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  // e^r by its Taylor series to r^14/14! (< 4e-18 relative for |r| ≤ 0.3466), Horner form
  let p = 1 / 87178291200;
  p = p * r + 1 / 6227020800;
  p = p * r + 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 0.5;
  const er = 1 + (r + r * r * p);
  // scale by 2^k in two steps so that neither factor overflows or goes subnormal too early
  if (k > 1023) return er * pow2(1023) * pow2(k - 1023);
  if (k < -1000) return er * pow2(k + 1000) * pow2(-1000);
  return er * pow2(k);
}

/** Natural logarithm. */
export function log(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54: bring subnormals into the normal range
    e = -54;
  }
  f64[0] = x;
  const hi = u32[1];
  e += ((hi >>> 20) & 0x7ff) - 1023;
  // mantissa m in [1, 2), then folded into [√½, √2)
  u32[1] = (hi & 0x000fffff) | 0x3ff00000;
  let m = f64[0];
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  // log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716: series to s^21
  const f = m - 1;
  const s = f / (2 + f);
  const z = s * s;
  let q = 1 / 21;
  q = q * z + 1 / 19;
  q = q * z + 1 / 17;
  q = q * z + 1 / 15;
  q = q * z + 1 / 13;
  q = q * z + 1 / 11;
  q = q * z + 1 / 9;
  q = q * z + 1 / 7;
  q = q * z + 1 / 5;
  q = q * z + 1 / 3;
  const logm = f - s * (f - 2 * z * q); // = 2s(1 + z q), written to keep f's bits
  return e * LN2_HI + (logm + e * LN2_LO);
}

/** log(1 + x), accurate for small x. */
export function log1p(x: number): number {
  const u = 1 + x;
  if (u === 1) return x;
  if (u === Infinity) return Infinity;
  // log(u) computes the log of the rounded u; rescale by the exact x/(u − 1)
  return (log(u) * x) / (u - 1);
}

/** x^y (a real power; negative x only with integer y). */
export function pow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x !== x || y !== y) return NaN;
  if (x === 0) return y > 0 ? 0 : Infinity;
  if (x < 0) {
    if (!Number.isInteger(y)) return NaN;
    const v = exp(y * log(-x));
    return y % 2 === 0 ? v : -v;
  }
  if (x === 1) return 1;
  return exp(y * log(x));
}
