// PBRL's lower-level penalties and their gradients (docs/math.md#pbrl; ✓C13–C18).
//   value penalty    p(x,π) = ρᵀ(V*_x − V^π_x)                                   ≥ 0
//   Bellman penalty  g(x,π) = ρᵀ(LSE_τ(Q^π_x) − V^π_x) = τ E_ρ KL(π ‖ softmax(Q^π_x/τ))  (τ > 0)
//                           = E_ρ[max_a Q^π_x(s,a) − ⟨π, Q^π_x⟩(s)]                     (τ = 0)
// Shapes: x (n); π, Q, r, the policy gradients (S·A, index s·A + a); V, ρ, d̃ (S).
// Policy gradients come in two forms:
//   gradPi     ∂pen/∂π(a|s), the table entries perturbed freely (rows not renormalised);
//              a per-state constant in it is irrelevant on the simplex;
//   gradLogits ∂pen/∂θ(s,a) for π(·|s) = softmax(θ(s,·)): π(a|s)(gradPi(s,a) − Σ_b π(b|s) gradPi(s,b)).
// Where π(a|s) = 0 and τ > 0 the table derivative is unbounded (−τ log π → +∞); it is
// reported with log π(a|s) clipped at log(Number.MIN_VALUE) ≈ −744.4, so it stays finite.
// Cost (linear solves, counted in problem.counters.solves): value penalty 4 (two
// evaluations, two occupancies) plus, without a given `star`, a tight lower solve; Bellman
// penalty 2. With `gradient: false` only the evaluations are done.
import { DomainError, NumericalError } from "../errors";
import { applyPpi, occupancy, policyEvaluation, solveLinear, type LinearMethod, type PolicyEvaluationResult } from "../lower";
import type { TabularMDP } from "../mdp";
import * as check from "../validate";
import type { BilevelProblem } from "./problem";
import { solveLower, type LowerOptions } from "./lowerSolve";
import { log } from "../util/math";
import { rowSoftmax } from "../util/softmax";

/** Options of `bellmanPenalty` (and the base of `valuePenalty`'s). */
export interface PenaltyOptions {
  /** Weights of the states (length S, a distribution); the MDP's ρ by default. Needs full support for p = 0 ⇔ π = π*. */
  rho?: ArrayLike<number>;
  /** Also compute gradX, gradPi and gradLogits (default true). */
  gradient?: boolean;
  /** Linear solver for (I − γP_π) and its transpose (default: 'lu' for S ≤ 500, else 'krylov'). */
  linear?: LinearMethod;
  /** Relative residual target of the solves (default 1e-12). */
  linearTol?: number;
}

/** Options of `valuePenalty`. */
export interface ValuePenaltyOptions extends PenaltyOptions {
  /**
   * A policy standing in for π*_x (length S·A), e.g. PBRL's π̂ from a few PMD steps. Then
   * V*_x is replaced by V^{π̂}_x (one evaluation) and ∇_x p uses π̂ (Danskin): the result is
   * exactly the value and gradient of ρᵀ(V^{π̂}_x − V^π_x) with π̂ frozen.
   * Default: the optimum from a tight lower solve (`lower`), also evaluated by one solve.
   */
  star?: ArrayLike<number>;
  /** Lower solve for the default π*_x (default tol 1e-12). */
  lower?: LowerOptions;
}

/** A penalty's value and, unless `gradient: false`, its gradients. */
export interface PenaltyResult {
  /** The penalty value (≥ 0 up to round-off with the exact π*). */
  value: number;
  /** ∂pen/∂x (n), when `gradient` is on. */
  gradX?: Float64Array;
  /** ∂pen/∂π(a|s) (S·A), table entries. */
  gradPi?: Float64Array;
  /** ∂pen/∂θ(s,a) (S·A), full softmax logits. */
  gradLogits?: Float64Array;
  /** V^π_x (S) and Q^π_x (S·A), the soft values of π at x. */
  V: Float64Array;
  Q: Float64Array;
  /** ‖LSE_τ(Q^π) − V^π‖∞ = ‖G(V^π) − V^π‖∞, the soft Bellman residual of π. */
  residual: number;
}

/** What `valuePenalty` returns: the penalty and the π*, V* it used. */
export interface ValuePenaltyResult extends PenaltyResult {
  /** The policy used for π*_x (the given `star`, or the solved optimum) and its value V*. */
  piStar: Float64Array;
  VStar: Float64Array;
}

/**
 * Value penalty p(x,π) = ρᵀ(V*_x − V^π_x) and, unless `gradient: false`,
 *   ∇_x p   = D_xᵀ(d̃_{π*} ⊙ π*) − D_xᵀ(d̃_π ⊙ π)            (ρᵀ(dV*_x − dV^π_x), Danskin)
 *   ∇_π p   = −d̃_π(s)(Q^π(s,a) − τ log π(a|s) − τ)         (direct table, docs/math.md#soft-policy-gradient with a minus sign)
 *   ∇_θ p   = −d̃_π(s) π(a|s)(Q^π(s,a) − τ log π(a|s) − V^π(s))
 * with d̃_π = (I − γP_πᵀ)⁻¹ρ and D_x = R_x (+ γ∂P_x V for x-dependent transitions,
 * taken at V* resp. V^π).
 */
