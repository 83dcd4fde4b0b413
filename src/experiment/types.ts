// The experiment document (format version 1) and the result of running it.
// See docs/experiment-format.md for the full description.
import type { HistoryRecord, RunStatus } from "../bilevel/algorithms/common";
import type { Counters } from "../mdp";
import type { AlgorithmName } from "../bilevel/algorithms/index";

/** The names of the built-in problems. */
export type BuiltinName = "e1" | "gridGoal" | "gridIncentive" | "incentive" | "stackelberg" | "rlhf" | "shaping" | "happyText" | "gridworld" | "garnet";
/** The name of one of the library's algorithms (src/bilevel/algorithms/index.ts lists them). */
export type { AlgorithmName };

/** Φ in CSR form. */
export interface CsrSpec {
  indptr: number[];
  indices: number[];
  values: number[];
}

/** The MDP of a custom problem: dense P or CSR. */
export interface MdpSpec {
  S: number;
  A: number;
  gamma: number;
  /** Initial distribution (length S); uniform when omitted. */
  rho?: number[];
  /** Dense transitions: nested P[s][a][s'] or flat (S·A·S). Exactly one of P and csr. */
  P?: number[] | number[][][];
  /** Sparse transitions. */
  csr?: { indptr: number[]; indices: number[]; probs: number[] };
  /** Terminal states: S booleans (a mask) or a list of state indices (docs/math.md#terminal-states). */
  terminal?: boolean[] | number[];
}

/** The lower reward model r_x of a custom problem. */
export type RewardSpec =
  | { linear: { Phi: number[] | number[][] | CsrSpec; n: number; offset?: number[] } }
  | { table: { offset?: number[] } }
  | { state: { offset?: number[] } };

/** The upper objective f of a custom problem. */
export type UpperSpec =
  | { policyLinear: { c: number[]; lambda?: number } }
  | { policyL2: Record<string, never> }
  | { upperReturn: { r?: number[]; reward?: RewardSpec; rho?: number[]; lambda?: number; linear?: "lu" | "krylov" | "bicgstab" | "richardson" } }
  | { preference: { rTrue: number[]; horizon: number; pairs?: number; labels?: "soft" | "hard"; gammaU?: number; lambda?: number } };

/** A built-in problem by name, with its parameters. */
export interface BuiltinProblemSpec {
  builtin: BuiltinName;
  params: Record<string, unknown>;
  /** 'gridworld' and 'garnet' only (they generate an MDP): the lower reward model. */
  reward?: RewardSpec;
  /** 'gridworld' and 'garnet' only: the upper objective. */
  upper?: UpperSpec;
  /** 'gridworld' and 'garnet' only: τ. */
  tau?: number;
}

/** A problem given in full: MDP, reward model, upper objective and τ. */
export interface CustomProblemSpec {
  mdp: MdpSpec;
  reward: RewardSpec;
  upper: UpperSpec;
  tau: number;
}

/** A built-in or a custom problem (one context of a contextual problem). */
export type SingleProblemSpec = BuiltinProblemSpec | CustomProblemSpec;

/** One context of a contextual problem: a problem and its weight w_c. */
export interface ContextEntrySpec {
  weight: number;
  /** A label (normalised: the built-in's name, or 'custom'). */
  name: string;
  problem: SingleProblemSpec;
}

/** A contextual problem φ(x) = Σ_c w_c φ_c(x) (docs/math.md#contextual). */
export interface ContextualProblemSpec {
  contexts: ContextEntrySpec[];
  /** One sampled context per iteration (seed normalised: the experiment's when omitted). */
  sample?: { seed: number };
}

/** The `problem` of an experiment: a built-in, a custom or a contextual problem. */
export type ProblemSpec = SingleProblemSpec | ContextualProblemSpec;

/** The `algorithm` of an experiment: a name and that algorithm's options. */
export interface AlgorithmSpec {
  name: AlgorithmName;
  [option: string]: unknown;
}

/** The `record` of an experiment: extra history columns. */
export interface RecordSpec {
  /** Record φ(x_k) every this many iterations (0 = never). */
  phiEvery: number;
  /** Record x_k in every history row. */
  x: boolean;
}

