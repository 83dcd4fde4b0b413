// Specs for assembly/krylov.ts: bicgstab, richardson, systemResidual, each on
// (I − γP_π) x = b and its transpose, with dense P (indptr == 0) and CSR P.
// The reference answer is the LU solve of the matrix built by buildSystem.
import { bicgstab, richardson, systemResidual } from "../krylov";
import { buildSystem } from "../policy";
import { luFactor, luSolve } from "../lu";
import { Lcg, randomStochastic, denseToCsr, Csr, relDiffInf, copyOf } from "./helpers";

const GAMMA = 0.9;
const TOL = 1e-12;

/** A small random MDP with a random policy and right-hand side; P has exact zeros,
 *  so its CSR form is genuinely sparse. */
class Mdp {
  S: i32;
  A: i32;
  P: Float64Array;
  csr: Csr;
  pi: Float64Array;
  b: Float64Array;
  constructor(S: i32, A: i32, seed: u32) {
    const rng = new Lcg(seed);
    this.S = S;
    this.A = A;
    const P = randomStochastic(S * A, S, rng, true);
    const pi = new Float64Array(S * A);
    for (let s = 0; s < S; s++) {
      let sum: f64 = 0;
      for (let a = 0; a < A; a++) {
        const p = s % 2 == 0 && a == 0 ? 0.0 : rng.range(0.1, 1.0); // some zero-probability actions
        pi[s * A + a] = p;
        sum += p;
      }
      for (let a = 0; a < A; a++) pi[s * A + a] /= sum;
    }
    const b = new Float64Array(S);
    for (let s = 0; s < S; s++) b[s] = rng.range(-1.0, 1.0);
    this.P = P;
    this.csr = denseToCsr(P, S * A, S);
    this.pi = pi;
    this.b = b;
  }
  /** P argument of the kernels: the dense matrix, or the CSR probs. */
  p(sparse: bool): usize { return sparse ? this.csr.probs.dataStart : this.P.dataStart; }
  indptr(sparse: bool): usize { return sparse ? this.csr.indptr.dataStart : 0; }
  indices(sparse: bool): usize { return sparse ? this.csr.indices.dataStart : 0; }
  /** x = (I − γP_π)⁻¹ b (or the transpose) through buildSystem + LU. */
  lu(sparse: bool, transpose: bool): Float64Array {
    const S = this.S;
    const M = new Float64Array(S * S);
    buildSystem(this.p(sparse), this.indptr(sparse), this.indices(sparse), this.pi.dataStart, M.dataStart, S, this.A, GAMMA, transpose);
    const piv = new Int32Array(S);
    const singular = luFactor(M.dataStart, piv.dataStart, S);
    assert(singular == 0, "I − γP_π must be nonsingular");
    const x = copyOf(this.b);
    luSolve(M.dataStart, piv.dataStart, x.dataStart, S);
    return x;
  }
}

/** "dense" / "CSR" and "plain" / "transposed", for expectation messages. */
function label(sparse: bool, transpose: bool, S: i32): string {
  return (sparse ? "CSR" : "dense") + (transpose ? ", transposed" : ", plain") + ", S = " + S.toString();
}

const SIZES: i32[] = [5, 9, 17];

describe("bicgstab", () => {
  it("solves (I − γP_π)x = b and its transpose to the LU answer (within 1e-9) for dense and CSR P", () => {
    for (let t = 0; t < SIZES.length; t++) {
      const m = new Mdp(SIZES[t], 3, 100 + <u32>t);
      const S = m.S;
      for (let v = 0; v < 4; v++) {
        const sparse = (v & 1) != 0, transpose = (v & 2) != 0;
        const what = label(sparse, transpose, S);
        const want = m.lu(sparse, transpose);
        const x = new Float64Array(S), work = new Float64Array(6 * S), info = new Float64Array(2);
        bicgstab(m.p(sparse), m.indptr(sparse), m.indices(sparse), m.pi.dataStart, m.b.dataStart, x.dataStart,
          work.dataStart, S, m.A, GAMMA, transpose, TOL, 200, info.dataStart);
        expect(info[0]).toBeGreaterThan(0.0, what);
        expect(info[0]).toBeLessThanOrEqual(200.0, what);
        expect(info[1]).toBeLessThanOrEqual(TOL, what);
        expect(relDiffInf(x, want, S)).toBeLessThanOrEqual(1e-9, what);
      }
    }
  });

  it("reports the true relative residual: info[1] equals systemResidual of the returned x", () => {
    const m = new Mdp(9, 2, 7);
    const S = m.S;
    const x = new Float64Array(S), work = new Float64Array(6 * S), info = new Float64Array(2);
    bicgstab(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false, TOL, 200, info.dataStart);
    const r = systemResidual(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false);
    expect(info[1]).toBe(r);
  });

  it("returns x = 0 after 0 iterations with residual 0 when b = 0 and the guess is 0", () => {
    const m = new Mdp(5, 2, 8);
    const S = m.S;
    const b = new Float64Array(S), x = new Float64Array(S), work = new Float64Array(6 * S), info = new Float64Array(2);
    info.fill(NaN);
    bicgstab(m.P.dataStart, 0, 0, m.pi.dataStart, b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false, TOL, 200, info.dataStart);
    expect(info[0]).toBe(0.0);
    expect(info[1]).toBe(0.0);
    for (let i = 0; i < S; i++) expect(x[i]).toBe(0.0);
  });

  it("starts from the guess in x: the exact answer as guess gives 0 iterations and leaves x unchanged", () => {
    const m = new Mdp(9, 3, 9);
    const S = m.S;
    const want = m.lu(true, true);
    const x = copyOf(want), work = new Float64Array(6 * S), info = new Float64Array(2);
    bicgstab(m.p(true), m.indptr(true), m.indices(true), m.pi.dataStart, m.b.dataStart, x.dataStart,
      work.dataStart, S, m.A, GAMMA, true, TOL, 200, info.dataStart);
    expect(info[0]).toBe(0.0);
    expect(info[1]).toBeLessThanOrEqual(TOL);
    for (let i = 0; i < S; i++) expect(x[i]).toBe(want[i]);
  });

  it("converges from a nonzero initial guess as well", () => {
    const m = new Mdp(17, 2, 10);
    const S = m.S;
    const want = m.lu(false, false);
    const x = new Float64Array(S), work = new Float64Array(6 * S), info = new Float64Array(2);
    x.fill(3.0);
    bicgstab(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false, TOL, 200, info.dataStart);
    expect(info[0]).toBeGreaterThan(0.0);
    expect(info[1]).toBeLessThanOrEqual(TOL);
    expect(relDiffInf(x, want, S)).toBeLessThanOrEqual(1e-9);
  });
});

