// Specs for assembly/lu.ts: luFactor (partial pivoting, in place) and luSolve.
import { luFactor, luSolve, luSolveT } from "../lu";
import { f64s, Lcg, copyOf, bits } from "./helpers";

// Hand example needing pivoting (the first pivot is 0):
//   A = [[0, 1, 2],
//        [1, 0, 1],
//        [2, 1, 0]],  x = [1, 2, 3]  →  b = A x = [0+2+6, 1+0+3, 2+2+0] = [8, 4, 4]
// k = 0: column 0 is [0, 1, 2], pivot row 2 (piv[0] = 2); swap rows 0 and 2:
//        [[2, 1, 0], [1, 0, 1], [0, 1, 2]]
//        l₁₀ = 1/2:  row 1 = [1, 0, 1] − 0.5·[2, 1, 0] → [0.5 | −0.5, 1]
//        l₂₀ = 0:    row 2 stays              → [0 | 1, 2]
// k = 1: column 1 below the diagonal is [−0.5, 1], pivot row 2 (piv[1] = 2); swap rows 1 and 2
//        (multipliers included): row 1 = [0 | 1, 2], row 2 = [0.5 | −0.5, 1]
//        l₂₁ = −0.5: row 2 = 1 − (−0.5)·2 = 2 → [0.5, −0.5 | 2]
// k = 2: piv[2] = 2.
// Result (L strictly below the diagonal, U on and above it), all exact:
//   [[2, 1, 0], [0, 1, 2], [0.5, −0.5, 2]],  piv = [2, 2, 2]
// Solve: permute b → [4, 4, 8] → [4, 8, 4]; forward: y = [4, 8, 4 − (0.5·4 − 0.5·8)] = [4, 8, 6];
//        back: x₂ = 6/2 = 3, x₁ = (8 − 2·3)/1 = 2, x₀ = (4 − 1·2 − 0·3)/2 = 1.

describe("luFactor", () => {
  it("factors the 3×3 hand example with row pivoting into the exact L\\U and pivots [2, 2, 2]", () => {
    const M = f64s([0, 1, 2, 1, 0, 1, 2, 1, 0]);
    const piv = new Int32Array(3);
    expect(luFactor(M.dataStart, piv.dataStart, 3)).toBe(0);
    const want: f64[] = [2, 1, 0, 0, 1, 2, 0.5, -0.5, 2];
    for (let i = 0; i < 9; i++) expect(M[i]).toBe(want[i], "entry " + i.toString());
    expect(piv[0]).toBe(2);
    expect(piv[1]).toBe(2);
    expect(piv[2]).toBe(2);
  });

  it("returns k + 1 = 1 when the first column is zero", () => {
    const M = f64s([0, 1, 0, 2]);
    const piv = new Int32Array(2);
    expect(luFactor(M.dataStart, piv.dataStart, 2)).toBe(1);
  });

  it("returns k + 1 = 2 for a singular 3×3 matrix whose second pivot column vanishes after elimination", () => {
    // [[2, 4, 1], [1, 2, 3], [4, 8, 5]]: column 1 is twice column 0. After k = 0 (pivot row 2,
    // multipliers 0.25 and 0.5, all exact) column 1 below the diagonal is [0, 0].
    const M = f64s([2, 4, 1, 1, 2, 3, 4, 8, 5]);
    const piv = new Int32Array(3);
    expect(luFactor(M.dataStart, piv.dataStart, 3)).toBe(2);
  });

  it("returns k + 1 = 3 for a singular 3×3 matrix whose last pivot is exactly zero", () => {
    // [[1, 2, 3], [2, 4, 6], [1, 1, 1]]: row 1 = 2·row 0; elimination leaves U₂₂ = 0.
    const M = f64s([1, 2, 3, 2, 4, 6, 1, 1, 1]);
    const piv = new Int32Array(3);
    expect(luFactor(M.dataStart, piv.dataStart, 3)).toBe(3);
  });

  it("factors a 1×1 matrix trivially and reports a 1×1 zero as singular", () => {
    const M = f64s([4]);
    const piv = new Int32Array(1);
    expect(luFactor(M.dataStart, piv.dataStart, 1)).toBe(0);
    expect(piv[0]).toBe(0);
    const Z = f64s([0]);
    expect(luFactor(Z.dataStart, piv.dataStart, 1)).toBe(1);
  });
});

