// Specs for assembly/bellman.ts: bellmanDense, bellmanCsr, softmaxPolicy.
import { bellmanDense, bellmanCsr, softmaxPolicy, deltaMin, deltaMax } from "../bellman";
import { f64s, i32s, Lcg, randomStochastic, denseToCsr, relDiff, bits } from "./helpers";

// The hand example, S = 2, A = 2, γ = 0.5; rows of P are (s, a) = (0,0), (0,1), (1,0), (1,1):
//   P(·|0,0) = [1, 0]      r(0,0) = 1
//   P(·|0,1) = [0.5, 0.5]  r(0,1) = 0
//   P(·|1,0) = [0, 1]      r(1,0) = 0
//   P(·|1,1) = [0.25, 0.75] r(1,1) = 2
// With V = [2, 4]:
//   Q(0,0) = 1 + 0.5·(1·2)             = 2
//   Q(0,1) = 0 + 0.5·(0.5·2 + 0.5·4)   = 1.5
//   Q(1,0) = 0 + 0.5·(1·4)             = 2
//   Q(1,1) = 2 + 0.5·(0.25·2 + 0.75·4) = 2 + 0.5·3.5 = 3.75
// (all dyadic, so exact in binary).
// Hard max (τ = 0): V' = [max(2, 1.5), max(2, 3.75)] = [2, 3.75];
//   ‖V' − V‖∞ = max(|2 − 2|, |3.75 − 4|) = 0.25.
// τ = 1: V'(0) = 2 + log(1 + e^(1.5−2))     = 2 + log(1.6065306597…) = 2.4740769841801065
//        V'(1) = 3.75 + log(e^(2−3.75) + 1) = 3.75 + log(1.1737739434…) = 3.9102241504380872
//   ‖V' − V‖∞ = max(0.4740769841801065, 0.0897758495619128) = 0.4740769841801065.
const S = 2, A = 2;
const GAMMA = 0.5;
function handP(): Float64Array { return f64s([1, 0, 0.5, 0.5, 0, 1, 0.25, 0.75]); }
function handR(): Float64Array { return f64s([1, 0, 0, 2]); }
function handV(): Float64Array { return f64s([2, 4]); }
// CSR of handP: row (0,0) → {0: 1}, (0,1) → {0: .5, 1: .5}, (1,0) → {1: 1}, (1,1) → {0: .25, 1: .75}
function handIndptr(): Int32Array { return i32s([0, 1, 3, 4, 6]); }
function handIndices(): Int32Array { return i32s([0, 0, 1, 1, 0, 1]); }
function handProbs(): Float64Array { return f64s([1, 0.5, 0.5, 1, 0.25, 0.75]); }

const SOFT_V0 = 2.4740769841801065;
const SOFT_V1 = 3.9102241504380872;

function expectHandQ(Q: Float64Array): void {
  expect(Q[0]).toBe(2.0);
  expect(Q[1]).toBe(1.5);
  expect(Q[2]).toBe(2.0);
  expect(Q[3]).toBe(3.75);
}

