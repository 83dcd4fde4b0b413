// Hypergradient engines for φ(x) = f(x, π*_x) (docs/math.md#hypergradient, docs/math.md#exact-descent, docs/math.md#amd).
import { DomainError, ShapeError } from "../errors";
import { parseSolve, policyEvaluationUnchecked, solveLinearUnchecked, type LinearMethod } from "../lower";
import { pTransposeSA } from "../wasm/routines/index";
import * as check from "../validate";
import { isRewardModel, type UpperReturn } from "./models";
import { rewardVjp } from "./trajectory";
import type { BilevelProblem } from "./problem";
import { solveLower, type LowerOptions, type LowerSolution } from "./lowerSolve";
import { modelFreeHypergradient, type ModelFreeSettings } from "./modelFree";

/**
 * How `hypergradient` computes ∇φ: the implicit-function formula ('exact'), AMD, central
 * finite differences of φ, or the sampled estimator ('model-free').
 */
export type HypergradientMethod = "exact" | "amd" | "finite-difference" | "model-free";

/** Options of `hypergradient`. */
export interface HypergradientOptions {
  method?: HypergradientMethod;
  /** Lower-level solve (solver, tol, maxIter, V0). */
  lower?: LowerOptions;
  /** Linear solver for the transposed system (default: 'lu' for S ≤ 500, else 'krylov'). */
  linear?: LinearMethod;
  /** Relative residual target of the transposed solve (default 1e-12). */
  linearTol?: number;
  /** Central-difference step (finite-difference method; default 1e-5). */
  h?: number;
  /** Settings of the 'amd' method: the tables of a previous call to warm-start from. */
  amd?: AmdSettings;
  /** Settings of the 'model-free' method (Prop. 5.2): objective, groups, seed, baseline, derivative, Md, Td. */
  modelFree?: ModelFreeSettings;
}

/** What `hypergradient` returns: φ(x), ∇φ(x) and the lower solution at x. */
export interface HypergradientResult {
  /** φ(x) = f(x, π*_x). */
  value: number;
  /** ∇φ(x), length n. */
  grad: Float64Array;
  /** π*_x, length S·A. */
  pi: Float64Array;
  /** V*_x, length S (a warm start for the next call). */
  V: Float64Array;
  /** 'amd' only: its tables at x, to pass as `amd.state` to the next call. */
  amdState?: AmdState;
  diagnostics: {
    method: HypergradientMethod;
    lowerIterations: number;
    lowerResidual: number;
    lowerConverged: boolean;
    linearIterations: number;
    linearResidual: number;
    linearConverged: boolean;
    /**
     * 'exact' only: an estimate of ‖∇φ‖'s rounding error, ε·‖D_xᵀ(|v| + |π ⊙ E w|)/τ‖₂. The
     * implicit term subtracts two tables of size |v|/τ; when the policy is saturated (rewards
     * ≫ τ) they cancel to rounding noise that D_x (a reward scale) multiplies.
     */
    gradientError?: number;
    /** 'exact' only: (1 + γ)/(1 − γ), a bound on the ∞-norm condition number of I − γP_π. */
    conditionBound?: number;
    /**
     * 'exact' only: true when the gradient cannot be trusted to about 8 digits
     * (gradientError > 1e-8·‖∇φ‖₂, or a solve not converged). Both diagnostics above stay
     * silent about this: they measure residuals, which rounding keeps small.
     */
    precisionLost?: boolean;
  };
}

/** ∇φ(x) by the chosen method. */
export function hypergradient(problem: BilevelProblem, x: ArrayLike<number>, options: HypergradientOptions = {}): HypergradientResult {
  const xx = problem.checkX(x);
  const method = options.method ?? "exact";
  if (method === "exact") return exact(problem, xx, options);
  if (method === "finite-difference") return finiteDifference(problem, xx, options);
  if (method === "amd") return amd(problem, xx, options);
  if (method === "model-free") return modelFreeHypergradient(problem, xx, { ...options.modelFree, lower: options.lower });
  throw new DomainError("method", "must be 'exact', 'amd', 'finite-difference' or 'model-free'", method);
}

/**
 * Eq. (9): with v = π* ⊙ ∇_π f and w solving (I − γP_π)ᵀ w = Uᵀ v,
 *   ∇φ = ∇_x f + (1/τ) D_xᵀ (v − π* ⊙ E w),   D_x = R_x (+ γ ∂P_x V*).
 */
