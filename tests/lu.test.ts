// The dense LU kernels (assembly/lu.ts: luFactor, luSolve, luSolveT) called directly on both
// builds, against the plain-TS reference (src/reference/lu.ts) and against textbook
// elimination written out here. The kernel is blocked (panels of 64 columns, split down to
// 8; trailing updates in passes of 64 columns × 128 rows), so the sizes straddle every
// block edge: 1–9, 15–17, 63–66, 127–130 and 200.
import { beforeAll, describe, expect, test } from "vitest";
import { init, solveLinear, type Backend } from "../src/index";
import * as ref from "../src/reference/index";
import { Workspace } from "../src/wasm/workspace";
import { firstBitDiff, relErr, toTabular } from "./helpers/compare";
import { mulberry32, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";

let builds: Record<"simd" | "scalar", Workspace>;
let backends: Record<"simd" | "scalar", Backend>;
beforeAll(async () => {
  backends = { simd: await init({ simd: true }), scalar: await init({ simd: false }) };
  builds = { simd: new Workspace(backends.simd), scalar: new Workspace(backends.scalar) };
});

const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 66, 127, 128, 129, 130, 200];

interface Factors {
  bad: number;
  LU: Float64Array;
  piv: Int32Array;
}

/** luFactor on one build; the matrix is copied in and the factors copied out. */
function factor(ws: Workspace, A: Float64Array, n: number): Factors {
  const m0 = ws.mark();
  try {
    const pM = ws.putF64(A), pPiv = ws.allocI32(n);
    const bad = ws.k.luFactor(pM, pPiv, n);
    return { bad, LU: ws.copyF64(pM, n * n), piv: ws.copyI32(pPiv, n) };
  } finally {
    ws.release(m0);
  }
}

/** luSolve (or luSolveT) on one build from given factors. */
function solve(ws: Workspace, f: Factors, b: Float64Array, transpose: boolean): Float64Array {
  const n = b.length;
  const m0 = ws.mark();
  try {
    const pM = ws.putF64(f.LU), pPiv = ws.putI32(f.piv), pB = ws.putF64(b);
    if (transpose) ws.k.luSolveT(pM, pPiv, pB, n);
    else ws.k.luSolve(pM, pPiv, pB, n);
    return ws.copyF64(pB, n);
  } finally {
    ws.release(m0);
  }
}

/**
 * Textbook elimination, one column at a time with whole-row swaps and a − l·u updates
 * (l = a·(1/pivot)): the order of operations the blocked kernel promises to keep.
 */
function textbook(A: Float64Array, n: number): { LU: Float64Array; piv: Int32Array } {
  const R = Float64Array.from(A), piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k, best = Math.abs(R[k * n + k]);
    for (let i = k + 1; i < n; i++) if (Math.abs(R[i * n + k]) > best) { best = Math.abs(R[i * n + k]); p = i; }
    piv[k] = p;
    for (let j = 0; j < n; j++) { const t = R[k * n + j]; R[k * n + j] = R[p * n + j]; R[p * n + j] = t; }
    const inv = 1 / R[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const l = R[i * n + k] * inv;
      R[i * n + k] = l;
      for (let j = k + 1; j < n; j++) R[i * n + j] = R[i * n + j] - l * R[k * n + j];
    }
  }
  return { LU: R, piv };
}

function randomMatrix(n: number, seed: number): Float64Array {
  const rnd = mulberry32(seed);
  return Float64Array.from({ length: n * n }, () => 2 * rnd() - 1);
}

/** Backward error ‖b − op(A)x‖∞ / (‖A‖∞·‖x‖∞), op(A) = A or Aᵀ. */
function backwardError(A: Float64Array, x: Float64Array, b: Float64Array, transpose: boolean): number {
  const n = b.length;
  let res = 0, anorm = 0, xnorm = 0;
  for (let i = 0; i < n; i++) {
    let ax = 0, rowSum = 0;
    for (let j = 0; j < n; j++) {
      const a = transpose ? A[j * n + i] : A[i * n + j];
      ax += a * x[j];
      rowSum += Math.abs(a);
    }
    res = Math.max(res, Math.abs(b[i] - ax));
    anorm = Math.max(anorm, rowSum);
    xnorm = Math.max(xnorm, Math.abs(x[i]));
  }
  return res / (anorm * xnorm);
}

