// `bilevel-rl/bilevel`: the bilevel layer — problems, reward and objective models,
// hypergradients, penalties, the algorithms, their comparison and the built-in problems.
// Uses the core (init, TabularMDP, …: `bilevel-rl/core`) without re-exporting it.
export {
  BilevelProblem,
  type BilevelProblemSpec,
  type RewardModel,
  type TransitionModel,
  type PolicyObjective,
  type Counters,
} from "./problem";
export { linearReward, policyLinear, policyL2, upperReturn, type CsrMatrix, type UpperReturn, type UpperReturnSpec } from "./models";
export {
  preferenceBCE,
  trajectoryUpper,
  enumerateTrajectories,
  type TrajectoryObjective,
  type TrajectoryGroup,
  type TrajectoryContext,
  type PreferenceBCESpec,
  type PreferenceBCE,
  type TrajectoryTable,
  type TrajectoryPolicyObjective,
} from "./trajectory";
export { hypergradient, phi, type AmdSettings, type AmdState, type HypergradientMethod, type HypergradientOptions, type HypergradientResult } from "./hypergradient";
export {
  modelFreeHypergradient,
  type ModelFreeSettings,
  type ModelFreeOptions,
  type ModelFreeResult,
  type DerivativeMode,
  type BaselineMode,
} from "./modelFree";
export { valuePenalty, bellmanPenalty, type PenaltyOptions, type ValuePenaltyOptions, type PenaltyResult, type ValuePenaltyResult } from "./penalties";
export {
  contextual,
  sampledContexts,
  contextAt,
  checkWeights,
  WEIGHT_TOL,
  type ContextSpec,
  type ContextualSpec,
  type ContextBlock,
  type ContextualProblem,
  type PhiByContext,
  type SampledContextsOptions,
} from "./contextual";
export { solveLower, type LowerOptions, type LowerSolution, type LowerSolver } from "./lowerSolve";

// Algorithms: each exports init(problem, options), step(problem, state) and run(problem, options)
export type { Algorithm, DescribedAlgorithm, HistoryRecord, RunOptionsBase, RunResult, RunStart, RunStatus, RecordOptions, StepInfo, XProjection } from "./algorithms/common";
export { DIVERGENCE_FACTOR } from "./algorithms/common";
export { ALGORITHM_LIST } from "./algorithms/index";
export { STATE_VERSION, type StateTag } from "./algorithms/stateSchema";
export { exactDescent, type ExactDescentOptions, type ExactDescentState } from "./algorithms/exactDescent";
export { mSoBiRL, type MSoBiRLOptions, type MSoBiRLState } from "./algorithms/mSoBiRL";
export { soBiRL, type SoBiRLOptions, type SoBiRLState, type SoBiRLBaseline } from "./algorithms/soBiRL";
export { pbrl, projectSimplex, type PBRLOptions, type PBRLState, type PenaltyKind, type PolicyParam } from "./algorithms/pbrl";
export {
  parl,
  parlHypergradient,
  type PARLOptions,
  type PARLState,
  type ParlDerivatives,
  type ParlHypergradientOptions,
  type ParlHypergradientResult,
} from "./algorithms/parl";
export { actorCritic, type ActorCriticOptions, type ActorCriticState, type CriticMode, type OccupancyMode } from "./algorithms/actorCritic";
export {
  phiSigma,
  phiSigmaGradient,
  type PhiSigmaOptions,
  type PhiSigmaState,
  type PhiSigmaGradientMode,
  type PhiSigmaGradientOptions,
  type PhiSigmaGradientResult,
} from "./algorithms/phiSigma";
export { alternating, type AlternatingOptions, type AlternatingState } from "./algorithms/alternating";

export {
  compareAlgorithms,
  formatTable,
  returnLoss,
  withTrajectory,
  type CompareEntry,
  type CompareOptions,
  type CompareRow,
  type ProblemFactory,
  type CompareInstance,
  type FormatTableOptions,
  type ReturnLoss,
  type ReturnLossSpec,
} from "./compare";

// Built-in problems
export * from "../problems/index";
