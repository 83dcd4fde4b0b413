// What an experiment file can name: the built-in problems, the algorithms, the reward
// models and upper objectives of custom problems and the hypergradient methods, each with
// its parameters, types, defaults and one line of description. The algorithms' entries are
// the algorithm modules' own specifications (their `info`, which their `init` reads its
// defaults from); the rest is data kept here. The JSON schema (schema.ts), the normaliser
// (validate.ts), the command line's `list` and the demo page's forms are generated from it.
import { ALGORITHM_LIST } from "../bilevel/algorithms/index";
import { LINEAR, arr, bool, count, discount, int, nonNeg, num, positive, seedParam, str, unit, type AlgorithmInfo, type ParamSpec } from "../util/params";

export type { ParamType, Json, ParamSpec, AlgorithmInfo } from "../util/params";

/** A built-in problem in the registry. */
export interface ProblemInfo {
  name: string;
  /** docs/math.md anchor or seed the problem stands in for. */
  source: string;
  description: string;
  /** 'bilevel': a complete problem; 'mdp': an MDP generator, completed by `reward`, `upper` and `tau`. */
  kind: "bilevel" | "mdp";
  /** Its upper objective is a trajectory objective (soBiRL, alternating and the 'model-free' hypergradient need one). */
  trajectory: boolean;
  /** Its transitions depend on x (the 'amd' hypergradient and model-free methods do not apply). */
  xDependentTransitions?: boolean;
  /** Its upper objective is a return (upperReturn): the 'amd' hypergradient applies. */
  returnObjective?: boolean;
  params: ParamSpec[];
}

/** A reward model or an upper objective of custom problems in the registry. */
export interface ObjectiveInfo {
  name: string;
  /** 'reward': a lower-level reward model r_x; 'upper': an upper objective f(x, π). */
  kind: "reward" | "upper";
  description: string;
  params: ParamSpec[];
}

// ---------------------------------------------------------------------------------------
// small constructors

const tauParam = (d: number, extra = "") => num("tau", `Lower-level entropy temperature τ${extra}.`, { default: d, ...positive });
const gammaParam = (d: number) => num("gamma", "Discount γ of the lower MDP.", { default: d, ...discount });
const rhoParam = arr("rho", "Initial distribution ρ over the states (default uniform).", { length: "S", distribution: true });

const gridParams = (size: number): ParamSpec[] => [
  int("size", "Side of the square open grid (ignored when `map` is given).", { default: size, ...count }),
  { name: "map", type: "string[]", description: "The grid, one string per row: '#' wall, '.' free, 'S' start, 'T' terminal (the episode ends after the step there) (instead of an open grid)." },
  num("slip", "Probability of moving to a uniformly random neighbour instead.", { default: 0.1, ...unit }),
  int("actions", "5 = U, D, L, R, stay; 4 = U, D, L, R.", { default: 5, enum: [4, 5] }),
];

// ---------------------------------------------------------------------------------------
// built-in problems

