// Public API. What is not exported here is private.
export { init, simdSupported, type Backend, type InitOptions } from "./wasm/module";
export { TabularMDP, denseToCsr, type DenseSpec, type SparseSpec, type NestedOptions } from "./mdp";
export {
  softValueIteration,
  policyEvaluation,
  occupancy,
  solveLinear,
  LU_MAX_S,
  type SoftValueIterationOptions,
  type SoftValueIterationResult,
  type PolicyEvaluationOptions,
  type PolicyEvaluationResult,
  type SolveOptions,
  type SolveResult,
  type LinearMethod,
} from "./lower";
export { sampleTrajectories, type SampleOptions, type Trajectories } from "./sampling";
export { ShapeError, DomainError, MemoryLimitError, InitError, NumericalError, type Where } from "./errors";

// Bilevel layer
export {
  BilevelProblem,
  type BilevelProblemSpec,
  type RewardModel,
  type TransitionModel,
  type PolicyObjective,
  type Counters,
} from "./bilevel/problem";
export { linearReward, policyLinear, policyL2, upperReturn, type CsrMatrix, type UpperReturnSpec } from "./bilevel/models";
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
} from "./bilevel/trajectory";
export { hypergradient, phi, type HypergradientMethod, type HypergradientOptions, type HypergradientResult } from "./bilevel/hypergradient";
export {
  modelFreeHypergradient,
  type ModelFreeSettings,
  type ModelFreeOptions,
  type ModelFreeResult,
  type DerivativeMode,
  type BaselineMode,
} from "./bilevel/modelFree";
export { valuePenalty, bellmanPenalty, type PenaltyOptions, type ValuePenaltyOptions, type PenaltyResult, type ValuePenaltyResult } from "./bilevel/penalties";
export { solveLower, type LowerOptions, type LowerSolution, type LowerSolver } from "./bilevel/lowerSolve";

// Algorithms: each exports init(problem, options), step(problem, state) and run(problem, options)
export type { Algorithm, HistoryRecord, RunOptionsBase, RunResult, RecordOptions, StepInfo, XProjection } from "./bilevel/algorithms/common";
export { STATE_VERSION, type StateTag } from "./bilevel/algorithms/stateSchema";
export { exactDescent, type ExactDescentOptions, type ExactDescentState } from "./bilevel/algorithms/exactDescent";
export { mSoBiRL, type MSoBiRLOptions, type MSoBiRLState } from "./bilevel/algorithms/mSoBiRL";
export { soBiRL, type SoBiRLOptions, type SoBiRLState, type SoBiRLBaseline } from "./bilevel/algorithms/soBiRL";
export { pbrl, projectSimplex, type PBRLOptions, type PBRLState, type PenaltyKind, type PolicyParam } from "./bilevel/algorithms/pbrl";
export {
  parl,
  parlHypergradient,
  type PARLOptions,
  type PARLState,
  type ParlDerivatives,
  type ParlHypergradientOptions,
  type ParlHypergradientResult,
} from "./bilevel/algorithms/parl";
export { actorCritic, type ActorCriticOptions, type ActorCriticState, type CriticMode, type OccupancyMode } from "./bilevel/algorithms/actorCritic";
export {
  phiSigma,
  phiSigmaGradient,
  type PhiSigmaOptions,
  type PhiSigmaState,
  type PhiSigmaGradientMode,
  type PhiSigmaGradientOptions,
  type PhiSigmaGradientResult,
} from "./bilevel/algorithms/phiSigma";
export { alternating, type AlternatingOptions, type AlternatingState } from "./bilevel/algorithms/alternating";

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
} from "./bilevel/compare";

// Built-in problems
export * from "./problems/index";

// Experiment files (format version 1): validation with JSON-pointer errors, a runner with
// byte-identical results, and the registry of built-ins
export * from "./experiment/index";

// SVG plots (browser-safe, deterministic)
export * from "./plot/index";
