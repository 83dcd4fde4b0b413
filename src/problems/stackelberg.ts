// Stackelberg Markov game (docs/math.md#stackelberg) [CONSTRUCTED stand-in for PBRL's experiment]:
// at every state the leader plays b ~ μ_x(·|s) = softmax(x_s) and the follower plays
// a ~ π(·|s) at the same time; the game moves by T(s'|s, a, b). The follower best-responds
// (soft, temperature τ) to the leader's policy, which enters both its reward and its dynamics:
//   lower   r_x(s, a)     = Σ_b μ_x(b|s) R_F(s, a, b)
//           P_x(s'|s, a)  = Σ_b μ_x(b|s) T(s'|s, a, b)       (x-dependent, docs/math.md#x-dependent-transitions)
//   upper   f(x, π) = −E[Σ_t γ^t R_L(s_t, a_t, b_t)] = −ρᵀ V^π[r_L,x ; P_x]   (no entropy)
// x ∈ R^{S·B}, x[s·B + b] the leader's logit of b at s.
// Layouts: R_F, R_L (S·A·B), index (s·A + a)·B + b; T (S·A·B × S), row (s·A + a)·B + b.
// Defaults: S = 6, A = 3, B = 2, γ = 0.9, τ = 0.1; R_F, R_L ~ N(0, 1); T rows Dirichlet(1).
import { ShapeError } from "../errors";
import { occupancy, policyEvaluation } from "../lower";
import { TabularMDP } from "../mdp";
import { BilevelProblem, type PolicyObjective, type RewardModel, type TransitionModel } from "../bilevel/problem";
import type { Backend } from "../wasm/module";
import { Rng } from "../util/random";
import * as check from "../validate";
import { dirichletRow, positive } from "./gridworld";
import { exp } from "../util/math";

/** The fixed data of a Stackelberg Markov game. */
export interface StackelbergGame {
  S: number;
  /** Follower actions. */
  A: number;
  /** Leader actions. */
  B: number;
  gamma: number;
  /** Leader-and-follower transitions T (S·A·B × S), row (s·A + a)·B + b. */
  T: Float64Array;
  /** Follower reward R_F (S·A·B). */
  RF: Float64Array;
  /** Leader reward R_L (S·A·B). */
  RL: Float64Array;
}

/** μ_x(b|s) = softmax(x_s) row-wise (length S·B; written into out when given). */
export function leaderPolicy(x: ArrayLike<number>, S: number, B: number, out = new Float64Array(S * B)): Float64Array {
  for (let s = 0; s < S; s++) {
    const o = s * B;
    let m = -Infinity;
    for (let b = 0; b < B; b++) if (x[o + b] > m) m = x[o + b];
    let z = 0;
    for (let b = 0; b < B; b++) z += (out[o + b] = exp(x[o + b] - m));
    for (let b = 0; b < B; b++) out[o + b] /= z;
  }
  return out;
}

/** E_{b~μ}[R(s, a, b)] (length S·A). */
function average(R: Float64Array, mu: Float64Array, S: number, A: number, B: number, out = new Float64Array(S * A)): Float64Array {
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      let acc = 0;
      for (let b = 0; b < B; b++) acc += mu[s * B + b] * R[(s * A + a) * B + b];
      out[s * A + a] = acc;
    }
  }
  return out;
}

/** P_x = Σ_b μ_x(b|s) T(·|s, a, b) (S·A × S). */
function mixTransitions(g: StackelbergGame, mu: Float64Array, out: Float64Array): Float64Array {
  const { S, A, B, T } = g;
  out.fill(0);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const o = (s * A + a) * S;
      for (let b = 0; b < B; b++) {
        const w = mu[s * B + b], t = ((s * A + a) * B + b) * S;
        for (let j = 0; j < S; j++) out[o + j] += w * T[t + j];
      }
    }
  }
  return out;
}

/** (T V)(s, a, b) = Σ_s' T(s'|s, a, b) V(s') (length S·A·B). */
function applyT(g: StackelbergGame, V: ArrayLike<number>): Float64Array {
  const { S, A, B, T } = g;
  const out = new Float64Array(S * A * B);
  for (let i = 0; i < S * A * B; i++) {
    let acc = 0;
    for (let j = 0; j < S; j++) acc += T[i * S + j] * V[j];
    out[i] = acc;
  }
  return out;
}

