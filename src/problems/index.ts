// Built-in problem generators: each takes documented options (with defaults and a seed)
// and returns `{ problem, x0, ...extras }` (or an MDP plus helpers for gridworld/garnet).
export { e1, quadraticReward, type E1Options, type E1Instance } from "./e1";
export { gridworld, garnet, GRID_ACTIONS, type GridAction, type GridworldOptions, type GridWorld, type GarnetOptions, type Garnet } from "./gridworld";
export { gridGoal, softmaxGoalReward, oneHotFeatures, GRID_GOAL_BENCHMARK, type GoalFeatures, type GridGoalOptions, type GridGoalInstance } from "./gridGoal";
export type { GridProblemOptions } from "./gridProblem";
export { gridIncentive, type GridIncentiveOptions, type GridIncentiveInstance } from "./gridIncentive";
export { incentive, incentiveObjective, additiveReward, type IncentiveObjectiveSpec, type IncentiveOptions, type IncentiveInstance } from "./incentive";
export {
  stackelberg,
  leaderPolicy,
  followerReward,
  leaderTransitions,
  leaderObjective,
  type StackelbergGame,
  type StackelbergOptions,
  type StackelbergInstance,
} from "./stackelberg";
export { rlhf, type RlhfOptions, type RlhfInstance } from "./rlhf";
export { shaping, shapingFeatures, affineReward, type ShapingOptions, type ShapingInstance, type ShapingFeatures } from "./shaping";
export { happyText, HAPPY_VOCABULARY, HAPPY_LEXICON, HAPPY_NEGATORS, type HappyTextOptions, type HappyTextInstance, type HappyRewardFeatures } from "./happyText";