/** The built-in problems an experiment file can name, with their parameters. */
export const PROBLEMS: readonly ProblemInfo[] = [
  {
    name: "e1",
    source: "docs/math.md#e1",
    description: "The SoBiRL paper's synthetic problem: random MDP, r_x(s,a) = c_{s,a}·xᵀMx, f = ½‖x‖² + ½Σπ²; φ* = S/(2A) at x = 0.",
    kind: "bilevel",
    trajectory: false,
    params: [
      int("S", "States.", { default: 10, ...count }),
      int("A", "Actions.", { default: 5, ...count }),
      int("n", "Dimension of x.", { default: 100, ...count }),
      gammaParam(0.5),
      tauParam(1),
      seedParam("the instance (P, c, M) and of x_0 ~ N(0, I)"),
    ],
  },
  {
    name: "gridGoal",
    source: "docs/math.md#grid-goal",
    description: "GridWorld goal position: x places a soft goal (lower reward), the upper level wants the agent to visit a target cell.",
    kind: "bilevel",
    trajectory: false,
    returnObjective: true,
    params: [
      ...gridParams(5),
      gammaParam(0.9),
      tauParam(0.1),
      { name: "start", type: "cell", description: "Start cell [row, col] (ρ is the point mass there).", default: [0, 0] },
      { name: "target", type: "cell", description: "Target cell [row, col].", defaultText: "[height − 1, ⌊width/2⌋]" },
      num("mu", "Weight μ of (μ/2)‖x‖².", { default: 1e-3, ...nonNeg }),
      str("features", "'softmax': r_x(s) = softmax(x)_s; 'one-hot': r_x = Φx.", ["softmax", "one-hot"], { default: "softmax" }),
      bool("sparse", "CSR transitions.", { default: true }),
      str("linear", "Linear solver of the upper objective.", ["lu", "krylov", "richardson"], { defaultText: "'lu' for S ≤ 500, else 'richardson'" }),
      str("x0", "x_0: 'random' 0.1·N(0, I) or 'ramp' −0.1·(distance to the target).", ["random", "ramp"], { default: "random" }),
      seedParam("the random x_0"),
    ],
  },
  {
    name: "incentive",
    source: "docs/math.md#incentive",
    description: "Incentive design: the follower learns with r_F + x, the designer wants design return minus κ·payments; x ≥ 0 (use project 'nonnegative').",
    kind: "bilevel",
    trajectory: false,
    returnObjective: true,
    params: [
      int("S", "States.", { default: 8, ...count }),
      int("A", "Actions.", { default: 4, ...count }),
      gammaParam(0.9),
      tauParam(0.1),
      num("kappa", "Cost weight κ of the incentives paid.", { default: 1, ...nonNeg }),
      seedParam("the instance (r_F, r_D, P)"),
      rhoParam,
    ],
  },
  {
    name: "gridIncentive",
    source: "docs/math.md#grid-incentive",
    description: "Grid incentive design, episodic: incentives x_s ≥ 0 lure the follower from its favourite cell to the terminal goal; the designer earns the goal reward minus κ·payments (use project 'nonnegative'; the goal is a natural context).",
    kind: "bilevel",
    trajectory: false,
    returnObjective: true,
    params: [
      ...gridParams(5),
      gammaParam(0.9),
      tauParam(0.1),
      { name: "start", type: "cell", description: "Start cell [row, col] (ρ is the point mass there).", default: [0, 0] },
      { name: "goal", type: "cell", description: "The goal cell [row, col], made terminal.", defaultText: "[height − 1, width − 1]" },
      { name: "lureCell", type: "cell", description: "The follower's favourite cell [row, col].", defaultText: "the centre [⌊height/2⌋, ⌊width/2⌋]" },
      num("lure", "The follower's own reward per step in the lure cell.", { default: 0.2 }),
      num("goalReward", "The designer's reward for the follower's last step, at the goal.", { default: 1 }),
      num("kappa", "Cost weight κ of the incentives paid.", { default: 1, ...nonNeg }),
      bool("sparse", "CSR transitions.", { default: true }),
      str("linear", "Linear solver of the upper objective.", ["lu", "krylov", "richardson"], { defaultText: "'lu' for S ≤ 500, else 'krylov'" }),
    ],
  },
  {
    name: "stackelberg",
    source: "docs/math.md#stackelberg",
    description: "Stackelberg Markov game: the leader's policy softmax(x_s) enters the follower's reward and transitions (x-dependent P).",
    kind: "bilevel",
    trajectory: false,
    xDependentTransitions: true,
    params: [
      int("S", "States.", { default: 6, ...count }),
      int("A", "Follower actions.", { default: 3, ...count }),
      int("B", "Leader actions.", { default: 2, ...count }),
      gammaParam(0.9),
      tauParam(0.1),
      seedParam("the instance (R_F, R_L, T)"),
      rhoParam,
    ],
  },
  {
    name: "rlhf",
    source: "docs/math.md#rlhf",
    description: "Tabular RLHF: the reward table r_x = x is fitted to Bradley–Terry labels from a hidden reward on trajectory pairs of the lower policy (exact by enumeration).",
    kind: "bilevel",
    trajectory: true,
    params: [
      int("S", "States.", { default: 3, ...count }),
      int("A", "Actions.", { default: 2, ...count }),
      int("H", "Fragment length H.", { default: 2, ...count }),
      gammaParam(0.9),
      tauParam(1),
      int("pairs", "Pairs per group.", { default: 1, ...count }),
      str("labels", "Label model.", ["soft", "hard"], { default: "soft" }),
      num("gammaU", "Discount of the fragment returns.", { default: 1, ...nonNeg }),
      num("x0Scale", "Scale of x_0 ~ scale·N(0, I).", { default: 0.5, ...nonNeg }),
      seedParam("the instance (P, r_true, x_0)"),
    ],
  },
  {
    name: "shaping",
    source: "seed 002 §3.3 (reward shaping)",
    description: "Reward shaping: sparse true reward at a goal cell (upper: minus its return), a learned shaping bonus r_x = r_true + Φx at the lower level.",
    kind: "bilevel",
    trajectory: false,
    returnObjective: true,
    params: [
      ...gridParams(6),
      gammaParam(0.9),
      tauParam(0.5),
      { name: "start", type: "cell", description: "Start cell [row, col].", defaultText: "the map's 'S' cells, else [0, 0]" },
      { name: "goal", type: "cell", description: "The rewarding, absorbing goal cell [row, col].", defaultText: "[height − 1, width − 1]" },
      num("mu", "Weight μ of (μ/2)‖x‖².", { default: 1e-2, ...nonNeg }),
      str("features", "'state': a bonus x_s per state; 'state-action': x per (s, a); 'potential': γPx − x (policy-invariant).", ["state", "state-action", "potential"], { default: "state" }),
      bool("sparse", "CSR transitions.", { default: true }),
      str("linear", "Linear solver of the upper objective.", ["lu", "krylov", "richardson"], { defaultText: "'lu' for S ≤ 500, else 'richardson'" }),
      num("x0Scale", "Scale of a random x_0 = scale·N(0, I) (0: x_0 = 0, no shaping).", { default: 0, ...nonNeg }),
      seedParam("the random x_0"),
    ],
  },
  {
    name: "happyText",
    source: "seed 000 (happy-tweet RLHF), constructed",
    description: "Happy-text generation by RLHF: a writer of ≤ L-token sentences, Bradley–Terry labels from a sentiment lexicon, a bigram reward model fitted to them.",
    kind: "bilevel",
    trajectory: true,
    params: [
      { name: "vocabulary", type: "string[]", description: "Tokens, the end token last.", default: ["happy", "great", "day", "not", "sad", "<end>"] },
      { name: "lexicon", type: "record", description: "Sentiment score per word (others 0).", default: { happy: 1, great: 1, sad: -1 } },
      { name: "negators", type: "string[]", description: "Words that flip the next token's score.", default: ["not"] },
      int("length", "Maximum sentence length L (the trajectory horizon).", { default: 3, ...count }),
      gammaParam(0.9),
      tauParam(0.3),
      str("features", "Reward model: 'bigram' (one weight per (previous token, token)) or 'table' (r_x = x).", ["bigram", "table"], { default: "bigram" }),
      num("bt", "Bradley–Terry scale β of the labels σ(β·ΔR).", { default: 2, ...positive }),
      str("labels", "Label model.", ["soft", "hard"], { default: "soft" }),
      int("pairs", "Sentence pairs per group.", { default: 1, ...count }),
      num("lambda", "Weight λ of (λ/2)‖x‖² in the loss.", { default: 1e-3, ...nonNeg }),
      bool("exact", "Exact f and ∇f by enumerating sentence pairs.", { defaultText: "true when V^L ≤ 1000" }),
      num("x0Scale", "Scale of a random x_0 = scale·N(0, I) (0: x_0 = 0).", { default: 0, ...nonNeg }),
      seedParam("the random x_0"),
    ],
  },
  {
    name: "gridworld",
    source: "docs/math.md#gridworld (MDP generator)",
    description: "A slippery gridworld MDP; the problem's reward (default one-hot per state), upper (default: the return of reaching the 'G' cells, else the last cell) and tau (default 0.1) complete it.",
    kind: "mdp",
    trajectory: false,
    params: [
      { name: "map", type: "string[]", description: "The grid, one string per row: '#' wall, '.' free, 'G' absorbing goal, 'S' start, 'T' terminal (the episode ends after the step there; docs/math.md#terminal-states)." },
      int("width", "Width of an open grid (no `map`).", { defaultText: "5", ...count }),
      int("height", "Height of an open grid (no `map`).", { defaultText: "5", ...count }),
      num("slip", "Probability of moving to a uniformly random neighbour instead.", { default: 0.1, ...unit }),
      int("actions", "5 = U, D, L, R, stay; 4 = U, D, L, R.", { default: 5, enum: [4, 5] }),
      gammaParam(0.9),
      bool("sparse", "CSR transitions.", { default: true }),
      { name: "start", type: "cell", description: "Start cell [row, col] (ρ is the point mass there).", defaultText: "the 'S' cells, else the first free cell" },
      rhoParam,
    ],
  },
  {
    name: "garnet",
    source: "GARNET random MDP (Archibald et al. 1995)",
    description: "A GARNET random MDP; the problem's reward (default the table r_x = x), upper (default: the return of the generator's N(0, 1) reward, λ = 0.01) and tau (default 0.1) complete it.",
    kind: "mdp",
    trajectory: false,
    params: [
      int("S", "States.", { default: 10, ...count }),
      int("A", "Actions.", { default: 4, ...count }),
      int("branching", "Next states per (s, a).", { defaultText: "min(3, S)", ...count }),
      gammaParam(0.9),
      bool("sparse", "CSR transitions.", { default: true }),
      seedParam("the instance"),
      rhoParam,
    ],
  },
];