function exact(problem: BilevelProblem, x: Float64Array, options: HypergradientOptions): HypergradientResult {
  problem.requireSoft("the exact hypergradient");
  const low = solveLower(problem, x, options.lower);
  const { grad, linear, w, v } = implicitGrad(problem, x, low, options.linear, options.linearTol);
  const gradientError = roundingOfGrad(problem, x, low, v, w);
  const { gamma } = problem.mdp;
  return {
    value: problem.value(x, low.pi),
    grad,
    pi: low.pi,
    V: low.V,
    diagnostics: {
      method: "exact",
      lowerIterations: low.iterations,
      lowerResidual: low.residual,
      lowerConverged: low.converged,
      linearIterations: linear.iterations,
      linearResidual: linear.residual,
      linearConverged: linear.converged,
      gradientError,
      conditionBound: (1 + gamma) / (1 - gamma),
      precisionLost: !(gradientError <= 1e-8 * norm2(grad)) || !low.converged || !linear.converged,
    },
  };
}

/** ε·‖D_xᵀ(|v| + |π ⊙ E w|)/τ‖₂ (v = π ⊙ ∇_π f): the size of the rounding noise in the implicit term of ∇φ. One vjp. */
function roundingOfGrad(problem: BilevelProblem, x: Float64Array, low: Pick<LowerSolution, "pi" | "V">, v: Float64Array, w: Float64Array): number {
  const { S, A } = problem.mdp;
  const tau = problem.tau;
  const pi = low.pi;
  const u = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] = (Math.abs(v[s * A + a]) + Math.abs(pi[s * A + a] * w[s])) / tau;
  return Number.EPSILON * norm2(problem.vjp(x, u, low.V));
}

function norm2(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  if (m === 0 || !Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] / m) * (v[i] / m);
  return m * Math.sqrt(s);
}

/**
 * b = Uᵀ v with U = E − γP:  b(s') = Σ_a v(s',a) − γ Σ_{s,a} v(s,a) P(s'|s,a), into `out`
 * (length S) when given.
 * @internal
 */
export function uTranspose(problem: BilevelProblem, v: Float64Array, out: Float64Array = new Float64Array(problem.mdp.S)): Float64Array {
  const { mdp } = problem;
  const { S, A, gamma } = mdp;
  const Ptv = pTransposeSA(mdp, v, out);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) acc += v[s * A + a];
    out[s] = acc - gamma * Ptv[s];
  }
  return out;
}

/** The implicit part of eq. (9) given a lower solution; shared by HG-EXACT and the algorithms. */
export function implicitGrad(problem: BilevelProblem, x: Float64Array, low: Pick<LowerSolution, "pi" | "V">, linear?: LinearMethod, linearTol?: number, w0?: Float64Array) {
  const { mdp } = problem;
  const { S, A } = mdp;
  const pi = low.pi;
  const gPi = problem.gradPi(x, pi);
  const v = new Float64Array(S * A);
  for (let i = 0; i < v.length; i++) v[i] = pi[i] * gPi[i];
  const b = uTranspose(problem, v);
  // π is the lower solve's softmax and b is built from checked callbacks: no re-validation
  const sol = solveLinearUnchecked(mdp, pi, b, parseSolve({ transpose: true, method: linear, tol: linearTol, x0: w0 }, mdp));
  const grad = combine(problem, x, low, v, sol.x);
  return { grad, w: sol.x, linear: sol, v };
}

/** Scratch and output of `combine` (fresh arrays when omitted). */
export interface CombineBuffers {
  /** S·A. */
  u: Float64Array;
  /** n: the result. */
  g: Float64Array;
  /** n. */
  gx: Float64Array;
}

/** ∇_x f + (1/τ) D_xᵀ (v − π ⊙ E w), into `into.g` when given. @internal */
export function combine(problem: BilevelProblem, x: Float64Array, low: Pick<LowerSolution, "pi" | "V">, v: Float64Array, w: Float64Array, into?: CombineBuffers): Float64Array {
  const { S, A } = problem.mdp;
  const tau = problem.tau;
  const pi = low.pi;
  const u = into ? into.u : new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] = (v[s * A + a] - pi[s * A + a] * w[s]) / tau;
  const g = problem.vjp(x, u, low.V, into?.g);
  const gx = problem.gradX(x, pi, into?.gx);
  for (let k = 0; k < g.length; k++) g[k] += gx[k];
  return g;
}

/** φ(x) by a tight lower solve (used by the finite-difference checker and the histories). */
export function phi(problem: BilevelProblem, x: Float64Array, lower?: LowerOptions): { value: number; low: LowerSolution } {
  const low = solveLower(problem, x, lower);
  return { value: problem.value(x, low.pi), low };
}

