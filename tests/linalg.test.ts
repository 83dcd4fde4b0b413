import { beforeAll, describe, expect, it } from "vitest";
import { init, ShapeError, DomainError, type Backend } from "../src/index";
import { DenseMatrix } from "../src/linalg";
import { randomVector } from "./helpers/random-mdp";
import { relErr } from "./helpers/compare";

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