/**
 * The follower's reward r_x(s, a) = Σ_b μ_x(b|s) R_F(s, a, b), x ∈ R^{S·B}.
 * ∂r_x(s, a)/∂x[s·B + b] = μ_x(b|s) (R_F(s, a, b) − r_x(s, a)); zero for other states.
 */
export function followerReward(g: StackelbergGame): RewardModel {
  const { S, A, B, RF } = g;
  const n = S * B, mu = new Float64Array(n), r = new Float64Array(S * A);
  const at = (x: Float64Array) => {
    leaderPolicy(x, S, B, mu);
    average(RF, mu, S, A, B, r);
  };
  return {
    dim: n,
    rows: S * A,
    reward(x, out) {
      at(x);
      out.set(r);
    },
    vjp(x, u, out) {
      at(x);
      out.fill(0);
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < A; a++) {
          const i = s * A + a, ui = u[i];
          for (let b = 0; b < B; b++) out[s * B + b] += ui * mu[s * B + b] * (RF[i * B + b] - r[i]);
        }
      }
    },
    jvp(x, dx, out) {
      at(x);
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < A; a++) {
          const i = s * A + a;
          let acc = 0;
          for (let b = 0; b < B; b++) acc += mu[s * B + b] * (RF[i * B + b] - r[i]) * dx[s * B + b];
          out[i] = acc;
        }
      }
    },
    jacobian(x, out) {
      at(x);
      out.fill(0);
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < A; a++) {
          const i = s * A + a;
          for (let b = 0; b < B; b++) out[i * n + s * B + b] = mu[s * B + b] * (RF[i * B + b] - r[i]);
        }
      }
    },
  };
}

/**
 * P_x(s'|s, a) = Σ_b μ_x(b|s) T(s'|s, a, b). With (TV)(s, a, b) = Σ_s' T(s'|s, a, b) V(s'),
 * vjpPV: out[s·B + b] = μ_x(b|s) Σ_a u(s, a) ((TV)(s, a, b) − (P_x V)(s, a)).
 */
export function leaderTransitions(g: StackelbergGame): TransitionModel {
  const { S, A, B } = g;
  const mu = new Float64Array(S * B);
  return {
    P(x, out) {
      leaderPolicy(x, S, B, mu);
      mixTransitions(g, mu, out);
    },
    vjpPV(x, V, u, out) {
      leaderPolicy(x, S, B, mu);
      const TV = applyT(g, V);
      const PV = average(TV, mu, S, A, B);
      out.fill(0);
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < A; a++) {
          const i = s * A + a, ui = u[i];
          for (let b = 0; b < B; b++) out[s * B + b] += ui * mu[s * B + b] * (TV[i * B + b] - PV[i]);
        }
      }
    },
  };
}

/**
 * The leader's objective f(x, π) = −ρᵀ V_L, V_L the unregularised value of
 * r_L,x(s, a) = Σ_b μ_x(b|s) R_L(s, a, b) under π in the dynamics P_x. With d̃ the
 * discounted visitation of π in P_x, Q_L = r_L,x + γ P_x V_L and
 * Q̂_L(s, a, b) = R_L(s, a, b) + γ Σ_s' T(s'|s, a, b) V_L(s'):
 *   ∂f/∂π(a|s)      = −d̃(s) Q_L(s, a)
 *   ∂f/∂x[s·B + b]  = −d̃(s) μ_x(b|s) Σ_a π(a|s) (Q̂_L(s, a, b) − Q_L(s, a)).
 * The objective evaluates on its own copy of the dynamics (moved to P_x for each new x),
 * so it is right whatever x the problem's MDP was last moved to.
 */
