// PARL / A-PARL (Chakraborty et al., ICLR 2024; docs/math.md#parl; tabular form ✓C21):
// the lower policy is parameterised by reduced softmax logits θ ∈ R^{S(A−1)} (the last
// logit of every state fixed at 0, which removes the per-state shift invariance), τ > 0.
// At the lower optimum ∇_θ J(x, θ*) = 0, so by the implicit function theorem
//   ∇φ(x) = ∇_x f − Cᵀu,   H u = ∇_θ f,   H = ∂(∇_θ J)/∂θ,   C = ∂(∇_θ J)/∂x,
// with J = ρᵀV^{π_θ}_x (soft) and ∇_θ J(s,a) = d̃(s) π(a|s) (Q(s,a) − τ log π(a|s) − V(s)) (docs/math.md#soft-policy-gradient).
// H is the Hessian of J: symmetric, and negative definite at a strict maximum, so u is
// found by conjugate gradients on (−H + δI) u = −∇_θ f with Hessian-vector products.
// Derivatives of ∇_θ J: exact forward mode (default; 2 solves per Hessian-vector product,
// 1–2 solves for Cᵀu) or central finite differences of the analytic gradient (docs/math.md#soft-policy-gradient).
// The A-PARL loop (`parl`): K warm-started soft-PG ascent steps on J(x_k, ·) (or an exact
// soft VI), the hypergradient above at (x_k, θ_k), then x_{k+1} = Proj_X(x_k − β ∇̂φ).
// At an inexact θ_k, H may be indefinite; CG then flags negativeCurvature (diagnostics).
// Step rule (default 'spectral'; docs/math.md#parl-spectral): exact descent's spectral projected
// gradient step (docs/math.md#spectral-step) on PARL's estimate: the Barzilai–Borwein trial step
// sᵀs/sᵀy of the last accepted move (growth ≤ 4×), then nonmonotone backtracking on φ,
// φ(x⁺) ≤ max(φ at the last 10 iterates) + c⟨ĥ, x⁺ − x⟩, c = 1e-4, each trial one warm-started
// tight lower solve (tabular: affordable, and counted), plus one for φ(x_k). The estimate is taken
// where the secant pair can trust it: θ_0 = θ*(x_0) (one lower solve in init) and, after an
// accepted step, θ starts from the logits of the tight solve the accepted trial made, so ĥ agrees
// with ∇φ to CG's tolerance and the pair measures φ's curvature, not the change of an inner error
// (without the warm start the steps collapse; from θ_0 = 0 stackelberg seed 1 took another path,
// into a flat region at −7.51). Safe: the reference maximum never rises and the limit
// points are stationary (Birgin, Martínez & Raydan, Thm 2.1, with ĥ ≈ ∇φ); a search where no trial
// passes leaves x, forgets the pair and restarts θ from the merit's tight solve at x_k.
// 'armijo': the monotone search φ(x⁺) ≤ φ(x) + c⟨ĥ, x⁺ − x⟩ from a doubled β, θ_0 = 0, θ restarted
// only when no trial passes (stackelberg seed 0 froze at −6.47 without that restart). 'fixed'
// (the paper preset, θ_0 = 0) is x − β∇̂φ with β = 0.1. The PARL estimator itself (inner loop,
// CG, H, C) is the paper's either way. Convergence measure: ‖x − P(x − ∇̂φ)‖₂ (projected-gradient mapping).
// History rows: f = f(x_k, π_{θ_k}), hnorm = ‖∇̂φ(x_k)‖₂, lowerResidual = π_{θ_k}'s soft
// Bellman residual ‖LSE_τ(Q^π) − V^π‖∞.
// Shapes: θ (S·(A−1), index s·(A−1) + a); π, Q (S·A); V, d̃ (S); x (n).
import type { LinearMethod } from "../../lower";
import * as check from "../../validate";
import { uTranspose } from "../hypergradient";
import { bellmanResidual, evaluate, solve, tableToLogits, visitation } from "../penalties";
import { pTransposeSA } from "../../wasm/routines/index";
import { result, type BilevelProblem } from "../problem";
import { solveLower, type LowerOptions, type LowerSolver } from "../lowerSolve";
import { algorithm, norm2, startX, stepSize, type StepInfo, parseProjection, projectX, type XProjection, type StateTag } from "./common";
import { exp, log } from "../../util/math";
import { conjugateGradient, type CgInfo } from "../../linalg";
import { LINEAR, arr, byName, count, describe, int, nonNeg, num, oneOf, parsePreset, positive, presetOneOf, presetParam, presetValue, solverParam, str } from "../../util/params";
import { ARMIJO, SPECTRAL_MEMORY, armijo, direction, gradientMapping, initUpdate, spectralStep, stepTo, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  arr("theta0", "θ_0, reduced logits (length S·(A−1)).", { defaultText: "θ*(x_0) by a lower solve with stepRule 'spectral', else 0 (uniform policy)", length: "S·(A−1)" }),
  num("beta", "Upper step β: the fixed step, or the first trial step of the backtracking search.", { default: 1, paper: 0.1, ...positive }),
  str("stepRule", "'spectral': Barzilai–Borwein trial steps with nonmonotone backtracking on φ, θ started from the lower solutions the search made; 'armijo': monotone backtracking on φ from a doubled step (one lower solve per trial either way); 'fixed': the constant step β.", ["spectral", "armijo", "fixed"], { default: "spectral", paper: "fixed" }),
  str("inner", "Inner solver: soft policy gradient or exact soft VI.", ["pg", "exact"], { default: "pg" }),
  int("K", "Soft-PG steps per outer iteration.", { default: 10, ...count }),
  num("eta", "First trial step of the soft-PG ascent.", { default: 1, ...positive }),
  num("tol", "Inner 'exact': lower tolerance.", { default: 1e-10, ...positive }),
  solverParam,
  str("project", "Projection of x.", ["none", "nonnegative"], { default: "none" }),
  str("derivatives", "How H and C are obtained.", ["forward", "finite-difference"], { default: "forward" }),
  num("h", "Central-difference step for 'finite-difference'.", { default: 1e-5, ...positive }),
  int("cgMaxIter", "Conjugate-gradient iteration cap.", { default: 50, ...count }),
  num("cgTol", "CG relative tolerance.", { default: 1e-10, ...nonNeg }),
  num("damping", "δ in (−H + δI).", { default: 1e-8, ...nonNeg }),
  str("linear", "Linear solver for the S-sized systems.", LINEAR, { defaultText: "'lu' for S ≤ 500, else 'krylov'" }),
  ...updateParams,
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const parlInfo = describe({
  name: "parl",
  stepParam: "beta",
  source: "docs/math.md#parl",
  description: "PARL: implicit differentiation in reduced logits with conjugate gradients; soft policy-gradient inner loop.",
  needsSoft: true,
  needsTrajectory: false,
  params,
});

/** How PARL gets H and C: forward mode (exact) or finite differences of ∇_θ J. */
export type ParlDerivatives = "forward" | "finite-difference";

export interface ParlDerivativeOptions {
  /** How H and C are obtained: 'forward' (exact, default) or 'finite-difference' (of the analytic ∇_θ J). */
  derivatives?: ParlDerivatives;
  /** Central-difference step for 'finite-difference' (default 1e-5; relative to max(1, |x_k|) in x). */
  h?: number;
  /** Conjugate-gradient iteration cap (default 50). */
  cgMaxIter?: number;
  /** CG stops at ‖residual‖₂ ≤ cgTol·‖∇_θ f‖₂ (default 1e-10). */
  cgTol?: number;
  /** δ in (−H + δI) (default 1e-8). */
  damping?: number;
  /** Linear solver for the S-sized systems (default: 'lu' for S ≤ 500, else 'krylov'). */
  linear?: LinearMethod;
}

/** Options of `parlHypergradient`. */
export interface ParlHypergradientOptions extends ParlDerivativeOptions {
  /** Reduced logits at which to differentiate (length S·(A−1)); default θ*_x from a tight lower solve. */
  theta?: ArrayLike<number>;
  /** The lower solve for the default θ*_x (default tol 1e-12). */
  lower?: LowerOptions;
}

/** What `parlHypergradient` returns. */
export interface ParlHypergradientResult {
  /** f(x, π_θ). */
  value: number;
  /** The implicit-function hypergradient ∇_x f − Cᵀu (length n). */
  grad: Float64Array;
  /** π_θ (S·A). */
  pi: Float64Array;
  /** V^{π_θ} (S). */
  V: Float64Array;
  /** θ used (S·(A−1)). */
  theta: Float64Array;
  diagnostics: {
    method: "parl";
    lowerIterations: number;
    /** ‖LSE_τ(Q^π) − V^π‖∞ of π_θ. */
    lowerResidual: number;
    lowerConverged: boolean;
    /** CG iterations, its final relative residual, and whether it met cgTol. */
    linearIterations: number;
    linearResidual: number;
    linearConverged: boolean;
    /** ‖∇_θ J‖₂ at θ (0 at the exact lower optimum). */
    gradNorm: number;
    /** CG met a direction with pᵀ(−H + δI)p ≤ 0 (θ far from a maximum). */
    negativeCurvature: boolean;
  };
}

/** ∇φ(x) by PARL's implicit differentiation in reduced logits (same shape as `hypergradient()`). */
export function parlHypergradient(problem: BilevelProblem, x: ArrayLike<number>, options: ParlHypergradientOptions = {}): ParlHypergradientResult {
  problem.requireSoft("PARL");
  const xx = problem.checkX(x);
  const o = parseDerivatives(options);
  const { S, A } = problem.mdp;
  let theta: Float64Array, its = 0, conv = true;
  if (options.theta !== undefined) {
    theta = check.float64("theta", options.theta, S * (A - 1), "S·(A−1), index s·(A−1) + a").slice();
  } else {
    const low = solveLower(problem, xx, { tol: 1e-12, ...options.lower });
    theta = reducedFromQ(low.Q, S, A, problem.tau);
    its = low.iterations;
    conv = low.converged;
  }
  const hg = parlAt(problem, xx, theta, o);
  return {
    value: hg.value,
    grad: hg.grad,
    pi: hg.at.pi,
    V: hg.at.V,
    theta,
    diagnostics: {
      method: "parl",
      lowerIterations: its,
      lowerResidual: hg.residual,
      lowerConverged: conv,
      linearIterations: hg.cg.iterations,
      linearResidual: hg.cg.residual,
      linearConverged: hg.cg.converged,
      gradNorm: norm2(hg.at.G),
      negativeCurvature: hg.cg.negativeCurvature,
    },
  };
}

/** Options of `parl`. */
export interface PARLOptions extends ParlDerivativeOptions, UpdateOptions {
  /** x_0 (default 0; projected when `project` is set). */
  x0?: ArrayLike<number>;
  /** 'default' or 'paper' (β = 0.1 fixed). */
  preset?: "default" | "paper";
  /**
   * 'spectral' (default): Barzilai–Borwein trial steps with nonmonotone backtracking on φ, θ
   * started from the tight lower solutions the search made (docs/math.md#parl-spectral);
   * 'armijo': monotone backtracking on φ from a doubled step; 'fixed' (paper): the constant step β.
   */
  stepRule?: "armijo" | "spectral" | "fixed";
  /** θ_0, reduced logits (S·(A−1); default θ*(x_0) by a lower solve with stepRule 'spectral', else 0, the uniform policy). */
  theta0?: ArrayLike<number>;
  /** The fixed step, or the first trial step of the search (default 1; paper 0.1). */
  beta?: number;
  /** Inner solver: 'pg' (K warm-started soft policy-gradient steps, default) or 'exact' (soft VI to `tol`). */
  inner?: "pg" | "exact";
  /** Soft-PG steps per outer iteration K (default 10). */
  K?: number;
  /** First trial step of the soft-PG ascent (default 1); adapted by backtracking and carried in the state. */
  eta?: number;
  /** Inner 'exact': lower tolerance (default 1e-10) and solver (default 'value-iteration'). */
  tol?: number;
  solver?: LowerSolver;
  /** Projection of x: 'none' (default) or 'nonnegative'. */
  project?: XProjection;
}

/** State of `parl` (plain data: JSON-safe). */
export interface PARLState extends StateTag {
  k: number;
  x: number[];
  /** Reduced logits θ_k (S·(A−1)), the warm start of the inner solver. */
  theta: number[];
  /** Inner 'exact': V warm start (S); [] for 'pg'. */
  V: number[];
  /** 'spectral', 'armijo': warm start of the merit's lower solves (S); [] for 'fixed'. */
  Vphi: number[];
  /** The fixed step, the next search's first trial step ('armijo'), or the last accepted step ('spectral'). */
  beta: number;
  stepRule: "armijo" | "spectral" | "fixed";
  /** 'spectral': x_{k−1} and ∇̂φ(x_{k−1}) of the last accepted move ([] before it or after a failed search); absent otherwise. */
  xPrev?: number[];
  hPrev?: number[];
  /** 'spectral': φ at the last iterates (at most 10), the nonmonotone reference; absent otherwise. */
  recent?: number[];
  update: UpdateState;
  inner: "pg" | "exact";
  K: number;
  /** Current soft-PG trial step. */
  eta: number;
  tol: number;
  solver: LowerSolver;
  project: XProjection;
  derivatives: ParlDerivatives;
  h: number;
  cgMaxIter: number;
  cgTol: number;
  damping: number;
  linear?: LinearMethod;
  /** CG iterations at the last step. */
  lastCg?: number;
  last?: StepInfo;
}

/** PARL: implicit differentiation in reduced logits, with a soft policy-gradient inner loop (docs/math.md#parl). */
export const parl = algorithm<PARLOptions, PARLState, "parl">(
  parlInfo,
  (problem, o) => {
    problem.requireSoft("PARL");
    const { S, A } = problem.mdp;
    const preset = parsePreset(o.preset);
    const stepRule = presetOneOf(P.stepRule, o.stepRule, preset);
    const d = parseDerivatives(o);
    const inner = oneOf(P.inner, o.inner);
    const project = oneOf(P.project, o.project);
    const solver = oneOf(P.solver, o.solver);
    const x = startX(problem, o.x0);
    projectX(x, project);
    const tol = stepSize("tol", o.tol, P.tol.default);
    // 'spectral': the first estimate, like every later one, at θ*(x_k) (docs/math.md#parl-spectral)
    const start = o.theta0 === undefined && stepRule === "spectral" ? solveLower(problem, Float64Array.from(x), { solver, tol, linear: o.linear }) : undefined;
    return {
      k: 0,
      x,
      theta: o.theta0 !== undefined
        ? Array.from(check.float64("theta0", o.theta0, S * (A - 1), "S·(A−1)"))
        : start ? Array.from(reducedFromQ(start.Q, S, A, problem.tau)) : new Array(S * (A - 1)).fill(0),
      V: inner === "exact" ? new Array(S).fill(0) : [],
      Vphi: stepRule === "fixed" ? [] : start ? Array.from(start.V) : new Array(S).fill(0),
      beta: stepSize("beta", presetValue(P.beta, o.beta, preset), P.beta.default),
      stepRule,
      ...(stepRule === "spectral" ? { xPrev: [], hPrev: [], recent: [] } : {}),
      update: initUpdate(o, problem.n),
      inner,
      K: o.K === undefined ? P.K.default : check.positiveInt("K", o.K),
      eta: stepSize("eta", o.eta, P.eta.default),
      tol,
      solver,
      project,
      ...d,
    };
  },
  (problem, st) => {
    const { S, A } = problem.mdp;
    const x = Float64Array.from(st.x);
    let theta: Float64Array = Float64Array.from(st.theta);
    let V = st.V, eta = st.eta;
    let at: At | undefined;
    // 1. inner: θ_k ≈ θ*(x_k), warm-started
    if (st.inner === "exact") {
      const low = solveLower(problem, x, { solver: st.solver, tol: st.tol, V0: st.V, linear: st.linear });
      theta = reducedFromQ(low.Q, S, A, problem.tau);
      V = Array.from(low.V);
    } else {
      const r = problem.rewardAt(x);
      problem.moveTo(x);
      const pg = pgSteps(problem, r, theta, st.K, st.eta, st.linear);
      theta = pg.theta;
      eta = pg.eta;
      at = pg.at;
    }
    // 2. implicit-function hypergradient at (x_k, θ_k)
    const hg = parlAt(problem, x, theta, st, at);
    // 3. x step: the update rule's direction, with the fixed step or backtracking on φ
    const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
    const dir = direction(update, hg.grad, new Float64Array(x.length));
    let xn: Float64Array, beta = st.beta, Vphi = st.Vphi;
    let xPrev = st.xPrev, hPrev = st.hPrev, recent = st.recent;
    if (st.stepRule === "fixed") {
      xn = stepTo(x, dir, st.beta, st.project, new Float64Array(x.length));
    } else {
      const lower = { solver: st.solver, tol: st.tol, linear: st.linear };
      const at0 = solveLower(problem, x, { ...lower, V0: st.Vphi });
      let Vt = at0.V, Qt = at0.Q;
      const merit = (xt: Float64Array) => {
        const low = solveLower(problem, xt, { ...lower, V0: at0.V });
        Vt = low.V;
        Qt = low.Q;
        return problem.value(xt, low.pi);
      };
      const phi = problem.value(x, at0.pi);
      let ls;
      if (st.stepRule === "spectral") {
        // the secant step of the last accepted move under the nonmonotone test
        // (docs/math.md#parl-spectral, #spectral-step)
        recent = [...(st.recent ?? []), phi].slice(-SPECTRAL_MEMORY);
        const trial = spectralStep(x, hg.grad, st.xPrev ?? [], st.hPrev ?? [], st.beta) ?? st.beta;
        ls = armijo(merit, x, phi, hg.grad, dir, trial, st.project, ARMIJO, Math.max(...recent));
        if (ls.beta > 0) {
          beta = ls.beta;
          xPrev = st.x.slice();
          hPrev = Array.from(hg.grad);
          // the secant pair needs ĥ without the inner error (else y is mostly the change of that
          // error and the steps collapse): the next PG steps start from θ*(x_{k+1}), whose tight
          // solve the accepted trial already made
          if (st.inner === "pg") theta = reducedFromQ(Qt, S, A, problem.tau);
        } else {
          // a failed search would repeat identically from the same pair: forget it, restart at β = 1
          beta = P.beta.default;
          xPrev = [];
          hPrev = [];
        }
      } else {
        ls = armijo(merit, x, phi, hg.grad, dir, st.beta, st.project);
        beta = ls.next;
      }
      xn = ls.x;
      Vphi = Array.from(ls.beta > 0 ? Vt : at0.V);
      // no trial passed: ĥ at θ_k is no descent direction for φ, so θ_k is too far from θ*(x_k)
      // for the K warm-started PG steps to fix (saturated logits can hold them for hundreds of
      // iterations); restart the inner iterate from the tight solve the merit already made
      if (ls.beta === 0 && st.inner === "pg") theta = reducedFromQ(at0.Q, S, A, problem.tau);
    }
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(xn),
      theta: Array.from(theta),
      V,
      Vphi,
      beta,
      ...(st.stepRule === "spectral" ? { xPrev, hPrev, recent } : {}),
      update,
      eta,
      lastCg: hg.cg.iterations,
      last: { f: hg.value, hnorm: norm2(hg.grad), lowerResidual: hg.residual, measure: gradientMapping(x, hg.grad, st.project) },
    };
  },
);

