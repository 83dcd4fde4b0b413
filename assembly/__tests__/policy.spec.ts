// Specs for assembly/policy.ts: ppiDense, ppiTDense, ppiCsr, ppiTCsr, ppi,
// softRewardPi, qFromV, buildSystem.
import { ppiDense, ppiTDense, ppiCsr, ppiTCsr, ppi, softRewardPi, qFromV, buildSystem } from "../policy";
import { f64s, i32s, Lcg, randomStochastic, denseToCsr, relDiff, naiveDot, bits } from "./helpers";

// The hand example, S = 2, A = 2 (the same P and r as bellman.spec.ts):
//   P(·|0,0) = [1, 0],  P(·|0,1) = [0.5, 0.5],  P(·|1,0) = [0, 1],  P(·|1,1) = [0.25, 0.75]
//   r = [1, 0, 0, 2]
//   π(·|0) = [0.25, 0.75],  π(·|1) = [1, 0]   (action 1 in state 1 has probability 0)
// P_π = Π_π P:
//   row 0 = 0.25·[1, 0] + 0.75·[0.5, 0.5] = [0.625, 0.375]
//   row 1 = 1·[0, 1]                      = [0, 1]
// v = [2, 4]:  P_π v  = [0.625·2 + 0.375·4, 4] = [2.75, 4]
// u = [1, 2]:  P_πᵀ u = [0.625·1 + 0·2, 0.375·1 + 1·2] = [0.625, 2.375]
const S = 2, A = 2;
function handP(): Float64Array { return f64s([1, 0, 0.5, 0.5, 0, 1, 0.25, 0.75]); }
function handR(): Float64Array { return f64s([1, 0, 0, 2]); }
function handPi(): Float64Array { return f64s([0.25, 0.75, 1, 0]); }
function handIndptr(): Int32Array { return i32s([0, 1, 3, 4, 6]); }
function handIndices(): Int32Array { return i32s([0, 0, 1, 1, 0, 1]); }
function handProbs(): Float64Array { return f64s([1, 0.5, 0.5, 1, 0.25, 0.75]); }

/** A random policy: rows of A probabilities; every third row has a zero entry. */
function randomPolicy(s: i32, a: i32, rng: Lcg): Float64Array {
  const pi = new Float64Array(s * a);
  for (let i = 0; i < s; i++) {
    let sum: f64 = 0;
    for (let j = 0; j < a; j++) {
      const p = i % 3 == 0 && j == a - 1 ? 0.0 : rng.range(0.1, 1.0);
      pi[i * a + j] = p;
      sum += p;
    }
    for (let j = 0; j < a; j++) pi[i * a + j] /= sum;
  }
  return pi;
}

function randomVector(n: i32, rng: Lcg): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.range(-2.0, 2.0);
  return v;
}

describe("ppiDense and ppiCsr", () => {
  it("compute P_π v = [2.75, 4] for the hand example (dense)", () => {
    const P = handP(), pi = handPi(), v = f64s([2, 4]);
    const out = f64s([NaN, NaN]);
    ppiDense(P.dataStart, pi.dataStart, v.dataStart, out.dataStart, S, A);
    expect(out[0]).toBe(2.75);
    expect(out[1]).toBe(4.0);
  });

  it("compute P_π v = [2.75, 4] for the hand example (CSR)", () => {
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs();
    const pi = handPi(), v = f64s([2, 4]);
    const out = f64s([NaN, NaN]);
    ppiCsr(indptr.dataStart, indices.dataStart, probs.dataStart, pi.dataStart, v.dataStart, out.dataStart, S, A);
    expect(out[0]).toBe(2.75);
    expect(out[1]).toBe(4.0);
  });

  it("agree with each other within 1e-14 on a random sparse MDP (S = 9, A = 3)", () => {
    const s = 9, a = 3;
    const rng = new Lcg(11);
    const P = randomStochastic(s * a, s, rng, true);
    const csr = denseToCsr(P, s * a, s);
    const pi = randomPolicy(s, a, rng), v = randomVector(s, rng);
    const od = new Float64Array(s), oc = new Float64Array(s);
    ppiDense(P.dataStart, pi.dataStart, v.dataStart, od.dataStart, s, a);
    ppiCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, pi.dataStart, v.dataStart, oc.dataStart, s, a);
    for (let i = 0; i < s; i++) expect(abs(od[i] - oc[i])).toBeLessThanOrEqual(1e-14, "state " + i.toString());
  });

  it("map the constant vector 1 to 1, since P_π is row-stochastic", () => {
    const s = 9, a = 3;
    const rng = new Lcg(12);
    const P = randomStochastic(s * a, s, rng, true);
    const csr = denseToCsr(P, s * a, s);
    const pi = randomPolicy(s, a, rng);
    const ones = new Float64Array(s);
    ones.fill(1.0);
    const od = new Float64Array(s), oc = new Float64Array(s);
    ppiDense(P.dataStart, pi.dataStart, ones.dataStart, od.dataStart, s, a);
    ppiCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, pi.dataStart, ones.dataStart, oc.dataStart, s, a);
    for (let i = 0; i < s; i++) {
      expect(abs(od[i] - 1.0)).toBeLessThanOrEqual(1e-14);
      expect(abs(oc[i] - 1.0)).toBeLessThanOrEqual(1e-14);
    }
  });
});

