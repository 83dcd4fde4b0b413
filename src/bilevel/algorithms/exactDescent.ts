// Exact hypergradient descent (docs/math.md#exact-descent): the oracle baseline.
// x_{k+1} = P(x_k − β_k d_k), d_k the update rule's direction (update.ts) from ∇φ(x_k), each
// ∇φ by a tight lower solve and one transposed solve.
//
// Step rule (default 'armijo'): backtracking on φ itself, from the trial step β (doubled after
// a step accepted at its first trial): φ(x⁺) ≤ φ(x) + c⟨∇φ, x⁺ − x⟩ with c = 1e-4. Safe: φ
// decreases at every accepted step, the steps adapt to φ's curvature on every problem (E1
// wants β ≈ 1, the GridWorld 3, the incentive problem 0.1), and each trial costs one warm-
// started lower solve (counted by the work meter), usually 1–2 per iteration. 'fixed' (the
// paper preset) is the plain x − β∇φ with β = 0.1.
// Convergence measure (StepInfo.measure): ‖x − P(x − ∇φ(x))‖₂, the projected-gradient mapping
// at unit step (‖∇φ‖₂ without a projection; zero exactly at the KKT points of x ≥ 0).
import type { LinearMethod } from "../../lower";
import { hypergradient } from "../hypergradient";
import { solveLower, type LowerSolver } from "../lowerSolve";
import type { BilevelProblem } from "../problem";
import { LINEAR, byName, describe, num, parsePreset, positive, presetOneOf, presetParam, presetValue, solverParam, str } from "../../util/params";
import { algorithm, norm2, parseProjection, projectX, startX, stepSize, type StepInfo, type XProjection, type StateTag } from "./common";
import { armijo, direction, gradientMapping, initUpdate, stepTo, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  num("beta", "Step size β: the fixed step, or the first trial step of the backtracking search.", { default: 1, paper: 0.1, ...positive }),
  str("stepRule", "'armijo': backtracking on φ (sufficient decrease); 'fixed': the constant step β.", ["armijo", "fixed"], { default: "armijo", paper: "fixed" }),
  num("tol", "Lower-level tolerance.", { default: 1e-10, ...positive }),
  solverParam,
  str("linear", "Linear solver of the transposed system.", LINEAR, { defaultText: "'lu' for S ≤ 500, else 'krylov'" }),
  str("project", "Projection of x after each step (the backtracking search runs along the projected path).", ["none", "nonnegative"], { default: "none" }),
  ...updateParams,
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const exactDescentInfo = describe({
  name: "exactDescent",
  stepParam: "beta",
  source: "docs/math.md#exact-descent",
  description: "Exact hypergradient descent x ← x − β∇φ(x), β by backtracking on φ: the oracle baseline.",
  needsSoft: true,
  needsTrajectory: false,
  params,
});

/** Options of `exactDescent`. */
export interface ExactDescentOptions extends UpdateOptions {
  x0?: ArrayLike<number>;
  /** 'default' or 'paper' (β = 0.1 fixed). */
  preset?: "default" | "paper";
  /** The fixed step, or the first trial step of the search (default 1; paper 0.1). */
  beta?: number;
  /** 'armijo' (default): backtracking on φ; 'fixed' (paper): the constant step β. */
  stepRule?: "armijo" | "fixed";
  /** Lower-level tolerance (default 1e-10). */
  tol?: number;
  solver?: LowerSolver;
  linear?: LinearMethod;
  /** Project x after each step: 'none' (default) or 'nonnegative'. */
  project?: XProjection;
}

/** State of `exactDescent` (plain data: JSON-safe). */
export interface ExactDescentState extends StateTag {
  k: number;
  x: number[];
  /** Warm start for the next lower solve. */
  V: number[];
  /** The fixed step, or the next search's first trial step. */
  beta: number;
  stepRule: "armijo" | "fixed";
  tol: number;
  solver: LowerSolver;
  linear?: LinearMethod;
  project: XProjection;
  update: UpdateState;
  last?: StepInfo;
}

/** Exact hypergradient descent x ← x − β∇φ(x) with β by backtracking on φ, the oracle baseline (docs/math.md#exact-descent). */
export const exactDescent = algorithm<ExactDescentOptions, ExactDescentState, "exactDescent">(
  exactDescentInfo,
  (problem: BilevelProblem, o) => {
    const preset = parsePreset(o.preset);
    const stepRule = presetOneOf(P.stepRule, o.stepRule, preset);
    const project = parseProjection(o.project);
    const x = startX(problem, o.x0);
    projectX(x, project);
    return {
      k: 0,
      x,
      V: new Array(problem.mdp.S).fill(0),
      beta: stepSize("beta", presetValue(P.beta, o.beta, preset), P.beta.default),
      stepRule,
      tol: stepSize("tol", o.tol, P.tol.default),
      solver: o.solver ?? P.solver.default,
      linear: o.linear,
      project,
      update: initUpdate(o, problem.n),
    };
  },
  (problem, st) => {
    const x = Float64Array.from(st.x);
    const lower = { solver: st.solver, tol: st.tol };
    const hg = hypergradient(problem, x, { method: "exact", lower: { ...lower, V0: st.V }, linear: st.linear });
    const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
    const d = direction(update, hg.grad, new Float64Array(x.length));
    let xn: Float64Array, beta = st.beta, V = Array.from(hg.V);
    if (st.stepRule === "fixed") {
      xn = stepTo(x, d, st.beta, st.project, new Float64Array(x.length));
    } else {
      let Vt = hg.V;
      const merit = (xt: Float64Array) => {
        const low = solveLower(problem, xt, { ...lower, V0: hg.V, linear: st.linear });
        Vt = low.V;
        return problem.value(xt, low.pi);
      };
      const ls = armijo(merit, x, hg.value, hg.grad, d, st.beta, st.project);
      xn = ls.x;
      beta = ls.next;
      if (ls.beta > 0) V = Array.from(Vt);
    }
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(xn),
      V,
      beta,
      update,
      last: { f: hg.value, hnorm: norm2(hg.grad), lowerResidual: hg.diagnostics.lowerResidual, measure: gradientMapping(x, hg.grad, st.project) },
    };
  },
);