/** π_θ (S·A) for reduced logits θ (S·(A−1)). */
export function policyFromReduced(theta: ArrayLike<number>, S: number, A: number): Float64Array {
  return evalPolicy(theta, S, A).pi;
}

// ---------- internals ----------

interface Parsed {
  derivatives: ParlDerivatives;
  h: number;
  cgMaxIter: number;
  cgTol: number;
  damping: number;
  linear?: LinearMethod;
}

function parseDerivatives(o: ParlDerivativeOptions): Parsed {
  const derivatives = oneOf(P.derivatives, o.derivatives);
  return {
    derivatives,
    h: stepSize("h", o.h, P.h.default),
    cgMaxIter: o.cgMaxIter === undefined ? P.cgMaxIter.default : check.positiveInt("cgMaxIter", o.cgMaxIter),
    cgTol: o.cgTol === undefined ? P.cgTol.default : check.nonNegative("cgTol", o.cgTol),
    damping: o.damping === undefined ? P.damping.default : check.nonNegative("damping", o.damping),
    linear: o.linear,
  };
}

/** θ(s,a) = (Q(s,a) − Q(s,A−1))/τ, so that softmax([θ_s, 0]) = softmax(Q(s,·)/τ). */
function reducedFromQ(Q: Float64Array, S: number, A: number, tau: number): Float64Array {
  const m = A - 1;
  const theta = new Float64Array(S * m);
  for (let s = 0; s < S; s++) for (let a = 0; a < m; a++) theta[s * m + a] = (Q[s * A + a] - Q[s * A + m]) / tau;
  return theta;
}

