import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exp, log, log1p, pow } from "../src/util/math";

/** Distance in units in the last place between two doubles of the same sign. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, a);
  buf.setFloat64(8, b);
  if (Math.sign(a) !== Math.sign(b)) return Infinity;
  const d = buf.getBigInt64(0) - buf.getBigInt64(8);
  return Number(d < 0n ? -d : d);
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

describe("the ulp helper", () => {
  it("counts adjacent doubles as one ulp apart and equal ones as zero", () => {
    expect(ulps(1, 1)).toBe(0);
    expect(ulps(1 + 2 ** -52, 1)).toBe(1);
    expect(ulps(-2, -2 - 2 ** -51)).toBe(1);
    expect(ulps(1, -1)).toBe(Infinity);
  });
});

describe("deterministic elementary functions", () => {
  it("exp stays within 2 ulp of the engine's exp over [-745, 709]", () => {
    const rnd = lcg(1);
    let worst = 0;
    for (let i = 0; i < 200000; i++) {
      const x = -745 + rnd() * 1454;
      const want = Math.exp(x);
      if (want < 2.2250738585072014e-308) continue; // subnormal results are checked below
      worst = Math.max(worst, (ulps(exp(x), want)));
    }
    for (let i = 0; i < 100000; i++) {
      const x = (rnd() - 0.5) * 4;
      worst = Math.max(worst, (ulps(exp(x), Math.exp(x))));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  it("exp handles its special values and the subnormal range", () => {
    expect(exp(0)).toBe(1);
    expect(exp(NaN)).toBeNaN();
    expect(exp(Infinity)).toBe(Infinity);
    expect(exp(-Infinity)).toBe(0);
    expect(exp(710)).toBe(Infinity);
    expect(exp(-746)).toBe(0);
    expect(exp(709.78)).toBeCloseTo(Math.exp(709.78) / 1, -300);
    expect(Math.abs(exp(-740) / Math.exp(-740) - 1)).toBeLessThan(1e-3); // subnormal: fewer bits
    expect(ulps(exp(1), Math.E)).toBeLessThanOrEqual(1);
  });

  it("log stays within 2 ulp of the engine's log from subnormals to the largest double", () => {
    const rnd = lcg(2);
    let worst = 0;
    for (let i = 0; i < 200000; i++) {
      const x = Math.pow(2, -1070 + rnd() * 2090) * (1 + rnd());
      if (!Number.isFinite(x) || x === 0) continue;
      worst = Math.max(worst, (ulps(log(x), Math.log(x))));
    }
    for (let i = 0; i < 100000; i++) {
      const x = 0.5 + rnd() * 1.5; // near 1, where log is smallest
      const want = Math.log(x);
      if (Math.abs(want) < 1e-300) continue;
      worst = Math.max(worst, (ulps(log(x), want)));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  it("log handles its special values", () => {
    expect(log(1)).toBe(0);
    expect(log(0)).toBe(-Infinity);
    expect(log(-1)).toBeNaN();
    expect(log(NaN)).toBeNaN();
    expect(log(Infinity)).toBe(Infinity);
    expect(log(Math.E)).toBeCloseTo(1, 15);
    expect(log(5e-324)).toBeCloseTo(Math.log(5e-324), 12);
  });

  it("log1p is accurate for tiny arguments where log(1 + x) loses everything", () => {
    expect(log1p(1e-20)).toBe(1e-20);
    expect(Math.abs(log1p(1e-10) / Math.log1p(1e-10) - 1)).toBeLessThan(1e-15);
    expect(Math.abs(log1p(-0.5) / Math.log1p(-0.5) - 1)).toBeLessThan(1e-15);
    expect(log1p(-1)).toBe(-Infinity);
  });

  it("pow agrees with the engine to 1e-14 relative for positive bases and keeps the sign rules", () => {
    const rnd = lcg(3);
    for (let i = 0; i < 20000; i++) {
      const x = rnd() * 100, y = (rnd() - 0.5) * 10;
      expect(Math.abs(pow(x, y) / Math.pow(x, y) - 1)).toBeLessThan(1e-14);
    }
    expect(pow(-2, 3)).toBeCloseTo(-8, 13);
    expect(pow(-2, 2)).toBeCloseTo(4, 13);
    expect(pow(-2, 0.5)).toBeNaN();
    expect(pow(0, 2)).toBe(0);
    expect(pow(0, -1)).toBe(Infinity);
    expect(pow(5, 0)).toBe(1);
  });
});

describe("host-side numerics use util/math", () => {
  // Results must be bit-identical across engines (docs/math.md#provenance); Math.exp/log/pow
  // and friends are not correctly rounded and differ between V8 versions, SpiderMonkey and JSC.
  // Allowed: util/math itself, the plain-TS reference kernels (tests only compare them to
  // tolerances) and plot/ (axis ticks, not numbers of a result).
  const ALLOWED = /^src\/(util\/math\.ts|reference\/|plot\/)/;
  const BANNED = /Math\.(exp|expm1|log|log1p|log2|log10|pow|sin|cos|tan|atan|atan2|sinh|cosh|tanh|cbrt|hypot)\(/;
  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
  }
  it("no file under src/ outside util/math, reference/ and plot/ calls an engine-dependent Math function", () => {
    const offenders: string[] = [];
    for (const f of files("src")) {
      if (ALLOWED.test(f.replace(/\\/g, "/"))) continue;
      readFileSync(f, "utf8").split("\n").forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "");
        if (BANNED.test(code)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
  it("the check sees a call (it could fail)", () => {
    expect(BANNED.test("const c = 1 - Math.pow(b1, t);")).toBe(true);
    expect(BANNED.test("const r = Math.sqrt(s);")).toBe(false);
  });
});
