// Seeded random bilevel problems on the check set of docs/math.md#checks (S = 4, A = 3, n = 3,
// γ = 0.8, τ = 0.7), shared by the PBRL/PARL and penalty tests: a non-linear reward
// r_x = Φx + 0.3 sin(Ψx), a smooth upper objective with an x–π cross term, and a
// Stackelberg-type configurable MDP whose transitions depend on x.
import { TabularMDP } from '../../src/index.js';
import { BilevelProblem, type PolicyObjective, type RewardModel, type TransitionModel } from '../../src/bilevel/problem.js';
import { mulberry32, randomCsr, randomDense, randomVector } from './random-mdp.js';

/** the check set of docs/math.md#checks. */
export const S = 4, A = 3, n = 3, GAMMA = 0.8, TAU = 0.7;

export type MdpKind = 'dense' | 'csr';

/** r_x = Φx + 0.3 sin(Ψx) (non-linear, so R_x depends on x); Φ, Ψ from seeds seed, seed + 1. */
export function sineReward(SA: number, dim: number, seed: number): RewardModel {
  const Phi = randomVector(SA * dim, seed), Psi = randomVector(SA * dim, seed + 1);
  const lin = (M: Float64Array, x: Float64Array, i: number) => {
    let acc = 0;
    for (let k = 0; k < dim; k++) acc += M[i * dim + k] * x[k];
    return acc;
  };
  return {
    dim,
    rows: SA,
    reward(x, out) {
      for (let i = 0; i < SA; i++) out[i] = lin(Phi, x, i) + 0.3 * Math.sin(lin(Psi, x, i));
    },
    jacobian(x, out) {
      for (let i = 0; i < SA; i++) {
        const c = 0.3 * Math.cos(lin(Psi, x, i));
        for (let k = 0; k < dim; k++) out[i * dim + k] = Phi[i * dim + k] + c * Psi[i * dim + k];
      }
    },
  };
}

/** f(x, π) = cᵀπ + (μ/2)‖x‖² + πᵀBx + (κ/2)‖π‖² with μ = 0.3, κ = 0.5: smooth, with an x–π cross term. */
export function crossObjective(SA: number, dim: number, seed: number): PolicyObjective {
  const c = randomVector(SA, seed), B = randomVector(SA * dim, seed + 1);
  const mu = 0.3, kappa = 0.5;
  return {
    value(x, pi) {
      let v = 0;
      for (let i = 0; i < SA; i++) {
        let bx = 0;
        for (let k = 0; k < dim; k++) bx += B[i * dim + k] * x[k];
        v += c[i] * pi[i] + pi[i] * bx + 0.5 * kappa * pi[i] * pi[i];
      }
      for (let k = 0; k < dim; k++) v += 0.5 * mu * x[k] * x[k];
      return v;
    },
    gradX(x, pi, out) {
      for (let k = 0; k < dim; k++) {
        let acc = mu * x[k];
        for (let i = 0; i < SA; i++) acc += B[i * dim + k] * pi[i];
        out[k] = acc;
      }
    },
    gradPi(x, pi, out) {
      for (let i = 0; i < SA; i++) {
        let bx = 0;
        for (let k = 0; k < dim; k++) bx += B[i * dim + k] * x[k];
        out[i] = c[i] + bx + kappa * pi[i];
      }
    },
  };
}

/** A random S × A MDP with γ = 0.8: dense, or CSR with 2 entries per row. */
export function checkMdp(kind: MdpKind, seed: number): TabularMDP {
  return kind === 'dense' ? TabularMDP.dense(randomDense(S, A, GAMMA, seed)) : TabularMDP.sparse(randomCsr(S, A, GAMMA, 2, seed));
}

/** checkMdp(kind, seed) with the sine reward (seed + 100) and the cross objective (seed + 200). */
export function genericProblem(kind: MdpKind, seed: number, tau = TAU): BilevelProblem {
  return new BilevelProblem({ mdp: checkMdp(kind, seed), tau, reward: sineReward(S * A, n, seed + 100), upper: crossObjective(S * A, n, seed + 200) });
}

/**
 * A Stackelberg-type configurable MDP (docs/math.md#x-dependent-transitions, docs/math.md#stackelberg): the leader's x ∈ R^{S·B} (B = 2) sets
 * μ_x(·|s) = softmax(x_s); P_x(s'|s,a) = Σ_b μ(b|s) T(s'|s,a,b), r_x(s,a) = Σ_b μ(b|s) R(s,a,b);
 * the upper objective is crossObjective(S·A, S·B, seed + 300).
 */
export function stackelbergProblem(seed: number, tau = TAU): BilevelProblem {
  const Bn = 2, dim = S * Bn;
  const rand = mulberry32(seed);
  const T = new Float64Array(S * A * Bn * S), R = new Float64Array(S * A * Bn);
  for (let j = 0; j < S * A * Bn; j++) {
    let z = 0;
    for (let t = 0; t < S; t++) z += (T[j * S + t] = 0.05 + rand());
    for (let t = 0; t < S; t++) T[j * S + t] /= z;
    R[j] = 2 * rand() - 1;
  }
  const mu = (x: Float64Array, s: number, b: number) => {
    let m = -Infinity, z = 0;
    for (let c = 0; c < Bn; c++) m = Math.max(m, x[s * Bn + c]);
    for (let c = 0; c < Bn; c++) z += Math.exp(x[s * Bn + c] - m);
    return Math.exp(x[s * Bn + b] - m) / z;
  };
  const reward: RewardModel = {
    dim,
    reward(x, out) {
      for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) {
        let acc = 0;
        for (let b = 0; b < Bn; b++) acc += mu(x, s, b) * R[(s * A + a) * Bn + b];
        out[s * A + a] = acc;
      }
    },
    jacobian(x, out) {
      out.fill(0);
      for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) {
        let r = 0;
        for (let b = 0; b < Bn; b++) r += mu(x, s, b) * R[(s * A + a) * Bn + b];
        for (let b = 0; b < Bn; b++) out[(s * A + a) * dim + s * Bn + b] = mu(x, s, b) * (R[(s * A + a) * Bn + b] - r);
      }
    },
  };
  const transitions: TransitionModel = {
    P(x, out) {
      out.fill(0);
      for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) for (let b = 0; b < Bn; b++) {
        const w = mu(x, s, b);
        for (let t = 0; t < S; t++) out[(s * A + a) * S + t] += w * T[((s * A + a) * Bn + b) * S + t];
      }
    },
    vjpPV(x, V, u, out) {
      out.fill(0);
      for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) {
        const tv = new Float64Array(Bn);
        let mean = 0;
        for (let b = 0; b < Bn; b++) {
          for (let t = 0; t < S; t++) tv[b] += T[((s * A + a) * Bn + b) * S + t] * V[t];
          mean += mu(x, s, b) * tv[b];
        }
        for (let b = 0; b < Bn; b++) out[s * Bn + b] += u[s * A + a] * mu(x, s, b) * (tv[b] - mean);
      }
    },
  };
  const P0 = new Float64Array(S * A * S);
  transitions.P(new Float64Array(dim), P0);
  const mdp = TabularMDP.dense({ S, A, gamma: GAMMA, P: P0 });
  return new BilevelProblem({ mdp, tau, reward, upper: crossObjective(S * A, dim, seed + 300), transitions });
}
