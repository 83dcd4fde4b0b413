// Reward shaping (SoBiRL paper §3.3; seed 002) [CONSTRUCTED tabular instance]: the task's
// true reward is sparse (1 per step spent in a single goal cell of a slippery gridworld,
// 0 elsewhere), and the lower level learns with a shaped reward
//   r_x(s, a) = r_true(s, a) + F_x(s, a),
// while the upper level keeps the original task: it wants the soft-optimal lower policy to
// earn a high *true* return,
//   f(x, π) = −ρᵀ V^π[r_true] + (μ/2)‖x‖²          (unregularised values, upperReturn).
// The entropy bonus makes the unshaped soft-optimal policy wander far from the goal (the
// sparse reward's value differences are small next to τ); a learned shaping bonus steers it.
// Shaping features F_x (all linear, r_x = r_true + Φx):
//   'state' (default)  F_x(s, a) = x_s                       n = S   (a bonus per state)
//   'state-action'     F_x(s, a) = x_{s·A + a}               n = S·A
//   'potential'        F_x(s, a) = γ Σ_s' P(s'|s, a) x_s' − x_s  n = S (potential-based, Ng et al. 1999)
// Potential-based shaping leaves the soft-optimal policy unchanged (Q_x = Q_0 − x_s), so with
// exact lower solves φ(x) = φ(0) + (μ/2)‖x‖²: it only changes what truncated lower solvers
// see (it is equivalent to starting value iteration from V_0 = x); it is here for that
// comparison and as a check of the hypergradient (∇φ = μx exactly).
import { DomainError, ShapeError } from "../errors";
import { BilevelProblem, type RewardModel } from "../bilevel/problem";
import { linearReward, upperReturn } from "../bilevel/models";
import { LU_MAX_S, policyEvaluation, type LinearMethod } from "../lower";
import type { TabularMDP } from "../mdp";
import { Rng } from "../util/random";
import * as check from "../validate";
import { parseMap, type GridWorld } from "./gridworld";
import { cellIndicator, gridSettings, gridTask, oneOf, openGrid, type GridProblemOptions } from "./gridProblem";
import { oneHotFeatures } from "./gridGoal";

/** Features Φ of `shaping`: per state, per state-action, or potential-based. */
export type ShapingFeatures = "state" | "state-action" | "potential";
const SHAPING_FEATURES: readonly ShapingFeatures[] = ["state", "state-action", "potential"];

/**
 * Defaults: size 6, τ = 0.5 (the unshaped soft-optimal policy is far from greedy),
 * μ = 1e-2, start the map's 'S' cells (ρ uniform over them) else [0, 0], features 'state',
 * linear 'lu' for S ≤ 500 else 'richardson' ('bicgstab' is not accepted).
 */
export interface ShapingOptions extends GridProblemOptions {
  /** A gridworld map ('#' wall, '.' free, 'S' start, 'T' terminal; see gridworld) instead of an open grid. Do not mark the goal with 'G': use `goal`. */
  map?: readonly string[];
  /** The rewarding goal cell [row, col], made absorbing (default [height − 1, width − 1]). */
  goal?: readonly [number, number];
  /** Shaping features (default 'state'). */
  features?: ShapingFeatures;
  /** Scale of a random x_0 = x0Scale·N(0, I_n) (default 0: x_0 = 0, no shaping; `seed` is then unused). */
  x0Scale?: number;
}

/** What `shaping` returns. */
export interface ShapingInstance {
  /** Lower reward r_x = r_true + Φx; upper = upperReturn(r_true) with (μ/2)‖x‖². */
  problem: BilevelProblem;
  /** x_0 (0 by default: the unshaped problem). */
  x0: Float64Array;
  /** The gridworld (cell ↔ state maps) with the goal made absorbing. */
  grid: GridWorld;
  /** The sparse true reward: 1 on every action of the goal state, 0 elsewhere (S·A). */
  rTrue: Float64Array;
  /** The shaping features Φ (S·A × n, row-major dense). */
  Phi: Float64Array;
  /** State of the start cell (the first 'S' cell when the map has several). */
  start: number;
  /** State of the goal cell. */
  goal: number;
  features: ShapingFeatures;
  linear: LinearMethod;
  /** ρᵀV^π[r_true]: the true (unregularised, discounted) return of a policy table π (S·A). */
  trueReturn(pi: ArrayLike<number>): number;
}

/**
 * Reward shaping on a gridworld: a sparse true reward at a goal cell (the upper level
 * minimises minus its return) and a learned shaping bonus, r_x = r_true + Φx, below.
 */
