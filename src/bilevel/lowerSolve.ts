// The lower-level solve used by every bilevel method: soft value iteration (the papers'
// choice) or soft policy iteration (Newton on the soft Bellman equation: evaluate π with
// one linear solve, improve with the softmax; quadratic convergence near the optimum).
import { DomainError, NumericalError } from "../errors";
import { policyEvaluation, softValueIteration, type LinearMethod } from "../lower";
import * as check from "../validate";
import type { BilevelProblem } from "./problem";
import { rowSoftmax } from "../util/softmax";

/** Solver of the lower soft-optimality problem: value iteration or policy iteration (Newton). */
export type LowerSolver = "value-iteration" | "policy-iteration";

/** Options of `solveLower`. */
export interface LowerOptions {
  /** 'value-iteration' (default) or 'policy-iteration'. */
  solver?: LowerSolver;
  /** Target ‖G(V) − V‖∞ (default 1e-12). */
  tol?: number;
  /** Cap on sweeps (value iteration, default 100 000) or Newton steps (policy iteration, default 100). */
  maxIter?: number;
  /** Warm start V_0 (length S). */
  V0?: ArrayLike<number>;
  /** Linear solver for policy iteration's evaluations (default: 'lu' for S ≤ 500, else 'krylov'). */
  linear?: LinearMethod;
  /**
   * Value iteration with error bounds (softValueIteration's `extrapolate`; default true): V
   * moves to the middle of the bounds on V* once they are within tol. The lower level is
   * solved to tol either way; this only changes how many sweeps it takes.
   */
  extrapolate?: boolean;
}

/** What `solveLower` returns: r_x and the soft-optimal V*, Q*, π* under it. */
export interface LowerSolution {
  r: Float64Array;
  V: Float64Array;
  Q: Float64Array;
  pi: Float64Array;
  iterations: number;
  /** ‖G(V) − V‖∞ (value iteration: at the last sweep). */
  residual: number;
  converged: boolean;
}

export function parseLower(o: LowerOptions | undefined): Required<Omit<LowerOptions, "V0" | "linear">> & Pick<LowerOptions, "V0" | "linear"> {
  const opts = o ?? {};
  const solver = opts.solver ?? "value-iteration";
  if (solver !== "value-iteration" && solver !== "policy-iteration") throw new DomainError("solver", "must be 'value-iteration' or 'policy-iteration'", solver);
  const tol = opts.tol === undefined ? 1e-12 : check.nonNegative("tol", opts.tol);
  const maxIter = opts.maxIter === undefined ? (solver === "value-iteration" ? 100000 : 100) : check.positiveInt("maxIter", opts.maxIter);
  const extrapolate = check.flag("extrapolate", opts.extrapolate, true);
  return { solver, tol, maxIter, V0: opts.V0, linear: opts.linear, extrapolate };
}

/** Solve the lower level at x to tolerance. */
export function solveLower(problem: BilevelProblem, x: Float64Array, options?: LowerOptions): LowerSolution {
  const o = parseLower(options);
  const { mdp, tau } = problem;
  const r = problem.rewardAt(x);
  if (o.solver === "value-iteration") {
    const vi = softValueIteration(mdp, r, { tau, tol: o.tol, maxIter: o.maxIter, V0: o.V0, extrapolate: o.extrapolate });
    problem.counters.sweeps += vi.iterations;
    return { r, ...vi };
  }
  // soft policy iteration
  const { S, A } = mdp;
  let V: Float64Array = o.V0 === undefined ? new Float64Array(S) : check.float64("V0", o.V0, S, "S").slice();
  let Q: Float64Array = new Float64Array(S * A);
  const pi = new Float64Array(S * A);
  // π_0 from V_0: Q_0 = r + γ P V_0 (one sweep)
  const first = softValueIteration(mdp, r, { tau, tol: 0, maxIter: 1, V0: V });
  problem.counters.sweeps += 1;
  pi.set(first.pi);
  let residual = Infinity, it = 0;
  while (it < o.maxIter) {
    it++;
    // Newton steps only need the evaluation to be accurate relative to the Bellman residual
    const ev = policyEvaluation(mdp, r, pi, { tau, method: o.linear, tol: 1e-13, maxIter: 5000, V0: V });
    problem.counters.solves += 1;
    if (!(ev.residual <= 1e-8)) throw new NumericalError(`policy iteration: the evaluation solve stopped at relative residual ${ev.residual} after ${ev.iterations} iterations`);
    V = ev.V;
    Q = ev.Q;
    // improvement π ← softmax(Q/τ) and the Bellman residual ‖LSE_τ(Q^π) − V^π‖∞
    residual = improve(Q, pi, V, S, A, tau);
    if (residual <= o.tol) break;
  }
  return { r, V, Q, pi, iterations: it, residual, converged: residual <= o.tol };
}

function improve(Q: Float64Array, pi: Float64Array, V: Float64Array, S: number, A: number, tau: number): number {
  let res = 0;
  for (let s = 0; s < S; s++) res = Math.max(res, Math.abs(rowSoftmax(Q, s * A, A, tau, pi) - V[s]));
  return res;
}
