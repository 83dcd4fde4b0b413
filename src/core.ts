// `bilevel-rl/core`: the lower level alone — the wasm kernels (init), tabular MDPs, the
// lower-level solvers, trajectory sampling and the typed errors. Nothing of the bilevel layer,
// the experiment files (schema, validation, runner) or the plots.
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
