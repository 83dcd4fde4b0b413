// The bilevel problem (docs/math.md#conventions, docs/math.md#derivatives): an upper level chooses x ∈ Rⁿ, the lower
// level is the entropy-regularised MDP with reward r_x (and optionally transitions P_x),
// and the upper objective f(x, π) is evaluated at the lower optimum π*_x.
// Shapes: x (n); r_x, π, ∇_π f (S·A, index s·A + a); R_x = ∂r_x/∂x (S·A × n, row-major).
import { DomainError, ShapeError } from "../errors";
import { TabularMDP, type Counters } from "../mdp";
import * as check from "../validate";
import { closeReading, noWork, openReading } from "../wasm/routines/index";

/** r_x and its derivative. Give `vjp` (R_xᵀu) for large n; `jacobian` is the fallback. */
export interface RewardModel {
  /** n, the dimension of x. */
  readonly dim: number;
  /** Write r_x (length S·A) into out (or return it). */
  reward(x: Float64Array, out: Float64Array): Float64Array | void;
  /** Write R_x = ∂r_x/∂x (S·A × n, row-major) into out (or return it). */
  jacobian?(x: Float64Array, out: Float64Array): Float64Array | void;
  /** Write R_xᵀ u (length n) into out (or return it). */
  vjp?(x: Float64Array, u: Float64Array, out: Float64Array): Float64Array | void;
  /** Write R_x dx (length S·A) into out (or return it). */
  jvp?(x: Float64Array, dx: Float64Array, out: Float64Array): Float64Array | void;
  /** S·A when the model has a fixed size (checked against the MDP). */
  readonly rows?: number;
}

/** x-dependent transitions P_x (docs/math.md#x-dependent-transitions); the MDP must be dense. */
export interface TransitionModel {
  /** Write P_x (S·A × S, row-major, rows stochastic) into out (or return it). */
  P(x: Float64Array, out: Float64Array): Float64Array | void;
  /** Write Σ_{s,a} u(s,a) Σ_s' ∂P_x(s'|s,a)/∂x_k V(s') for k < n into out (or return it). */
  vjpPV(x: Float64Array, V: Float64Array, u: Float64Array, out: Float64Array): Float64Array | void;
}

/** An upper objective on policy tables: f(x, π), ∂f/∂x and ∂f/∂π(a|s) (table entries, not logits). */
export interface PolicyObjective {
  /** f(x, π). */
  value(x: Float64Array, pi: Float64Array, mdp: TabularMDP): number;
  /** ∂f/∂x (length n), written into `out`. */
  gradX(x: Float64Array, pi: Float64Array, out: Float64Array, mdp: TabularMDP): Float64Array | void;
  /** ∂f/∂π(a|s) (length S·A), written into `out`. */
  gradPi(x: Float64Array, pi: Float64Array, out: Float64Array, mdp: TabularMDP): Float64Array | void;
  /** S·A when the objective has a fixed size (checked against the MDP). */
  readonly rows?: number;
  /** n when the objective has a fixed size in x (checked against reward.dim). */
  readonly dim?: number;
}

/** The parts of a `BilevelProblem`. */
export interface BilevelProblemSpec {
  mdp: TabularMDP;
  /** Lower-level entropy temperature τ ≥ 0 (most methods need τ > 0). */
  tau: number;
  reward: RewardModel;
  upper: PolicyObjective;
  transitions?: TransitionModel;
}

export type { Counters } from "../mdp";

/**
 * A bilevel problem min_x f(x, π*_x), π*_x the soft-optimal policy of the MDP under the
 * reward r_x at temperature τ: the MDP, the reward model, the upper objective and,
 * optionally, x-dependent transitions.
 */
export class BilevelProblem {
  readonly mdp: TabularMDP;
  readonly tau: number;
  readonly reward: RewardModel;
  readonly upper: PolicyObjective;
  readonly transitions?: TransitionModel;
  /** n, the dimension of x. */
  readonly n: number;
  private readonly objectiveWork: Counters = noWork();
  private jac?: Float64Array;

