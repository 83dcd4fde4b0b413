// Built-in reward models and upper objectives (docs/math.md#derivatives, docs/math.md#problems).
import { DomainError, NumericalError, ShapeError } from "../errors";
import { occupancy, policyEvaluation, type LinearMethod } from "../lower";
import type { TabularMDP } from "../mdp";
import * as check from "../validate";
import type { PolicyObjective, RewardModel } from "./problem";
import { rewardValues, rewardVjp } from "./trajectory";

/** Sparse Φ in CSR form: row i = s·A + a holds `values[indptr[i]..indptr[i+1])` at columns `indices`. */
export interface CsrMatrix {
  indptr: ArrayLike<number>;
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * Linear reward r_x = Φ x with Φ of shape (S·A × n), row-major dense or CSR.
 * R_x = Φ for every x; vjp and jvp cost one pass over Φ's entries.
 */
export function linearReward(Phi: ArrayLike<number> | CsrMatrix, n: number): RewardModel {
  const dim = check.positiveInt("n", n);
  if (isCsr(Phi)) {
    const indptr = check.int32("Phi.indptr", Phi.indptr);
    const rows = indptr.length - 1;
    if (rows < 1) throw new ShapeError("Phi.indptr", "must have at least 2 entries (rows + 1)", indptr.length);
    // a row's entries are values[indptr[i]..indptr[i+1]): entries before indptr[0] would be ignored
    if (indptr[0] !== 0) throw new DomainError("Phi.indptr", "must start at 0", indptr[0], 0);
    const nnz = indptr[rows];
    const indices = check.int32("Phi.indices", Phi.indices, nnz);
    const values = check.float64("Phi.values", Phi.values, nnz);
    for (let i = 0; i < rows; i++) if (indptr[i + 1] < indptr[i]) throw new ShapeError("Phi.indptr", "must be non-decreasing", indptr[i + 1], i + 1);
    for (let k = 0; k < nnz; k++) if (indices[k] < 0 || indices[k] >= dim) throw new ShapeError("Phi.indices", `must lie in [0, n) = [0, ${dim})`, indices[k], k);
    return {
      dim,
      rows,
      reward(x, out) {
        for (let i = 0; i < rows; i++) {
          let acc = 0;
          for (let k = indptr[i]; k < indptr[i + 1]; k++) acc += values[k] * x[indices[k]];
          out[i] = acc;
        }
      },
      jvp(x, dx, out) {
        return this.reward(dx, out);
      },
      vjp(_x, u, out) {
        out.fill(0);
        for (let i = 0; i < rows; i++) {
          const ui = u[i];
          if (ui === 0) continue;
          for (let k = indptr[i]; k < indptr[i + 1]; k++) out[indices[k]] += values[k] * ui;
        }
      },
      jacobian(_x, out) {
        out.fill(0);
        for (let i = 0; i < rows; i++) for (let k = indptr[i]; k < indptr[i + 1]; k++) out[i * dim + indices[k]] += values[k];
      },
    };
  }
  if (!Array.isArray(Phi) && !ArrayBuffer.isView(Phi)) throw new ShapeError("Phi", "must be a Float64Array (S·A × n, row-major) or a CSR matrix { indptr, indices, values }", Phi);
  const len = (Phi as ArrayLike<number>).length;
  if (len === 0 || len % dim !== 0) throw new ShapeError("Phi", `must have a length that is a positive multiple of n = ${dim} (shape S·A × n)`, len);
  const F = check.float64("Phi", Phi, len);
  const rows = len / dim;
  return {
    dim,
    rows,
    reward(x, out) {
      for (let i = 0; i < rows; i++) {
        let acc = 0;
        const o = i * dim;
        for (let k = 0; k < dim; k++) acc += F[o + k] * x[k];
        out[i] = acc;
      }
    },
    jvp(_x, dx, out) {
      return this.reward(dx, out);
    },
    vjp(_x, u, out) {
      out.fill(0);
      for (let i = 0; i < rows; i++) {
        const ui = u[i];
        if (ui === 0) continue;
        const o = i * dim;
        for (let k = 0; k < dim; k++) out[k] += F[o + k] * ui;
      }
    },
    jacobian(_x, out) {
      out.set(F);
    },
  };
}

function isCsr(v: unknown): v is CsrMatrix {
  return typeof v === "object" && v !== null && !ArrayBuffer.isView(v) && !Array.isArray(v) && "indptr" in v;
}

/** f(x, π) = Σ c·π + (λ/2)‖x‖²  (c of length S·A). */
export function policyLinear(c: ArrayLike<number>, lambda = 0): PolicyObjective {
  const cc = check.float64("c", c, (c as ArrayLike<number>)?.length ?? -1).slice();
  const lam = check.nonNegative("lambda", lambda);
  return {
    rows: cc.length,
    value(x, pi) {
      let v = 0;
      for (let i = 0; i < cc.length; i++) v += cc[i] * pi[i];
      return v + 0.5 * lam * sq(x);
    },
    gradX(x, _pi, out) {
      for (let k = 0; k < x.length; k++) out[k] = lam * x[k];
    },
    gradPi(_x, _pi, out) {
      out.set(cc);
    },
  };
}

/** E1's objective f(x, π) = ½‖x‖² + ½ Σ π² (docs/math.md#e1). */
export function policyL2(): PolicyObjective {
  return {
    value(x, pi) {
      return 0.5 * sq(x) + 0.5 * sq(pi);
    },
    gradX(x, _pi, out) {
      out.set(x);
    },
    gradPi(_x, pi, out) {
      out.set(pi);
    },
  };
}

/** Options of `upperReturn`. */
export interface UpperReturnSpec {
  /**
   * Upper reward r_U: a fixed table (length S·A), or a reward model r_U(x) with the lower
   * level's vocabulary (`linearReward`, … : `dim` = n, `reward`, and `vjp` or `jacobian`),
   * for an upper level whose reward depends on x (docs/math.md#upper-reward).
   */
  r: ArrayLike<number> | RewardModel;
  /** Upper initial distribution; the MDP's ρ when omitted. */
  rho?: ArrayLike<number>;
  /** Weight of (λ/2)‖x‖² (default 0). */
  lambda?: number;
  /** Linear solver of the evaluations and of d̃_π (default: the library's, 'lu' for S ≤ 500, else 'krylov'). */
  linear?: LinearMethod;
}

/** The objective `upperReturn` builds: a `PolicyObjective` that also shows its parts (the 'amd' hypergradient reads them). */
export interface UpperReturn extends PolicyObjective {
  /** r_U when it is a fixed table (a copy); undefined for a reward model. */
  readonly rU?: Float64Array;
  /** r_U(x) when the upper reward is a reward model; undefined for a fixed table. */
  readonly rUModel?: RewardModel;
  /** The upper initial distribution when given (else the MDP's ρ is used). */
  readonly rhoU?: Float64Array;
  /** λ of (λ/2)‖x‖². */
  readonly lambda: number;
  /** The linear solver of the evaluations (undefined: the library's default). */
  readonly linear?: LinearMethod;
  /** r_U at x (length S·A, a fresh array; checked finite). */
  upperReward(x: Float64Array, SA: number): Float64Array;
}

/**
 * f(x, π) = −ρᵀ V_U^π + (λ/2)‖x‖²: minus the unregularised return of π under r_U in the
 * lower MDP's dynamics. ∂f/∂π(a|s) = −d̃_π(s) Q_U^π(s,a) (docs/math.md#model-free, docs/math.md#soft-policy-gradient).
 * When r_U is a reward model r_U(x), ∂f/∂x = λx − Σ_{s,a} d̃_π(s) π(a|s) ∂r_U(s,a)/∂x
 * (docs/math.md#upper-reward): one more solve (d̃_π) and one vjp of the model.
 */
export function upperReturn(spec: UpperReturnSpec): UpperReturn {
  if (typeof spec !== "object" || spec === null) throw new ShapeError("upperReturn", "takes { r, rho?, lambda? }", spec);
  const model = isRewardModel(spec.r) ? checkRewardModel("r", spec.r) : undefined;
  const rU = model ? undefined : check.float64("r", spec.r, (spec.r as ArrayLike<number>)?.length ?? -1).slice();
  const lam = check.nonNegative("lambda", spec.lambda ?? 0);
  const method = spec.linear;
  const rhoU = spec.rho === undefined ? undefined : check.distribution("rho", spec.rho, (spec.rho as ArrayLike<number>).length).slice();
  const rhoOf = (mdp: TabularMDP) => {
    if (rhoU && rhoU.length !== mdp.S) throw new ShapeError("upperReturn.rho", `must have length S = ${mdp.S}`, rhoU.length);
    return rhoU ?? mdp.rho;
  };
  if (rU) {
    // r_U fixed: the original objective, unchanged
    return {
      rU,
      rhoU,
      lambda: lam,
      linear: method,
      rows: rU.length,
      upperReward(_x, SA) {
        if (SA !== rU.length) throw new ShapeError("upperReturn.r", `must have length S·A = ${SA}`, rU.length);
        return rU.slice();
      },
      value(x, pi, mdp) {
        const { V } = checked(policyEvaluation(mdp, rU, pi, { tau: 0, method }));
        const rho = rhoOf(mdp);
        let J = 0;
        for (let s = 0; s < mdp.S; s++) J += rho[s] * V[s];
        return -J + 0.5 * lam * sq(x);
      },
      gradX(x, _pi, out) {
        for (let k = 0; k < x.length; k++) out[k] = lam * x[k];
      },
      gradPi(_x, pi, out, mdp) {
        const { Q } = checked(policyEvaluation(mdp, rU, pi, { tau: 0, method }));
        const d = occupancy(mdp, pi, rhoOf(mdp), { method });
        const A = mdp.A;
        for (let i = 0; i < Q.length; i++) out[i] = -d[Math.floor(i / A)] * Q[i];
      },
    };
  }
  const m = model!;
  const rAt = (x: Float64Array, SA: number) => rewardValues(m, x, SA);
  return {
    rUModel: m,
    rhoU,
    lambda: lam,
    linear: method,
    rows: m.rows,
    dim: m.dim,
    upperReward: rAt,
    value(x, pi, mdp) {
      const { V } = checked(policyEvaluation(mdp, rAt(x, mdp.S * mdp.A), pi, { tau: 0, method }));
      const rho = rhoOf(mdp);
      let J = 0;
      for (let s = 0; s < mdp.S; s++) J += rho[s] * V[s];
      return -J + 0.5 * lam * sq(x);
    },
    gradX(x, pi, out, mdp) {
      // −R_Uᵀ(d̃ ⊙ π): the occupancy-weighted reward gradient (docs/math.md#upper-reward)
      const d = occupancy(mdp, pi, rhoOf(mdp), { method });
      const A = mdp.A;
      const u = new Float64Array(pi.length);
      for (let i = 0; i < u.length; i++) u[i] = d[Math.floor(i / A)] * pi[i];
      const g = rewardVjp(m, x, u);
      if (g.length !== x.length) throw new ShapeError("upperReturn.r", `has dim ${g.length} but x has length ${x.length}`, g.length);
      for (let k = 0; k < x.length; k++) out[k] = lam * x[k] - g[k];
    },
    gradPi(x, pi, out, mdp) {
      const { Q } = checked(policyEvaluation(mdp, rAt(x, mdp.S * mdp.A), pi, { tau: 0, method }));
      const d = occupancy(mdp, pi, rhoOf(mdp), { method });
      const A = mdp.A;
      for (let i = 0; i < Q.length; i++) out[i] = -d[Math.floor(i / A)] * Q[i];
    },
  };
}

/** Whether v looks like a reward model (an object with a `reward` function), not an array. @internal */
export function isRewardModel(v: unknown): v is RewardModel {
  return typeof v === "object" && v !== null && !ArrayBuffer.isView(v) && !Array.isArray(v) && typeof (v as RewardModel).reward === "function";
}

/** Check a reward model's static parts: dim a positive integer, vjp or jacobian given, rows (when given) a positive integer. @internal */
export function checkRewardModel(name: string, m: RewardModel): RewardModel {
  check.positiveInt(`${name}.dim`, m.dim);
  if (typeof m.vjp !== "function" && typeof m.jacobian !== "function") throw new ShapeError(name, "must provide vjp(x, u, out) or jacobian(x, out)", m);
  if (m.rows !== undefined) check.positiveInt(`${name}.rows`, m.rows);
  return m;
}

/** Refuse a policy evaluation whose solve did not reach a usable accuracy. */
export function checked<T extends { residual: number; iterations: number }>(ev: T): T {
  if (!(ev.residual <= 1e-8)) throw new NumericalError(`policy evaluation: the linear solve stopped at relative residual ${ev.residual} after ${ev.iterations} iterations; try another 'linear' method`);
  return ev;
}

function sq(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}