describe("ppiTDense and ppiTCsr", () => {
  it("compute P_πᵀ u = [0.625, 2.375] for the hand example (dense)", () => {
    const P = handP(), pi = handPi(), u = f64s([1, 2]);
    const out = f64s([NaN, NaN]);
    ppiTDense(P.dataStart, pi.dataStart, u.dataStart, out.dataStart, S, A);
    expect(out[0]).toBe(0.625);
    expect(out[1]).toBe(2.375);
  });

  it("compute P_πᵀ u = [0.625, 2.375] for the hand example (CSR)", () => {
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs();
    const pi = handPi(), u = f64s([1, 2]);
    const out = f64s([NaN, NaN]);
    ppiTCsr(indptr.dataStart, indices.dataStart, probs.dataStart, pi.dataStart, u.dataStart, out.dataStart, S, A);
    expect(out[0]).toBe(0.625);
    expect(out[1]).toBe(2.375);
  });

  it("are the adjoints of the forward products: uᵀ(P_π v) equals (P_πᵀ u)ᵀ v within 1e-12, dense and CSR", () => {
    const rng = new Lcg(13);
    const sizes: i32[] = [1, 2, 5, 9, 17];
    for (let t = 0; t < sizes.length; t++) {
      const s = sizes[t], a = 3;
      const P = randomStochastic(s * a, s, rng, true);
      const csr = denseToCsr(P, s * a, s);
      const pi = randomPolicy(s, a, rng), u = randomVector(s, rng), v = randomVector(s, rng);
      const pv = new Float64Array(s), ptu = new Float64Array(s);
      ppiDense(P.dataStart, pi.dataStart, v.dataStart, pv.dataStart, s, a);
      ppiTDense(P.dataStart, pi.dataStart, u.dataStart, ptu.dataStart, s, a);
      expect(relDiff(naiveDot(u, pv, s), naiveDot(ptu, v, s))).toBeLessThanOrEqual(1e-12, "dense, S = " + s.toString());
      ppiCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, pi.dataStart, v.dataStart, pv.dataStart, s, a);
      ppiTCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, pi.dataStart, u.dataStart, ptu.dataStart, s, a);
      expect(relDiff(naiveDot(u, pv, s), naiveDot(ptu, v, s))).toBeLessThanOrEqual(1e-12, "CSR, S = " + s.toString());
    }
  });

  it("overwrite the output instead of accumulating into it", () => {
    const P = handP(), pi = handPi(), u = f64s([1, 2]);
    const out = f64s([100, -100]);
    ppiTDense(P.dataStart, pi.dataStart, u.dataStart, out.dataStart, S, A);
    expect(out[0]).toBe(0.625);
    expect(out[1]).toBe(2.375);
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs();
    out[0] = 100; out[1] = -100;
    ppiTCsr(indptr.dataStart, indices.dataStart, probs.dataStart, pi.dataStart, u.dataStart, out.dataStart, S, A);
    expect(out[0]).toBe(0.625);
    expect(out[1]).toBe(2.375);
  });
});