/** Central differences of φ, one coordinate at a time (2n lower solves): a checker. */
function finiteDifference(problem: BilevelProblem, x: Float64Array, options: HypergradientOptions): HypergradientResult {
  const h = options.h ?? 1e-5;
  if (!(h > 0) || !Number.isFinite(h)) throw new DomainError("h", "must be a positive finite step", h);
  const lower = { tol: 1e-13, ...options.lower };
  const base = phi(problem, x, lower);
  const grad = new Float64Array(problem.n);
  const xp = Float64Array.from(x);
  let worst = base.low.residual, conv = base.low.converged, its = base.low.iterations;
  for (let k = 0; k < problem.n; k++) {
    const step = h * Math.max(1, Math.abs(x[k]));
    xp[k] = x[k] + step;
    const fp = phi(problem, xp, { ...lower, V0: base.low.V });
    xp[k] = x[k] - step;
    const fm = phi(problem, xp, { ...lower, V0: base.low.V });
    xp[k] = x[k];
    grad[k] = (fp.value - fm.value) / (2 * step);
    worst = Math.max(worst, fp.low.residual, fm.low.residual);
    conv = conv && fp.low.converged && fm.low.converged;
    its += fp.low.iterations + fm.low.iterations;
  }
  problem.moveTo(x); // leave the MDP at P_x
  return {
    value: base.value,
    grad,
    pi: base.low.pi,
    V: base.low.V,
    diagnostics: { method: "finite-difference", lowerIterations: its, lowerResidual: worst, lowerConverged: conv, linearIterations: 0, linearResidual: 0, linearConverged: true },
  };
}

/** The tables of the 'amd' method, carried from one call to the next (plain data, each of length S). */
export interface AmdState {
  /** V*_x, the lower soft values: the next lower solve's warm start. */
  V: Float64Array;
  /** V_U^π, the upper values under π*_x. */
  VU: Float64Array;
  /** d̃_π = (I − γP_π)^{-T} ρ_U, the upper occupancy. */
  d: Float64Array;
  /** z = (I − γP_π)^{-T} γPᵀy, the adjoint of the Q'_LL table, ∂Q* by x (docs/math.md#amd). */
  z: Float64Array;
}

/** Settings of the 'amd' method (the `amd` field of `hypergradient` options). */
export interface AmdSettings {
  /**
   * The tables of a previous call (`result.amdState`): the lower solve and the three
   * recursions start from them instead of from zero. The answer is the same to the solves'
   * tolerance; only the number of sweeps or Krylov steps changes.
   */
  state?: AmdState;
}

/**
 * AMD / HPGD recursion (docs/math.md#amd) for a return-type upper objective
 * f = −ρ_Uᵀ V_U^π (+ λ/2‖x‖²), r_U fixed or a reward model r_U(x), in reverse mode: its n-column
 * tables Q'_LL and Q̃ enter ∇φ only through ρ_Uᵀ Ṽ, so they are contracted with the
 * adjoints d̃_π and z, and the recursion reduces to three single-column fixed points
 * (V_U forward; d̃_π and z transposed), each solved with the library's linear solver
 * ('richardson' runs them as the literal sweeps). Warm-starts from `amd.state`.
 */
