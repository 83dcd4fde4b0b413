// The schema of every algorithm's plain-data state (issue 12): which keys it holds, their
// types, lengths tied to the problem's S, A and n, their ranges, the algorithm's name and
// the format version. `run({ state })` and `step(problem, state)` check a state against it
// before any arithmetic, so a state that was edited, truncated, written by another
// algorithm or by another problem fails with a ShapeError (a missing key, a wrong type or
// length) or a DomainError (a value out of range, NaN, null, another algorithm's name)
// naming `state.<key>`, the rule and the value, instead of a raw TypeError or an endless run.
import { DomainError, ShapeError } from "../../errors";
import * as check from "../../validate";
import type { BilevelProblem } from "../problem";
import { objectiveOf } from "../trajectory";

/** Version of the state format written by `init` (and kept by `step`). */
export const STATE_VERSION = 2;

/** The two keys every state carries in front of its own. */
export interface StateTag {
  /** The algorithm that wrote the state (its `name`). */
  algorithm: string;
  /** The state format (STATE_VERSION). */
  version: number;
}

interface Ctx {
  S: number;
  A: number;
  n: number;
  problem: BilevelProblem;
  state: Record<string, unknown>;
}

type Rule = (arg: string, v: unknown, c: Ctx) => void;

interface Field {
  rule: Rule;
  optional?: boolean;
}

// ---------- rules ----------

function number(arg: string, v: unknown): number {
  if (typeof v !== "number") throw new (v === null ? DomainError : ShapeError)(arg, "must be a number", v);
  return check.finiteNumber(arg, v);
}

const positive: Rule = (arg, v) => {
  if (number(arg, v) <= 0) throw new DomainError(arg, "must be > 0", v);
};
const nonNegative: Rule = (arg, v) => {
  if (number(arg, v) < 0) throw new DomainError(arg, "must be ≥ 0", v);
};
const finite: Rule = (arg, v) => {
  number(arg, v);
};
/** A number in [lo, hi) or [lo, hi] (closed when `closed`). */
const interval = (lo: number, hi: number, closed = false, openLo = false): Rule => (arg, v) => {
  const x = number(arg, v);
  if (x < lo || (openLo && x === lo) || x > hi || (!closed && x === hi)) {
    throw new DomainError(arg, `must lie in ${openLo ? "(" : "["}${lo}, ${hi}${closed ? "]" : ")"}`, v);
  }
};
/** A count handed to loops and kernels: 1 ≤ v ≤ 2³¹ − 1. */
const count: Rule = (arg, v) => {
  if (typeof v !== "number") throw new (v === null ? DomainError : ShapeError)(arg, "must be a number", v);
  check.positiveI32(arg, v);
};
/** The iteration index: a safe non-negative integer (so k + iterations stays exact). */
const iteration: Rule = (arg, v) => {
  if (typeof v !== "number") throw new (v === null ? DomainError : ShapeError)(arg, "must be a number", v);
  if (!Number.isSafeInteger(v) || v < 0) throw new DomainError(arg, "must be a non-negative safe integer (≤ 2⁵³ − 1)", v);
};
const oneOf = (...values: string[]): Rule => (arg, v) => {
  if (typeof v !== "string" || !values.includes(v)) throw new DomainError(arg, `must be ${values.map((s) => `'${s}'`).join(" or ")}`, v);
};
/** Finite numbers, of the length `len` gives. */
const vector = (len: (c: Ctx) => number, shape: string): Rule => (arg, v, c) => {
  check.float64(arg, v, len(c), shape);
};
/** A policy table (S·A, each row a distribution). */
const policyTable: Rule = (arg, v, c) => {
  check.policy(arg, v, c.S, c.A);
};
/** The four uint32 words of a xoshiro128** generator, not all zero. */
const rngWords: Rule = (arg, v) => {
  if (!Array.isArray(v) || v.length !== 4) throw new ShapeError(arg, "must hold the 4 words of the generator", Array.isArray(v) ? v.length : v);
  for (let i = 0; i < 4; i++) {
    const w = v[i];
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new DomainError(arg, "entries must be 32-bit unsigned integers", w, i);
  }
  if ((v[0] | v[1] | v[2] | v[3]) === 0) throw new DomainError(arg, "must not be all zero (a xoshiro128** state never is)", 0);
};
/** Informational numbers (JSON turns NaN into null). */
const numberOrNull: Rule = (arg, v) => {
  if (v !== null && typeof v !== "number") throw new ShapeError(arg, "must be a number or null", v);
};
const stepInfo: Rule = (arg, v) => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ShapeError(arg, "must be an object { f, hnorm, lowerResidual, penalty? }", v);
  for (const [key, x] of Object.entries(v)) numberOrNull(`${arg}.${key}`, x, undefined as never);
};
const runningMean: Rule = (arg, v) => {
  if (v !== null) finite(arg, v, undefined as never);
};
/**
 * Buffered trajectories (alternating): integers in [0, bound), or −1 after an episode ended at a
 * terminal state (docs/math.md#terminal-states); a whole number of groups.
 */