/** π and log π (exact, from the logits) for reduced θ. */
function evalPolicy(theta: ArrayLike<number>, S: number, A: number): { pi: Float64Array; logpi: Float64Array } {
  const m = A - 1;
  const pi = new Float64Array(S * A), logpi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let mx = 0; // the fixed last logit
    for (let a = 0; a < m; a++) mx = Math.max(mx, theta[s * m + a]);
    let z = 0;
    for (let a = 0; a < A; a++) z += exp((a < m ? theta[s * m + a] : 0) - mx);
    const lz = mx + log(z);
    for (let a = 0; a < A; a++) {
      const l = (a < m ? theta[s * m + a] : 0) - lz;
      logpi[s * A + a] = l;
      pi[s * A + a] = exp(l);
    }
  }
  return { pi, logpi };
}

/** The lower objective and its soft policy gradient at θ. */
interface At {
  pi: Float64Array;
  logpi: Float64Array;
  Q: Float64Array;
  V: Float64Array;
  /** J = ρᵀV. */
  J: number;
  /** d̃_π (S). */
  d: Float64Array;
  /** Soft advantage Q − τ log π − V (S·A). */
  adv: Float64Array;
  /** ∇_θ J, reduced (S·(A−1)). */
  G: Float64Array;
}

/** J at θ (one evaluation). */
function valueAt(problem: BilevelProblem, r: Float64Array, theta: ArrayLike<number>, linear?: LinearMethod): Omit<At, "d" | "adv" | "G"> {
  const { S, A } = problem.mdp;
  const { pi, logpi } = evalPolicy(theta, S, A);
  const { Q, V } = evaluate(problem, r, pi, linear);
  const rho = problem.mdp.rho;
  let J = 0;
  for (let s = 0; s < S; s++) J += rho[s] * V[s];
  return { pi, logpi, Q, V, J };
}

