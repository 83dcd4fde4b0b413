// The lower level: soft value iteration, soft policy evaluation, occupancy measures and
// linear solves with (I − γP_π) or its transpose (docs/math.md#soft-values, docs/math.md#soft-bellman).
// Shapes: r, Q, pi (S·A) indexed s·A + a; V, rho, b, x (S).
import { DomainError, NumericalError } from "./errors";
import { requireMdp, type TabularMDP } from "./mdp";
import * as check from "./validate";
import { bellmanSweeps, evaluatePolicy, solveSystem, type LinearMethod, type SolveSettings } from "./wasm/routines/index";

/** Options of `softValueIteration`. */
export interface SoftValueIterationOptions {
  /** Entropy temperature τ ≥ 0; τ = 0 is the hard max (greedy policy). */
  tau: number;
  /** Stop when ‖V_k − V_{k−1}‖∞ ≤ tol (default 1e-10). */
  tol?: number;
  /** Sweep cap (default 10 000). */
  maxIter?: number;
  /** Warm start V_0 (length S; default 0). */
  V0?: ArrayLike<number>;
  /**
   * Value iteration with error bounds (default false): since G(V + c) = G(V) + γc and G is
   * monotone, V* lies between G(V) + γ/(1−γ)·min ΔV and G(V) + γ/(1−γ)·max ΔV. Once
   * γ/(1−γ)·(max ΔV − min ΔV)/2 ≤ tol, V is moved to the middle of those bounds (so within
   * tol of V*), and one more sweep follows, whose residual is at most γ·(max ΔV − min ΔV)/2.
   * The span of ΔV shrinks at the rate the MDP mixes, often far faster than γ (50×50
   * GridWorld, γ = 0.99, tol 1e-10: 127 sweeps instead of 1759). Ignored when the MDP has
   * terminal states (their zero rows break G(V + c) = G(V) + γc: docs/math.md#terminal-states).
   */
  extrapolate?: boolean;
}

/** What `softValueIteration` returns. */
export interface SoftValueIterationResult {
  /** V(s) = τ·log Σ_a exp(Q(s,a)/τ), length S. */
  V: Float64Array;
  /** Q = r + γ P V_prev from the last sweep, length S·A. */
  Q: Float64Array;
  /** π = softmax(Q/τ) row-wise (greedy, first maximiser, for τ = 0), length S·A. */
  pi: Float64Array;
  /** Sweeps performed. */
  iterations: number;
  /** ‖V_k − V_{k−1}‖∞ at the last sweep. */
  residual: number;
  /** residual ≤ tol. */
  converged: boolean;
}

/**
 * Soft value iteration V ← G(V) = τ·log Σ_a exp((r + γPV)/τ) (SoBiRL eq. 6, 10),
 * a γ-contraction in ‖·‖∞, from V0 until ‖ΔV‖∞ ≤ tol or maxIter sweeps.
 */
export function softValueIteration(mdp: TabularMDP, r: ArrayLike<number>, options: SoftValueIterationOptions): SoftValueIterationResult {
  requireMdp(mdp);
  const { S, A } = mdp;
  const rr = check.float64("r", r, S * A, "S·A, index s·A + a");
  const opts = options ?? ({} as SoftValueIterationOptions);
  const tau = check.nonNegative("tau", opts.tau);
  const tol = opts.tol === undefined ? 1e-10 : check.nonNegative("tol", opts.tol);
  const maxIter = opts.maxIter === undefined ? 10000 : check.positiveInt("maxIter", opts.maxIter);
  const V0 = opts.V0 === undefined ? undefined : check.float64("V0", opts.V0, S, "S");
  const extrapolate = check.flag("extrapolate", opts.extrapolate, false);
  const res = sweeps(mdp, rr, tau, tol, maxIter, V0, true, extrapolate);
  return { ...res, pi: res.pi!, converged: res.residual <= tol };
}

/**
 * The sweeps of softValueIteration on validated inputs (its unchecked twin); π only when
 * asked (the algorithms that take π = softmax(Q/τ) themselves skip its S·A exponentials).
 * @internal
 */
