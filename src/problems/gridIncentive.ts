// Grid incentive design (docs/math.md#grid-incentive) [CONSTRUCTED]: an episodic slippery
// gridworld whose goal cell is terminal. The follower likes a lure cell (its own reward
// `lure` per step there) and pays nothing to walk; the designer earns `goalReward` when the
// follower takes its last step at the goal and pays it an incentive x_s ≥ 0 per step in
// state s:
//   lower  r_x(s, a) = r_F(s) + x_s                 (r_F = lure·1{s = lure cell}; n = S)
//   upper  f(x, π)  = −ρᵀ V^π[r_D − κx]              (r_D = goalReward·1{s = goal})
// The goal is the context of `contextual` (docs/math.md#contextual): one x for every goal.
import { BilevelProblem } from "../bilevel/problem";
import { upperReturn } from "../bilevel/models";
import { DomainError } from "../errors";
import * as check from "../validate";
import { affineReward } from "./shaping";
import { oneHotFeatures } from "./gridGoal";
import { cellAt, type GridWorld } from "./gridworld";
import { gridSettings, gridTask, openGrid, type GridProblemOptions } from "./gridProblem";

/** Defaults: size 5, τ = 0.1, start [0, 0], goal [height − 1, width − 1], lure the centre cell, lure 0.2, goalReward 1, κ = 1. */
export interface GridIncentiveOptions extends Omit<GridProblemOptions, "mu" | "seed"> {
  /** The goal cell [row, col]; it is made terminal (default [height − 1, width − 1]). */
  goal?: readonly [number, number];
  /** The follower's favourite cell [row, col] (default the centre [⌊height/2⌋, ⌊width/2⌋]). */
  lureCell?: readonly [number, number];
  /** The follower's own reward per step in the lure cell (default 0.2). */
  lure?: number;
  /** The designer's reward for the follower's last step, at the goal (default 1). */
  goalReward?: number;
  /** Cost weight κ ≥ 0 of the incentives paid (default 1). */
  kappa?: number;
}

/** What `gridIncentive` returns. */
export interface GridIncentiveInstance {
  problem: BilevelProblem;
  /** x_0 = 0: no incentive. */
  x0: Float64Array;
  grid: GridWorld;
  start: number;
  /** State of the (terminal) goal cell. */
  goal: number;
  /** State of the lure cell. */
  lureState: number;
  /** Projection onto x ≥ 0 (a new array). */
  project(x: ArrayLike<number>): Float64Array;
}

/**
 * Grid incentive design (docs/math.md#grid-incentive): incentives x_s ≥ 0 per state lure the
 * follower away from its favourite cell to the terminal goal; the designer earns the goal
 * reward minus κ·payments (`upperReturn` with r_U(x) = r_D − κx).
 */
export function gridIncentive(options: GridIncentiveOptions = {}): GridIncentiveInstance {
  const { size, tau, sparse } = gridSettings({ ...options, mu: undefined, features: undefined }, { size: 5, tau: 0.1, mu: 0 }, ["state"]);
  const base = options.map === undefined ? openGrid(size) : Array.isArray(options.map) ? options.map.slice() : (options.map as never);
  const height = Array.isArray(base) ? base.length : 0, width = Array.isArray(base) ? String(base[0] ?? "").length : 0;
  const goalCell = options.goal ?? [height - 1, width - 1];
  // the goal becomes a terminal cell of the map (checked as a cell first)
  const map = !Array.isArray(base) ? base : base.map((row: string, r: number) => (r === goalCell[0] && goalCell[1] >= 0 && goalCell[1] < row.length && row[goalCell[1]] !== "#" ? row.slice(0, goalCell[1]) + "T" + row.slice(goalCell[1] + 1) : row));
  const { grid, start } = gridTask(options, map, options.start ?? [0, 0], sparse);
  const { S, A, mdp } = grid;
  const goal = cellAt("goal", goalCell, grid.map, grid.cellToState);
  const lureState = cellAt("lureCell", options.lureCell ?? [Math.floor(height / 2), Math.floor(width / 2)], grid.map, grid.cellToState);
  if (lureState === goal) throw new DomainError("lureCell", "must differ from the goal cell", options.lureCell);
  const lure = check.finiteNumber("lure", options.lure ?? 0.2);
  const goalReward = check.finiteNumber("goalReward", options.goalReward ?? 1);
  const kappa = check.nonNegative("kappa", options.kappa ?? 1);
  const Phi = oneHotFeatures(S, A);
  const rF = new Float64Array(S * A), rD = new Float64Array(S * A);
  for (let a = 0; a < A; a++) {
    rF[lureState * A + a] = lure;
    rD[goal * A + a] = goalReward;
  }
  const reward = affineReward(rF, Phi, S);
  const cost = { ...Phi, values: Phi.values.map(() => -kappa) };
  const upper = upperReturn({ r: affineReward(rD, cost, S), linear: options.linear });
  const problem = new BilevelProblem({ mdp, tau, reward, upper });
  return {
    problem,
    x0: new Float64Array(S),
    grid,
    start,
    goal,
    lureState,
    project(x) {
      const v = check.float64("x", x, S, "S").slice();
      for (let i = 0; i < S; i++) if (v[i] < 0) v[i] = 0;
      return v;
    },
  };
}