/** Add d̃ and ∇_θ J to a value (one occupancy solve). */
function withGradient(problem: BilevelProblem, v: Omit<At, "d" | "adv" | "G">, linear?: LinearMethod): At {
  const { S, A, rho } = problem.mdp;
  const tau = problem.tau;
  const m = A - 1;
  const d = visitation(problem, v.pi, { rho, linear });
  const adv = new Float64Array(S * A), G = new Float64Array(S * m);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      adv[i] = v.Q[i] - tau * v.logpi[i] - v.V[s];
      if (a < m) G[s * m + a] = d[s] * v.pi[i] * adv[i];
    }
  }
  return { ...v, d, adv, G };
}

function gradientAt(problem: BilevelProblem, r: Float64Array, theta: ArrayLike<number>, linear?: LinearMethod): At {
  return withGradient(problem, valueAt(problem, r, theta, linear), linear);
}

/**
 * K soft policy-gradient ascent steps θ ← θ + η ∇_θ J with backtracking (Armijo,
 * J(θ⁺) ≥ J(θ) + η/2‖∇J‖²); η doubles after a step accepted at the first trial.
 */
function pgSteps(problem: BilevelProblem, r: Float64Array, theta0: Float64Array, K: number, eta0: number, linear?: LinearMethod): { theta: Float64Array; eta: number; at: At } {
  let theta = theta0, eta = eta0;
  let cur = gradientAt(problem, r, theta, linear);
  for (let k = 0; k < K; k++) {
    let gg = 0;
    for (let i = 0; i < cur.G.length; i++) gg += cur.G[i] * cur.G[i];
    if (gg === 0) break;
    let step = eta, next: Omit<At, "d" | "adv" | "G"> | undefined, trial = theta;
    for (let b = 0; b < 40; b++) {
      trial = new Float64Array(theta.length);
      for (let i = 0; i < theta.length; i++) trial[i] = theta[i] + step * cur.G[i];
      const v = valueAt(problem, r, trial, linear);
      if (v.J >= cur.J + 0.5 * step * gg) { next = v; break; }
      step *= 0.5;
    }
    if (!next) break; // no ascent found: θ is stationary to round-off
    eta = step === eta ? Math.min(2 * eta, 1e12) : step;
    theta = trial;
    cur = withGradient(problem, next, linear);
  }
  return { theta, eta, at: cur };
}