describe("ppi", () => {
  it("dispatches to the dense products when indptr == 0 and to the CSR products otherwise, bit for bit", () => {
    const s = 9, a = 2;
    const rng = new Lcg(14);
    const P = randomStochastic(s * a, s, rng, true);
    const csr = denseToCsr(P, s * a, s);
    const pi = randomPolicy(s, a, rng), v = randomVector(s, rng);
    const want = new Float64Array(s), got = new Float64Array(s);

    ppiDense(P.dataStart, pi.dataStart, v.dataStart, want.dataStart, s, a);
    ppi(P.dataStart, 0, 0, pi.dataStart, v.dataStart, got.dataStart, s, a, false);
    for (let i = 0; i < s; i++) expect(bits(got[i])).toBe(bits(want[i]));

    ppiTDense(P.dataStart, pi.dataStart, v.dataStart, want.dataStart, s, a);
    ppi(P.dataStart, 0, 0, pi.dataStart, v.dataStart, got.dataStart, s, a, true);
    for (let i = 0; i < s; i++) expect(bits(got[i])).toBe(bits(want[i]));

    ppiCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, pi.dataStart, v.dataStart, want.dataStart, s, a);
    ppi(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, v.dataStart, got.dataStart, s, a, false);
    for (let i = 0; i < s; i++) expect(bits(got[i])).toBe(bits(want[i]));

    ppiTCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, pi.dataStart, v.dataStart, want.dataStart, s, a);
    ppi(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, v.dataStart, got.dataStart, s, a, true);
    for (let i = 0; i < s; i++) expect(bits(got[i])).toBe(bits(want[i]));
  });
});

describe("softRewardPi", () => {
  // τ = 0.5:
  //   out(0) = 0.25·(1 − 0.5·ln 0.25) + 0.75·(0 − 0.5·ln 0.75)
  //          = 0.25 + 0.125·ln 4 + 0.375·ln(4/3) = 0.5311675723094041
  //   out(1) = 1·(0 − 0.5·ln 1) + [π = 0: no term, although r(1,1) = 2] = 0
  it("computes r_π + τH_π for the hand example and skips the zero-probability action (no 0·log 0 = NaN)", () => {
    const r = handR(), pi = handPi();
    const out = f64s([NaN, NaN]);
    softRewardPi(r.dataStart, pi.dataStart, out.dataStart, S, A, 0.5);
    expect(relDiff(out[0], 0.5311675723094041)).toBeLessThanOrEqual(1e-15);
    expect(out[1]).toBe(0.0);
  });

  it("reduces to the expected reward r_π = [0.25, 0] when τ = 0", () => {
    const r = handR(), pi = handPi();
    const out = f64s([NaN, NaN]);
    softRewardPi(r.dataStart, pi.dataStart, out.dataStart, S, A, 0.0);
    expect(out[0]).toBe(0.25);
    expect(out[1]).toBe(0.0);
  });

  it("adds exactly τ·log A to r_π under the uniform policy", () => {
    const r = f64s([0.5, -1.5, 2, 4]);
    const pi = f64s([0.5, 0.5, 0.5, 0.5]);
    const out = new Float64Array(2);
    softRewardPi(r.dataStart, pi.dataStart, out.dataStart, 2, 2, 0.3);
    expect(abs(out[0] - (-0.5 + 0.3 * Math.log(2.0)))).toBeLessThanOrEqual(1e-15);
    expect(abs(out[1] - (3.0 + 0.3 * Math.log(2.0)))).toBeLessThanOrEqual(1e-15);
  });
});