export function sweeps(mdp: TabularMDP, r: Float64Array, tau: number, tol: number, maxIter: number, V0: Float64Array | undefined, policy: boolean, extrapolate = false): { V: Float64Array; Q: Float64Array; pi?: Float64Array; iterations: number; residual: number } {
  const { S, A } = mdp;
  const V = V0 ? Float64Array.from(V0) : new Float64Array(S);
  const Q = new Float64Array(S * A);
  const pi = policy ? new Float64Array(S * A) : undefined;
  const { iterations, residual } = bellmanSweeps(mdp, r, V, Q, pi, tau, tol, maxIter, extrapolate);
  return { V, Q, pi, iterations, residual };
}

export type { LinearMethod };

/** Options of `solveLinear`. */
export interface SolveOptions {
  /** Solve with (I − γP_π)ᵀ instead of (I − γP_π). */
  transpose?: boolean;
  /**
   * 'lu' (dense LU with partial pivoting, S² doubles), 'krylov' (restarted GMRES(m),
   * matrix-free, residual never grows; finished by Richardson if a restart cycle
   * stagnates), 'bicgstab' (matrix-free, 6 vectors; it can stall or diverge on
   * near-deterministic policies at γ → 1, and then hands over to GMRES) or 'richardson' (x ← b + γP_π x, rate γ).
   * Default: 'lu' for S ≤ 500 or when the banded LU is cheap (S·kl·(kl + ku) ≤ 2e8), else 'krylov'.
   * 'lu' stores the band only when 2·kl + ku + 1 < S/2 (grid-like MDPs).
   */
  method?: LinearMethod;
  /** GMRES restart length m (default: defaultRestart(S), 100 for S ≤ 8·10⁴, down to 10 at 10⁶). */
  restart?: number;
  /** Relative residual target ‖b − Ax‖₂/‖b‖₂ (default 1e-12; LU reports converged when its residual meets max(tol, 1e-10)). */
  tol?: number;
  /** Iteration cap (matrix-vector products) for the iterative methods (default 5000 for Krylov and BiCGSTAB, 100 000 for Richardson). */
  maxIter?: number;
  /** Initial guess for the iterative methods (length S; default 0). */
  x0?: ArrayLike<number>;
}

/** What `solveLinear` returns: x with (I − γP_π)x = b (or the transposed system). */
export interface SolveResult {
  x: Float64Array;
  /** Matrix-vector products of the iterative methods (1 for LU). */
  iterations: number;
  /** True relative residual ‖b − Ax‖₂/‖b‖₂ of the returned x. */
  residual: number;
  converged: boolean;
}

/**
 * GMRES's default restart length: as long as its m + 2 basis vectors fit in 64 MiB, between
 * 10 and 100. Short restarts stall on the transport-like systems of near-deterministic
 * policies at γ → 1 (restart 30 needed 3301 products where 100 needed 102 on the 50 × 50
 * GridWorld), so the basis is as long as memory allows.
 */
export function defaultRestart(S: number): number {
  return Math.max(10, Math.min(100, Math.floor(2 ** 26 / (8 * S)) - 2));
}

/** Default threshold between the dense LU and the Krylov solver. */
export const LU_MAX_S = 500;
/** The default picks the banded LU when its flop count S·kl·(kl + ku) stays below this. */
export const BAND_MAX_FLOPS = 2e8;

/** The default method: dense LU for small S, banded LU for narrow bands, else GMRES. */
export function defaultMethod(mdp: TabularMDP): LinearMethod {
  if (mdp.S <= LU_MAX_S) return "lu";
  const { kl, ku } = mdp.bandwidth();
  return mdp.S * (kl + 1) * (kl + ku + 1) <= BAND_MAX_FLOPS ? "lu" : "krylov";
}

/** Solve (I − γP_π) x = b, or its transpose, for one right-hand side b of length S. */
export function solveLinear(mdp: TabularMDP, pi: ArrayLike<number>, b: ArrayLike<number>, options: SolveOptions = {}): SolveResult {
  requireMdp(mdp);
  const { S, A } = mdp;
  const p = check.policy("pi", pi, S, A);
  const bb = check.float64("b", b, S, "S");
  return solveLinearUnchecked(mdp, p, bb, parseSolve(options, mdp));
}

/** solveLinear's unchecked twin: π, b and the options already validated. @internal */
export function solveLinearUnchecked(mdp: TabularMDP, pi: Float64Array, b: Float64Array, o: ParsedSolve): SolveResult {
  // the initial guess is written explicitly: 0 unless given
  const x = o.x0 ? Float64Array.from(o.x0) : new Float64Array(mdp.S);
  const info = solveSystem(mdp, pi, b, x, o);
  return { ...info, x };
}