function transposed(A: Float64Array, n: number): Float64Array {
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[j * n + i] = A[i * n + j];
  return T;
}

describe("luFactor (blocked, partial pivoting)", () => {
  test.each(SIZES)("n = %i: the SIMD and scalar builds give the textbook factors and pivots bit for bit", (n) => {
    const A = randomMatrix(n, 1000 + n);
    const want = textbook(A, n);
    for (const build of ["simd", "scalar"] as const) {
      const f = factor(builds[build], A, n);
      expect(f.bad, build).toBe(0);
      expect(firstBitDiff(f.piv, want.piv), `${build} pivots`).toBeUndefined();
      expect(firstBitDiff(f.LU, want.LU), `${build} factors`).toBeUndefined();
    }
  });

  test.each(SIZES)("n = %i: the factors match the reference luFactor to 1e-12 with the same pivots", (n) => {
    const A = randomMatrix(n, 2000 + n);
    const R = Float64Array.from(A);
    const piv = ref.luFactor(R, n);
    const f = factor(builds.simd, A, n);
    expect(Array.from(f.piv)).toEqual(Array.from(piv));
    expect(relErr(f.LU, R)).toBeLessThan(1e-12);
  });

  test("rows that need a swap at every step (a reversed diagonally dominant matrix, n = 150) pivot every row back and factor exactly like the textbook", () => {
    const n = 150;
    const rnd = mulberry32(77);
    const A = new Float64Array(n * n);
    // row i holds the dominant entry in column n − 1 − i: step k must fetch row n − 1 − k
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = j === n - 1 - i ? n + rnd() : rnd() - 0.5;
    const want = textbook(A, n);
    for (const build of ["simd", "scalar"] as const) {
      const f = factor(builds[build], A, n);
      expect(f.piv[0], build).toBe(n - 1);
      expect(Array.from(f.piv).filter((p, k) => p !== k).length, build).toBeGreaterThanOrEqual(n / 2 - 1);
      expect(firstBitDiff(f.piv, want.piv), build).toBeUndefined();
      expect(firstBitDiff(f.LU, want.LU), build).toBeUndefined();
    }
  });

  test("Wilkinson's growth matrix (n = 70, growth 2^69 in the last column) factors bit for bit like the textbook on both builds", () => {
    const n = 70;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) A[i * n + j] = -1;
      A[i * n + i] = 1;
      A[i * n + n - 1] = 1;
    }
    const want = textbook(A, n);
    expect(want.LU[n * n - 1]).toBe(2 ** (n - 1));
    for (const build of ["simd", "scalar"] as const) {
      const f = factor(builds[build], A, n);
      expect(f.bad, build).toBe(0);
      expect(firstBitDiff(f.LU, want.LU), build).toBeUndefined();
      expect(Array.from(f.piv), build).toEqual(Array.from({ length: n }, (_, k) => k));
    }
  });

  test("a zero column inside a later panel (column 100 of 150) is reported as zero pivot 101, on both builds", () => {
    const n = 150;
    const A = randomMatrix(n, 5);
    for (let i = 0; i < n; i++) A[i * n + 100] = 0;
    for (const build of ["simd", "scalar"] as const) expect(factor(builds[build], A, n).bad, build).toBe(101);
  });

  test("a 1 × 1 zero and an all-zero 3 × 3 report zero pivot 1; a 2 × 2 with a dependent second row reports 2", () => {
    for (const build of ["simd", "scalar"] as const) {
      expect(factor(builds[build], Float64Array.of(0), 1).bad, build).toBe(1);
      expect(factor(builds[build], new Float64Array(9), 3).bad, build).toBe(1);
      expect(factor(builds[build], Float64Array.of(1, 2, 2, 4), 2).bad, build).toBe(2);
    }
  });
});