export function shaping(options: ShapingOptions = {}): ShapingInstance {
  const { size, tau, mu, features, sparse } = gridSettings(options, { size: 6, tau: 0.5, mu: 1e-2 }, SHAPING_FEATURES);
  const x0Scale = options.x0Scale === undefined ? 0 : check.nonNegative("x0Scale", options.x0Scale);
  const seed = options.seed === undefined ? 0 : check.seed(options.seed);
  // the goal cell becomes a 'G' (absorbing) cell of the map
  // the map is checked before the goal is written into it, so the 'G' cannot hide a bad row or cell
  const base = options.map === undefined ? openGrid(size) : parseMap({ map: options.map });
  if (base.some((row) => row.includes("G"))) throw new DomainError("map", "must not contain 'G' cells: the goal is given by `goal`", "G");
  const height = base.length, width = base[0].length;
  const goalCell = options.goal ?? [height - 1, width - 1];
  if (!Array.isArray(goalCell) || goalCell.length !== 2 || !goalCell.every((v) => Number.isInteger(v))) throw new ShapeError("goal", "must be a cell [row, col]", goalCell);
  if (goalCell[0] < 0 || goalCell[0] >= height || goalCell[1] < 0 || goalCell[1] >= width) throw new DomainError("goal", `must lie on the ${height} × ${width} grid`, `[${goalCell.join(", ")}]`);
  if (base[goalCell[0]][goalCell[1]] === "#") throw new DomainError("goal", "must not be a wall", `[${goalCell.join(", ")}]`);
  if (base[goalCell[0]][goalCell[1]] === "S") throw new DomainError("goal", "must differ from the start cell (it is an 'S' cell of the map)", `[${goalCell.join(", ")}]`);
  // start: the given cell, else the map's 'S' cells (ρ uniform over them), else [0, 0]
  const startCell = options.start ?? (base.some((row) => row.includes("S")) ? undefined : ([0, 0] as const));
  const map = base.map((row, r) => (r === goalCell[0] ? row.slice(0, goalCell[1]) + "G" + row.slice(goalCell[1] + 1) : row));
  const { grid, start } = gridTask(options, map, startCell, sparse);
  const { S, A, mdp } = grid;
  const goal = grid.state(goalCell[0], goalCell[1]);
  if (goal === start) throw new DomainError("goal", "must differ from the start cell", goalCell);
  const rTrue = cellIndicator(S, A, goal);
  const Phi = shapingFeatures(mdp, features);
  const n = features === "state-action" ? S * A : S;
  const reward = affineReward(rTrue, Phi, n);
  const linear = oneOf<LinearMethod>("linear", options.linear ?? (S <= LU_MAX_S ? "lu" : "richardson"), ["lu", "krylov", "richardson"]);
  const upper = upperReturn({ r: rTrue, lambda: mu, linear });
  const x0 = x0Scale === 0 ? new Float64Array(n) : new Rng(seed).normals(n).map((v) => v * x0Scale);
  const problem = new BilevelProblem({ mdp, tau, reward, upper });
  return {
    problem,
    x0,
    grid,
    rTrue,
    Phi,
    start,
    goal,
    features,
    linear,
    trueReturn(pi) {
      const p = check.policy("pi", pi, S, A);
      const { V } = policyEvaluation(mdp, rTrue, p, { tau: 0, method: linear });
      const rho = mdp.rho;
      let J = 0;
      for (let s = 0; s < S; s++) J += rho[s] * V[s];
      return J;
    },
  };
}

/** Φ (S·A × n, dense row-major) of the shaping features of an MDP. */
export function shapingFeatures(mdp: TabularMDP, features: ShapingFeatures): Float64Array {
  const { S, A, gamma } = mdp;
  if (features === "state-action") {
    const F = new Float64Array(S * A * S * A);
    for (let i = 0; i < S * A; i++) F[i * S * A + i] = 1;
    return F;
  }
  const F = new Float64Array(S * A * S);
  if (features === "state") {
    const oh = oneHotFeatures(S, A);
    for (let i = 0; i < S * A; i++) F[i * S + oh.indices[i]] = 1;
    return F;
  }
  // potential: row (s, a) = γ P(·|s, a) − e_s, with no continuation after a terminal state
  // (its row of P is zero: docs/math.md#terminal-states)
  const tr = mdp.transitions({ masked: true });
  for (let i = 0; i < S * A; i++) {
    if ("P" in tr) for (let j = 0; j < S; j++) F[i * S + j] = gamma * tr.P[i * S + j];
    else for (let k = tr.indptr[i]; k < tr.indptr[i + 1]; k++) F[i * S + tr.indices[k]] += gamma * tr.probs[k];
    F[i * S + Math.floor(i / A)] -= 1;
  }
  return F;
}

/** r_x = offset + Φx (R_x = Φ): linearReward plus a constant reward table. */
export function affineReward(offset: ArrayLike<number>, Phi: Float64Array | { indptr: ArrayLike<number>; indices: ArrayLike<number>; values: ArrayLike<number> }, n: number): RewardModel {
  const lin = linearReward(Phi, n);
  const rows = lin.rows!;
  const off = check.float64("offset", offset, rows, "S·A").slice();
  return {
    dim: lin.dim,
    rows,
    reward(x, out) {
      lin.reward(x, out);
      for (let i = 0; i < rows; i++) out[i] += off[i];
    },
    jvp: (x, dx, out) => lin.jvp!(x, dx, out),
    vjp: (x, u, out) => lin.vjp!(x, u, out),
    jacobian: (x, out) => lin.jacobian!(x, out),
  };
}
