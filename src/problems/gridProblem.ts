// What the bilevel problems on a slippery gridworld (gridGoal, shaping) share: their grid
// options, the order in which those are validated, the gridworld with its start state, and
// the indicator reward of one cell that their upper levels score.
import { DomainError, ShapeError } from "../errors";
import type { LinearMethod } from "../lower";
import type { Backend } from "../wasm/module";
import * as check from "../validate";
import { flag, gridworld, positive, type GridWorld } from "./gridworld";

/** The options of a gridworld problem; each problem's options list its own defaults. */
export interface GridProblemOptions {
  /** Side of the square open grid; ignored when `map` is given. */
  size?: number;
  /** A gridworld map ('#', '.', 'G', 'S', 'T'; see gridworld) instead of an open size × size grid. */
  map?: readonly string[];
  /** Slip probability (default 0.1). */
  slip?: number;
  /** 5 = U, D, L, R, stay (default); 4 = U, D, L, R. */
  actions?: 4 | 5;
  /** Discount γ (default 0.9). */
  gamma?: number;
  /** Lower-level entropy temperature τ. */
  tau?: number;
  /** Start cell [row, col]; ρ is the point mass there. */
  start?: readonly [number, number];
  /** Weight μ of (μ/2)‖x‖². */
  mu?: number;
  /** CSR transitions (default true). */
  sparse?: boolean;
  /** Linear solver of the upper objective. */
  linear?: LinearMethod;
  /** Seed of the random x_0 (default 0). */
  seed?: number;
  backend?: Backend;
}

/**
 * The options every gridworld problem validates first, in this order (so that the first
 * bad option named by an error does not depend on the problem): the options object, size,
 * τ, μ, the reward features (one of `featureNames`, the first by default) and sparse.
 */
export function gridSettings<F extends string>(
  options: GridProblemOptions & { features?: F },
  defaults: { size: number; tau: number; mu: number },
  featureNames: readonly F[],
): { size: number; tau: number; mu: number; features: F; sparse: boolean } {
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const size = options.size === undefined ? defaults.size : check.positiveInt("size", options.size);
  const tau = positive("tau", options.tau ?? defaults.tau);
  const mu = check.nonNegative("mu", options.mu ?? defaults.mu);
  const features = oneOf("features", options.features ?? featureNames[0], featureNames);
  const sparse = flag("sparse", options.sparse, true);
  return { size, tau, mu, features, sparse };
}

/** An open size × size map (no walls). */
export function openGrid(size: number): string[] {
  return Array.from({ length: size }, () => ".".repeat(size));
}

/**
 * The problem's gridworld on `map` (γ default 0.9) with ρ the point mass on `startCell`,
 * or, when it is undefined, uniform over the map's 'S' cells; `start` is the start state
 * (the first 'S' state in the latter case).
 */
export function gridTask(
  options: GridProblemOptions,
  map: readonly string[],
  startCell: readonly [number, number] | undefined,
  sparse: boolean,
): { grid: GridWorld; start: number } {
  const grid = gridworld({ map, slip: options.slip, actions: options.actions, gamma: options.gamma ?? 0.9, sparse, start: startCell, backend: options.backend });
  const start = startCell === undefined ? grid.starts[0] : grid.state(startCell[0], startCell[1]);
  return { grid, start };
}

/** r(s, a) = 1{s = cell} for every action (S·A): one unit per step spent in the cell. */
export function cellIndicator(S: number, A: number, cell: number): Float64Array {
  const r = new Float64Array(S * A);
  for (let a = 0; a < A; a++) r[cell * A + a] = 1;
  return r;
}

/** v if it is one of `allowed`, else a DomainError naming arg: "must be 'a', 'b' or 'c'". */
export function oneOf<T extends string>(arg: string, v: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(v)) {
    const quoted = allowed.map((a) => `'${a}'`);
    throw new DomainError(arg, `must be ${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`, v);
  }
  return v as T;
}
