// Hypergradient engines for φ(x) = f(x, π*_x) (docs/math.md#hypergradient, docs/math.md#exact-descent, docs/math.md#amd).
import { DomainError } from "../errors";
import { parseSolve, solveLinearUnchecked, type LinearMethod } from "../lower";
import { pTransposeSA, qFromV, recordSweeps } from "../wasm/routines/index";
import type { BilevelProblem } from "./problem";
import { solveLower, type LowerOptions, type LowerSolution } from "./lowerSolve";
import { modelFreeHypergradient, type ModelFreeSettings } from "./modelFree";
import { log } from "../util/math";

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

/**
 * AMD / HPGD "Q-tilde" recursion (docs/math.md#amd) for a return-type upper objective
 * f = −ρᵀ V_U^π (+ λ/2‖x‖²): sweeps over Q_LL, Q'_LL (S·A × n), Q_U and Q̃ together until
 * they stop changing; ∇(ρᵀV_U) = Σ_s ρ(s) Ṽ(s).
 */
function amd(problem: BilevelProblem, x: Float64Array, options: HypergradientOptions): HypergradientResult {
  problem.requireSoft("the AMD recursion");
  const up = problem.upper as { rU?: Float64Array; rhoU?: Float64Array };
  if (!(up.rU instanceof Float64Array)) throw new DomainError("method", "'amd' needs a return-type upper objective (upperReturn)", "amd");
  if (problem.transitions) throw new DomainError("method", "'amd' is implemented for x-independent transitions only", "amd");
  const { mdp, tau, n } = problem;
  const { S, A, gamma } = mdp;
  const SA = S * A;
  const rU = up.rU;
  const tol = options.lower?.tol ?? 1e-12;
  const maxIter = options.lower?.maxIter ?? 100000;
  // Q_LL starts from the exact soft optimum (the recursion's fixed point for Q_LL).
  const low = solveLower(problem, x, options.lower);
  const pi = low.pi;
  const R = problem.jacobianAt(x); // SA × n
  const QL = low.Q;
  // tables, column-major over n for the vector-valued ones
  const Qp = new Float64Array(SA * n), Vp = new Float64Array(S * n);
  const QU = new Float64Array(SA), VU = new Float64Array(S);
  const Qt = new Float64Array(SA * n), Vt = new Float64Array(S * n);
  const VL = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) {
      const p = pi[s * A + a];
      if (p > 0) acc += p * (QL[s * A + a] - tau * log(p));
    }
    VL[s] = acc;
  }
  let it = 0, delta = Infinity;
  {
    // P·v for an S-vector into an S·A vector (r = 0, γ = 1)
    const Pv = (v: Float64Array, out: Float64Array) => qFromV(mdp, undefined, v, 1, out);
    const col = new Float64Array(S), PvOut = new Float64Array(SA);
    while (it < maxIter && delta > tol) {
      it++;
      delta = 0;
      // V tables from Q tables under π
      for (let s = 0; s < S; s++) {
        let u = 0;
        for (let a = 0; a < A; a++) u += pi[s * A + a] * QU[s * A + a];
        VU[s] = u;
        for (let k = 0; k < n; k++) {
          let vp = 0, vt = 0;
          for (let a = 0; a < A; a++) {
            const p = pi[s * A + a];
            vp += p * Qp[k * SA + s * A + a];
            vt += p * Qt[k * SA + s * A + a];
          }
          Vp[k * S + s] = vp;
          Vt[k * S + s] = vt;
        }
      }
      // Q_U ← r_U + γ P V_U
      Pv(VU, PvOut);
      for (let i = 0; i < SA; i++) {
        const q = rU[i] + gamma * PvOut[i];
        delta = Math.max(delta, Math.abs(q - QU[i]));
        QU[i] = q;
      }
      for (let k = 0; k < n; k++) {
        // Q'_LL ← R + γ P V'_LL
        for (let s = 0; s < S; s++) col[s] = Vp[k * S + s];
        Pv(col, PvOut);
        for (let i = 0; i < SA; i++) {
          const q = R[i * n + k] + gamma * PvOut[i];
          delta = Math.max(delta, Math.abs(q - Qp[k * SA + i]));
          Qp[k * SA + i] = q;
        }
        // Q̃ ← (1/τ)(Q'_LL − V'_LL) ⊙ (Q_U − V_U) + γ P Ṽ   (∇_x r_U = 0 here)
        for (let s = 0; s < S; s++) col[s] = Vt[k * S + s];
        Pv(col, PvOut);
        for (let s = 0; s < S; s++) {
          for (let a = 0; a < A; a++) {
            const i = s * A + a;
            const q = ((Qp[k * SA + i] - Vp[k * S + s]) * (QU[i] - VU[s])) / tau + gamma * PvOut[i];
            delta = Math.max(delta, Math.abs(q - Qt[k * SA + i]));
            Qt[k * SA + i] = q;
          }
        }
      }
    }
  }
  recordSweeps(mdp, it); // one sweep of the Q tables per recursion step, made here on the host
  // final Ṽ from Q̃, then ∇φ = −Σ_s ρ(s) Ṽ(s) + ∇_x f's explicit part
  const rho = up.rhoU ?? mdp.rho;
  const grad = problem.gradX(x, pi);
  for (let k = 0; k < n; k++) {
    let acc = 0;
    for (let s = 0; s < S; s++) {
      let vt = 0;
      for (let a = 0; a < A; a++) vt += pi[s * A + a] * Qt[k * SA + s * A + a];
      acc += rho[s] * vt;
    }
    grad[k] -= acc;
  }
  return {
    value: problem.value(x, pi),
    grad,
    pi,
    V: low.V,
    diagnostics: { method: "amd", lowerIterations: low.iterations + it, lowerResidual: Math.max(low.residual, delta), lowerConverged: low.converged && delta <= tol, linearIterations: 0, linearResidual: 0, linearConverged: true },
  };
}