const buffer = (what: "states" | "actions"): Rule => (arg, v, c) => {
  const a = check.int32(arg, v);
  const bound = what === "states" ? c.S : c.A;
  for (let i = 0; i < a.length; i++) if (a[i] < -1 || a[i] >= bound) throw new DomainError(arg, `entries must lie in [0, ${bound}) (${what === "states" ? "S" : "A"}), or be −1 after the end of an episode`, a[i], i);
  const obj = objectiveOf(c.problem, undefined);
  const G = obj.groupSize * obj.horizon;
  if (a.length % G !== 0) throw new ShapeError(arg, `must have a length that is a multiple of groupSize·horizon = ${G}`, a.length);
  const other = c.state[what === "states" ? "bufferActions" : "bufferStates"];
  if (Array.isArray(other) && other.length !== a.length) throw new ShapeError(arg, "must have the length of bufferStates and bufferActions alike", a.length);
};

/** The update rule's state (update.ts): the rule, its constants and Adam's moments. */
const updateState: Rule = (arg, v, c) => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ShapeError(arg, "must be an object { rule, clipNorm, beta1, beta2, eps, m, v, t }", v);
  const u = v as Record<string, unknown>;
  oneOf("plain", "clipped", "adam")(`${arg}.rule`, u.rule, c);
  positive(`${arg}.clipNorm`, u.clipNorm, c);
  interval(0, 1)(`${arg}.beta1`, u.beta1, c);
  interval(0, 1)(`${arg}.beta2`, u.beta2, c);
  positive(`${arg}.eps`, u.eps, c);
  const len = u.rule === "adam" ? c.n : 0;
  vector(() => len, u.rule === "adam" ? "n with 'adam'" : "[] unless 'adam'")(`${arg}.m`, u.m, c);
  vector(() => len, u.rule === "adam" ? "n with 'adam'" : "[] unless 'adam'")(`${arg}.v`, u.v, c);
  iteration(`${arg}.t`, u.t, c);
  for (const key of Object.keys(u)) if (!["rule", "clipNorm", "beta1", "beta2", "eps", "m", "v", "t"].includes(key)) throw new ShapeError(arg, "has a key that update states do not hold (rule, clipNorm, beta1, beta2, eps, m, v, t)", key);
};
const update: Field = { rule: updateState };

/** PBRL's L-BFGS memory: at most `memory` pairs (s, y) of length n + S·A, the last point z and gradient g (both that length, or []), and λ. */
const lbfgsPairs: Rule = (arg, v, c) => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ShapeError(arg, "must be an object { s, y, z, g, lambda }", v);
  const u = v as Record<string, unknown>;
  const N = c.n + c.S * c.A;
  for (const key of Object.keys(u)) if (!["s", "y", "z", "g", "lambda"].includes(key)) throw new ShapeError(arg, "has a key that L-BFGS memories do not hold (s, y, z, g, lambda)", key);
  positive(`${arg}.lambda`, u.lambda, c);
  for (const key of ["s", "y"] as const) {
    const list = u[key];
    if (!Array.isArray(list)) throw new ShapeError(`${arg}.${key}`, "must be an array of vectors", list);
    const mem = typeof c.state.memory === "number" ? c.state.memory : Infinity;
    if (list.length > mem) throw new ShapeError(`${arg}.${key}`, `must hold at most memory = ${mem} pairs`, list.length);
    list.forEach((w, j) => vector(() => N, "n + S·A")(`${arg}.${key}[${j}]`, w, c));
  }
  if ((u.s as unknown[]).length !== (u.y as unknown[]).length) throw new ShapeError(`${arg}.y`, "must hold as many vectors as s", (u.y as unknown[]).length);
  const len = Array.isArray(u.z) && u.z.length === 0 ? 0 : N;
  vector(() => len, "n + S·A, or [] after a failed search")(`${arg}.z`, u.z, c);
  vector(() => len, "the length of z")(`${arg}.g`, u.g, c);
};