  /** Checks that the parts fit together (sizes of the reward model, the upper objective and the transitions against the MDP). */
  constructor(spec: BilevelProblemSpec) {
    if (typeof spec !== "object" || spec === null) throw new ShapeError("spec", "must be an object { mdp, tau, reward, upper, transitions? }", spec);
    if (!(spec.mdp instanceof TabularMDP)) throw new ShapeError("mdp", "must be a TabularMDP", spec.mdp);
    this.mdp = spec.mdp;
    this.tau = check.nonNegative("tau", spec.tau);
    const rm = spec.reward;
    if (typeof rm !== "object" || rm === null || typeof rm.reward !== "function") throw new ShapeError("reward", "must be a reward model { dim, reward(x, out), jacobian? | vjp? }", rm);
    this.n = check.positiveInt("reward.dim", rm.dim);
    if (typeof rm.vjp !== "function" && typeof rm.jacobian !== "function") throw new ShapeError("reward", "must provide vjp(x, u, out) or jacobian(x, out)", rm);
    this.reward = rm;
    const up = spec.upper;
    if (typeof up !== "object" || up === null || typeof up.value !== "function" || typeof up.gradX !== "function" || typeof up.gradPi !== "function") {
      throw new ShapeError("upper", "must be an objective { value(x, pi), gradX(x, pi, out), gradPi(x, pi, out) }", up);
    }
    this.upper = up;
    const SA = this.mdp.S * this.mdp.A;
    if (rm.rows !== undefined && rm.rows !== SA) throw new ShapeError("reward", `has ${rm.rows} rows but the MDP has S·A = ${SA}`, rm.rows);
    if (up.rows !== undefined && up.rows !== SA) throw new ShapeError("upper", `is defined on ${up.rows} state-action pairs but the MDP has S·A = ${SA}`, up.rows);
    if (up.dim !== undefined && up.dim !== this.n) throw new ShapeError("upper", `expects x of length ${up.dim} but reward.dim = ${this.n}`, up.dim);
    if (spec.transitions !== undefined) {
      const t = spec.transitions;
      if (typeof t !== "object" || t === null || typeof t.P !== "function" || typeof t.vjpPV !== "function") throw new ShapeError("transitions", "must be { P(x, out), vjpPV(x, V, u, out) }", t);
      if (this.mdp.kind !== "dense") throw new ShapeError("transitions", "x-dependent transitions need a dense MDP", this.mdp.kind);
      this.transitions = t;
    }
  }

  /**
   * The same problem at another entropy temperature τ: the same MDP, reward model, upper
   * objective and transitions (shared, not copied). The stages of a temperature continuation
   * use it (docs/math.md#tau-continuation): a run at a larger τ, then one at the problem's own
   * τ from where it ended.
   */
  withTau(tau: number): BilevelProblem {
    return new BilevelProblem({ mdp: this.mdp, tau: check.nonNegative("tau", tau), reward: this.reward, upper: this.upper, transitions: this.transitions });
  }

  /** Check x: length n, finite entries. Returns a Float64Array (the input when it is one). */
  checkX(x: unknown): Float64Array {
    return check.float64("x", x, this.n, "n = reward.dim");
  }

  /** Require τ > 0 for methods built on the soft optimum. */
  requireSoft(method: string): void {
    if (!(this.tau > 0)) throw new DomainError("tau", `${method} needs an entropy temperature tau > 0`, this.tau);
  }

  /** r_x (S·A). */
  rewardAt(x: Float64Array, out: Float64Array = new Float64Array(this.mdp.S * this.mdp.A)): Float64Array {
    return result("reward.reward", this.reward.reward(x, out), out, out.length);
  }

  /**
   * Move the MDP to P_x when the transitions depend on x (a no-op otherwise): every solve,
   * sweep or sample at x needs this call first.
   */
  moveTo(x: Float64Array): void {
    if (this.transitions) this.moveTransitions(x);
  }

  /**
   * The work (sweeps, solves, sampled steps) done so far inside the upper objective's
   * evaluations through this problem (f, ∂f/∂x, ∂f/∂π): the objective's own cost. A copy.
   */
  get upperWork(): Counters {
    return { ...this.objectiveWork };
  }

  /**
   * D_xᵀ u = R_xᵀ u (+ γ·∂(P_x V)ᵀu when P depends on x), length n. Writes into `out`
   * when given (zeroed first, as a fresh array would be).
   */
  vjp(x: Float64Array, u: Float64Array, V?: Float64Array, into?: Float64Array): Float64Array {
    const n = this.n, SA = this.mdp.S * this.mdp.A;
    let out: Float64Array = into ? zeroed(into, n, "vjp") : new Float64Array(n);
    if (this.reward.vjp) {
      out = result("reward.vjp", this.reward.vjp(x, u, out), out, n);
    } else {
      const J = this.jacobianAt(x);
      for (let i = 0; i < SA; i++) {
        const ui = u[i];
        if (ui === 0) continue;
        const row = i * n;
        for (let k = 0; k < n; k++) out[k] += ui * J[row + k];
      }
    }
    if (this.transitions) {
      if (!V) throw new Error("vjp: V* is needed when transitions depend on x");
      const tmp = new Float64Array(n);
      // terminal states have no continuation term γ P_x V, so no transition derivative (docs/math.md#terminal-states)
      const term = this.mdp.terminal, A = this.mdp.A;
      let uc = u;
      if (term) {
        uc = Float64Array.from(u);
        for (let s = 0; s < term.length; s++) if (term[s]) uc.fill(0, s * A, s * A + A);
      }
      const t = result("transitions.vjpPV", this.transitions.vjpPV(x, V, uc, tmp), tmp, n);
      const g = this.mdp.gamma;
      for (let k = 0; k < n; k++) out[k] += g * t[k];
    }
    return out;
  }