/** The PARL hypergradient at (x, θ) with the derivative options o (`known`: J and ∇_θ J already at (x, θ)). */
function parlAt(problem: BilevelProblem, x: Float64Array, theta: Float64Array, o: Parsed, known?: At): { value: number; grad: Float64Array; at: At; residual: number; cg: CgInfo } {
  const { S, A } = problem.mdp;
  const m = A - 1;
  const r = problem.rewardAt(x);
  problem.moveTo(x);
  const at = known ?? gradientAt(problem, r, theta, o.linear);
  const residual = bellmanResidual(at.Q, at.V, S, A, problem.tau);
  // ∇_θ f (reduced): the logits chain rule, last column dropped
  const gPi = problem.gradPi(x, at.pi);
  const gLog = tableToLogits(at.pi, gPi, S, A);
  const b = new Float64Array(S * m);
  for (let s = 0; s < S; s++) for (let a = 0; a < m; a++) b[s * m + a] = gLog[s * A + a];
  // H u = b by CG on (−H + δI) u = −b
  const hvp = o.derivatives === "forward"
    ? (v: Float64Array) => hvpForward(problem, at, v, o.linear)
    : (v: Float64Array) => hvpDifference(problem, r, theta, v, o.h, o.linear);
  const { u, info } = conjugateGradient((v) => {
    const Hv = hvp(v);
    for (let i = 0; i < Hv.length; i++) Hv[i] = -Hv[i] + o.damping * v[i];
    return Hv;
  }, b.map((bi) => -bi), o.cgMaxIter, o.cgTol);
  // ∇φ = ∇_x f − Cᵀu
  const Ctu = o.derivatives === "forward" ? ctuForward(problem, x, at, u, o.linear) : ctuDifference(problem, x, theta, u, o.h, o.linear);
  const grad = problem.gradX(x, at.pi);
  for (let k = 0; k < grad.length; k++) grad[k] -= Ctu[k];
  return { value: problem.value(x, at.pi), grad, at, residual, cg: info };
}