describe("bellmanDense", () => {
  it("computes Q = r + γPV and the hard max V' = [2, 3.75] with τ = 0, returning ‖V' − V‖∞ = 0.25", () => {
    const P = handP(), r = handR(), V = handV();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    const res = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, GAMMA, 0.0, 0);
    expectHandQ(Q);
    expect(Vout[0]).toBe(2.0);
    expect(Vout[1]).toBe(3.75);
    expect(res).toBe(0.25);
  });

  it("computes the soft value V' = τ·log Σ exp(Q/τ) with τ = 1 and returns ‖V' − V‖∞", () => {
    const P = handP(), r = handR(), V = handV();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    const res = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, GAMMA, 1.0, 0);
    expectHandQ(Q);
    expect(relDiff(Vout[0], SOFT_V0)).toBeLessThanOrEqual(1e-15);
    expect(relDiff(Vout[1], SOFT_V1)).toBeLessThanOrEqual(1e-15);
    expect(relDiff(res, SOFT_V0 - 2.0)).toBeLessThanOrEqual(1e-14);
  });

  it("returns 0 at a fixed point: with γ = 0 and V = max_a r, a hard-max sweep leaves V unchanged", () => {
    const P = handP(), r = handR();
    const V = f64s([1, 2]);
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    const res = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, 0.0, 0.0, 0);
    expect(Vout[0]).toBe(1.0);
    expect(Vout[1]).toBe(2.0);
    expect(res).toBe(0.0);
  });

  it("does not overflow for Q values around 1000: the log-sum-exp is max-shifted", () => {
    // γ = 0, r(s,·) = [1000, 1000] and [1000, 999]: V'(0) = 1000 + log 2, V'(1) = 1000 + log(1 + e^-1)
    const P = handP();
    const r = f64s([1000, 1000, 1000, 999]);
    const V = f64s([0, 0]);
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, 0.0, 1.0, 0);
    expect(isFinite(Vout[0])).toBe(true);
    expect(isFinite(Vout[1])).toBe(true);
    expect(relDiff(Vout[0], 1000.6931471805599)).toBeLessThanOrEqual(1e-15);
    expect(relDiff(Vout[1], 1000.0 + Math.log(1.0 + Math.exp(-1.0)))).toBeLessThanOrEqual(1e-15);
  });

  it("approaches the hard max as τ → 0 (τ = 1e-3 differs from it by less than τ·log A)", () => {
    const P = handP(), r = handR(), V = handV();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, GAMMA, 1e-3, 0);
    expect(Vout[0] - 2.0).toBeGreaterThanOrEqual(0.0);
    expect(Vout[0] - 2.0).toBeLessThanOrEqual(1e-3 * Math.log(2.0));
    expect(Vout[1] - 3.75).toBeGreaterThanOrEqual(0.0);
    expect(Vout[1] - 3.75).toBeLessThanOrEqual(1e-3 * Math.log(2.0));
  });
});

describe("bellmanCsr", () => {
  it("computes the same hand Q and hard max V' = [2, 3.75] with τ = 0 from CSR transitions", () => {
    const r = handR(), V = handV();
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    const res = bellmanCsr(indptr.dataStart, indices.dataStart, probs.dataStart, r.dataStart, V.dataStart,
      Q.dataStart, Vout.dataStart, S, A, GAMMA, 0.0, 0);
    expectHandQ(Q);
    expect(Vout[0]).toBe(2.0);
    expect(Vout[1]).toBe(3.75);
    expect(res).toBe(0.25);
  });

  it("computes the same soft value with τ = 1 from CSR transitions", () => {
    const r = handR(), V = handV();
    const indptr = handIndptr(), indices = handIndices(), probs = handProbs();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    const res = bellmanCsr(indptr.dataStart, indices.dataStart, probs.dataStart, r.dataStart, V.dataStart,
      Q.dataStart, Vout.dataStart, S, A, GAMMA, 1.0, 0);
    expectHandQ(Q);
    expect(relDiff(Vout[0], SOFT_V0)).toBeLessThanOrEqual(1e-15);
    expect(relDiff(Vout[1], SOFT_V1)).toBeLessThanOrEqual(1e-15);
    expect(relDiff(res, SOFT_V0 - 2.0)).toBeLessThanOrEqual(1e-14);
  });

  it("agrees with bellmanDense within 1e-13 on a random sparse MDP (S = 7, A = 3)", () => {
    const s = 7, a = 3;
    const rng = new Lcg(321);
    const P = randomStochastic(s * a, s, rng, true);
    const csr = denseToCsr(P, s * a, s);
    const r = new Float64Array(s * a), V = new Float64Array(s);
    for (let i = 0; i < s * a; i++) r[i] = rng.range(-1.0, 1.0);
    for (let i = 0; i < s; i++) V[i] = rng.range(-5.0, 5.0);
    const Qd = new Float64Array(s * a), Vd = new Float64Array(s);
    const Qc = new Float64Array(s * a), Vc = new Float64Array(s);
    const taus: f64[] = [0.0, 0.3];
    for (let t = 0; t < taus.length; t++) {
      const tau = taus[t];
      const rd = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Qd.dataStart, Vd.dataStart, s, a, 0.9, tau, 0);
      const rc = bellmanCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, r.dataStart,
        V.dataStart, Qc.dataStart, Vc.dataStart, s, a, 0.9, tau, 0);
      for (let i = 0; i < s * a; i++) expect(abs(Qd[i] - Qc[i])).toBeLessThanOrEqual(1e-13);
      for (let i = 0; i < s; i++) expect(abs(Vd[i] - Vc[i])).toBeLessThanOrEqual(1e-13);
      expect(abs(rd - rc)).toBeLessThanOrEqual(1e-13);
    }
  });
});

