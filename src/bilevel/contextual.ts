// Contextual bilevel problems (docs/math.md#contextual): contexts c = 1..C, each an MDP M_c, a
// lower reward model r_{c,x} and an upper objective f_c, with weights w_c ≥ 0 (Σ w_c = 1) and
// one shared x:  φ(x) = Σ_c w_c φ_c(x),  φ_c(x) = f_c(x, π*_{c,x}).
// The contexts do not interact, so the block-diagonal union of the contexts is itself an
// ordinary BilevelProblem with the same φ: states = the disjoint union (context c's states at
// offset o_c), P block-diagonal, ρ = Σ_c w_c ρ_c embedded, r_x stacked, terminal masks
// concatenated, and the upper objective Σ_c w_c f_c(x, π|_c). Its soft optimum is each
// context's soft optimum on its block, so every hypergradient and algorithm runs on it
// unchanged. Sampling one context per iteration is a wrapper algorithm (`sampledContexts`).
import { DomainError, ShapeError } from "../errors";
import { TabularMDP, denseToCsr } from "../mdp";
import { pow } from "../util/math";
import { Rng } from "../util/random";
import * as check from "../validate";
import { backendOf } from "../wasm/routines/index";
import { steppedAlgorithm, type Algorithm, type StepInfo, type Stepper } from "./algorithms/common";
import type { StateTag } from "./algorithms/stateSchema";
import { solveLower, type LowerOptions } from "./lowerSolve";
import { isRewardModel, upperReturn, type UpperReturn } from "./models";
import { BilevelProblem, result, type PolicyObjective, type RewardModel, type TransitionModel } from "./problem";
import { rewardValues, type TrajectoryContext, type TrajectoryGroup, type TrajectoryObjective, type TrajectoryPolicyObjective } from "./trajectory";

/** Tolerance of Σ_c w_c = 1 (the library's tolerance for distributions). */
export const WEIGHT_TOL = check.SUM_TOL;

/**
 * One context of `contextual`: a `BilevelProblem`, or its parts (`mdp`, `reward`, `upper`,
 * `transitions?`; τ is the contextual spec's), with its weight w_c ≥ 0.
 */
export interface ContextSpec {
  /** The context as a complete problem (its τ must equal the other contexts'). */
  problem?: BilevelProblem;
  mdp?: TabularMDP;
  reward?: RewardModel;
  upper?: PolicyObjective;
  transitions?: TransitionModel;
  /** w_c ≥ 0; the weights sum to 1 (within 1e-9). */
  weight: number;
  /** A label for diagnostics (default `context <c>`). */
  name?: string;
}

/** Options of `contextual`. */
export interface ContextualSpec {
  contexts: readonly ContextSpec[];
  /** τ of contexts given by parts (contexts given as problems carry their own). */
  tau?: number;
}

/** Where a context lives in the union: states [offset, offset + S), its problem and weight. */
export interface ContextBlock {
  readonly name: string;
  readonly weight: number;
  /** The first union state of the context. */
  readonly offset: number;
  readonly S: number;
  /** The context on its own (φ_c, its MDP, reward and upper objective). */
  readonly problem: BilevelProblem;
}

/** φ(x) and its parts φ_c(x), from one lower solve of the union. */
export interface PhiByContext {
  /** φ(x) = Σ_c w_c φ_c(x). */
  phi: number;
  /** φ_c(x) for each context, in order. */
  byContext: number[];
  weights: number[];
}

/** What `contextual` returns. */
export interface ContextualProblem {
  /** The block-diagonal union: an ordinary BilevelProblem with φ(x) = Σ_c w_c φ_c(x). */
  readonly problem: BilevelProblem;
  readonly contexts: readonly ContextBlock[];
  /** w_c, in order (a copy). */
  readonly weights: number[];
  /**
   * How the union's upper objective is built: 'upperReturn' (every context's is one: one
   * upperReturn on the union, so the 'amd' hypergradient applies) or 'sum' (Σ_c w_c f_c).
   */
  readonly upperKind: "upperReturn" | "sum";
  /** φ_c(x) for every context and their weighted sum, by one lower solve of the union. */
  phiByContext(x: ArrayLike<number>, lower?: LowerOptions): PhiByContext;
  /** Context c's block of a union table of length S (`per` 1) or S·A (`per` A): a copy. */
  slice(c: number, table: ArrayLike<number>): Float64Array;
  /**
   * The union with context c alone in the upper objective (weight 1): same MDP, reward and
   * x, φ = φ_c. What `sampledContexts` hands the algorithm at an iteration that drew c.
   */
  contextProblem(c: number): BilevelProblem;
}