/** A validated experiment with every constant default filled in (validateExperiment's output). */
export interface Experiment {
  version: 1;
  name: string;
  description?: string;
  seed: number;
  problem: ProblemSpec;
  algorithm: AlgorithmSpec;
  iterations: number;
  /** Stop with status 'converged' once the algorithm's convergence measure is ≤ stopTol (0: run all iterations). */
  stopTol: number;
  /** 'problem': the problem's own x_0 (zeros for custom problems). */
  x0: number[] | "problem";
  record: RecordSpec;
}

/** One problem with a JSON pointer (RFC 6901) into the document, e.g. `/algorithm/beta`. */
export interface ExperimentIssue {
  path: string;
  /** e.g. `expected a positive number, got -0.1`. */
  message: string;
  /** 1-based position in the source text (parseExperiment only, when known). */
  line?: number;
  column?: number;
}

/** What `validateExperiment` and `parseExperiment` return: the normalised experiment or every issue found. */
export type ValidationResult = { ok: true; experiment: Experiment } | { ok: false; errors: ExperimentIssue[] };

/** Thrown by the runner when an experiment that passed validation still cannot be built (e.g. x0 of the wrong length for a built-in problem). */
export class ExperimentError extends Error {
  override name = "ExperimentError";
  /** The issues, each with its JSON pointer; the message lists them one per line. */
  constructor(readonly errors: ExperimentIssue[]) {
    super(errors.map((e) => `${e.path || "/"}: ${e.message}`).join("\n"));
  }
}

/** The sizes of a built problem. */
export interface ProblemSummary {
  /** The built-in's name, or 'custom'. */
  name: string;
  S: number;
  A: number;
  n: number;
  tau: number;
  gamma: number;
  /** A contextual problem's contexts (S, A, n above are the union's). */
  contexts?: ContextSummary[];
}

/** One context of a contextual problem, as the result reports it. */
export interface ContextSummary {
  name: string;
  weight: number;
  S: number;
  /** The first union state of the context's block. */
  offset: number;
}

/** The `final` part of an experiment result. */
export interface FinalState {
  /** The run's result (`RunResult.x`): x_K, or the last accepted point while x_K is an untested trial (docs/math.md#stopping). */
  x: number[];
  /** φ at `x` by a tight lower solve (left out when it cannot be evaluated). */
  phi?: number;
  /** f and ‖ĥ‖ of the last iteration's history row (null when no iteration completed). */
  f: number | null;
  hnorm: number | null;
  /** A contextual problem: φ_c(x_K) for each context (φ = Σ_c w_c φ_c). */
  phiByContext?: number[];
}

/**
 * What runExperiment returns: plain data, no times, no dates — the same bytes on every run and
 * kernel build in one JavaScript engine (across engines, host-side Math.exp/log may differ in the last bit).
 */
export interface ExperimentResult {
  version: 1;
  /** The normalised experiment (defaults filled). */
  experiment: Experiment;
  problem: ProblemSummary;
  /** The algorithm's name. */
  algorithm: AlgorithmName;
  seed: number;
  /**
   * Why the run ended: 'converged' (measure ≤ stopTol), 'max-iterations' (all iterations
   * done), 'diverged' (non-finite values or growth past the divergence bound: see
   * `message`), 'interrupted' (the signal aborted or onIteration returned false).
   */
  status: RunStatus;
  /** One line on why a run converged or diverged (the iteration, and for 'diverged' the hyperparameter most likely at fault). */
  message?: string;
  /** Iterations done. */
  iterations: number;
  history: HistoryRecord[];
  final: FinalState;
  /** Work done by the algorithm: Bellman sweeps, linear solves, sampled environment steps. */
  counters: Counters;
}

/** Facts about one run that vary between runs (kept out of the result). */
export interface RunInfo {
  /** Wall time of the algorithm's run, in milliseconds. */
  timeMs: number;
  /** Wall time including building the problem and the final φ. */
  totalMs: number;
  /** The kernel build used. */
  simd: boolean;
}
