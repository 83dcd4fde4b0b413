// Tabular RLHF (docs/math.md#rlhf, a constructed stand-in): S = 3, A = 2, H = 2 or 3,
// γ = 0.9. The lower level learns with the reward table r_x = x (R_x = I, n = S·A); the
// upper level is the Bradley–Terry cross-entropy of trajectory pairs drawn from the lower
// policy, labelled by a hidden reward r_true:
//   f(x, π) = E_{τ1,τ2 ∼ π}[ BCE( σ(R_true(τ1) − R_true(τ2)), σ(R_x(τ1) − R_x(τ2)) ) ].
// At this size f and ∇φ are exact by enumerating trajectory pairs, so the problem is a unit
// test for the Monte-Carlo estimators (SoBiRL eq. 15).
import { TabularMDP } from "../mdp";
import { BilevelProblem } from "../bilevel/problem";
import { linearReward } from "../bilevel/models";
import { preferenceBCE, trajectoryUpper, type PreferenceBCE } from "../bilevel/trajectory";
import { Rng } from "../util/random";
import * as check from "../validate";
import { log } from "../util/math";

/** Options of `rlhf`. */
export interface RlhfOptions {
  /** States (default 3). */
  S?: number;
  /** Actions (default 2). */
  A?: number;
  /** Fragment length H (default 2). */
  H?: number;
  /** Discount of the lower MDP (default 0.9). */
  gamma?: number;
  /** Lower entropy temperature τ (default 1). */
  tau?: number;
  /** Pairs per group (default 1). */
  pairs?: number;
  /** Label model (default 'soft'; see preferenceBCE). */
  labels?: "soft" | "hard";
  /** Discount of the fragment returns (default 1: undiscounted). */
  gammaU?: number;
  /** Scale of x_0 ~ scale·N(0, I) (default 0.5). */
  x0Scale?: number;
  /** Seed of the instance (P, r_true, x_0); default 0. */
  seed?: number;
}

/** What `rlhf` returns. */
export interface RlhfInstance {
  /** Lower reward r_x = x; upper = trajectoryUpper(objective) (exact by enumeration). */
  problem: BilevelProblem;
  objective: PreferenceBCE;
  /** x_0 ~ x0Scale·N(0, I_{S·A}). */
  x0: Float64Array;
  /** The hidden reward r_true ~ N(0, I_{S·A}). */
  rTrue: Float64Array;
}

/**
 * A seeded instance: P(·|s,a) ~ Dirichlet(1, …, 1), ρ uniform, r_true ~ N(0, 1) per entry,
 * x_0 ~ x0Scale·N(0, 1) per entry (drawn in that order from one generator).
 */
export function rlhf(options: RlhfOptions = {}): RlhfInstance {
  const o = options ?? {};
  const S = o.S === undefined ? 3 : check.positiveInt("S", o.S);
  const A = o.A === undefined ? 2 : check.positiveInt("A", o.A);
  const H = o.H === undefined ? 2 : check.positiveInt("H", o.H);
  const gamma = o.gamma ?? 0.9;
  const tau = o.tau ?? 1;
  const x0Scale = o.x0Scale === undefined ? 0.5 : check.nonNegative("x0Scale", o.x0Scale);
  const rng = new Rng(o.seed === undefined ? 0 : check.seed(o.seed));
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) {
    let z = 0;
    for (let j = 0; j < S; j++) {
      let u = 0;
      while (u === 0) u = rng.uniform();
      z += (P[i * S + j] = -log(u));
    }
    for (let j = 0; j < S; j++) P[i * S + j] /= z;
  }
  const rTrue = rng.normals(S * A);
  const x0 = rng.normals(S * A).map((v) => v * x0Scale);
  const mdp = TabularMDP.dense({ S, A, P, gamma });
  const SA = S * A;
  const I = new Float64Array(SA * SA);
  for (let i = 0; i < SA; i++) I[i * SA + i] = 1;
  const reward = linearReward(I, SA);
  const objective = preferenceBCE({ rTrue, horizon: H, pairs: o.pairs, labels: o.labels, gammaU: o.gammaU });
  const problem = new BilevelProblem({ mdp, tau, reward, upper: trajectoryUpper(objective, reward) });
  return { problem, objective, x0, rTrue: Float64Array.from(rTrue) };
}