const linearMethod: Field = { rule: oneOf("lu", "krylov", "bicgstab", "richardson"), optional: true };
const lowerSolver: Field = { rule: oneOf("value-iteration", "policy-iteration") };
const projection: Field = { rule: oneOf("none", "nonnegative") };
/** x_{k−1} of a step rule that looks back one move: n numbers, or [] before the first move. */
const previousX: Rule = (arg, v, c) => {
  check.float64(arg, v, Array.isArray(v) && v.length === 0 ? 0 : c.n, "n, or [] before the first move");
};
/** A vector kept beside x_{k−1} (ĥ_{k−1}, d_{k−1}): the length of xPrev. */
const besidePreviousX: Rule = (arg, v, c) => {
  check.float64(arg, v, Array.isArray(c.state.xPrev) ? c.state.xPrev.length : c.n, "the length of xPrev");
};
/** The last merits of a nonmonotone rule: at most `max` finite numbers. */
const merits = (max: number): Rule => (arg, v) => {
  const n = Array.isArray(v) ? v.length : -1;
  if (n > max) throw new ShapeError(arg, `holds at most ${max} values`, n);
  const a = check.float64(arg, v, Math.max(n, 0), `at most ${max} values`);
  for (let i = 0; i < a.length; i++) finite(`${arg}[${i}]`, a[i], undefined as never);
};
const SA = (c: Ctx) => c.S * c.A;
const S = (c: Ctx) => c.S;

// ---------- the schemas ----------

/** Keys every state starts with (the tag and the iterate), then `last`. */
function schema(own: Record<string, Field>): Record<string, Field> {
  return {
    k: { rule: iteration },
    x: { rule: vector((c) => c.n, "n") },
    ...own,
    last: { rule: stepInfo, optional: true },
  };
}