  /** R_x dx (S·A). */
  jvp(x: Float64Array, dx: Float64Array): Float64Array {
    const n = this.n, SA = this.mdp.S * this.mdp.A;
    const out = new Float64Array(SA);
    if (this.reward.jvp) return result("reward.jvp", this.reward.jvp(x, dx, out), out, SA);
    const J = this.jacobianAt(x);
    for (let i = 0; i < SA; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += J[i * n + k] * dx[k];
      out[i] = acc;
    }
    return out;
  }

  /** R_x (S·A × n); needs `jacobian` or builds it column by column from `jvp`/`vjp`. */
  jacobianAt(x: Float64Array): Float64Array {
    const n = this.n, SA = this.mdp.S * this.mdp.A;
    const J = (this.jac ??= new Float64Array(SA * n));
    if (this.reward.jacobian) return result("reward.jacobian", this.reward.jacobian(x, J), J, SA * n);
    // row i of R_x is R_xᵀ e_i
    const e = new Float64Array(SA), row = new Float64Array(n);
    for (let i = 0; i < SA; i++) {
      e.fill(0);
      e[i] = 1;
      J.set(result("reward.vjp", this.reward.vjp!(x, e, row), row, n), i * n);
    }
    return J;
  }

  // The objective callbacks run inside a reading of the work meter: what they do on the
  // MDP is the objective's own cost (compareAlgorithms' "solves in f"). (No closure per
  // call: these run in the algorithms' inner loops.)

  /** f(x, π). */
  value(x: Float64Array, pi: Float64Array): number {
    let v: number;
    openReading();
    try {
      v = this.upper.value(x, pi, this.mdp);
    } finally {
      closeReading(this.objectiveWork);
    }
    if (typeof v !== "number" || !Number.isFinite(v)) throw new DomainError("upper.value", "must return a finite number", v);
    return v;
  }

  /** ∂f/∂x (n); into `out` when given (zeroed first, as a fresh array would be). */
  gradX(x: Float64Array, pi: Float64Array, into?: Float64Array): Float64Array {
    const out = into ? zeroed(into, this.n, "gradX") : new Float64Array(this.n);
    let r: Float64Array | void;
    openReading();
    try {
      r = this.upper.gradX(x, pi, out, this.mdp);
    } finally {
      closeReading(this.objectiveWork);
    }
    return result("upper.gradX", r, out, this.n);
  }

  /** ∂f/∂π (S·A); into `out` when given (zeroed first, as a fresh array would be). */
  gradPi(x: Float64Array, pi: Float64Array, into?: Float64Array): Float64Array {
    const SA = this.mdp.S * this.mdp.A;
    const out = into ? zeroed(into, SA, "gradPi") : new Float64Array(SA);
    let r: Float64Array | void;
    openReading();
    try {
      r = this.upper.gradPi(x, pi, out, this.mdp);
    } finally {
      closeReading(this.objectiveWork);
    }
    return result("upper.gradPi", r, out, SA);
  }

  private moveTransitions(x: Float64Array): void {
    const { S, A } = this.mdp;
    const out = new Float64Array(S * A * S);
    const P = result("transitions.P", this.transitions!.P(x, out), out, out.length);
    const last = currentP.get(this.mdp);
    if (last && sameArray(last, P)) return;
    this.mdp.setTransitions(P);
    currentP.set(this.mdp, Float64Array.from(P));
  }
}

/**
 * The P_x each MDP was last moved to, kept per MDP rather than per problem: problems built on
 * one MDP (withTrajectory, withTau, contextual blocks) move the same transitions, so a
 * per-problem record went stale when a sibling moved them.
 */
const currentP = new WeakMap<TabularMDP, Float64Array>();

/** Accept a callback's output written into `out` or returned; check length and finiteness. */
export function result(name: string, returned: unknown, out: Float64Array, length: number): Float64Array {
  let r: ArrayLike<number> = out;
  if (returned !== undefined && returned !== out) {
    if (!Array.isArray(returned) && !ArrayBuffer.isView(returned)) throw new ShapeError(name, "must write into out or return an array", returned);
    r = returned as ArrayLike<number>;
  }
  if (r.length !== length) throw new ShapeError(name, `must produce ${length} numbers`, r.length);
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(r[i])) throw new DomainError(name, "must produce finite numbers", r[i], i);
  }
  if (r !== out) out.set(r);
  return out;
}

/** A caller's output buffer, checked and zeroed (callbacks may accumulate into out). */
function zeroed(out: Float64Array, length: number, name: string): Float64Array {
  if (out.length !== length) throw new ShapeError(name, `out must have length ${length}`, out.length);
  out.fill(0);
  return out;
}

function sameArray(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