function amd(problem: BilevelProblem, x: Float64Array, options: HypergradientOptions): HypergradientResult {
  problem.requireSoft("the AMD recursion");
  const up = problem.upper as Partial<UpperReturn>;
  const fixed = up.rU instanceof Float64Array;
  if (!fixed && !isRewardModel(up.rUModel)) throw new DomainError("method", "'amd' needs a return-type upper objective (upperReturn)", "amd");
  if (problem.transitions) throw new DomainError("method", "'amd' is implemented for x-independent transitions only", "amd");
  const { mdp, tau, n } = problem;
  const { S, A, gamma } = mdp;
  const SA = S * A;
  const settings = options.amd ?? {};
  if (typeof settings !== "object" || settings === null) throw new ShapeError("amd", "must be an options object { state? }", settings);
  const state = settings.state === undefined ? undefined : checkAmdState(settings.state, S);
  const rho = up.rhoU ?? mdp.rho;
  if (rho.length !== S) throw new ShapeError("upperReturn.rho", `must have length S = ${S}`, rho.length);
  const linearOf = (transpose: boolean, x0?: Float64Array) => parseSolve({ transpose, method: options.linear ?? up.linear, tol: options.linearTol, x0 }, mdp);
  const low = solveLower(problem, x, { ...options.lower, V0: options.lower?.V0 ?? state?.V });
  const pi = low.pi;
  const rU = fixed ? up.rU! : up.upperReward!(x, SA);
  if (rU.length !== SA) throw new ShapeError("upperReturn.r", `must have length S·A = ${SA}`, rU.length);
  let linearIterations = 0, linearResidual = 0, linearConverged = true;
  const tally = (r: { iterations: number; residual: number; converged: boolean }) => {
    linearIterations += r.iterations;
    linearResidual = Math.max(linearResidual, r.residual);
    linearConverged &&= r.converged;
  };
  // V_U = (I − γP_π)^{-1} r_U,π and Q_U = r_U + γ P V_U (the recursion's Q_U table)
  const ev = policyEvaluationUnchecked(mdp, rU, pi, 0, linearOf(false, state?.VU));
  tally(ev);
  const QU = ev.Q;
  // d̃ = (I − γP_π)^{-T} ρ_U, the adjoint that contracts Ṽ with ρ_U
  const dSol = solveLinearUnchecked(mdp, pi, rho, linearOf(true, state?.d));
  tally(dSol);
  const d = dSol.x;
  // y = d̃ ⊙ π ⊙ A_U / τ with A_U = Q_U − Σ_a π Q_U (so each state's y sums to 0 and V'_LL drops out)
  const y = new Float64Array(SA);
  for (let s = 0; s < S; s++) {
    let vu = 0;
    for (let a = 0; a < A; a++) vu += pi[s * A + a] * QU[s * A + a];
    for (let a = 0; a < A; a++) y[s * A + a] = (d[s] * pi[s * A + a] * (QU[s * A + a] - vu)) / tau;
  }
  // z = (I − γP_π)^{-T} γ Pᵀ y: the adjoint of Q'_LL = R + γ P (I − γP_π)^{-1} Π R
  const bz = pTransposeSA(mdp, y);
  for (let s = 0; s < S; s++) bz[s] *= gamma;
  const zSol = solveLinearUnchecked(mdp, pi, bz, linearOf(true, state?.z));
  tally(zSol);
  const z = zSol.x;
  // Σ_s ρ_U(s) Ṽ(s) = R_xᵀ(y + π ⊙ E z) + R_Uᵀ(d̃ ⊙ π)
  const u = y;
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] += pi[s * A + a] * z[s];
  const implicit = problem.vjp(x, u, low.V);
  let direct: Float64Array | undefined;
  if (!fixed) {
    const c = new Float64Array(SA);
    for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) c[s * A + a] = d[s] * pi[s * A + a];
    direct = rewardVjp(up.rUModel!, x, c);
    if (direct.length !== n) throw new ShapeError("upperReturn.r", `has dim ${direct.length} but x has length ${n}`, direct.length);
  }
  // the explicit part λx (a foreign objective with a fixed rU and no λ: its own ∂f/∂x)
  const grad = typeof up.lambda === "number" ? explicitL2(x, up.lambda) : problem.gradX(x, pi);
  for (let k = 0; k < n; k++) grad[k] -= implicit[k] + (direct ? direct[k] : 0);
  let J = 0;
  for (let s = 0; s < S; s++) J += rho[s] * ev.V[s];
  const value = typeof up.lambda === "number" ? -J + 0.5 * up.lambda * sumSq(x) : problem.value(x, pi);
  return {
    value,
    grad,
    pi,
    V: low.V,
    amdState: { V: low.V.slice(), VU: ev.V, d, z },
    diagnostics: {
      method: "amd",
      lowerIterations: low.iterations,
      lowerResidual: low.residual,
      lowerConverged: low.converged,
      linearIterations,
      linearResidual,
      linearConverged,
    },
  };
}

function explicitL2(x: Float64Array, lambda: number): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) g[k] = lambda * x[k];
  return g;
}

function sumSq(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}

/** An AmdState's shape: four finite Float64Arrays (or arrays) of length S. */
function checkAmdState(st: unknown, S: number): AmdState {
  if (typeof st !== "object" || st === null) throw new ShapeError("amd.state", "must be { V, VU, d, z } (the amdState of a previous call)", st);
  const o = st as Record<string, unknown>;
  return {
    V: check.float64("amd.state.V", o.V, S, "S"),
    VU: check.float64("amd.state.VU", o.VU, S, "S"),
    d: check.float64("amd.state.d", o.d, S, "S"),
    z: check.float64("amd.state.z", o.z, S, "S"),
  };
}