/**
 * H v by forward-mode differentiation of ∇_θ J(s,a) = d̃(s) π(a|s) A_τ(s,a) along θ̇ = v:
 *   π̇ = π ⊙ (θ̇ − ⟨π, θ̇⟩_s),  (log π)˙ = θ̇ − ⟨π, θ̇⟩_s,
 *   V̇ = (I − γP_π)⁻¹ b,  b(s) = Σ_a π̇(s,a)(Q − τ log π)(s,a),   Q̇ = γ P V̇,
 *   ḋ = (I − γP_π)⁻ᵀ γ Pᵀ(d̃ ⊙ π̇),
 *   Ġ = ḋ π A_τ + d̃ π̇ A_τ + d̃ π (Q̇ − τ(log π)˙ − V̇).
 * V̇ and Q̇ come from one policy evaluation with reward b(s) on every action and τ = 0.
 */
function hvpForward(problem: BilevelProblem, at: At, v: Float64Array, linear?: LinearMethod): Float64Array {
  const { S, A, gamma } = problem.mdp;
  const tau = problem.tau;
  const m = A - 1;
  const { pi, logpi, Q, d, adv } = at;
  const dlog = new Float64Array(S * A), dpi = new Float64Array(S * A), rb = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let mean = 0;
    for (let a = 0; a < m; a++) mean += pi[s * A + a] * v[s * m + a];
    let bs = 0;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      dlog[i] = (a < m ? v[s * m + a] : 0) - mean;
      dpi[i] = pi[i] * dlog[i];
      bs += dpi[i] * (Q[i] - tau * logpi[i]);
    }
    for (let a = 0; a < A; a++) rb[s * A + a] = bs;
  }
  const ev = evaluate(problem, rb, pi, linear, undefined, 0);
  const dV = ev.V;
  const dpd = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) dpd[s * A + a] = d[s] * dpi[s * A + a];
  const rhs = pTransposeSA(problem.mdp, dpd);
  for (let s = 0; s < S; s++) rhs[s] *= gamma;
  const dd = solve(problem, pi, rhs, true, linear);
  const out = new Float64Array(S * m);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < m; a++) {
      const i = s * A + a;
      const dQ = ev.Q[i] - rb[i];
      out[s * m + a] = dd[s] * pi[i] * adv[i] + d[s] * dpi[i] * adv[i] + d[s] * pi[i] * (dQ - tau * dlog[i] - dV[s]);
    }
  }
  return out;
}