// ---------------------------------------------------------------------------------------
// algorithms: each module's own specification (x0 is the experiment's, not an algorithm parameter)

/** The algorithms an experiment file can name, with their options: each algorithm module's `info`. */
export const ALGORITHMS: readonly AlgorithmInfo[] = ALGORITHM_LIST.map((a) => a.info);

// ---------------------------------------------------------------------------------------
// custom problems: reward models and upper objectives

/** The reward models of custom problems. */
export const REWARDS: readonly ObjectiveInfo[] = [
  {
    name: "linear",
    kind: "reward",
    description: "r_x = offset + Φx, Φ of shape S·A × n (flat row-major, nested rows, or CSR { indptr, indices, values }).",
    params: [
      { name: "Phi", type: "number[]", description: "Φ: S·A·n numbers row-major, S·A rows of n numbers, or CSR { indptr, indices, values }." },
      int("n", "Dimension of x.", { ...count }),
      arr("offset", "Constant reward added to Φx (length S·A).", { defaultText: "0", length: "S·A" }),
    ],
  },
  {
    name: "table",
    kind: "reward",
    description: "r_x = offset + x: one entry of x per state-action pair (n = S·A).",
    params: [arr("offset", "Constant reward added to x (length S·A).", { defaultText: "0", length: "S·A" })],
  },
  {
    name: "state",
    kind: "reward",
    description: "r_x(s, a) = offset(s, a) + x_s: one entry of x per state (n = S).",
    params: [arr("offset", "Constant reward added (length S·A).", { defaultText: "0", length: "S·A" })],
  },
];