export interface ParsedSolve extends SolveSettings {
  x0?: Float64Array;
}

export function parseSolve(options: SolveOptions | undefined, mdp: TabularMDP): ParsedSolve {
  const o = options ?? {};
  const S = mdp.S;
  const method = o.method ?? defaultMethod(mdp);
  if (method !== "lu" && method !== "krylov" && method !== "bicgstab" && method !== "richardson") {
    throw new DomainError("method", "must be 'lu', 'krylov', 'bicgstab' or 'richardson'", method);
  }
  if (o.transpose !== undefined && typeof o.transpose !== "boolean") throw new DomainError("transpose", "must be a boolean", o.transpose);
  const tol = o.tol === undefined ? 1e-12 : check.nonNegative("tol", o.tol);
  const maxIter = o.maxIter === undefined ? (method === "richardson" ? 100000 : 5000) : check.positiveI32("maxIter", o.maxIter);
  const x0 = o.x0 === undefined ? undefined : check.float64("x0", o.x0, S, "S");
  const restart = Math.min(S, o.restart === undefined ? defaultRestart(S) : check.positiveI32("restart", o.restart));
  return { transpose: o.transpose ?? false, method, tol, maxIter, x0, restart };
}

/** Options of `policyEvaluation` (the linear-solver options of `solveLinear`, plus τ and V0). */
export interface PolicyEvaluationOptions extends Omit<SolveOptions, "transpose" | "x0"> {
  /** Entropy temperature τ ≥ 0 of the soft values. */
  tau: number;
  /** Initial guess for V^π (iterative methods only; length S). */
  V0?: ArrayLike<number>;
}

/** What `policyEvaluation` returns. */
export interface PolicyEvaluationResult {
  /** V^π = (I − γP_π)⁻¹(r_π + τH_π), length S. */
  V: Float64Array;
  /** Q^π = r + γ P V^π, length S·A. */
  Q: Float64Array;
  iterations: number;
  residual: number;
  converged: boolean;
}

/** Soft values of a fixed policy π by one linear solve (docs/math.md#soft-values). */
export function policyEvaluation(mdp: TabularMDP, r: ArrayLike<number>, pi: ArrayLike<number>, options: PolicyEvaluationOptions): PolicyEvaluationResult {
  requireMdp(mdp);
  const { S, A } = mdp;
  const rr = check.float64("r", r, S * A, "S·A, index s·A + a");
  const p = check.policy("pi", pi, S, A);
  const tau = check.nonNegative("tau", (options ?? ({} as PolicyEvaluationOptions)).tau);
  const V0 = options?.V0 === undefined ? undefined : check.float64("V0", options.V0, S, "S");
  return policyEvaluationUnchecked(mdp, rr, p, tau, parseSolve({ ...options, transpose: false, x0: V0 }, mdp));
}

/** policyEvaluation's unchecked twin: r, π, τ and the options (x0 = V0) already validated. @internal */
export function policyEvaluationUnchecked(mdp: TabularMDP, r: Float64Array, pi: Float64Array, tau: number, o: ParsedSolve): PolicyEvaluationResult {
  const V = o.x0 ? Float64Array.from(o.x0) : new Float64Array(mdp.S);
  const Q = new Float64Array(mdp.S * mdp.A);
  const info = evaluatePolicy(mdp, r, pi, tau, V, Q, o);
  return { V, Q, ...info };
}

/**
 * Unnormalised discounted state visitation d = (I − γP_πᵀ)⁻¹ ρ (sums to 1/(1−γ); with
 * terminal states, whose rows of P_π are zero, to E[1 − γ^T]/(1−γ) for episode length T,
 * reported as is: docs/math.md#terminal-states). ρ defaults to the MDP's initial distribution.
 */
export function occupancy(mdp: TabularMDP, pi: ArrayLike<number>, rho?: ArrayLike<number>, options: Omit<SolveOptions, "transpose"> = {}): Float64Array {
  requireMdp(mdp);
  const d0 = rho === undefined ? mdp.rho0 : check.distribution("rho", rho, mdp.S);
  const res = solveLinear(mdp, pi, d0, { ...options, transpose: true });
  if (!res.converged) throw new NumericalError(`occupancy: the solve stopped at relative residual ${res.residual} after ${res.iterations} iterations; raise maxIter or use method 'lu'`);
  return res.x;
}