/** H v by central differences of ∇_θ J along v (step h/‖v‖₂). */
function hvpDifference(problem: BilevelProblem, r: Float64Array, theta: Float64Array, v: Float64Array, h: number, linear?: LinearMethod): Float64Array {
  const nv = norm2(v);
  const out = new Float64Array(v.length);
  if (nv === 0) return out;
  const eps = h / nv;
  const tp = new Float64Array(theta.length), tm = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) { tp[i] = theta[i] + eps * v[i]; tm[i] = theta[i] - eps * v[i]; }
  const gp = gradientAt(problem, r, tp, linear).G, gm = gradientAt(problem, r, tm, linear).G;
  for (let i = 0; i < out.length; i++) out[i] = (gp[i] - gm[i]) / (2 * eps);
  return out;
}

/**
 * Cᵀu = ∂⟨u, ∇_θ J⟩/∂x at fixed θ, by the adjoint: with w = d̃ ⊙ π ⊙ u (u padded with 0
 * on the last action) and z = (I − γP_π)⁻ᵀ Uᵀw,
 *   Cᵀu = D_xᵀ(w − π ⊙ E z)   (D_x at V^π)
 * plus, when P depends on x, the change of d̃: γ ∂(P_x y)ᵀ(d̃ ⊙ π) with
 * y = (I − γP_π)⁻¹ m, m(s) = Σ_a π u A_τ.
 */