/**
 * A contextual bilevel problem φ(x) = Σ_c w_c φ_c(x) with one shared x (docs/math.md#contextual),
 * as the block-diagonal union of the contexts: `problem` is an ordinary BilevelProblem, so
 * `hypergradient` (every method) and every algorithm apply to it unchanged.
 *
 * Requirements: the contexts share A, γ, τ and n (the dimension of x). The union is dense when
 * every context is dense (needed for x-dependent transitions), else CSR; terminal states are
 * carried per block. Accepts the array of contexts or `{ contexts, tau }`.
 */
export function contextual(spec: readonly ContextSpec[] | ContextualSpec): ContextualProblem {
  const list = Array.isArray(spec) ? (spec as readonly ContextSpec[]) : (spec as ContextualSpec)?.contexts;
  const tauGiven = Array.isArray(spec) ? undefined : (spec as ContextualSpec).tau;
  if (!Array.isArray(list) || list.length === 0) throw new ShapeError("contexts", "must be a non-empty array of { problem | mdp, reward, upper; weight }", list);
  const problems = list.map((c, i) => contextProblemOf(c, i, tauGiven));
  const weights = checkWeights(list.map((c) => c.weight));
  const first = problems[0];
  const { A, gamma } = first.mdp;
  const tau = first.tau, n = first.n;
  problems.forEach((p, i) => {
    if (p.mdp.A !== A) throw new ShapeError(`contexts[${i}].mdp`, `must have A = ${A} actions like context 0`, p.mdp.A, i);
    if (p.mdp.gamma !== gamma) throw new DomainError(`contexts[${i}].mdp.gamma`, `must equal context 0's discount γ = ${gamma}`, p.mdp.gamma, i);
    if (p.tau !== tau) throw new DomainError(`contexts[${i}].tau`, `must equal context 0's τ = ${tau}`, p.tau, i);
    if (p.n !== n) throw new ShapeError(`contexts[${i}].reward`, `must act on x of context 0's dimension n = ${n}`, p.n, i);
  });
  const blocks: ContextBlock[] = [];
  let S = 0;
  problems.forEach((p, i) => {
    blocks.push(Object.freeze({ name: list[i].name ?? `context ${i}`, weight: weights[i], offset: S, S: p.mdp.S, problem: p }));
    S += p.mdp.S;
  });
  const dense = problems.every((p) => p.mdp.kind === "dense");
  const hasTransitions = problems.some((p) => p.transitions !== undefined);
  if (hasTransitions && !dense) {
    const i = problems.findIndex((p) => p.mdp.kind !== "dense");
    throw new ShapeError(`contexts[${i}].mdp`, "must be dense: x-dependent transitions in another context need a dense union", "csr", i);
  }
  const mdp = unionMdp(blocks, problems.map((p) => p.mdp), weights, dense);
  const reward = stackedReward(blocks.map((b) => b.problem.reward), blocks, n, A, "reward");
  const transitions = hasTransitions ? unionTransitions(blocks, A) : undefined;
  const upperOf = (w: number[]) => unionUpper(blocks, w, A, n);
  const built = upperOf(weights);
  const problem = new BilevelProblem({ mdp, tau, reward, upper: built.upper, transitions });
  const single = new Map<number, BilevelProblem>();
  const checkC = (c: number) => {
    if (!Number.isInteger(c) || c < 0 || c >= blocks.length) throw new DomainError("c", `must be a context index in [0, ${blocks.length})`, c);
    return c;
  };
  return {
    problem,
    contexts: blocks,
    get weights() {
      return weights.slice();
    },
    upperKind: built.kind,
    phiByContext(x, lower) {
      const xx = problem.checkX(x);
      const low = solveLower(problem, xx, { tol: 1e-10, ...lower });
      const byContext = blocks.map((b) => {
        b.problem.moveTo(xx);
        const pi = low.pi.subarray(b.offset * A, (b.offset + b.S) * A);
        return b.problem.value(xx, pi);
      });
      let phi = 0;
      for (let c = 0; c < blocks.length; c++) if (weights[c] !== 0) phi += weights[c] * byContext[c];
      return { phi, byContext, weights: weights.slice() };
    },
    slice(c, table) {
      const b = blocks[checkC(c)];
      const per = table.length === S ? 1 : table.length === S * A ? A : 0;
      if (per === 0) throw new ShapeError("table", `must have length S = ${S} or S·A = ${S * A} (the union's)`, table.length);
      return Float64Array.from(Array.prototype.slice.call(table, b.offset * per, (b.offset + b.S) * per) as number[]);
    },
    contextProblem(c) {
      checkC(c);
      let p = single.get(c);
      if (!p) {
        const e = weights.map((_, j) => (j === c ? 1 : 0));
        p = new BilevelProblem({ mdp, tau, reward, upper: upperOf(e).upper, transitions });
        single.set(c, p);
      }
      return p;
    },
  };
}