const SCHEMAS: Record<string, Record<string, Field>> = {
  exactDescent: schema({
    V: { rule: vector(S, "S") },
    beta: { rule: positive },
    stepRule: { rule: oneOf("spectral", "armijo", "fixed") },
    xPrev: { rule: previousX },
    hPrev: { rule: besidePreviousX },
    recent: { rule: merits(10) },
    update,
    tol: { rule: positive },
    solver: lowerSolver,
    linear: linearMethod,
    project: projection,
  }),
  mSoBiRL: schema({
    Q: { rule: vector(SA, "S·A") },
    V: { rule: vector(S, "S") },
    w: { rule: vector(S, "S") },
    beta: { rule: positive },
    stepRule: { rule: oneOf("spectral", "adaptive", "fixed") },
    fPrev: { rule: finite },
    fHist: { rule: merits(5), optional: true },
    lastMove: { rule: oneOf("step", "retake", "return", "wait"), optional: true },
    xPrev: { rule: previousX },
    dPrev: { rule: besidePreviousX },
    hPrev: { rule: besidePreviousX, optional: true },
    zeta: { rule: positive },
    N: { rule: count },
    wSteps: { rule: count },
    earlyStop: { rule: nonNegative },
    wStep: { rule: oneOf("least-squares", "richardson") },
    project: projection,
    update,
  }),
  soBiRL: schema({
    pi: { rule: policyTable },
    rng: { rule: rngWords },
    beta: { rule: positive },
    eta: { rule: positive },
    T: { rule: count },
    evaluation: { rule: oneOf("exact", "monte-carlo") },
    Mq: { rule: count },
    Tq: { rule: count },
    groups: { rule: count },
    derivative: { rule: oneOf("rollout", "exact") },
    Md: { rule: count },
    Td: { rule: count },
    baseline: { rule: oneOf("running", "leave-one-out", "split", "none") },
    baselineDecay: { rule: interval(0, 1) },
    runningMean: { rule: runningMean },
    update,
  }),
  pbrl: schema({
    // the enums first: the lengths of policy, piHat and Vhat depend on them
    penalty: { rule: oneOf("value", "bellman") },
    param: { rule: oneOf("logits", "simplex") },
    inner: { rule: oneOf("pmd", "exact") },
    policy: {
      rule: (arg, v, c) => (c.state.param === "simplex" ? policyTable(arg, v, c) : vector(SA, "S·A")(arg, v, c)),
    },
    piHat: { rule: (arg, v, c) => (c.state.penalty === "value" ? policyTable(arg, v, c) : vector(() => 0, "[] for the Bellman penalty")(arg, v, c)) },
    Vhat: { rule: vector((c) => (c.state.penalty === "value" && c.state.inner === "exact" ? c.S : 0), "S with the value penalty and inner 'exact', else 0") },
    lambda: { rule: positive },
    lambdaRule: { rule: oneOf("adaptive", "fixed"), optional: true },
    lambda0: { rule: positive, optional: true },
    lambdaTol: { rule: positive, optional: true },
    lambdaEvery: { rule: count, optional: true },
    phiHat0: { rule: finite, optional: true },
    lambdaSince: { rule: nonNegative, optional: true },
    alpha: { rule: positive },
    stepRule: { rule: oneOf("backtracking", "fixed") },
    trialStep: { rule: oneOf("carry", "reset") },
    nextAlpha: { rule: positive },
    update,
    direction: { rule: oneOf("lbfgs", "gradient"), optional: true },
    memory: { rule: count, optional: true },
    lbfgs: { rule: lbfgsPairs, optional: true },
    shrink: { rule: interval(0, 1, false, true) },
    maxBacktracks: { rule: count },
    floor: { rule: (arg, v, c) => interval(0, 1 / c.A)(arg, v, c) },
    T: { rule: count },
    eta: { rule: positive },
    innerTol: { rule: positive },
    solver: lowerSolver,
    project: projection,
    linear: linearMethod,
    lastAlpha: { rule: numberOrNull, optional: true },
    lastF: { rule: numberOrNull, optional: true },
  }),
  parl: schema({
    inner: { rule: oneOf("pg", "exact") },
    theta: { rule: vector((c) => c.S * (c.A - 1), "S·(A−1)") },
    V: { rule: vector((c) => (c.state.inner === "exact" ? c.S : 0), "S with inner 'exact', else 0") },
    stepRule: { rule: oneOf("armijo", "spectral", "fixed") },
    Vphi: { rule: vector((c) => (c.state.stepRule === "fixed" ? 0 : c.S), "S with stepRule 'armijo' or 'spectral', else 0") },
    beta: { rule: positive },
    xPrev: { rule: previousX, optional: true },
    hPrev: { rule: besidePreviousX, optional: true },
    recent: { rule: merits(10), optional: true },
    update,
    K: { rule: count },
    eta: { rule: positive },
    tol: { rule: positive },
    solver: lowerSolver,
    project: projection,
    derivatives: { rule: oneOf("forward", "finite-difference") },
    h: { rule: positive },
    cgMaxIter: { rule: count },
    cgTol: { rule: nonNegative },
    damping: { rule: nonNegative },
    linear: linearMethod,
    lastCg: { rule: numberOrNull, optional: true },
  }),
  actorCritic: schema({
    theta: { rule: vector(SA, "S·A") },
    thetaT: { rule: vector(SA, "S·A") },
    Q: { rule: vector(SA, "S·A") },
    QT: { rule: vector(SA, "S·A") },
    rng: { rule: rngWords },
    critic: { rule: oneOf("exact", "td") },
    actor: { rule: oneOf("mirror", "gradient") },
    occupancy: { rule: oneOf("exact", "sampled") },
    tau0: { rule: positive },
    tauFloor: { rule: nonNegative },
    tauPower: { rule: nonNegative },
    w: { rule: positive },
    wPower: { rule: nonNegative },
    alpha: { rule: positive },
    alphaPower: { rule: nonNegative },
    stepRule: { rule: oneOf("adaptive", "schedule", "adagrad") },
    alpha0: { rule: positive },
    gradSq: { rule: nonNegative, optional: true },
    meritPrev: { rule: (arg, v, c) => { if (v !== null) finite(arg, v, c); } },
    xPrev: { rule: previousX, optional: true },
    hPrev: { rule: besidePreviousX, optional: true },
    actorStep: { rule: positive },
    actorPower: { rule: nonNegative },
    pmdStep: { rule: positive },
    pmdPower: { rule: nonNegative },
    criticStep: { rule: positive },
    criticPower: { rule: nonNegative },
    episodes: { rule: count },
    explore: { rule: interval(0, 1, true) },
    horizon: {
      rule: (arg, v, c) => {
        count(arg, v, c);
        if ((v as number) < 2) throw new DomainError(arg, "must be ≥ 2 (TD needs a next state)", v);
      },
    },
    project: projection,
    update,
  }),
  phiSigma: schema({
    thetaStar: { rule: vector(SA, "S·A") },
    thetaSigma: { rule: vector(SA, "S·A") },
    rng: { rule: rngWords },
    sigma: { rule: positive },
    n: { rule: count },
    sigmaMin: { rule: positive, optional: true },
    nMax: { rule: count, optional: true },
    nRule: { rule: oneOf("inexact"), optional: true },
    eta: { rule: positive },
    stepRule: { rule: oneOf("spectral", "armijo", "fixed") },
    Vphi: { rule: vector((c) => (c.state.stepRule === "fixed" ? 0 : c.S), "S with stepRule 'spectral' or 'armijo', else 0") },
    xPrev: { rule: previousX, optional: true },
    hPrev: { rule: besidePreviousX, optional: true },
    recent: { rule: merits(10), optional: true },
    project: projection,
    update,
    lowerStep: { rule: positive },
    penaltyStep: { rule: positive },
    gradient: { rule: oneOf("exact", "sampled") },
    batch: { rule: count },
    horizon: { rule: count },
  }),
  alternating: schema({
    pi: { rule: policyTable },
    V: { rule: vector(S, "S") },
    rng: { rule: rngWords },
    bufferStates: { rule: buffer("states") },
    bufferActions: { rule: buffer("actions") },
    beta: { rule: positive },
    groups: { rule: count },
    bufferSize: { rule: count },
    rewardSteps: { rule: count },
    tol: { rule: positive },
    solver: lowerSolver,
    update,
  }),
};

