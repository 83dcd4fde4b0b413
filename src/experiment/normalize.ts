// Normalisation of valid experiment documents: every constant default filled in (seeded
// parameters take the document's seed), keys in a fixed order, nothing shared with the input.
import { isObj } from "./semantic";
import type { S } from "./messages";
import { REWARDS, UPPERS, algorithmInfo, problemInfo, type Json, type ParamSpec } from "./registry";
import type { Experiment } from "./types";

function fill(params: readonly ParamSpec[], given: S, seed: number): S {
  const out: S = {};
  for (const p of params) {
    if (given[p.name] !== undefined) out[p.name] = clone(given[p.name]);
    else if (p.seeded) out[p.name] = seed;
    else if (p.default !== undefined) out[p.name] = clone(p.default);
  }
  return out;
}

function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isObj(v)) {
    const o: S = {};
    for (const k of Object.keys(v)) o[k] = clone(v[k]);
    return o as T;
  }
  return v;
}

function oneOfSpec(defs: typeof REWARDS | typeof UPPERS, given: S, seed: number): S {
  const [kind, spec] = Object.entries(given)[0] as [string, S];
  const info = defs.find((d) => d.name === kind)!;
  const out = fill(info.params, spec, seed);
  // upperReturn's x-dependent reward r_U(x) is a reward model, not a registry parameter
  if (kind === "upperReturn" && isObj(spec.reward)) out.reward = oneOfSpec(REWARDS, spec.reward as S, seed);
  return { [kind]: out };
}

/** Defaults of the 'gridworld' and 'garnet' generators' reward, upper and τ. */
export const GENERATOR_DEFAULTS: Readonly<Record<"gridworld" | "garnet", { reward: Json; upper: Json; tau: number }>> = {
  gridworld: { reward: { state: {} }, upper: { upperReturn: { lambda: 0.001 } }, tau: 0.1 },
  garnet: { reward: { table: {} }, upper: { upperReturn: { lambda: 0.01 } }, tau: 0.1 },
};

/** A built-in or custom problem, normalised. */
function normalizeSingle(prob: S, seed: number): S {
  let problem: S;
  if (typeof prob.builtin === "string") {
    const info = problemInfo(prob.builtin)!;
    problem = { builtin: info.name, params: fill(info.params, (prob.params ?? {}) as S, seed) };
    if (info.kind === "mdp") {
      const d = GENERATOR_DEFAULTS[info.name as "gridworld" | "garnet"];
      problem.reward = oneOfSpec(REWARDS, (prob.reward ?? d.reward) as S, seed);
      problem.upper = oneOfSpec(UPPERS, (prob.upper ?? d.upper) as S, seed);
      problem.tau = prob.tau ?? d.tau;
    }
  } else {
    const mdp = prob.mdp as S;
    const m: S = { S: mdp.S, A: mdp.A, gamma: mdp.gamma };
    if (mdp.rho !== undefined) m.rho = clone(mdp.rho);
    if (mdp.terminal !== undefined) m.terminal = clone(mdp.terminal);
    if (mdp.P !== undefined) m.P = clone(mdp.P);
    if (mdp.csr !== undefined) {
      const c = mdp.csr as S;
      m.csr = { indptr: clone(c.indptr), indices: clone(c.indices), probs: clone(c.probs) };
    }
    problem = { mdp: m, reward: oneOfSpec(REWARDS, prob.reward as S, seed), upper: oneOfSpec(UPPERS, prob.upper as S, seed), tau: prob.tau };
  }
  return problem;
}

/** A contextual problem (docs/math.md#contextual): each context normalised, names filled, the sample seed defaulted. */
function normalizeContextual(prob: S, seed: number): S {
  const contexts = (prob.contexts as S[]).map((c) => {
    const p = c.problem as S;
    const name = (c.name as string | undefined) ?? (typeof p.builtin === "string" ? p.builtin : "custom");
    return { weight: c.weight, name, problem: normalizeSingle(p, seed) };
  });
  const out: S = { contexts };
  if (isObj(prob.sample)) out.sample = { seed: ((prob.sample as S).seed as number | undefined) ?? seed };
  return out;
}

/** A valid document with every constant default filled in, keys in a fixed order, arrays copied. */
export function normalize(doc: S): Experiment {
  const seed = doc.seed as number;
  const prob = doc.problem as S;
  const alg = doc.algorithm as S;
  const problem = Array.isArray(prob.contexts) ? normalizeContextual(prob, seed) : normalizeSingle(prob, seed);
  const ainfo = algorithmInfo(alg.name as string)!;
  const algorithm = { name: ainfo.name, ...fill(ainfo.params, alg, seed) };
  const record = (doc.record ?? {}) as S;
  const experiment: S = {
    version: 1,
    name: (doc.name as string | undefined) ?? `${typeof prob.builtin === "string" ? prob.builtin : Array.isArray(prob.contexts) ? "contextual" : "custom"}-${ainfo.name}`,
  };
  if (doc.description !== undefined) experiment.description = doc.description;
  Object.assign(experiment, {
    seed,
    problem,
    algorithm,
    iterations: doc.iterations,
    stopTol: (doc.stopTol as number | undefined) ?? 0,
    x0: doc.x0 === undefined ? "problem" : clone(doc.x0),
    record: { phiEvery: (record.phiEvery as number | undefined) ?? 0, x: (record.x as boolean | undefined) ?? false },
  });
  return experiment as unknown as Experiment;
}
