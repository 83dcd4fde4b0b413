// The JSON Schema (draft 2020-12) of experiment files, version 1, generated from the
// registry. Published as schema/experiment.schema.json (scripts/write-schema.mjs; a test
// checks that the file equals this object). The schema checks types, names and ranges;
// shapes that depend on S, A and n (P, Φ, x_0, …) are checked by validateExperiment.
import { ALGORITHMS, PROBLEMS, REWARDS, UPPERS, type ParamSpec } from "./registry";

type Schema = Record<string, unknown>;

/** The JSON Schema of one parameter. */
export function paramSchema(p: ParamSpec): Schema {
  const s: Schema = {};
  switch (p.type) {
    case "number":
    case "integer":
      s.type = p.type;
      break;
    case "boolean":
    case "string":
      s.type = p.type;
      break;
    case "number[]":
      s.type = "array";
      s.items = { type: "number" };
      break;
    case "string[]":
      s.type = "array";
      s.items = { type: "string" };
      break;
    case "cell":
      s.type = "array";
      s.items = { type: "integer", minimum: 0 };
      s.minItems = 2;
      s.maxItems = 2;
      break;
    case "record":
      s.type = "object";
      s.additionalProperties = { type: "number" };
      break;
  }
  if (p.enum) s.enum = [...p.enum];
  for (const k of ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"] as const) if (p[k] !== undefined) s[k] = p[k];
  const note = p.defaultText !== undefined ? ` Default: ${p.defaultText}.` : "";
  s.description = p.description + note;
  if (p.default !== undefined) s.default = p.default;
  return s;
}

function paramsObject(params: readonly ParamSpec[], extra: Record<string, Schema> = {}): Schema {
  const properties: Record<string, Schema> = { ...extra };
  for (const p of params) properties[p.name] = paramSchema(p);
  return { type: "object", properties, additionalProperties: false };
}

const nonNegInt = { type: "integer", minimum: 0 };
const numbers = { type: "array", items: { type: "number" } };
const integers = { type: "array", items: { type: "integer" } };

/** Exactly one of the named alternatives, each an object of parameters. */
function oneKey(defs: readonly { name: string; description: string; params: ParamSpec[] }[]): Schema {
  const properties: Record<string, Schema> = {};
  for (const d of defs) properties[d.name] = { ...paramsObject(d.params), description: d.description };
  return { type: "object", properties, additionalProperties: false, minProperties: 1, maxProperties: 1 };
}

const mdpSchema: Schema = {
  type: "object",
  description: "The lower MDP: S states, A actions, discount γ, initial distribution ρ (default uniform) and exactly one of P (dense) or csr.",
  required: ["S", "A", "gamma"],
  additionalProperties: false,
  properties: {
    S: { type: "integer", minimum: 1, description: "States." },
    A: { type: "integer", minimum: 1, description: "Actions." },
    gamma: { type: "number", minimum: 0, exclusiveMaximum: 1, description: "Discount γ." },
    rho: { ...numbers, description: "Initial distribution ρ (length S; default uniform)." },
    terminal: {
      description: "Terminal states: S booleans (a mask) or a list of distinct state indices. The episode ends after the step taken at a terminal state: Q(s, a) = r(s, a), nothing after (docs/math.md#terminal-states). Their rows of P must still sum to 1.",
      anyOf: [{ type: "array", items: { type: "boolean" } }, { type: "array", items: { type: "integer", minimum: 0 } }],
    },
    P: { type: "array", description: "Transitions: nested P[s][a][s'] (S × A × S) or flat (S·A·S numbers, P[(s·A + a)·S + s']); rows sum to 1 within 1e-9." },
    csr: {
      type: "object",
      description: "Sparse transitions: row s·A + a holds next states indices[indptr[i]..indptr[i+1]) with probabilities probs.",
      required: ["indptr", "indices", "probs"],
      additionalProperties: false,
      properties: { indptr: { ...integers, description: "Length S·A + 1, from 0, non-decreasing." }, indices: { ...integers, description: "Next states, in [0, S)." }, probs: { ...numbers, description: "Probabilities." } },
    },
  },
};

const phiSchema: Schema = {
  type: ["array", "object"],
  description: "Φ (S·A × n): S·A·n numbers row-major, S·A rows of n numbers, or CSR { indptr, indices, values }.",
};

const rewardSchema: Schema = { ...oneKey(REWARDS), description: "The lower reward model: exactly one of linear, table, state." };
// Φ accepts three layouts: its detailed shape is a semantic check
(rewardSchema.properties as Record<string, Schema>).linear = {
  ...(rewardSchema.properties as Record<string, Schema>).linear,
  required: ["Phi", "n"],
};
((rewardSchema.properties as Record<string, Schema>).linear.properties as Record<string, Schema>).Phi = phiSchema;

const upperSchema: Schema = { ...oneKey(UPPERS), description: "The upper objective: exactly one of policyLinear, policyL2, upperReturn, preference." };
{
  const props = upperSchema.properties as Record<string, Schema>;
  props.policyLinear = { ...props.policyLinear, required: ["c"] };
  props.preference = { ...props.preference, required: ["rTrue", "horizon"] };
  // an x-dependent upper reward r_U(x) in the lower reward's vocabulary (docs/math.md#upper-reward)
  const ur = props.upperReturn;
  props.upperReturn = {
    ...ur,
    properties: { ...(ur.properties as Record<string, Schema>), reward: { $ref: "#/$defs/reward", description: "An x-dependent upper reward r_U(x) = offset + Φx given like the lower reward (linear, table, state; its n must be the lower reward's); instead of r." } },
  };
}

const tauSchema: Schema = { type: "number", minimum: 0, description: "Lower-level entropy temperature τ ≥ 0 (most methods need τ > 0)." };

// a contextual problem (docs/math.md#contextual): φ(x) = Σ_c w_c φ_c(x), one x for every context
const contextualSchema: Schema = {
  type: "object",
  description: "A contextual problem: φ(x) = Σ_c w_c φ_c(x) over contexts that share A, γ, τ and the dimension n of x (docs/math.md#contextual).",
  required: ["contexts"],
  additionalProperties: false,
  properties: {
    contexts: {
      type: "array",
      minItems: 1,
      description: "The contexts, each a built-in or custom problem with its weight w_c ≥ 0; the weights sum to 1 (within 1e-9).",
      items: {
        type: "object",
        required: ["weight", "problem"],
        additionalProperties: false,
        properties: {
          weight: { type: "number", minimum: 0, description: "w_c ≥ 0, the probability of the context." },
          name: { type: "string", description: "A label for the context (default: the built-in's name, or 'custom')." },
          problem: { $ref: "#/$defs/singleProblem" },
        },
      },
    },
    sample: {
      type: "object",
      additionalProperties: false,
      description: "One sampled context per iteration instead of the full expectation: iteration k draws c_k ~ w from (seed, k).",
      properties: { seed: { ...nonNegInt, maximum: Number.MAX_SAFE_INTEGER, description: "Seed of the context draws (default: the experiment's seed)." } },
    },
  },
};

function builtinProblemSchema(): Schema {
  const allOf = PROBLEMS.map((p) => ({
    if: { properties: { builtin: { const: p.name } } },
    then: { properties: { params: { ...paramsObject(p.params), description: `Parameters of '${p.name}': ${p.description}` } } },
  }));
  return {
    type: "object",
    required: ["builtin"],
    additionalProperties: false,
    properties: {
      builtin: { enum: PROBLEMS.map((p) => p.name), description: "A built-in problem (see the registry)." },
      params: { type: "object", description: "The problem's parameters (defaults filled when omitted)." },
      reward: { $ref: "#/$defs/reward", description: "'gridworld' and 'garnet' only: the lower reward model." },
      upper: { $ref: "#/$defs/upper", description: "'gridworld' and 'garnet' only: the upper objective." },
      tau: { ...tauSchema, description: "'gridworld' and 'garnet' only: τ (default 0.1)." },
    },
    allOf,
  };
}

function algorithmSchema(): Schema {
  const allOf = ALGORITHMS.map((a) => ({
    if: { properties: { name: { const: a.name } } },
    then: paramsObject(a.params, { name: {} }),
  }));
  return {
    type: "object",
    description: "The algorithm and its hyperparameters (defaults filled when omitted).",
    required: ["name"],
    properties: { name: { enum: ALGORITHMS.map((a) => a.name), description: "The algorithm." } },
    allOf,
  };
}

/** The schema of experiment files, version 1. */
export const experimentSchema: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "urn:bilevel-rl:experiment:1",
  title: "bilevel-rl experiment, version 1",
  description: "One run of one bilevel RL algorithm on one problem. See docs/experiment-format.md.",
  type: "object",
  required: ["version", "seed", "problem", "algorithm", "iterations"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string", description: "Editor hint: a path or URI of this schema. Ignored." },
    version: { const: 1, description: "Format version: 1." },
    name: { type: "string", description: "A name for the run (default '<problem>-<algorithm>')." },
    description: { type: "string", description: "Free text." },
    seed: { ...nonNegInt, maximum: Number.MAX_SAFE_INTEGER, description: "Master seed: used by every problem and algorithm parameter named seed that is not given." },
    problem: { $ref: "#/$defs/problem" },
    algorithm: { $ref: "#/$defs/algorithm" },
    iterations: { type: "integer", minimum: 1, description: "Outer iterations K (the most the run does)." },
    stopTol: { type: "number", minimum: 0, default: 0, description: "Stop with status 'converged' once the algorithm's convergence measure (‖ĥ‖ unless its documentation names another) is ≤ stopTol; 0 = run all iterations." },
    x0: {
      anyOf: [{ const: "problem" }, { ...numbers }],
      default: "problem",
      description: "Starting point: 'problem' (the built-in problem's x_0; zeros for custom problems) or n numbers.",
    },
    record: {
      type: "object",
      additionalProperties: false,
      description: "What the history records.",
      properties: {
        phiEvery: { ...nonNegInt, default: 0, description: "Record φ(x_k) every this many iterations (0 = never)." },
        x: { type: "boolean", default: false, description: "Record x_k in every history row." },
      },
    },
  },
  $defs: {
    problem: {
      type: "object",
      description: "A built-in problem { builtin, params }, a custom one { mdp, reward, upper, tau }, or a contextual one { contexts: [{ weight, problem }] }.",
      if: { required: ["contexts"] },
      then: { $ref: "#/$defs/contextualProblem" },
      else: { $ref: "#/$defs/singleProblem" },
    },
    singleProblem: {
      type: "object",
      description: "A built-in problem { builtin, params } or a custom one { mdp, reward, upper, tau }.",
      if: { required: ["builtin"] },
      then: { $ref: "#/$defs/builtinProblem" },
      else: { $ref: "#/$defs/customProblem" },
    },
    contextualProblem: contextualSchema,
    builtinProblem: builtinProblemSchema(),
    customProblem: {
      type: "object",
      required: ["mdp", "reward", "upper", "tau"],
      additionalProperties: false,
      properties: { mdp: { $ref: "#/$defs/mdp" }, reward: { $ref: "#/$defs/reward" }, upper: { $ref: "#/$defs/upper" }, tau: tauSchema },
    },
    mdp: mdpSchema,
    reward: rewardSchema,
    upper: upperSchema,
    algorithm: algorithmSchema(),
  },
};