/** Weights w_c: finite, ≥ 0, summing to 1 within 1e-9 (errors name the index and value). */
export function checkWeights(w: readonly unknown[]): number[] {
  const out = w.map((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new DomainError(`contexts[${i}].weight`, "must be a finite number", v, i);
    if (v < 0) throw new DomainError(`contexts[${i}].weight`, "must be ≥ 0", v, i);
    return v;
  });
  let sum = 0;
  for (const v of out) sum += v;
  if (Math.abs(sum - 1) > WEIGHT_TOL) throw new DomainError("contexts.weight", `must sum to 1 within ${WEIGHT_TOL}; the weights [${out.join(", ")}] sum to`, sum);
  return out;
}

function contextProblemOf(c: ContextSpec, i: number, tau: number | undefined): BilevelProblem {
  if (typeof c !== "object" || c === null) throw new ShapeError(`contexts[${i}]`, "must be { problem, weight } or { mdp, reward, upper, transitions?, weight }", c, i);
  if (c.problem !== undefined) {
    if (!(c.problem instanceof BilevelProblem)) throw new ShapeError(`contexts[${i}].problem`, "must be a BilevelProblem", c.problem, i);
    if (c.mdp !== undefined || c.reward !== undefined || c.upper !== undefined || c.transitions !== undefined) {
      throw new ShapeError(`contexts[${i}]`, "takes either problem or { mdp, reward, upper, transitions? }, not both", c, i);
    }
    return c.problem;
  }
  if (tau === undefined) throw new ShapeError("tau", `is required for contexts given by parts (context ${i})`, tau);
  return new BilevelProblem({ mdp: c.mdp!, tau, reward: c.reward!, upper: c.upper!, transitions: c.transitions });
}

/** Σ_c w_c (a table of length S_c embedded at the block of c). */
function embedded(blocks: readonly ContextBlock[], weights: readonly number[], tables: readonly Float64Array[], S: number): Float64Array {
  const out = new Float64Array(S);
  blocks.forEach((b, c) => {
    const w = weights[c];
    if (w === 0) return;
    const t = tables[c];
    for (let s = 0; s < b.S; s++) out[b.offset + s] = w * t[s];
  });
  return out;
}