export function leaderObjective(g: StackelbergGame, options: { rho?: ArrayLike<number>; backend?: Backend } = {}): PolicyObjective {
  const { S, A, B, gamma, RL } = g;
  const rhoL = options.rho === undefined ? undefined : check.distribution("rho", options.rho, S).slice();
  const n = S * B;
  const mu = new Float64Array(n), Px = new Float64Array(S * A * S);
  const uniform = leaderPolicy(new Float64Array(n), S, B);
  const own = TabularMDP.dense({ S, A, gamma, P: mixTransitions(g, uniform, Px), backend: options.backend });
  let lastX: Float64Array | undefined;
  let rL: Float64Array = new Float64Array(S * A);
  const at = (x: Float64Array) => {
    if (lastX && lastX.every((v, k) => v === x[k])) return;
    leaderPolicy(x, S, B, mu);
    own.setTransitions(mixTransitions(g, mu, Px));
    rL = average(RL, mu, S, A, B);
    lastX = Float64Array.from(x);
  };
  const rhoOf = (mdp: TabularMDP) => rhoL ?? mdp.rho;
  return {
    rows: S * A,
    dim: n,
    value(x, pi, mdp) {
      at(x);
      const { V } = policyEvaluation(own, rL, pi, { tau: 0 });
      const rho = rhoOf(mdp);
      let J = 0;
      for (let s = 0; s < S; s++) J += rho[s] * V[s];
      return -J;
    },
    gradPi(x, pi, out, mdp) {
      at(x);
      const { Q } = policyEvaluation(own, rL, pi, { tau: 0 });
      const d = occupancy(own, pi, rhoOf(mdp));
      for (let i = 0; i < S * A; i++) out[i] = -d[Math.floor(i / A)] * Q[i];
    },
    gradX(x, pi, out, mdp) {
      at(x);
      const { V, Q } = policyEvaluation(own, rL, pi, { tau: 0 });
      const d = occupancy(own, pi, rhoOf(mdp));
      const TV = applyT(g, V);
      out.fill(0);
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < A; a++) {
          const i = s * A + a, w = d[s] * pi[i];
          for (let b = 0; b < B; b++) {
            const qhat = RL[i * B + b] + gamma * TV[i * B + b];
            out[s * B + b] -= w * mu[s * B + b] * (qhat - Q[i]);
          }
        }
      }
    },
  };
}

/** Options of `stackelberg`. */
export interface StackelbergOptions {
  /** Number of states (default 6). */
  S?: number;
  /** Follower actions (default 3). */
  A?: number;
  /** Leader actions (default 2). */
  B?: number;
  /** Discount γ (default 0.9). */
  gamma?: number;
  /** Follower entropy temperature τ (default 0.1). */
  tau?: number;
  /** Seed of the instance: R_F, R_L ~ N(0, 1), T rows Dirichlet(1) (default 0). */
  seed?: number;
  /** Initial distribution (default uniform). */
  rho?: ArrayLike<number>;
  backend?: Backend;
}

/** What `stackelberg` returns. */
export interface StackelbergInstance {
  problem: BilevelProblem;
  /** x_0 = 0: the uniform leader policy. */
  x0: Float64Array;
  game: StackelbergGame;
  /** μ_x(b|s) for a given x (length S·B). */
  leaderPolicy(x: ArrayLike<number>): Float64Array;
}

/**
 * A Stackelberg Markov game (docs/math.md#stackelberg): the leader's policy softmax(x_s) enters
 * the follower's reward and transitions; the follower plays soft-optimally.
 */
export function stackelberg(options: StackelbergOptions = {}): StackelbergInstance {
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const S = options.S === undefined ? 6 : check.positiveInt("S", options.S);
  const A = options.A === undefined ? 3 : check.positiveInt("A", options.A);
  const B = options.B === undefined ? 2 : check.positiveInt("B", options.B);
  const gamma = check.discount(options.gamma ?? 0.9);
  const tau = positive("tau", options.tau ?? 0.1);
  const rng = new Rng(options.seed === undefined ? 0 : check.seed(options.seed));
  const T = new Float64Array(S * A * B * S);
  for (let i = 0; i < S * A * B; i++) dirichletRow(rng, T, S, i * S);
  const RF = rng.normals(S * A * B);
  const RL = rng.normals(S * A * B);
  const game: StackelbergGame = { S, A, B, gamma, T, RF, RL };
  const x0 = new Float64Array(S * B);
  const P0 = mixTransitions(game, leaderPolicy(x0, S, B), new Float64Array(S * A * S));
  const mdp = TabularMDP.dense({ S, A, P: P0, gamma, rho: options.rho, backend: options.backend });
  const problem = new BilevelProblem({
    mdp,
    tau,
    reward: followerReward(game),
    transitions: leaderTransitions(game),
    upper: leaderObjective(game, { backend: options.backend }),
  });
  return {
    problem,
    x0,
    game,
    leaderPolicy: (x) => leaderPolicy(check.float64("x", x, S * B, "S·B"), S, B),
  };
}
