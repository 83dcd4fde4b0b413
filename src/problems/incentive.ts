// Incentive design (docs/math.md#incentive) [CONSTRUCTED stand-in for PBRL's experiment]:
// a designer pays the follower an incentive x(s, a) ≥ 0 on top of the follower's own
// reward r_F, and wants the follower's soft-optimal policy to earn the design reward r_D
// while paying as little as possible:
//   lower   r_x = r_F + x                                (R_x = I, n = S·A)
//   upper   f(x, π) = −J_D(π) + κ Σ_{s,a} d̃_π(s) π(a|s) x(s, a)
//                   = −ρᵀ V^π[r_D − κx]                 (unregularised values under π)
// Defaults: S = 8, A = 4, γ = 0.9, τ = 0.1, κ = 1; r_F, r_D ~ N(0, 1); P rows Dirichlet(1).
import { ShapeError } from "../errors";
import { TabularMDP } from "../mdp";
import { BilevelProblem, type RewardModel } from "../bilevel/problem";
import { upperReturn, type UpperReturn } from "../bilevel/models";
import type { Backend } from "../wasm/module";
import { Rng } from "../util/random";
import * as check from "../validate";
import { dirichletRow, positive } from "./gridworld";

/** Options of `incentiveObjective`. */
export interface IncentiveObjectiveSpec {
  /** Design reward r_D (length S·A). */
  rD: ArrayLike<number>;
  /** Cost weight κ ≥ 0 of the incentives paid (default 1). */
  kappa?: number;
  /** Initial distribution of the design return and the payments; the MDP's ρ when omitted. */
  rho?: ArrayLike<number>;
}

/**
 * The designer's objective f(x, π) = −J_D(π) + κ Σ_{s,a} d̃_π(s) π(a|s) x(s, a), x of length S·A:
 * `upperReturn` with the x-dependent upper reward r_U(x) = r_D − κx (docs/math.md#upper-reward).
 * With Q_D, Q_x the unregularised Q-functions of r_D and of x under π:
 *   ∂f/∂x(s, a) = κ d̃_π(s) π(a|s),    ∂f/∂π(a|s) = −d̃_π(s) (Q_D(s, a) − κ Q_x(s, a)).
 * Each call evaluates r_D − κx under π with one linear solve (plus one for d̃_π).
 */
export function incentiveObjective(spec: IncentiveObjectiveSpec): UpperReturn & { readonly rD: Float64Array; readonly kappa: number } {
  if (typeof spec !== "object" || spec === null) throw new ShapeError("incentiveObjective", "takes { rD, kappa?, rho? }", spec);
  const rD = check.float64("rD", spec.rD, (spec.rD as ArrayLike<number>)?.length ?? -1).slice();
  const kappa = check.nonNegative("kappa", spec.kappa ?? 1);
  const rhoD = spec.rho === undefined ? undefined : check.distribution("rho", spec.rho, (spec.rho as ArrayLike<number>).length).slice();
  const upper = upperReturn({ r: additiveReward(rD, -kappa), rho: rhoD });
  return Object.assign(upper, { rD, kappa });
}

/** r_x = base + scale·x (R_x = scale·I; default scale 1). */
export function additiveReward(base: Float64Array, scale = 1): RewardModel {
  const n = base.length;
  return {
    dim: n,
    rows: n,
    reward(x, out) {
      for (let i = 0; i < n; i++) out[i] = base[i] + scale * x[i];
    },
    vjp(_x, u, out) {
      for (let i = 0; i < n; i++) out[i] = scale * u[i];
    },
    jvp(_x, dx, out) {
      for (let i = 0; i < n; i++) out[i] = scale * dx[i];
    },
    jacobian(_x, out) {
      out.fill(0);
      for (let i = 0; i < n; i++) out[i * n + i] = scale;
    },
  };
}

/** Options of `incentive`. */
export interface IncentiveOptions {
  /** Number of states (default 8). */
  S?: number;
  /** Number of actions (default 4). */
  A?: number;
  /** Discount γ (default 0.9). */
  gamma?: number;
  /** Lower-level entropy temperature τ (default 0.1). */
  tau?: number;
  /** Cost weight κ of the incentives paid (default 1). */
  kappa?: number;
  /** Seed of the instance: r_F, r_D ~ N(0, 1), P rows Dirichlet(1) (default 0). */
  seed?: number;
  /** Initial distribution (default uniform). */
  rho?: ArrayLike<number>;
  backend?: Backend;
}

/** What `incentive` returns. */
export interface IncentiveInstance {
  problem: BilevelProblem;
  /** x_0 = 0: no incentive (feasible). */
  x0: Float64Array;
  /** Follower reward r_F (S·A). */
  rF: Float64Array;
  /** Design reward r_D (S·A). */
  rD: Float64Array;
  /** Transitions P (S·A × S, dense). */
  P: Float64Array;
  kappa: number;
  /** Projection onto the feasible set x ≥ 0 (a new array). */
  project(x: ArrayLike<number>): Float64Array;
}

/**
 * Incentive design (docs/math.md#incentive): the follower learns with r_F + x; the designer
 * wants the design return minus κ·payments.
 */
export function incentive(options: IncentiveOptions = {}): IncentiveInstance {
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const S = options.S === undefined ? 8 : check.positiveInt("S", options.S);
  const A = options.A === undefined ? 4 : check.positiveInt("A", options.A);
  const gamma = check.discount(options.gamma ?? 0.9);
  const tau = positive("tau", options.tau ?? 0.1);
  const kappa = check.nonNegative("kappa", options.kappa ?? 1);
  const rng = new Rng(options.seed === undefined ? 0 : check.seed(options.seed));
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) dirichletRow(rng, P, S, i * S);
  const rF = rng.normals(S * A);
  const rD = rng.normals(S * A);
  const mdp = TabularMDP.dense({ S, A, P, gamma, rho: options.rho, backend: options.backend });
  const problem = new BilevelProblem({ mdp, tau, reward: additiveReward(rF), upper: incentiveObjective({ rD, kappa }) });
  const n = S * A;
  return {
    problem,
    x0: new Float64Array(n),
    rF,
    rD,
    P,
    kappa,
    project(x) {
      const v = check.float64("x", x, n, "S·A").slice();
      for (let i = 0; i < n; i++) if (v[i] < 0) v[i] = 0;
      return v;
    },
  };
}