describe("softmaxPolicy", () => {
  it("gives rows that are probability vectors summing to 1 (within 1e-15) for τ > 0", () => {
    const s = 3, a = 4;
    const Q = f64s([0.3, -1.2, 2.5, 0.0, 10, 10, 10, 10, -3, 4, 1, 0.5]);
    const pi = new Float64Array(s * a);
    softmaxPolicy(Q.dataStart, pi.dataStart, s, a, 0.7);
    for (let i = 0; i < s; i++) {
      let sum: f64 = 0;
      for (let j = 0; j < a; j++) {
        expect(pi[i * a + j]).toBeGreaterThan(0.0);
        sum += pi[i * a + j];
      }
      expect(abs(sum - 1.0)).toBeLessThanOrEqual(1e-15);
    }
    // equal Q values give the uniform row
    for (let j = 0; j < a; j++) expect(pi[a + j]).toBe(0.25);
  });

  it("computes the hand-checked softmax of [0, ln 3] with τ = 1 as [1/4, 3/4]", () => {
    const Q = f64s([0, Math.log(3.0)]);
    const pi = new Float64Array(2);
    softmaxPolicy(Q.dataStart, pi.dataStart, 1, 2, 1.0);
    expect(abs(pi[0] - 0.25)).toBeLessThanOrEqual(1e-15);
    expect(abs(pi[1] - 0.75)).toBeLessThanOrEqual(1e-15);
  });

  it("gives the one-hot greedy row at the first maximiser when τ = 0", () => {
    // rows: a tie between actions 1 and 2 (→ 1); all equal (→ 0); negative values with the max last (→ 3)
    const Q = f64s([1, 3, 3, 2, 5, 5, 5, 5, -4, -3, -2, -1]);
    const pi = new Float64Array(12);
    pi.fill(NaN);
    softmaxPolicy(Q.dataStart, pi.dataStart, 3, 4, 0.0);
    const want: f64[] = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    for (let i = 0; i < 12; i++) expect(pi[i]).toBe(want[i], "entry " + i.toString());
  });

  it("does not overflow for Q values around 1000: softmax([1000, 999]) = [1/(1+e^-1), e^-1/(1+e^-1)]", () => {
    const Q = f64s([1000, 999, -1000, 1000]);
    const pi = new Float64Array(4);
    softmaxPolicy(Q.dataStart, pi.dataStart, 2, 2, 1.0);
    expect(relDiff(pi[0], 0.7310585786300049)).toBeLessThanOrEqual(1e-15);
    expect(relDiff(pi[1], 0.2689414213699951)).toBeLessThanOrEqual(1e-14);
    // exp(-2000) underflows to 0, which is the right answer to double precision
    expect(bits(pi[2])).toBe(bits(0.0));
    expect(pi[3]).toBe(1.0);
  });

  it("is consistent with the soft backup: τ·log Σ exp(Q/τ) − Q(s,a) = −τ·log π(a|s)", () => {
    const P = handP(), r = handR(), V = handV();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S), pi = new Float64Array(S * A);
    const tau = 0.8;
    bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, GAMMA, tau, 0);
    softmaxPolicy(Q.dataStart, pi.dataStart, S, A, tau);
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < A; a++) {
        expect(abs((Vout[s] - Q[s * A + a]) + tau * Math.log(pi[s * A + a]))).toBeLessThanOrEqual(1e-14);
      }
    }
  });

  it("writes π in the sweep with the same bits as softmaxPolicy on its Q (dense and CSR, τ > 0 and τ = 0)", () => {
    const s = 7, a = 3;
    const rng = new Lcg(77);
    const P = randomStochastic(s * a, s, rng, true);
    const csr = denseToCsr(P, s * a, s);
    const r = new Float64Array(s * a), V = new Float64Array(s);
    for (let i = 0; i < s * a; i++) r[i] = rng.range(-1.0, 1.0);
    for (let i = 0; i < s; i++) V[i] = rng.range(-5.0, 5.0);
    r[4] = r[3]; // a tie, for the greedy policy's first maximiser
    const taus: f64[] = [0.0, 0.3, 2.0];
    for (let t = 0; t < taus.length; t++) {
      const tau = taus[t];
      const Q = new Float64Array(s * a), W = new Float64Array(s), W0 = new Float64Array(s);
      const piSweep = new Float64Array(s * a), piRef = new Float64Array(s * a);
      const res0 = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, W0.dataStart, s, a, 0.9, tau, 0);
      const res = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, W.dataStart, s, a, 0.9, tau, piSweep.dataStart);
      expect(res).toBe(res0);
      softmaxPolicy(Q.dataStart, piRef.dataStart, s, a, tau);
      for (let i = 0; i < s; i++) expect(bits(W[i])).toBe(bits(W0[i]));
      for (let i = 0; i < s * a; i++) expect(bits(piSweep[i])).toBe(bits(piRef[i]));
      const Qc = new Float64Array(s * a), Wc = new Float64Array(s), piC = new Float64Array(s * a);
      bellmanCsr(csr.indptr.dataStart, csr.indices.dataStart, csr.probs.dataStart, r.dataStart,
        V.dataStart, Qc.dataStart, Wc.dataStart, s, a, 0.9, tau, piC.dataStart);
      softmaxPolicy(Qc.dataStart, piRef.dataStart, s, a, tau);
      for (let i = 0; i < s * a; i++) expect(bits(piC[i])).toBe(bits(piRef[i]));
    }
  });

  it("records min and max of V' − V for the error bounds (hand example, τ = 0: d = [0, −0.25])", () => {
    const P = handP(), r = handR(), V = handV();
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    const res = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, GAMMA, 0.0, 0);
    expect(deltaMin).toBe(-0.25);
    expect(deltaMax).toBe(0.0);
    expect(res).toBe(0.25);
    bellmanCsr(handIndptr().dataStart, handIndices().dataStart, handProbs().dataStart, r.dataStart, V.dataStart,
      Q.dataStart, Vout.dataStart, S, A, GAMMA, 1.0, 0);
    expect(relDiff(deltaMax, SOFT_V0 - 2.0)).toBeLessThanOrEqual(1e-14);
    expect(relDiff(deltaMin, SOFT_V1 - 4.0)).toBeLessThanOrEqual(1e-14);
  });

  it("takes the max as pmax in both builds (−0 vs +0: the first) and reports a NaN backup, which pmin/pmax would drop", () => {
    // γ = 0 and V < 0, so Q = r + (−0): state 0 has Q = [−0, +0], state 1 has Q = [1, NaN]
    const P = handP(), V = f64s([-1, -1]);
    const r = f64s([-0.0, 0.0, 1.0, NaN]);
    const Q = new Float64Array(S * A), Vout = new Float64Array(S);
    bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, 0.0, 0.0, 0);
    expect(bits(Vout[0])).toBe(bits(-0.0));
    const res = bellmanDense(P.dataStart, r.dataStart, V.dataStart, Q.dataStart, Vout.dataStart, S, A, 0.0, 0.5, 0);
    expect(isNaN(res)).toBe(true);
    expect(isNaN(deltaMin)).toBe(true);
    expect(isNaN(deltaMax)).toBe(true);
  });
});