describe("qFromV", () => {
  // Q = r + γ P V with γ = 0.5, V = [2, 4]: [2, 1.5, 2, 3.75] (worked out in bellman.spec.ts)
  it("computes Q = r + γPV = [2, 1.5, 2, 3.75] for the hand example from dense P (indptr == 0)", () => {
    const P = handP(), r = handR(), V = f64s([2, 4]);
    const Q = new Float64Array(S * A);
    qFromV(P.dataStart, 0, 0, r.dataStart, V.dataStart, Q.dataStart, S, A, 0.5);
    expect(Q[0]).toBe(2.0);
    expect(Q[1]).toBe(1.5);
    expect(Q[2]).toBe(2.0);
    expect(Q[3]).toBe(3.75);
  });

  it("computes the same Q from CSR P (P holds the probs, indptr != 0)", () => {
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs();
    const r = handR(), V = f64s([2, 4]);
    const Q = new Float64Array(S * A);
    qFromV(probs.dataStart, indptr.dataStart, indices.dataStart, r.dataStart, V.dataStart, Q.dataStart, S, A, 0.5);
    expect(Q[0]).toBe(2.0);
    expect(Q[1]).toBe(1.5);
    expect(Q[2]).toBe(2.0);
    expect(Q[3]).toBe(3.75);
  });

  it("averages to the policy backup: Σ_a π(a|s)·Q(s,a) = r_π(s) + γ(P_π V)(s) within 1e-14", () => {
    const s = 9, a = 3;
    const rng = new Lcg(15);
    const P = randomStochastic(s * a, s, rng, true);
    const pi = randomPolicy(s, a, rng), V = randomVector(s, rng), r = randomVector(s * a, rng);
    const Q = new Float64Array(s * a), pv = new Float64Array(s), rpi = new Float64Array(s);
    qFromV(P.dataStart, 0, 0, r.dataStart, V.dataStart, Q.dataStart, s, a, 0.9);
    ppiDense(P.dataStart, pi.dataStart, V.dataStart, pv.dataStart, s, a);
    softRewardPi(r.dataStart, pi.dataStart, rpi.dataStart, s, a, 0.0);
    for (let i = 0; i < s; i++) {
      let lhs: f64 = 0;
      for (let j = 0; j < a; j++) lhs += pi[i * a + j] * Q[i * a + j];
      expect(abs(lhs - (rpi[i] + 0.9 * pv[i]))).toBeLessThanOrEqual(1e-14, "state " + i.toString());
    }
  });
});

describe("buildSystem", () => {
  // γ = 0.5: M = I − 0.5·P_π = [[1 − 0.3125, −0.1875], [0, 1 − 0.5]] = [[0.6875, −0.1875], [0, 0.5]]
  it("builds M = I − γP_π = [[0.6875, −0.1875], [0, 0.5]] for the hand example (dense, not transposed)", () => {
    const P = handP(), pi = handPi();
    const M = new Float64Array(4);
    M.fill(NaN);
    buildSystem(P.dataStart, 0, 0, pi.dataStart, M.dataStart, S, A, 0.5, false);
    expect(M[0]).toBe(0.6875);
    expect(M[1]).toBe(-0.1875);
    expect(M[2]).toBe(0.0);
    expect(M[3]).toBe(0.5);
  });

  it("builds Mᵀ = [[0.6875, 0], [−0.1875, 0.5]] when transpose is true (CSR)", () => {
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs(), pi = handPi();
    const M = new Float64Array(4);
    M.fill(NaN);
    buildSystem(probs.dataStart, indptr.dataStart, indices.dataStart, pi.dataStart, M.dataStart, S, A, 0.5, true);
    expect(M[0]).toBe(0.6875);
    expect(M[1]).toBe(0.0);
    expect(M[2]).toBe(-0.1875);
    expect(M[3]).toBe(0.5);
  });

  it("gives the exact transpose with transpose = true, and M v = v − γP_π v within 1e-14, dense and CSR", () => {
    const rng = new Lcg(16);
    const sizes: i32[] = [1, 3, 5, 9];
    for (let t = 0; t < sizes.length; t++) {
      const s = sizes[t], a = 2;
      const gamma = 0.95;
      const P = randomStochastic(s * a, s, rng, true);
      const csr = denseToCsr(P, s * a, s);
      const pi = randomPolicy(s, a, rng), v = randomVector(s, rng);
      const pv = new Float64Array(s);
      ppiDense(P.dataStart, pi.dataStart, v.dataStart, pv.dataStart, s, a);
      for (let variant = 0; variant < 2; variant++) {
        const M = new Float64Array(s * s), MT = new Float64Array(s * s);
        if (variant == 0) {
          buildSystem(P.dataStart, 0, 0, pi.dataStart, M.dataStart, s, a, gamma, false);
          buildSystem(P.dataStart, 0, 0, pi.dataStart, MT.dataStart, s, a, gamma, true);
        } else {
          buildSystem(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, M.dataStart, s, a, gamma, false);
          buildSystem(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, MT.dataStart, s, a, gamma, true);
        }
        const what = (variant == 0 ? "dense" : "CSR") + ", S = " + s.toString();
        for (let i = 0; i < s; i++) {
          let mv: f64 = 0;
          for (let j = 0; j < s; j++) {
            expect(bits(MT[j * s + i])).toBe(bits(M[i * s + j]), what);
            mv += M[i * s + j] * v[j];
          }
          expect(abs(mv - (v[i] - gamma * pv[i]))).toBeLessThanOrEqual(1e-14, what);
        }
      }
    }
  });
});