/** The algorithms that have a state schema. */
export const STATE_SCHEMA_ALGORITHMS: readonly string[] = Object.keys(SCHEMAS);

/** `{ algorithm, version, ...state }`: the tag in front, as `init` writes it. */
export function tagState<S extends object>(algorithm: string, state: S): S & StateTag {
  return { algorithm, version: STATE_VERSION, ...state };
}

/**
 * Check a state handed to `run({ state })` or `step` against `algorithm`'s schema for this
 * problem. Throws a ShapeError or DomainError naming `state.<key>`; returns the state.
 */
export function checkState<S>(algorithm: string, problem: BilevelProblem, state: S): S {
  const fields = SCHEMAS[algorithm];
  if (fields === undefined) return state; // an algorithm without a schema (none today)
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new ShapeError("state", `must be the plain object that ${algorithm}.init or a previous run returned`, state);
  }
  const st = state as Record<string, unknown>;
  // the name first: another algorithm's state is named as such, not as a missing key
  if (st.algorithm === undefined) {
    throw new ShapeError("state.algorithm", `is missing: states carry the name of the algorithm that wrote them (states written before format version ${STATE_VERSION} lack it; add "algorithm": "${algorithm}", "version": ${STATE_VERSION})`, undefined);
  }
  if (st.algorithm !== algorithm) {
    const other = typeof st.algorithm === "string" && SCHEMAS[st.algorithm] ? ` (this is a state of ${st.algorithm}: resume it with ${st.algorithm}.run)` : "";
    throw new DomainError("state.algorithm", `must be '${algorithm}'${other}`, st.algorithm);
  }
  if (st.version !== STATE_VERSION) {
    const why = st.version === 1 ? "; format 1 predates the adaptive step rules (their step memory is not in it): start a new run from the state's x" : "";
    throw new DomainError("state.version", `must be ${STATE_VERSION} (the state format this library reads)${why}`, st.version);
  }
  const { S, A } = problem.mdp;
  const c: Ctx = { S, A, n: problem.n, problem, state: st };
  for (const [key, f] of Object.entries(fields)) {
    const v = st[key];
    if (v === undefined) {
      if (f.optional) continue;
      throw new ShapeError(`state.${key}`, `is missing (${algorithm} states hold ${Object.keys(fields).filter((k) => !fields[k].optional).join(", ")})`, v);
    }
    f.rule(`state.${key}`, v, c);
  }
  for (const key of Object.keys(st)) {
    if (key !== "algorithm" && key !== "version" && !(key in fields)) {
      throw new ShapeError("state", `has a key that ${algorithm} states do not hold (${Object.keys(fields).join(", ")})`, key);
    }
  }
  return state;
}