/** The block-diagonal union MDP with ρ = Σ_c w_c ρ_c embedded and the terminal masks concatenated. */
function unionMdp(blocks: readonly ContextBlock[], mdps: readonly TabularMDP[], weights: readonly number[], dense: boolean): TabularMDP {
  const A = mdps[0].A, gamma = mdps[0].gamma;
  const S = blocks.reduce((s, b) => s + b.S, 0);
  const rho = embedded(blocks, weights, mdps.map((m) => m.rho), S);
  const terminal = new Uint8Array(S);
  let anyTerminal = false;
  mdps.forEach((m, c) => {
    const t = m.terminal;
    if (!t) return;
    anyTerminal = true;
    terminal.set(t, blocks[c].offset);
  });
  const common = { S, A, gamma, rho, backend: backendOf(mdps[0]), terminal: anyTerminal ? terminal : undefined };
  if (dense) {
    const P = new Float64Array(S * A * S);
    mdps.forEach((m, c) => {
      const { P: Pc } = m.transitions() as { P: Float64Array };
      const o = blocks[c].offset, Sc = m.S;
      for (let i = 0; i < Sc * A; i++) P.set(Pc.subarray(i * Sc, (i + 1) * Sc), ((o * A + i) * S) + o);
    });
    return TabularMDP.dense({ ...common, P });
  }
  const parts = mdps.map((m) => {
    const t = m.transitions();
    return "P" in t ? denseToCsr(t.P, m.S, A) : t;
  });
  const nnz = parts.reduce((s, p) => s + p.indices.length, 0);
  const indptr = new Int32Array(S * A + 1), indices = new Int32Array(nnz), probs = new Float64Array(nnz);
  let k = 0;
  parts.forEach((p, c) => {
    const o = blocks[c].offset, rows = mdps[c].S * A;
    for (let i = 0; i < rows; i++) {
      for (let j = p.indptr[i]; j < p.indptr[i + 1]; j++) {
        indices[k] = p.indices[j] + o;
        probs[k] = p.probs[j];
        k++;
      }
      indptr[o * A + i + 1] = k;
    }
  });
  return TabularMDP.sparse({ ...common, indptr, indices, probs });
}

/** r_x stacked by block: context c's model (or fixed table) on rows [o_c·A, (o_c + S_c)·A). R_xᵀu sums the blocks. */
function stackedReward(models: readonly (RewardModel | Float64Array)[], blocks: readonly ContextBlock[], n: number, A: number, name: string): RewardModel {
  const S = blocks.reduce((s, b) => s + b.S, 0);
  const rows = S * A;
  const range = (c: number) => [blocks[c].offset * A, (blocks[c].offset + blocks[c].S) * A] as const;
  const canJvp = models.every((m) => m instanceof Float64Array || typeof m.jvp === "function" || typeof m.jacobian === "function");
  const model: RewardModel = {
    dim: n,
    rows,
    reward(x, out) {
      models.forEach((m, c) => {
        const [a, b] = range(c);
        out.set(m instanceof Float64Array ? m : rewardValues(m, x, b - a), a);
      });
    },
    vjp(x, u, out) {
      out.fill(0);
      models.forEach((m, c) => {
        if (m instanceof Float64Array) return;
        const [a, b] = range(c);
        const uc = u.subarray(a, b);
        let zero = true;
        for (let i = 0; i < uc.length; i++) if (uc[i] !== 0) { zero = false; break; }
        if (zero) return;
        const g = modelVjp(m, x, uc, n);
        if (g.length !== n) throw new ShapeError(`${name}[${c}]`, `has dim ${g.length} but x has length ${n}`, g.length, c);
        for (let k = 0; k < n; k++) out[k] += g[k];
      });
    },
  };
  if (canJvp) {
    model.jvp = (x, dx, out) => {
      models.forEach((m, c) => {
        const [a, b] = range(c);
        const part = out.subarray(a, b);
        if (m instanceof Float64Array) { part.fill(0); return; }
        if (typeof m.jvp === "function") {
          result(`${name}.jvp`, m.jvp(x, dx, part), part, b - a);
          return;
        }
        const J = result(`${name}.jacobian`, m.jacobian!(x, new Float64Array((b - a) * n)), new Float64Array((b - a) * n), (b - a) * n);
        for (let i = 0; i < b - a; i++) {
          let acc = 0;
          for (let k = 0; k < n; k++) acc += J[i * n + k] * dx[k];
          part[i] = acc;
        }
      });
    };
  }
  return model;
}

/** R_xᵀu of one reward model: its vjp, else its Jacobian (length n, checked finite). */
function modelVjp(m: RewardModel, x: Float64Array, u: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  if (typeof m.vjp === "function") return result("reward.vjp", m.vjp(x, u, out), out, n);
  const rows = u.length;
  const J = new Float64Array(rows * n);
  result("reward.jacobian", m.jacobian!(x, J), J, rows * n);
  for (let i = 0; i < rows; i++) {
    const ui = u[i];
    if (ui === 0) continue;
    for (let k = 0; k < n; k++) out[k] += ui * J[i * n + k];
  }
  return out;
}

