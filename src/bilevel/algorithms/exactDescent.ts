// Exact hypergradient descent (docs/math.md#exact-descent): the oracle baseline.
// x_{k+1} = x_k − β ∇φ(x_k), each ∇φ by a tight lower solve and one transposed solve.
import type { LinearMethod } from "../../lower";
import { hypergradient } from "../hypergradient";
import type { LowerSolver } from "../lowerSolve";
import type { BilevelProblem } from "../problem";
import { LINEAR, byName, describe, num, positive, solverParam, str } from "../../util/params";
import { algorithm, norm2, parseProjection, projectX, startX, stepSize, type StepInfo, type XProjection, type StateTag } from "./common";

const params = [
  num("beta", "Step size β.", { default: 0.1, ...positive }),
  num("tol", "Lower-level tolerance.", { default: 1e-10, ...positive }),
  solverParam,
  str("linear", "Linear solver of the transposed system.", LINEAR, { defaultText: "'lu' for S ≤ 500, else 'krylov'" }),
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const exactDescentInfo = describe({
  name: "exactDescent",
  stepParam: "beta",
  source: "docs/math.md#exact-descent",
  description: "Exact hypergradient descent x ← x − β∇φ(x): the oracle baseline.",
  needsSoft: true,
  needsTrajectory: false,
  params,
});

/** Options of `exactDescent`. */
export interface ExactDescentOptions {
  x0?: ArrayLike<number>;
  /** Step size β (default 0.1). */
  beta?: number;
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
  beta: number;
  tol: number;
  solver: LowerSolver;
  linear?: LinearMethod;
  project: XProjection;
  last?: StepInfo;
}

/** Exact hypergradient descent x ← x − β∇φ(x), the oracle baseline (docs/math.md#exact-descent). */
export const exactDescent = algorithm<ExactDescentOptions, ExactDescentState, "exactDescent">(
  exactDescentInfo,
  (problem: BilevelProblem, o) => ({
    k: 0,
    x: projected(startX(problem, o.x0), parseProjection(o.project)),
    V: new Array(problem.mdp.S).fill(0),
    beta: stepSize("beta", o.beta, P.beta.default),
    tol: stepSize("tol", o.tol, P.tol.default),
    solver: o.solver ?? P.solver.default,
    linear: o.linear,
    project: parseProjection(o.project),
  }),
  (problem, st) => {
    const x = Float64Array.from(st.x);
    const hg = hypergradient(problem, x, { method: "exact", lower: { solver: st.solver, tol: st.tol, V0: st.V }, linear: st.linear });
    const xn = x.map((xi, k) => xi - st.beta * hg.grad[k]);
    projectX(xn, st.project);
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(xn),
      V: Array.from(hg.V),
      last: { f: hg.value, hnorm: norm2(hg.grad), lowerResidual: hg.diagnostics.lowerResidual },
    };
  },
);

function projected(x: number[], p: XProjection): number[] {
  projectX(x, p);
  return x;
}