describe("luSolve and luSolveT from one factorisation", () => {
  test.each(SIZES)("n = %i: both orientations match the reference to 1e-12, leave a backward error below 1e-14, and agree bit for bit between builds", (n) => {
    const A = randomMatrix(n, 3000 + n);
    const b = randomVector(n, 4000 + n);
    const R = Float64Array.from(A);
    const piv = ref.luFactor(R, n);
    for (const transpose of [false, true]) {
      const want = transpose ? ref.luSolveT(R, piv, Float64Array.from(b)) : ref.luSolve(R, piv, Float64Array.from(b));
      const xs = solve(builds.simd, factor(builds.simd, A, n), b, transpose);
      const xc = solve(builds.scalar, factor(builds.scalar, A, n), b, transpose);
      expect(firstBitDiff(xs, xc), `transpose ${transpose}`).toBeUndefined();
      expect(relErr(xs, want), `transpose ${transpose}`).toBeLessThan(1e-12);
      expect(backwardError(A, xs, b, transpose), `transpose ${transpose}`).toBeLessThan(1e-14);
    }
  });

  test("luSolveT from the factors of A equals luSolve from the factors of Aᵀ to 1e-12 (n = 130)", () => {
    const n = 130;
    const A = randomMatrix(n, 6);
    const b = randomVector(n, 7);
    const viaT = solve(builds.simd, factor(builds.simd, A, n), b, true);
    const viaTransposedCopy = solve(builds.simd, factor(builds.simd, transposed(A, n), n), b, false);
    expect(relErr(viaT, viaTransposedCopy)).toBeLessThan(1e-12);
  });

  test("the 3 × 3 hand example A = [[0,1,2],[1,0,1],[4,1,0]] solves Aᵀx = [14, 4, 4] exactly to x = [1, 2, 3]", () => {
    for (const build of ["simd", "scalar"] as const) {
      const f = factor(builds[build], Float64Array.of(0, 1, 2, 1, 0, 1, 4, 1, 0), 3);
      expect(Array.from(f.LU), build).toEqual([4, 1, 0, 0, 1, 2, 0.25, -0.25, 1.5]);
      expect(Array.from(solve(builds[build], f, Float64Array.of(14, 4, 4), true)), build).toEqual([1, 2, 3]);
    }
  });

  test("ill-conditioned Hilbert matrices (n = 6, 10, 12; cond up to 1e16) still leave a backward error below 1e-15 in both orientations", () => {
    for (const n of [6, 10, 12]) {
      const H = Float64Array.from({ length: n * n }, (_, k) => 1 / (Math.floor(k / n) + (k % n) + 1));
      const b = randomVector(n, n);
      for (const transpose of [false, true]) {
        const xs = solve(builds.simd, factor(builds.simd, H, n), b, transpose);
        const xc = solve(builds.scalar, factor(builds.scalar, H, n), b, transpose);
        expect(firstBitDiff(xs, xc)).toBeUndefined();
        expect(backwardError(H, xs, b, transpose), `n = ${n}, transpose ${transpose}`).toBeLessThan(1e-15);
      }
    }
  });

  test("Wilkinson's growth matrix (n = 40) solves in both orientations with a backward error bounded by the growth, 2^39 · 1e-16", () => {
    const n = 40;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) A[i * n + j] = -1;
      A[i * n + i] = 1;
      A[i * n + n - 1] = 1;
    }
    const b = randomVector(n, 8);
    for (const transpose of [false, true]) {
      const x = solve(builds.simd, factor(builds.simd, A, n), b, transpose);
      expect(backwardError(A, x, b, transpose)).toBeLessThan(2 ** (n - 1) * 1e-16);
    }
  });
});

describe("solveLinear 'lu' factors I − γP_π once for both orientations", () => {
  test.each([1, 2, 3, 65, 130])("S = %i, γ = 0.9999: both orientations match the reference (which factors the transposed system for the transpose) to 1e-10, converge, and are bitwise equal between builds", (S) => {
    const m = randomDense(S, 3, 0.9999, 50 + S);
    const pi = randomPolicy(S, 3, 60 + S), b = randomVector(S, 70 + S);
    for (const transpose of [false, true]) {
      const want = ref.solveLinear(m, pi, b, { method: "lu", transpose }).x;
      const xs = solveLinear(toTabular(m, backends.simd), pi, b, { method: "lu", transpose });
      const xc = solveLinear(toTabular(m, backends.scalar), pi, b, { method: "lu", transpose });
      expect(firstBitDiff(xs.x, xc.x)).toBeUndefined();
      expect(xs.converged).toBe(true);
      expect(relErr(xs.x, want), `transpose ${transpose}`).toBeLessThan(1e-10);
    }
  });
});