/** The upper objectives of custom problems. */
export const UPPERS: readonly ObjectiveInfo[] = [
  {
    name: "policyLinear",
    kind: "upper",
    description: "f(x, π) = Σ c·π + (λ/2)‖x‖².",
    params: [arr("c", "Weights c (length S·A).", { length: "S·A" }), num("lambda", "λ.", { default: 0, ...nonNeg })],
  },
  {
    name: "policyL2",
    kind: "upper",
    description: "f(x, π) = ½‖x‖² + ½Σπ² (E1's objective).",
    params: [],
  },
  {
    name: "upperReturn",
    kind: "upper",
    description: "f(x, π) = −ρ_Uᵀ V^π[r_U] + (λ/2)‖x‖²: minus the unregularised return of π under an upper reward: a fixed r, or an x-dependent 'reward' r_U(x) given like the lower reward (linear, table, state).",
    params: [
      arr("r", "Upper reward r_U (length S·A); optional for the 'gridworld' (goal cells) and 'garnet' (its reward) generators.", { length: "S·A" }),
      arr("rho", "Upper initial distribution (default the MDP's ρ).", { length: "S", distribution: true }),
      num("lambda", "λ.", { default: 0, ...nonNeg }),
      str("linear", "Linear solver of the evaluations.", LINEAR, { defaultText: "the library's" }),
    ],
  },
  {
    name: "preference",
    kind: "upper",
    description: "Bradley–Terry cross-entropy of H-step trajectory pairs of the lower policy labelled by a hidden reward r_true (trajectoryUpper(preferenceBCE), exact by enumeration).",
    params: [
      arr("rTrue", "The hidden reward r_true (length S·A).", { length: "S·A" }),
      int("horizon", "Trajectory length H.", { ...count }),
      int("pairs", "Pairs per group.", { default: 1, ...count }),
      str("labels", "Label model.", ["soft", "hard"], { default: "soft" }),
      num("gammaU", "Discount of the trajectory returns.", { default: 1, ...nonNeg }),
      num("lambda", "Weight λ of (λ/2)‖x‖² in the loss.", { default: 0, ...nonNeg }),
    ],
  },
];

/** The hypergradient methods of `hypergradientOf` (the command line's `hypergrad`). */
export const HYPERGRADIENT_METHODS: readonly { name: string; description: string }[] = [
  { name: "exact", description: "Eq. (9): tight lower solve plus one transposed linear solve (needs τ > 0)." },
  { name: "amd", description: "The AMD/HPGD Q̃ recursion (return objectives, x-independent transitions)." },
  { name: "finite-difference", description: "Central differences of φ, 2n lower solves: a checker." },
  { name: "model-free", description: "Prop. 5.2 Monte-Carlo estimate with a baseline (trajectory objectives), seeded." },
  { name: "parl", description: "PARL's implicit-function hypergradient in reduced logits (conjugate gradients)." },
  { name: "phi-sigma", description: "The Φσ penalty gradient (σ = 0.01), biased by O(σ)." },
];

/** The names of `PROBLEMS`, in order. */
export const PROBLEM_NAMES = PROBLEMS.map((p) => p.name);
/** The names of `ALGORITHMS`, in order. */
export const ALGORITHM_NAMES = ALGORITHMS.map((a) => a.name);

/** The registry entry of a built-in problem; undefined for an unknown name. */
export function problemInfo(name: string): ProblemInfo | undefined {
  return PROBLEMS.find((p) => p.name === name);
}

/** The registry entry of an algorithm; undefined for an unknown name. */
export function algorithmInfo(name: string): AlgorithmInfo | undefined {
  return ALGORITHMS.find((a) => a.name === name);
}
