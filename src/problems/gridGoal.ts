// E3 stand-in, the GridWorld goal-position problem (docs/math.md#grid-goal) [CONSTRUCTED]:
// the upper level places a soft goal, the lower level is a slippery gridworld whose
// reward is that goal, and the upper level wants the agent to visit a target cell.
//   lower reward  r_x(s, a) = softmax(x)_s             (features 'softmax', the default)
//                 r_x(s, a) = x_s  (r_x = Φx, Φ one-hot) (features 'one-hot')
//   upper         f(x, π) = −Σ_t γ^t Pr_ρ^π(s_t = target) + (μ/2)‖x‖²
//                        = −E_{d̃^π_ρ}[1{s = target}] + (μ/2)‖x‖²
// The reward is the same for every action of a state. x has one entry per state
// (non-wall cell), n = S.
import { BilevelProblem, type RewardModel } from "../bilevel/problem";
import { linearReward, upperReturn } from "../bilevel/models";
import { defaultMethod, type LinearMethod } from "../lower";
import { Rng } from "../util/random";
import * as check from "../validate";
import { cellAt, type GridWorld } from "./gridworld";
import { cellIndicator, gridSettings, gridTask, oneOf, openGrid, type GridProblemOptions } from "./gridProblem";
import { exp } from "../util/math";

/** Features of gridGoal's reward: a softmax over cells or one-hot cells. */
export type GoalFeatures = "softmax" | "one-hot";
const GOAL_FEATURES: readonly GoalFeatures[] = ["softmax", "one-hot"];

/**
 * Defaults: size 5, τ = 0.1, μ = 1e-3, start [0, 0] (a map's 'S' cells are not used),
 * features 'softmax', x0 'random'.
 */
export interface GridGoalOptions extends GridProblemOptions {
  /** Target cell [row, col] (default [height − 1, ⌊width/2⌋], i.e. (4, 2) on 5 × 5). */
  target?: readonly [number, number];
  /** 'softmax' (default): r_x(s) = softmax(x)_s; 'one-hot': r_x = Φx with Φ CSR one-hot. */
  features?: GoalFeatures;
  /**
   * Linear solver of the upper objective's evaluations and d̃_π: default 'lu' for
   * S ≤ 500, else 'richardson'. BiCGSTAB ('krylov') can stagnate on the transposed
   * (visitation) system of a large grid whose policy walks to a distant target: on the
   * 50 × 50 benchmark from the ramp x_0 it stalls at relative residual 5e-2.
   */
  linear?: LinearMethod;
  /**
   * x_0: 'random' (default) 0.1·N(0, I_n), a nearly uniform soft goal; 'ramp'
   * x_0(s) = −0.1·(Manhattan distance from s to the target), a goal leaning toward the
   * target. On large grids use 'ramp' when the hypergradient at x_0 should be informative:
   * from a random x_0 the lower policy almost never reaches a distant target, so
   * d̃(s)·Q_U(s, a) underflows to 0 and only the (μ/2)‖x‖² term is left.
   */
  x0?: "random" | "ramp";
}

/** What `gridGoal` returns. */
export interface GridGoalInstance {
  problem: BilevelProblem;
  /** x_0 (see GridGoalOptions.x0). */
  x0: Float64Array;
  /** The gridworld (cell ↔ state maps, sizes, action names) for plotting. */
  grid: GridWorld;
  /** State index of the start cell. */
  start: number;
  /** State index of the target cell. */
  target: number;
  features: GoalFeatures;
  /** The upper objective's linear solver; pass it as hypergradient's `linear` as well. */
  linear: LinearMethod;
}

/**
 * The benchmark configuration: exact hypergradient on a 50 × 50 gridworld
 * (S = 2500, A = 4, γ = 0.99, τ = 0.05, n = 2500 one-hot goal features), from the ramp
 * x_0 so that the transposed solve has a non-zero right-hand side.
 */
export const GRID_GOAL_BENCHMARK: Readonly<GridGoalOptions> = Object.freeze({ size: 50, actions: 4, gamma: 0.99, tau: 0.05, features: "one-hot", x0: "ramp" });

/**
 * GridWorld goal position (docs/math.md#grid-goal): x places a soft goal (the lower reward) and
 * the upper level wants the agent to visit a target cell.
 */