describe("richardson", () => {
  it("solves (I − γP_π)x = b and its transpose to the LU answer (within 1e-9) for dense and CSR P", () => {
    for (let t = 0; t < SIZES.length; t++) {
      const m = new Mdp(SIZES[t], 3, 200 + <u32>t);
      const S = m.S;
      for (let v = 0; v < 4; v++) {
        const sparse = (v & 1) != 0, transpose = (v & 2) != 0;
        const what = label(sparse, transpose, S);
        const want = m.lu(sparse, transpose);
        const x = new Float64Array(S), work = new Float64Array(S), info = new Float64Array(2);
        richardson(m.p(sparse), m.indptr(sparse), m.indices(sparse), m.pi.dataStart, m.b.dataStart, x.dataStart,
          work.dataStart, S, m.A, GAMMA, transpose, TOL, 10000, info.dataStart);
        expect(info[0]).toBeGreaterThan(0.0, what);
        expect(info[0]).toBeLessThan(10000.0, what);
        expect(info[1]).toBeLessThanOrEqual(TOL, what);
        expect(relDiffInf(x, want, S)).toBeLessThanOrEqual(1e-9, what);
      }
    }
  });

  it("stops at maxIter and reports the residual reached so far (above tol)", () => {
    const m = new Mdp(9, 2, 11);
    const S = m.S;
    const x = new Float64Array(S), work = new Float64Array(S), info = new Float64Array(2);
    richardson(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false, TOL, 3, info.dataStart);
    expect(info[0]).toBe(3.0);
    expect(info[1]).toBeGreaterThan(TOL);
    const r = systemResidual(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false);
    expect(info[1]).toBe(r);
  });

  it("returns x = 0 after 0 iterations with residual 0 when b = 0 and the guess is 0", () => {
    const m = new Mdp(5, 2, 12);
    const S = m.S;
    const b = new Float64Array(S), x = new Float64Array(S), work = new Float64Array(S), info = new Float64Array(2);
    info.fill(NaN);
    richardson(m.p(true), m.indptr(true), m.indices(true), m.pi.dataStart, b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, true, TOL, 100, info.dataStart);
    expect(info[0]).toBe(0.0);
    expect(info[1]).toBe(0.0);
    for (let i = 0; i < S; i++) expect(x[i]).toBe(0.0);
  });

  it("reaches x = b in one step when γ = 0, since then the system is the identity", () => {
    const m = new Mdp(5, 2, 13);
    const S = m.S;
    const x = new Float64Array(S), work = new Float64Array(S), info = new Float64Array(2);
    richardson(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, 0.0, false, TOL, 100, info.dataStart);
    expect(info[0]).toBe(1.0);
    expect(info[1]).toBe(0.0);
    for (let i = 0; i < S; i++) expect(x[i]).toBe(m.b[i]);
  });
});

describe("systemResidual", () => {
  it("is below 1e-14 for the LU answer, dense and CSR, plain and transposed", () => {
    for (let t = 0; t < SIZES.length; t++) {
      const m = new Mdp(SIZES[t], 3, 300 + <u32>t);
      const S = m.S;
      const work = new Float64Array(S);
      for (let v = 0; v < 4; v++) {
        const sparse = (v & 1) != 0, transpose = (v & 2) != 0;
        const x = m.lu(sparse, transpose);
        const r = systemResidual(m.p(sparse), m.indptr(sparse), m.indices(sparse), m.pi.dataStart, m.b.dataStart,
          x.dataStart, work.dataStart, S, m.A, GAMMA, transpose);
        expect(r).toBeLessThan(1e-14, label(sparse, transpose, S));
      }
    }
  });

  it("is exactly 1 for x = 0 (the residual is b itself)", () => {
    const m = new Mdp(9, 3, 14);
    const S = m.S;
    const x = new Float64Array(S), work = new Float64Array(S);
    expect(systemResidual(m.P.dataStart, 0, 0, m.pi.dataStart, m.b.dataStart, x.dataStart, work.dataStart, S, m.A, GAMMA, false)).toBe(1.0);
  });

  it("is the absolute residual ‖A x‖₂ when b = 0 (the scale falls back to 1)", () => {
    // S = 1, A = 1, P = [1], π = [1]: A x = (1 − γ)x; x = 2 and γ = 0.5 give ‖A x‖ = 1
    const P = new Float64Array(1), pi = new Float64Array(1);
    P[0] = 1; pi[0] = 1;
    const b = new Float64Array(1), x = new Float64Array(1), work = new Float64Array(1);
    x[0] = 2;
    expect(systemResidual(P.dataStart, 0, 0, pi.dataStart, b.dataStart, x.dataStart, work.dataStart, 1, 1, 0.5, false)).toBe(1.0);
  });
});
