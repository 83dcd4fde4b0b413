import { beforeAll, describe, expect, it } from "vitest";
import { init, ShapeError, DomainError, type Backend } from "../src/index";
import { conjugateGradient, DenseMatrix } from "../src/linalg";
import { randomVector } from "./helpers/random-mdp";
import { relErr } from "./helpers/compare";
import { gaussSolve, matVec } from "./helpers/linalg";

let simd: Backend, scalar: Backend;
beforeAll(async () => {
  scalar = await init({ simd: false });
  simd = await init({ simd: true });
});

describe("DenseMatrix, the kernel-side matrix of dense reward models", () => {
  it.each([[1, 1], [3, 5], [7, 8], [100, 100], [33, 17]])("multiplies a %i × %i matrix like a plain loop (1e-14) and identically in both builds", (rows, cols) => {
    const M = randomVector(rows * cols, rows + 7 * cols), x = randomVector(cols, 3);
    const want = new Float64Array(rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[i] += M[i * cols + j] * x[j];
    const a = new DenseMatrix(M, rows, cols, simd).mul(x), b = new DenseMatrix(M, rows, cols, scalar).mul(x);
    expect(relErr(a, want)).toBeLessThan(1e-14);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("writes into a given output and rejects wrong shapes and non-finite entries with typed errors", () => {
    const D = new DenseMatrix([1, 2, 3, 4, 5, 6], 2, 3, simd);
    const out = new Float64Array(2);
    expect(D.mul([1, 0, -1], out)).toBe(out);
    expect(Array.from(out)).toEqual([-2, -2]);
    expect(() => D.mul([1, 2])).toThrow(ShapeError);
    expect(() => D.mul([1, 2, 3], new Float64Array(3))).toThrow(ShapeError);
    expect(() => new DenseMatrix([1, NaN], 1, 2)).toThrow(DomainError);
    expect(() => new DenseMatrix([1, 2, 3], 2, 2)).toThrow(ShapeError);
  });
});

describe("conjugateGradient, the matrix-free solver of PARL's implicit-function system", () => {
  /** B Bᵀ + shift·I: symmetric, positive definite for shift > 0. */
  function spd(n: number, seed: number, shift: number): Float64Array {
    const B = randomVector(n * n, seed);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k];
      M[i * n + j] = s + (i === j ? shift : 0);
    }
    return M;
  }

  it.each([[1, 1], [5, 2], [20, 3]])("solves a symmetric positive definite %i × %i system to its tolerance, agreeing with Gaussian elimination", (n, seed) => {
    const M = spd(n, seed, 0.5), b = randomVector(n, seed + 100);
    let products = 0;
    const { u, info } = conjugateGradient((v) => (products++, matVec(M, v)), b, 10 * n, 1e-12);
    expect(info.converged).toBe(true);
    expect(info.negativeCurvature).toBe(false);
    expect(info.iterations).toBe(products);
    expect(info.residual).toBeLessThanOrEqual(1e-12);
    // the reported residual is the true one, up to rounding in the recursion
    const r = matVec(M, u).map((y, i) => b[i] - y);
    expect(Math.hypot(...r) / Math.hypot(...b)).toBeLessThan(1e-10);
    expect(relErr(u, gaussSolve(M, b))).toBeLessThan(1e-9);
  });

  it("stops at maxIter unconverged, returns u = 0 for rhs = 0, and flags negative curvature", () => {
    const M = spd(30, 9, 1e-3), b = randomVector(30, 10);
    const capped = conjugateGradient((v) => matVec(M, v), b, 2, 1e-14);
    expect(capped.info).toMatchObject({ iterations: 2, converged: false });
    expect(capped.info.residual).toBeGreaterThan(1e-14);

    const zero = conjugateGradient(() => { throw new Error("no product is needed for rhs = 0"); }, new Float64Array(4), 10, 1e-12);
    expect(Array.from(zero.u)).toEqual([0, 0, 0, 0]);
    expect(zero.info).toEqual({ iterations: 0, residual: 0, converged: true, negativeCurvature: false });

    // −I: the first direction already has pᵀMp < 0; CG still solves this diagonal system
    const neg = conjugateGradient((v) => v.map((x) => -x), Float64Array.of(1, 2), 10, 1e-12);
    expect(neg.info.negativeCurvature).toBe(true);
    expect(Array.from(neg.u)).toEqual([-1, -2]);
  });
});