function ctuForward(problem: BilevelProblem, x: Float64Array, at: At, u: Float64Array, linear?: LinearMethod): Float64Array {
  const { S, A, gamma } = problem.mdp;
  const m = A - 1;
  const { pi, d, adv, V } = at;
  const w = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < m; a++) w[s * A + a] = d[s] * pi[s * A + a] * u[s * m + a];
  const z = solve(problem, pi, uTranspose(problem, w), true, linear);
  const q = Float64Array.from(w);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) q[s * A + a] -= pi[s * A + a] * z[s];
  const out = problem.vjp(x, q, V);
  if (problem.transitions) {
    const ms = new Float64Array(S);
    for (let s = 0; s < S; s++) for (let a = 0; a < m; a++) ms[s] += pi[s * A + a] * u[s * m + a] * adv[s * A + a];
    const y = solve(problem, pi, ms, false, linear);
    const dp = new Float64Array(S * A);
    for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) dp[s * A + a] = d[s] * pi[s * A + a];
    const tmp = new Float64Array(problem.n);
    const t = result("transitions.vjpPV", problem.transitions.vjpPV(x, y, dp, tmp), tmp, problem.n);
    for (let k = 0; k < out.length; k++) out[k] += gamma * t[k];
  }
  return out;
}

/** Cᵀu by central differences of ∇_θ J in each coordinate of x (2n gradients). */
function ctuDifference(problem: BilevelProblem, x: Float64Array, theta: Float64Array, u: Float64Array, h: number, linear?: LinearMethod): Float64Array {
  const n = problem.n;
  const out = new Float64Array(n);
  const xp = Float64Array.from(x);
  for (let k = 0; k < n; k++) {
    const step = h * Math.max(1, Math.abs(x[k]));
    xp[k] = x[k] + step;
    const gp = gradientAt(problem, rewardMovedTo(problem, xp), theta, linear).G;
    xp[k] = x[k] - step;
    const gm = gradientAt(problem, rewardMovedTo(problem, xp), theta, linear).G;
    xp[k] = x[k];
    let acc = 0;
    for (let i = 0; i < u.length; i++) acc += u[i] * (gp[i] - gm[i]);
    out[k] = acc / (2 * step);
  }
  rewardMovedTo(problem, x); // back to r_x and P_x
  return out;
}

/** r_x, with the MDP moved to P_x. */
function rewardMovedTo(problem: BilevelProblem, x: Float64Array): Float64Array {
  const r = problem.rewardAt(x);
  problem.moveTo(x);
  return r;
}