export function valuePenalty(problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>, options: ValuePenaltyOptions = {}): ValuePenaltyResult {
  const xx = problem.checkX(x);
  const { mdp, tau } = problem;
  const { S, A } = mdp;
  const p = check.policy("pi", pi, S, A);
  const o = parse(options, mdp);
  const star = options.star === undefined ? undefined : check.policy("star", options.star, S, A);
  const r = problem.rewardAt(xx);
  // V* as the soft value of the (solved or given) optimal policy: its error is second
  // order in the policy's, so p(x, π*) vanishes to round-off.
  const piStar = star ?? solveLower(problem, xx, { tol: 1e-12, ...options.lower }).pi;
  const VStar = evaluate(problem, r, piStar, o.linear, o.linearTol).V;
  const ev = evaluate(problem, r, p, o.linear, o.linearTol);
  let value = 0;
  for (let s = 0; s < S; s++) value += o.rho[s] * (VStar[s] - ev.V[s]);
  const out: ValuePenaltyResult = { value, V: ev.V, Q: ev.Q, residual: bellmanResidual(ev.Q, ev.V, S, A, tau), piStar, VStar };
  if (!o.gradient) return out;
  const d = visitation(problem, p, o);
  const dStar = visitation(problem, piStar, o);
  const uStar = new Float64Array(S * A), u = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      uStar[i] = dStar[s] * piStar[i];
      u[i] = d[s] * p[i];
    }
  }
  if (problem.transitions) {
    const gs = problem.vjp(xx, uStar, VStar), g = problem.vjp(xx, u, ev.V);
    for (let k = 0; k < gs.length; k++) gs[k] -= g[k];
    out.gradX = gs;
  } else {
    for (let i = 0; i < u.length; i++) uStar[i] -= u[i];
    out.gradX = problem.vjp(xx, uStar);
  }
  const gPi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) gPi[s * A + a] = -d[s] * softAdvantageTable(ev.Q[s * A + a], p[s * A + a], tau);
  out.gradPi = gPi;
  out.gradLogits = tableToLogits(p, gPi, S, A);
  return out;
}

/**
 * Bellman penalty g(x,π) = ρᵀ(LSE_τ(Q^π_x) − V^π_x) (the hard max for τ = 0) and, unless
 * `gradient: false`, with σ = softmax(Q^π/τ) (greedy, first maximiser, for τ = 0),
 * c = ρ ⊙ (σ − π) and z = (I − γP_π)⁻ᵀ Pᵀc:
 *   ∇_x g        = Σ_{s,a} c(s,a) ∂Q^π(s,a)/∂x = D_xᵀ(c + γ π ⊙ E z)      (D_x at V^π)
 *   ∂g/∂π(a|s)   = (−ρ(s) + γ z(s)) (Q^π(s,a) − τ log π(a|s) − τ)
 * (for τ = 0 these are the gradients where the greedy action is unique).
 */
export function bellmanPenalty(problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>, options: PenaltyOptions = {}): PenaltyResult {
  const xx = problem.checkX(x);
  const { mdp, tau } = problem;
  const { S, A, gamma } = mdp;
  const p = check.policy("pi", pi, S, A);
  const o = parse(options, mdp);
  const r = problem.rewardAt(xx);
  const ev = evaluate(problem, r, p, o.linear, o.linearTol);
  const { Q } = ev;
  // per-state gap LSE_τ(Q(s,·)) − Σ_a π(Q − τ log π) and σ
  const sigma = new Float64Array(S * A);
  let value = 0, residual = 0;
  for (let s = 0; s < S; s++) {
    const off = s * A;
    const top = rowSoftmax(Q, off, A, tau, sigma);
    let vpi = 0;
    for (let a = 0; a < A; a++) {
      const q = p[off + a];
      if (q > 0) vpi += q * (Q[off + a] - (tau > 0 ? tau * log(q) : 0));
    }
    value += o.rho[s] * (top - vpi);
    residual = Math.max(residual, Math.abs(top - ev.V[s]));
  }
  const out: PenaltyResult = { value, V: ev.V, Q, residual };
  if (!o.gradient) return out;
  const c = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) c[s * A + a] = o.rho[s] * (sigma[s * A + a] - p[s * A + a]);
  const Ptc = pTransposeSA(mdp, c);
  const z = solve(problem, p, Ptc, true, o.linear, o.linearTol);
  const u = Float64Array.from(c);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] += gamma * p[s * A + a] * z[s];
  out.gradX = problem.vjp(xx, u, ev.V);
  const gPi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    const w = -o.rho[s] + gamma * z[s];
    for (let a = 0; a < A; a++) gPi[s * A + a] = w * softAdvantageTable(Q[s * A + a], p[s * A + a], tau);
  }
  out.gradPi = gPi;
  out.gradLogits = tableToLogits(p, gPi, S, A);
  return out;
}

