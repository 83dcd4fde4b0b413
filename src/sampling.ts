// Trajectory sampling with the seeded in-module xoshiro128** generator.
import { requireMdp, type TabularMDP } from "./mdp";
import * as check from "./validate";
import { sample } from "./wasm/routines/index";

/** Options of `sampleTrajectories`. */
export interface SampleOptions {
  /** Number of episodes (rows of the outputs). */
  episodes: number;
  /** Steps per episode (columns of the outputs). */
  horizon: number;
  /** Non-negative safe integer; the same seed gives the same arrays in every runtime. */
  seed: number;
  /** Initial distribution (length S); the MDP's ρ when omitted. */
  rho?: ArrayLike<number>;
  /** Rewards r (length S·A) to record along the way. */
  r?: ArrayLike<number>;
}

/** What `sampleTrajectories` returns: row-major (episodes, horizon) tables. */
export interface Trajectories {
  /** s_t, shape (episodes, horizon) row-major. */
  states: Int32Array;
  /** a_t, shape (episodes, horizon). */
  actions: Int32Array;
  /** r(s_t, a_t), shape (episodes, horizon); only when `r` was given. */
  rewards?: Float64Array;
  /**
   * Steps taken by each episode (length `episodes`): the horizon, or t + 1 when the episode
   * ended at a terminal state at step t. Later steps hold state and action −1, reward 0.
   */
  lengths: Int32Array;
}

/**
 * Sample s_0 ~ ρ, a_t ~ π(·|s_t), s_{t+1} ~ P(·|s_t, a_t) for a batch of episodes. Episode
 * e draws from its own stream of the seed, so it depends only on (seed, e): the first 10
 * episodes of a 100-episode batch are the 10 episodes of a 10-episode batch. An episode
 * ends after its step at a terminal state of the MDP (docs/math.md#terminal-states): it
 * collects that step's reward and nothing after; `lengths` says how many steps it took.
 */
export function sampleTrajectories(mdp: TabularMDP, pi: ArrayLike<number>, options: SampleOptions): Trajectories {
  requireMdp(mdp);
  const { S, A } = mdp;
  const p = check.policy("pi", pi, S, A);
  const o = options ?? ({} as SampleOptions);
  const episodes = check.positiveI32("episodes", o.episodes);
  const horizon = check.positiveI32("horizon", o.horizon);
  const seed = check.seed(o.seed);
  const rho = o.rho === undefined ? undefined : check.distribution("rho", o.rho, S);
  const r = o.r === undefined ? undefined : check.float64("r", o.r, S * A, "S·A, index s·A + a");
  return sample(mdp, p, episodes, horizon, seed, rho, r);
}