describe("luSolve", () => {
  it("solves the 3×3 hand example exactly: x = [1, 2, 3] for b = [8, 4, 4]", () => {
    const M = f64s([0, 1, 2, 1, 0, 1, 2, 1, 0]);
    const piv = new Int32Array(3);
    luFactor(M.dataStart, piv.dataStart, 3);
    const b = f64s([8, 4, 4]);
    luSolve(M.dataStart, piv.dataStart, b.dataStart, 3);
    expect(b[0]).toBe(1.0);
    expect(b[1]).toBe(2.0);
    expect(b[2]).toBe(3.0);
  });

  it("leaves a small residual ‖b − A x‖∞ / (‖A‖∞‖x‖∞) < 1e-14 for random-ish systems of size 6, 9 and 17", () => {
    const rng = new Lcg(606);
    const sizes: i32[] = [6, 9, 17];
    for (let t = 0; t < sizes.length; t++) {
      const n = sizes[t];
      const A = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) A[i] = rng.range(-1.0, 1.0);
      const b = new Float64Array(n);
      for (let i = 0; i < n; i++) b[i] = rng.range(-1.0, 1.0);
      const M = copyOf(A), x = copyOf(b);
      const piv = new Int32Array(n);
      expect(luFactor(M.dataStart, piv.dataStart, n)).toBe(0, "n = " + n.toString());
      for (let k = 0; k < n; k++) {
        expect(piv[k]).toBeGreaterThanOrEqual(k);
        expect(piv[k]).toBeLessThan(n);
      }
      luSolve(M.dataStart, piv.dataStart, x.dataStart, n);
      let res: f64 = 0, anorm: f64 = 0, xnorm: f64 = 0;
      for (let i = 0; i < n; i++) {
        let ax: f64 = 0, rowsum: f64 = 0;
        for (let j = 0; j < n; j++) { ax += A[i * n + j] * x[j]; rowsum += abs(A[i * n + j]); }
        res = max(res, abs(b[i] - ax));
        anorm = max(anorm, rowsum);
        xnorm = max(xnorm, abs(x[i]));
      }
      expect(res / (anorm * xnorm)).toBeLessThan(1e-14, "n = " + n.toString());
    }
  });

  it("reproduces P·A = L·U: multiplying the factors back gives the row-permuted matrix within 1e-14 (6×6)", () => {
    const n = 6;
    const rng = new Lcg(607);
    const A = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) A[i] = rng.range(-1.0, 1.0);
    const M = copyOf(A);
    const piv = new Int32Array(n);
    luFactor(M.dataStart, piv.dataStart, n);
    // apply the recorded swaps to a copy of A
    const PA = copyOf(A);
    for (let k = 0; k < n; k++) {
      const p = piv[k];
      for (let j = 0; j < n; j++) {
        const t = PA[k * n + j];
        PA[k * n + j] = PA[p * n + j];
        PA[p * n + j] = t;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let lu: f64 = 0;
        for (let k = 0; k <= min(i, j); k++) {
          const l = k == i ? 1.0 : M[i * n + k];
          lu += l * M[k * n + j];
        }
        expect(abs(lu - PA[i * n + j])).toBeLessThan(1e-14, "entry (" + i.toString() + ", " + j.toString() + ")");
      }
      // partial pivoting keeps every multiplier at most 1 in size
      for (let k = 0; k < i; k++) expect(abs(M[i * n + k])).toBeLessThanOrEqual(1.0);
    }
  });

  it("factors bit for bit like one-column-at-a-time elimination with partial pivoting, for sizes 1–9, 16, 17 and across the block edges 63–65, 129 and 200", () => {
    const sizes: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 63, 64, 65, 129, 200];
    const rng = new Lcg(909);
    for (let t = 0; t < sizes.length; t++) {
      const n = sizes[t];
      const A = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) A[i] = rng.range(-1.0, 1.0);
      const M = copyOf(A), R = copyOf(A);
      const piv = new Int32Array(n);
      expect(luFactor(M.dataStart, piv.dataStart, n)).toBe(0);
      // the textbook algorithm: for each k, pivot, swap whole rows, subtract l·row k
      for (let k = 0; k < n; k++) {
        let p = k;
        let best = abs(R[k * n + k]);
        for (let i = k + 1; i < n; i++) if (abs(R[i * n + k]) > best) { best = abs(R[i * n + k]); p = i; }
        expect(piv[k]).toBe(p, "pivot " + k.toString() + ", n = " + n.toString());
        for (let j = 0; j < n; j++) { const tmp = R[k * n + j]; R[k * n + j] = R[p * n + j]; R[p * n + j] = tmp; }
        for (let i = k + 1; i < n; i++) {
          const l = R[i * n + k] * (1.0 / R[k * n + k]);
          R[i * n + k] = l;
          for (let j = k + 1; j < n; j++) R[i * n + j] = R[i * n + j] + -l * R[k * n + j];
        }
      }
      // one expectation per size (first differing entry, or −1), not one per entry
      let first = -1;
      for (let i = 0; i < n * n; i++) if (bits(M[i]) != bits(R[i])) { first = i; break; }
      expect(first).toBe(-1, "first entry whose bits differ, n = " + n.toString());
    }
  });
});
// Hand example for the transposed solve (A is not symmetric):
//   A = [[0, 1, 2], [1, 0, 1], [4, 1, 0]], x = [1, 2, 3]  →  Aᵀx = [0+2+12, 1+0+3, 2+2+0] = [14, 4, 4]
// k = 0: pivot row 2, swap rows 0 and 2 → [[4, 1, 0], [1, 0, 1], [0, 1, 2]];
//        l = 1/4: row 1 → [0.25 | −0.25, 1]; l = 0: row 2 → [0 | 1, 2]
// k = 1: pivot row 2 (|1| > |−0.25|), swap rows 1 and 2; l = −0.25: U₂₂ = 1 − (−0.25)·2 = 1.5
// Factors: [[4, 1, 0], [0, 1, 2], [0.25, −0.25, 1.5]], piv = [2, 2, 2].
// Uᵀy = b: y = [14/4, (4 − 1·3.5)/1, (4 − 0·3.5 − 2·0.5)/1.5] = [3.5, 0.5, 2]
// Lᵀz = y: z₂ = 2, z₁ = 0.5 − (−0.25)·2 = 1, z₀ = 3.5 − 0·1 − 0.25·2 = 3 → z = [3, 1, 2]
// swaps in reverse (k = 1: z₁ ↔ z₂, k = 0: z₀ ↔ z₂): [3, 2, 1] → [1, 2, 3].
describe("luSolveT", () => {
  it("solves the transposed 3×3 hand example exactly: x = [1, 2, 3] for Aᵀx = [14, 4, 4]", () => {
    const M = f64s([0, 1, 2, 1, 0, 1, 4, 1, 0]);
    const piv = new Int32Array(3);
    expect(luFactor(M.dataStart, piv.dataStart, 3)).toBe(0);
    const want: f64[] = [4, 1, 0, 0, 1, 2, 0.25, -0.25, 1.5];
    for (let i = 0; i < 9; i++) expect(M[i]).toBe(want[i], "entry " + i.toString());
    const b = f64s([14, 4, 4]);
    luSolveT(M.dataStart, piv.dataStart, b.dataStart, 3);
    expect(b[0]).toBe(1.0);
    expect(b[1]).toBe(2.0);
    expect(b[2]).toBe(3.0);
  });

  it("leaves ‖b − Aᵀx‖∞ / (‖Aᵀ‖∞‖x‖∞) < 1e-14 from the factors of A, for sizes 1, 2, 3, 17, 65 and 130", () => {
    const rng = new Lcg(808);
    const sizes: i32[] = [1, 2, 3, 17, 65, 130];
    for (let t = 0; t < sizes.length; t++) {
      const n = sizes[t];
      const A = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) A[i] = rng.range(-1.0, 1.0);
      const b = new Float64Array(n);
      for (let i = 0; i < n; i++) b[i] = rng.range(-1.0, 1.0);
      const M = copyOf(A), x = copyOf(b);
      const piv = new Int32Array(n);
      expect(luFactor(M.dataStart, piv.dataStart, n)).toBe(0, "n = " + n.toString());
      luSolveT(M.dataStart, piv.dataStart, x.dataStart, n);
      let res: f64 = 0, anorm: f64 = 0, xnorm: f64 = 0;
      for (let i = 0; i < n; i++) {
        let ax: f64 = 0, colsum: f64 = 0;
        for (let j = 0; j < n; j++) { ax += A[j * n + i] * x[j]; colsum += abs(A[j * n + i]); }
        res = max(res, abs(b[i] - ax));
        anorm = max(anorm, colsum);
        xnorm = max(xnorm, abs(x[i]));
      }
      expect(res / (anorm * xnorm)).toBeLessThan(1e-14, "n = " + n.toString());
    }
  });
});