/**
 * Chain rule from table entries to full softmax logits: out(s,a) = π(a|s)(g(s,a) − Σ_b π(b|s) g(s,b)).
 * π and g have length S·A; returns out (length S·A).
 */
export function tableToLogits(pi: ArrayLike<number>, g: ArrayLike<number>, S: number, A: number, out = new Float64Array(S * A)): Float64Array {
  for (let s = 0; s < S; s++) {
    const off = s * A;
    let mean = 0;
    for (let a = 0; a < A; a++) mean += pi[off + a] * g[off + a];
    for (let a = 0; a < A; a++) out[off + a] = pi[off + a] * (g[off + a] - mean);
  }
  return out;
}

// ---------- internals shared with the PBRL and PARL algorithms ----------

const LOG_MIN = log(Number.MIN_VALUE);

/** log π clipped at log(MIN_VALUE) so 0 entries give finite derivatives. @internal */
export function clippedLog(p: number): number {
  return p > 0 ? log(p) : LOG_MIN;
}

/** Q − τ log π − τ (τ = 0: Q). @internal */
function softAdvantageTable(q: number, p: number, tau: number): number {
  return tau > 0 ? q - tau * clippedLog(p) - tau : q;
}

interface Parsed {
  rho: Float64Array;
  gradient: boolean;
  linear?: LinearMethod;
  linearTol?: number;
}

function parse(o: PenaltyOptions | undefined, mdp: TabularMDP): Parsed {
  const opts = o ?? {};
  if (typeof opts !== "object") throw new DomainError("options", "must be an object", opts);
  const rho = opts.rho === undefined ? mdp.rho : check.distribution("rho", opts.rho, mdp.S);
  if (opts.gradient !== undefined && typeof opts.gradient !== "boolean") throw new DomainError("gradient", "must be a boolean", opts.gradient);
  const linearTol = opts.linearTol === undefined ? undefined : check.nonNegative("linearTol", opts.linearTol);
  return { rho, gradient: opts.gradient ?? true, linear: opts.linear, linearTol };
}

/** Soft evaluation of π at reward r (one solve, counted; must converge). @internal */
export function evaluate(problem: BilevelProblem, r: Float64Array, pi: Float64Array, linear?: LinearMethod, linearTol?: number, tau = problem.tau): PolicyEvaluationResult {
  const ev = policyEvaluation(problem.mdp, r, pi, { tau, method: linear, tol: linearTol });
  problem.counters.solves += 1;
  if (!ev.converged) throw new NumericalError(`policy evaluation stopped at relative residual ${ev.residual} after ${ev.iterations} iterations; use linear 'lu' or raise the iteration cap`);
  return ev;
}

/** d̃_π = (I − γP_πᵀ)⁻¹ ρ (one solve, counted). @internal */
export function visitation(problem: BilevelProblem, pi: Float64Array, o: { rho: Float64Array; linear?: LinearMethod; linearTol?: number }): Float64Array {
  const d = occupancy(problem.mdp, pi, o.rho, { method: o.linear, tol: o.linearTol });
  problem.counters.solves += 1;
  return d;
}

/** (I − γP_π)⁻¹ b or its transpose (one solve, counted; must converge). @internal */
export function solve(problem: BilevelProblem, pi: Float64Array, b: Float64Array, transpose: boolean, linear?: LinearMethod, linearTol?: number): Float64Array {
  const res = solveLinear(problem.mdp, pi, b, { transpose, method: linear, tol: linearTol });
  problem.counters.solves += 1;
  if (!res.converged) throw new NumericalError(`solveLinear stopped at relative residual ${res.residual} after ${res.iterations} iterations; use linear 'lu' or raise the iteration cap`);
  return res.x;
}

/** Pᵀc for an S·A vector c: Σ_{s,a} c(s,a) P(·|s,a) (the P_πᵀ kernel with π := c, v := 1). @internal */
export function pTransposeSA(mdp: TabularMDP, c: Float64Array): Float64Array {
  return applyPpi(mdp, c, new Float64Array(mdp.S).fill(1), true);
}


/** ‖LSE_τ(Q) − V‖∞. @internal */
export function bellmanResidual(Q: Float64Array, V: Float64Array, S: number, A: number, tau: number): number {
  const tmp = new Float64Array(S * A);
  let res = 0;
  for (let s = 0; s < S; s++) res = Math.max(res, Math.abs(rowSoftmax(Q, s * A, A, tau, tmp) - V[s]));
  return res;
}
