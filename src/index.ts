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
export { ShapeError, DomainError, MemoryLimitError, InitError, NumericalError } from "./errors";

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
export { hypergradient, phi, type HypergradientMethod, type HypergradientOptions, type HypergradientResult } from "./bilevel/hypergradient";
export { solveLower, type LowerOptions, type LowerSolution, type LowerSolver } from "./bilevel/lowerSolve";
export type { Algorithm, HistoryRecord, RunOptionsBase, RunResult, RecordOptions } from "./bilevel/algorithms/common";
export { exactDescent, type ExactDescentOptions, type ExactDescentState } from "./bilevel/algorithms/exactDescent";
export { mSoBiRL, type MSoBiRLOptions, type MSoBiRLState } from "./bilevel/algorithms/mSoBiRL";

// Built-in problems
export { e1, type E1Options, type E1Instance } from "./problems/e1";