/** x-dependent transitions of the union: each context's P at x on its block (fixed P for the others). */
function unionTransitions(blocks: readonly ContextBlock[], A: number): TransitionModel {
  const S = blocks.reduce((s, b) => s + b.S, 0);
  return {
    P(x, out) {
      out.fill(0);
      for (const b of blocks) {
        b.problem.moveTo(x); // the context's own MDP follows (its upper objective reads it)
        const { P: Pc } = b.problem.mdp.transitions() as { P: Float64Array };
        const o = b.offset, Sc = b.S;
        for (let i = 0; i < Sc * A; i++) out.set(Pc.subarray(i * Sc, (i + 1) * Sc), (o * A + i) * S + o);
      }
    },
    vjpPV(x, V, u, out) {
      out.fill(0);
      const n = out.length;
      for (const b of blocks) {
        const t = b.problem.transitions;
        if (!t) continue;
        const tmp = new Float64Array(n);
        const r = result("transitions.vjpPV", t.vjpPV(x, V.subarray(b.offset, b.offset + b.S), u.subarray(b.offset * A, (b.offset + b.S) * A), tmp), tmp, n);
        for (let k = 0; k < n; k++) out[k] += r[k];
      }
    },
  };
}

function isUpperReturn(u: PolicyObjective): u is UpperReturn {
  const o = u as Partial<UpperReturn>;
  return typeof o.lambda === "number" && typeof o.upperReward === "function" && (o.rU instanceof Float64Array || isRewardModel(o.rUModel));
}

/**
 * The union's upper objective for weights w: one upperReturn on the union when every
 * context's is one (r_U stacked, ρ_U = Σ w_c ρ_{U,c}, λ = Σ w_c λ_c), else Σ_c w_c f_c(x, π|_c)
 * on each context's own MDP (with a union trajectory objective when every context has one).
 */
function unionUpper(blocks: readonly ContextBlock[], w: readonly number[], A: number, n: number): { upper: PolicyObjective; kind: "upperReturn" | "sum" } {
  const S = blocks.reduce((s, b) => s + b.S, 0);
  const uppers = blocks.map((b) => b.problem.upper);
  if (uppers.every(isUpperReturn)) {
    const ur = uppers as UpperReturn[];
    const fixed = ur.every((u) => u.rU instanceof Float64Array);
    const parts = ur.map((u) => (u.rU instanceof Float64Array ? u.rU : u.rUModel!));
    let r: Float64Array | RewardModel;
    if (fixed) {
      r = new Float64Array(S * A);
      parts.forEach((p, c) => (r as Float64Array).set(p as Float64Array, blocks[c].offset * A));
    } else r = stackedReward(parts, blocks, n, A, "upperReturn.r");
    const rho = embedded(blocks, w, ur.map((u, c) => u.rhoU ?? blocks[c].problem.mdp.rho), S);
    let lambda = 0;
    ur.forEach((u, c) => (lambda += w[c] * u.lambda));
    const linear = ur.every((u) => u.linear === ur[0].linear) ? ur[0].linear : undefined;
    return { upper: upperReturn({ r, rho, lambda, linear }), kind: "upperReturn" };
  }
  const piOf = (pi: Float64Array, b: ContextBlock) => pi.subarray(b.offset * A, (b.offset + b.S) * A);
  const sum: PolicyObjective & { trajectory?: TrajectoryObjective } = {
    rows: S * A,
    dim: n,
    value(x, pi) {
      let v = 0;
      blocks.forEach((b, c) => {
        if (w[c] === 0) return;
        const f = b.problem.upper.value(x, piOf(pi, b), b.problem.mdp);
        if (typeof f !== "number" || !Number.isFinite(f)) throw new DomainError(`contexts[${c}].upper.value`, "must return a finite number", f, c);
        v += w[c] * f;
      });
      return v;
    },
    gradX(x, pi, out) {
      out.fill(0);
      const g = new Float64Array(n);
      blocks.forEach((b, c) => {
        if (w[c] === 0) return;
        g.fill(0);
        result(`contexts[${c}].upper.gradX`, b.problem.upper.gradX(x, piOf(pi, b), g, b.problem.mdp), g, n);
        for (let k = 0; k < n; k++) out[k] += w[c] * g[k];
      });
    },
    gradPi(x, pi, out) {
      out.fill(0);
      blocks.forEach((b, c) => {
        if (w[c] === 0) return;
        const part = out.subarray(b.offset * A, (b.offset + b.S) * A);
        result(`contexts[${c}].upper.gradPi`, b.problem.upper.gradPi(x, piOf(pi, b), part, b.problem.mdp), part, b.S * A);
        for (let i = 0; i < part.length; i++) part[i] *= w[c];
      });
    },
  };
  const objectives = uppers.map((u) => (u as Partial<TrajectoryPolicyObjective>).trajectory);
  if (objectives.every((o) => o !== undefined)) sum.trajectory = unionTrajectory(blocks, w, objectives as TrajectoryObjective[], A);
  return { upper: sum, kind: "sum" };
}

