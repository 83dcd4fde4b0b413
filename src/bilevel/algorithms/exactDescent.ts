// Exact hypergradient descent (docs/math.md#exact-descent): the oracle baseline.
// x_{k+1} = P(x_k − β_k d_k), d_k the update rule's direction (update.ts) from ∇φ(x_k), each
// ∇φ by a tight lower solve and one transposed solve.
//
// Step rule (default 'spectral'): the spectral projected gradient method of Birgin, Martínez &
// Raydan (docs/math.md#spectral-step): the trial step is the Barzilai–Borwein step sᵀs/sᵀy of
// the last move (β on the first iteration), then nonmonotone backtracking on φ itself,
// φ(x⁺) ≤ max(φ over the last 10 iterates) + c⟨∇φ, x⁺ − x⟩ with c = 1e-4. Safe: every accepted
// φ stays below the recent maximum, which converges to stationarity (Grippo, Lampariello &
// Lucidi's nonmonotone theorem), and the secant step follows φ's curvature along the path, so
// it crosses the plateaus and narrow valleys (stackelberg, happyText) where a monotone search
// from a doubled β crawled. 'armijo' is the monotone search (trial 2β after a first-trial pass);
// each trial of either costs one warm-started lower solve (counted by the work meter). 'fixed'
// (the paper preset) is the plain x − β∇φ with β = 0.1.
// Convergence measure (StepInfo.measure): ‖x − P(x − ∇φ(x))‖₂, the projected-gradient mapping
// at unit step (‖∇φ‖₂ without a projection; zero exactly at the KKT points of x ≥ 0).
import type { LinearMethod } from "../../lower";
import { hypergradient } from "../hypergradient";
import { solveLower, type LowerSolver } from "../lowerSolve";
import type { BilevelProblem } from "../problem";
import { LINEAR, byName, describe, num, parsePreset, positive, presetOneOf, presetParam, presetValue, solverParam, str } from "../../util/params";
import { algorithm, norm2, parseProjection, projectX, startX, stepSize, type StepInfo, type XProjection, type StateTag } from "./common";
import { ARMIJO, SPECTRAL_MEMORY, armijo, direction, gradientMapping, initUpdate, spectralStep, stepTo, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  num("beta", "Step size β: the fixed step, or the first trial step of the backtracking search.", { default: 1, paper: 0.1, ...positive }),
  str("stepRule", "'spectral': Barzilai–Borwein trial steps with nonmonotone backtracking on φ; 'armijo': monotone backtracking on φ; 'fixed': the constant step β.", ["spectral", "armijo", "fixed"], { default: "spectral", paper: "fixed" }),
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
  /** 'spectral' (default): Barzilai–Borwein trial steps, nonmonotone backtracking on φ (docs/math.md#spectral-step); 'armijo': monotone backtracking on φ; 'fixed' (paper): the constant step β. */
  stepRule?: "spectral" | "armijo" | "fixed";
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
  stepRule: "spectral" | "armijo" | "fixed";
  /** 'spectral': x_{k−1} and ∇φ(x_{k−1}) ([] before the first move), and φ at the last iterates (at most 10). */
  xPrev: number[];
  hPrev: number[];
  recent: number[];
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
      xPrev: [],
      hPrev: [],
      recent: [],
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
    let xPrev = st.xPrev, hPrev = st.hPrev, recent = st.recent;
    if (st.stepRule === "fixed") {
      xn = stepTo(x, d, st.beta, st.project, new Float64Array(x.length));
    } else {
      let Vt = hg.V;
      const merit = (xt: Float64Array) => {
        const low = solveLower(problem, xt, { ...lower, V0: hg.V, linear: st.linear });
        Vt = low.V;
        return problem.value(xt, low.pi);
      };
      if (st.stepRule === "spectral") {
        recent = [...st.recent, hg.value].slice(-SPECTRAL_MEMORY);
        const trial = spectralStep(x, hg.grad, st.xPrev, st.hPrev, st.beta) ?? st.beta;
        const ls = armijo(merit, x, hg.value, hg.grad, d, trial, st.project, ARMIJO, Math.max(...recent));
        xn = ls.x;
        if (ls.beta > 0) {
          V = Array.from(Vt);
          beta = ls.beta;
          xPrev = st.x.slice();
          hPrev = Array.from(hg.grad);
        }
      } else {
        const ls = armijo(merit, x, hg.value, hg.grad, d, st.beta, st.project);
        xn = ls.x;
        beta = ls.next;
        if (ls.beta > 0) V = Array.from(Vt);
      }
    }
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(xn),
      V,
      beta,
      xPrev,
      hPrev,
      recent,
      update,
      last: { f: hg.value, hnorm: norm2(hg.grad), lowerResidual: hg.diagnostics.lowerResidual, measure: gradientMapping(x, hg.grad, st.project) },
    };
  },
);