export function gridGoal(options: GridGoalOptions = {}): GridGoalInstance {
  const { size, tau, mu, features, sparse } = gridSettings(options, { size: 5, tau: 0.1, mu: 1e-3 }, GOAL_FEATURES);
  const seed = options.seed === undefined ? 0 : check.seed(options.seed);
  const x0Kind = oneOf("x0", options.x0 ?? "random", ["random", "ramp"]);
  const { grid, start } = gridTask(options, options.map === undefined ? openGrid(size) : options.map, options.start ?? [0, 0], sparse);
  const { S, A, mdp } = grid;
  const target = cellAt("target", options.target ?? [grid.height - 1, Math.floor(grid.width / 2)], grid.map, grid.cellToState);
  const n = S;

  const reward = features === "softmax" ? softmaxGoalReward(S, A) : linearReward(oneHotFeatures(S, A), n);
  const rU = cellIndicator(S, A, target);
  // the library's default: dense LU for small grids, banded LU (a grid's band is its width)
  // while it stays cheap, GMRES beyond
  const linear = oneOf<LinearMethod>("linear", options.linear ?? defaultMethod(mdp), ["lu", "krylov", "bicgstab", "richardson"]);
  const upper = upperReturn({ r: rU, lambda: mu, linear });
  let x0: Float64Array;
  if (x0Kind === "random") x0 = new Rng(seed).normals(n).map((v) => 0.1 * v);
  else {
    const t = grid.cell(target);
    x0 = new Float64Array(n);
    for (let s = 0; s < S; s++) {
      const c = grid.cell(s);
      x0[s] = -0.1 * (Math.abs(c.row - t.row) + Math.abs(c.col - t.col));
    }
  }
  return { problem: new BilevelProblem({ mdp, tau, reward, upper }), x0, grid, start, target, features, linear };
}

/**
 * r_x(s, a) = p_s with p = softmax(x) over the S states (same for every action).
 * R_x[(s,a), k] = p_s (δ_sk − p_k); vjp: out_k = p_k (U_k − Σ_s p_s U_s), U_s = Σ_a u(s,a).
 */
export function softmaxGoalReward(S: number, A: number): RewardModel {
  const p = new Float64Array(S);
  const softmax = (x: Float64Array) => {
    let m = -Infinity;
    for (let s = 0; s < S; s++) if (x[s] > m) m = x[s];
    let z = 0;
    for (let s = 0; s < S; s++) z += (p[s] = exp(x[s] - m));
    for (let s = 0; s < S; s++) p[s] /= z;
    return p;
  };
  return {
    dim: S,
    rows: S * A,
    reward(x, out) {
      softmax(x);
      for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) out[s * A + a] = p[s];
    },
    vjp(x, u, out) {
      softmax(x);
      let pU = 0;
      for (let s = 0; s < S; s++) {
        let Us = 0;
        for (let a = 0; a < A; a++) Us += u[s * A + a];
        out[s] = Us;
        pU += p[s] * Us;
      }
      for (let k = 0; k < S; k++) out[k] = p[k] * (out[k] - pU);
    },
    jvp(x, dx, out) {
      softmax(x);
      let pd = 0;
      for (let k = 0; k < S; k++) pd += p[k] * dx[k];
      for (let s = 0; s < S; s++) {
        const v = p[s] * (dx[s] - pd);
        for (let a = 0; a < A; a++) out[s * A + a] = v;
      }
    },
    jacobian(x, out) {
      softmax(x);
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < A; a++) {
          const row = (s * A + a) * S;
          for (let k = 0; k < S; k++) out[row + k] = -p[s] * p[k];
          out[row + s] += p[s];
        }
      }
    },
  };
}

/** Φ (S·A × S) in CSR: row (s, a) has a single 1 in column s. */
export function oneHotFeatures(S: number, A: number): { indptr: Int32Array; indices: Int32Array; values: Float64Array } {
  const indptr = new Int32Array(S * A + 1), indices = new Int32Array(S * A), values = new Float64Array(S * A).fill(1);
  for (let i = 0; i < S * A; i++) {
    indptr[i + 1] = i + 1;
    indices[i] = Math.floor(i / A);
  }
  return { indptr, indices, values };
}