/**
 * A trajectory objective on the union whose expectation is Σ_c w_c E_c[l_c]
 * (docs/math.md#contextual): a group's context is its first trajectory's; a group of N
 * trajectories (N = max_c N_c, H = max_c H_c) counts only when its first N_c trajectories all
 * start in that context, with weight 1/w_c^{N_c − 1}; l_c reads the first H_c steps.
 */
function unionTrajectory(blocks: readonly ContextBlock[], w: readonly number[], objectives: readonly TrajectoryObjective[], A: number): TrajectoryObjective {
  const N = Math.max(...objectives.map((o) => o.groupSize));
  const H = Math.max(...objectives.map((o) => o.horizon));
  const anyUpper = objectives.some((o) => o.upperMDP !== undefined);
  let upper: TabularMDP | undefined;
  const upperMDP = () => (upper ??= unionMdp(blocks, objectives.map((o, c) => o.upperMDP ?? blocks[c].problem.mdp), w, false));
  const ctxOf = blocks.map((b, c): TrajectoryContext => ({ reward: b.problem.reward, mdp: objectives[c].upperMDP ?? b.problem.mdp }));
  const blockOf = (s: number) => {
    for (let c = blocks.length - 1; c >= 0; c--) if (s >= blocks[c].offset) return c;
    return 0;
  };
  /** Context c's group (local states) and its weight 1/w_c^{N_c−1}, or undefined when the group does not count. */
  const local = (group: TrajectoryGroup): { c: number; g: TrajectoryGroup; scale: number } | undefined => {
    const c = blockOf(group.states[0]);
    const b = blocks[c], o = objectives[c];
    const Nc = o.groupSize, Hc = o.horizon;
    for (let i = 1; i < Nc; i++) if (blockOf(group.states[i * H]) !== c) return undefined;
    const states = new Int32Array(Nc * Hc), actions = new Int32Array(Nc * Hc);
    for (let i = 0; i < Nc; i++) {
      for (let t = 0; t < Hc; t++) {
        const s = group.states[i * H + t];
        states[i * Hc + t] = s < 0 ? s : s - b.offset;
        actions[i * Hc + t] = group.actions[i * H + t];
      }
    }
    return { c, g: { states, actions }, scale: Nc === 1 ? 1 : 1 / pow(w[c], Nc - 1) }; // util/math: the same bits in every engine
  };
  const objective: TrajectoryObjective = {
    groupSize: N,
    horizon: H,
    loss(x, group) {
      const l = local(group);
      if (!l) return 0;
      return l.scale * objectives[l.c].loss(x, l.g, ctxOf[l.c]);
    },
    gradX(x, group, out) {
      out.fill(0);
      const l = local(group);
      if (!l) return;
      result(`contexts[${l.c}].objective.gradX`, objectives[l.c].gradX(x, l.g, out, ctxOf[l.c]), out, out.length);
      for (let k = 0; k < out.length; k++) out[k] *= l.scale;
    },
  };
  // sampled from the union with ρ_U = Σ_c w_c ρ_{U,c}: the lower union already has that ρ when
  // no context has its own upper MDP and the weights are the problem's
  return Object.defineProperty(objective, "upperMDP", { get: () => (anyUpper || w.some((v, c) => v !== blocks[c].weight) ? upperMDP() : undefined), enumerable: true });
}

// ---------------------------------------------------------------------------------------
// one sampled context per iteration

/** Options of `sampledContexts`. */
export interface SampledContextsOptions {
  /** Seed of the context draws (default 0): iteration k draws c_k from (seed, k) alone. */
  seed?: number;
}

/**
 * The context iteration k draws: c_k ~ w, from (seed, k) alone, so a resumed run draws the
 * same contexts as an uninterrupted one.
 */
export function contextAt(weights: readonly number[], seed: number, k: number): number {
  const rng = new Rng([seed >>> 0, Math.floor(seed / 4294967296) >>> 0, k >>> 0, (Math.floor(k / 4294967296) ^ 0x9e3779b9) >>> 0]);
  for (let i = 0; i < 8; i++) rng.nextU32(); // leave the seeded state's neighbourhood
  const u = rng.uniform();
  let acc = 0;
  let last = 0;
  for (let c = 0; c < weights.length; c++) {
    if (weights[c] === 0) continue;
    last = c;
    acc += weights[c];
    if (u < acc) return c;
  }
  return last;
}

/**
 * `algorithm` with one sampled context per iteration (docs/math.md#contextual): iteration k
 * draws c_k ~ w (`contextAt(weights, seed, k)`) and runs the algorithm's own step on
 * `contextual.contextProblem(c_k)`, whose upper objective is f_{c_k} alone. The state, the
 * lower level (the whole union, blocks warm-started as usual) and x are shared, so
 * E[step direction] is the full expectation's for algorithms whose direction is linear in the
 * upper objective (∇φ = Σ_c w_c ∇φ_c). `run` records φ (the full expectation) and runs on
 * `contextual.problem`; states are the algorithm's own.
 */
export function sampledContexts<O, S extends StateTag & { k: number; x: number[]; last?: StepInfo }>(
  algorithm: Algorithm<O, S>,
  ctx: ContextualProblem,
  options: SampledContextsOptions = {},
): Algorithm<O, S> {
  if (typeof algorithm !== "object" || algorithm === null || typeof algorithm.step !== "function" || !algorithm.info) throw new ShapeError("algorithm", "must be one of the library's algorithms", algorithm);
  if (typeof ctx !== "object" || ctx === null || !(ctx.problem instanceof BilevelProblem) || typeof ctx.contextProblem !== "function") throw new ShapeError("contextual", "must be what contextual(…) returns", ctx);
  const seed = options.seed === undefined ? 0 : check.seed(options.seed);
  const weights = ctx.weights;
  const same = (problem: BilevelProblem) => {
    if (problem !== ctx.problem) throw new ShapeError("problem", "must be the contextual problem the sampler was built for (contextual(…).problem)", problem);
  };
  const step = (problem: BilevelProblem, state: S): S => {
    same(problem);
    return algorithm.step(ctx.contextProblem(contextAt(weights, seed, state.k)), state);
  };
  const info = algorithm.info;
  const wrapped = steppedAlgorithm<O, S>(
    { ...info, name: info.name },
    (problem, o) => {
      same(problem);
      const { algorithm: _a, version: _v, ...rest } = algorithm.init(problem, o) as S & StateTag;
      return rest as Omit<S, keyof StateTag>;
    },
    (problem, state) => new SampledStepper(problem, state, step),
    step,
  );
  return wrapped;
}

class SampledStepper<S extends { k: number; x: number[]; last?: StepInfo }> implements Stepper<S> {
  constructor(
    private readonly problem: BilevelProblem,
    private st: S,
    private readonly stepFn: (problem: BilevelProblem, state: S) => S,
  ) {}

  get k(): number {
    return this.st.k;
  }

  get x(): Float64Array {
    return Float64Array.from(this.st.x);
  }

  advance(): StepInfo {
    this.st = this.stepFn(this.problem, this.st);
    return this.st.last!;
  }

  state(): S {
    return this.st;
  }
}
