// Upper objectives given as functions of sampled trajectories, SoBiRL eq. (12)
// (docs/math.md#model-free):  f(x, π) = E_{τ_1..τ_N ∼ Pr^π_{M_U}}[ l(x; τ_1, …, τ_N) ],
// where each τ_i is an H-step trajectory of the upper MDP M_U run with the lower policy.
//
// Shapes:
//   a group of N trajectories (TrajectoryGroup): states and actions are Int32Arrays of
//   length N·H, row-major (trajectory i, step t) at index i·H + t — the layout
//   `sampleTrajectories` returns, so the groups of a batch of M·N episodes are the
//   consecutive slices [g·N·H, (g+1)·N·H);
//   x (n); r_x, rTrue, π, ∂f/∂π (S·A, index s·A + a).
//
// Exact values (tiny problems only): every H-step trajectory of M_U is enumerated with its
// probability ρ_U(s_0) Π_t π(a_t|s_t) Π_t P_U(s_{t+1}|s_t,a_t), and E[l] is the sum over all
// groups of N trajectories (docs/math.md#rlhf, check C24).
import { DomainError, ShapeError, type Where } from "../errors";
import { TabularMDP } from "../mdp";
import * as check from "../validate";
import type { BilevelProblem, PolicyObjective, RewardModel } from "./problem";
import { exp, log1p, pow } from "../util/math";

/**
 * N trajectories of horizon H, row-major (i, t) at index i·H + t. A trajectory that ended at
 * a terminal state before H steps holds state and action −1 at its later steps
 * (docs/math.md#terminal-states): losses skip those steps.
 */
export interface TrajectoryGroup {
  readonly states: Int32Array;
  readonly actions: Int32Array;
}

/** What a trajectory loss may use besides x and the group. */
export interface TrajectoryContext {
  /** The problem's reward model: r_x and R_xᵀu for losses built on the learned reward. */
  readonly reward: RewardModel;
  /** The MDP the trajectories come from (M_U): its S and A give the flat index s·A + a. */
  readonly mdp: TabularMDP;
}

/**
 * An upper objective of trajectories, eq. (12): l(x; τ_1..τ_N) and ∇_x l.
 * Both must be deterministic functions of (x, group).
 */
export interface TrajectoryObjective {
  /** N, trajectories per group. */
  readonly groupSize: number;
  /** H, steps per trajectory. */
  readonly horizon: number;
  /** The upper MDP M_U (same S and A as the lower MDP); the lower MDP when omitted. */
  readonly upperMDP?: TabularMDP;
  /** l(x; group). */
  loss(x: Float64Array, group: TrajectoryGroup, ctx: TrajectoryContext): number;
  /** ∇_x l(x; group), length n, written into out (or returned). */
  gradX(x: Float64Array, group: TrajectoryGroup, out: Float64Array, ctx: TrajectoryContext): Float64Array | void;
  /**
   * Optional: an objective with the same expectation E[l] and a smaller group (e.g. one
   * pair instead of several i.i.d. pairs). Exact enumeration uses it instead.
   */
  readonly reduced?: TrajectoryObjective;
}

/** Check an objective's shape against a problem; returns the upper MDP to sample from. */
export function checkObjective(objective: unknown, mdp: TabularMDP, arg = "objective"): TabularMDP {
  const o = objective as TrajectoryObjective;
  if (typeof o !== "object" || o === null || typeof o.loss !== "function" || typeof o.gradX !== "function") {
    throw new ShapeError(arg, "must be a trajectory objective { groupSize, horizon, loss(x, group, ctx), gradX(x, group, out, ctx), upperMDP? }", objective);
  }
  check.positiveInt(`${arg}.groupSize`, o.groupSize);
  check.positiveInt(`${arg}.horizon`, o.horizon);
  if (o.upperMDP === undefined) return mdp;
  if (!(o.upperMDP instanceof TabularMDP)) throw new ShapeError(`${arg}.upperMDP`, "must be a TabularMDP", o.upperMDP);
  if (o.upperMDP.S !== mdp.S || o.upperMDP.A !== mdp.A) {
    throw new ShapeError(`${arg}.upperMDP`, `must have the lower MDP's S = ${mdp.S} and A = ${mdp.A}`, `S = ${o.upperMDP.S}, A = ${o.upperMDP.A}`);
  }
  return o.upperMDP;
}

/** Group g of a batch of M·N episodes (views, no copy). */
export function groupAt(states: Int32Array, actions: Int32Array, g: number, N: number, H: number): TrajectoryGroup {
  const a = g * N * H, b = a + N * H;
  return { states: states.subarray(a, b), actions: actions.subarray(a, b) };
}

/** l(x; group), checked finite. @internal */
export function lossOf(objective: TrajectoryObjective, x: Float64Array, group: TrajectoryGroup, ctx: TrajectoryContext, where?: Where): number {
  const v = objective.loss(x, group, ctx);
  if (typeof v !== "number" || !Number.isFinite(v)) throw new DomainError("objective.loss", "must return a finite number", v, where);
  return v;
}

/** ∇_x l(x; group), checked: length n and finite entries. @internal */
export function gradXOf(objective: TrajectoryObjective, x: Float64Array, group: TrajectoryGroup, ctx: TrajectoryContext, out: Float64Array, where?: Where): Float64Array {
  out.fill(0);
  return checked("objective.gradX", objective.gradX(x, group, out, ctx), out, where);
}

/** Accept a callback's output written into `out` or returned; check length and finiteness, naming the position. */
export function checked(name: string, returned: unknown, out: Float64Array, where?: Where): Float64Array {
  let r: ArrayLike<number> = out;
  if (returned !== undefined && returned !== out) {
    if (!Array.isArray(returned) && !ArrayBuffer.isView(returned)) throw new ShapeError(name, "must write into out or return an array", returned, where);
    r = returned as ArrayLike<number>;
  }
  if (r.length !== out.length) throw new ShapeError(name, `must produce ${out.length} numbers`, r.length, where);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(r[i])) throw new DomainError(name, `must produce finite numbers (entry ${i})`, r[i], where);
  }
  if (r !== out) out.set(r);
  return out;
}

/** r_x (length `rows`) from a reward model, checked. */
export function rewardValues(reward: RewardModel, x: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows);
  return checked("reward.reward", reward.reward(x, out), out);
}

/** R_xᵀ u (length n) from a reward model: its vjp, or its Jacobian. Transitions play no part. */
export function rewardVjp(reward: RewardModel, x: Float64Array, u: Float64Array): Float64Array {
  const n = reward.dim;
  const out = new Float64Array(n);
  if (typeof reward.vjp === "function") return checked("reward.vjp", reward.vjp(x, u, out), out);
  const SA = u.length;
  const J = checked("reward.jacobian", reward.jacobian!(x, new Float64Array(SA * n)), new Float64Array(SA * n));
  for (let i = 0; i < SA; i++) {
    const ui = u[i];
    if (ui === 0) continue;
    for (let k = 0; k < n; k++) out[k] += ui * J[i * n + k];
  }
  return out;
}


// ---------------------------------------------------------------------------------------
// Preference learning: Bradley–Terry cross-entropy on trajectory pairs

/** Options of `preferenceBCE`. */
export interface PreferenceBCESpec {
  /** The hidden reward r_true (length S·A) of the Bradley–Terry labeller. */
  rTrue: ArrayLike<number>;
  /** H, steps per trajectory (fragment length). */
  horizon: number;
  /** Pairs per group (default 1, so N = 2·pairs); l is the mean BCE over the group's pairs. */
  pairs?: number;
  /**
   * 'soft' (default): the target is p_h = σ(R_true(τ1) − R_true(τ2)), the probability that a
   * Bradley–Terry labeller prefers τ1. The BCE averaged over a sampled 0/1 label equals the
   * BCE against p_h, so soft labels give the same f(x, π) with less variance.
   * 'hard': a noiseless labeller, y = 1{R_true(τ1) > R_true(τ2)} (½ on ties).
   */
  labels?: "soft" | "hard";
  /**
   * Discount of the fragment returns R(τ) = Σ_{t<H} γ_U^t r(s_t, a_t). Default 1: undiscounted
   * sums over the H-step fragment, the return differences of deep RLHF reward learning
   * (docs/math.md#sobirl "CE on return differences", docs/math.md#rlhf).
   */
  gammaU?: number;
  /** Weight of (λ/2)‖x‖² added to l (default 0). */
  lambda?: number;
  /** M_U; the lower MDP when omitted. */
  upperMDP?: TabularMDP;
}

export interface PreferenceBCE extends TrajectoryObjective {
  readonly rTrue: Float64Array;
  readonly pairs: number;
  readonly labels: "soft" | "hard";
  readonly gammaU: number;
  readonly lambda: number;
  /** f(x, π) = E_{τ1,τ2 ∼ π}[BCE] by enumerating all trajectory pairs (tiny problems only). */
  exactValue(problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>): number;
  /** ∂f/∂x at fixed π, by enumeration (length n). */
  exactGradX(problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>): Float64Array;
  /** ∂f/∂π(a|s) at fixed x (table entries, not logits), by enumeration (length S·A). */
  exactGradPi(problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>): Float64Array;
}

/**
 * Bradley–Terry cross-entropy on trajectory pairs (RLHF; N = 2 per pair):
 *   d = R_x(τ1) − R_x(τ2),   P_x(τ1 ≻ τ2) = σ(d),
 *   l = BCE(y, σ(d)) = softplus(d) − y·d,   ∂l/∂d = σ(d) − y,
 *   ∇_x l = (σ(d) − y) · R_xᵀ (c(τ1) − c(τ2)),   c(τ) = Σ_t γ_U^t e_{(s_t,a_t)}   (one vjp),
 * with the label y = p_h = σ(R_true(τ1) − R_true(τ2)) ('soft') or its 0/1 rounding ('hard').
 * A group of several pairs averages the pair losses. The ∇_x l goes through the problem's
 * reward model (R_xᵀu), so any reward parameterisation works; for the table r_x = x, R_x = I.
 */
export function preferenceBCE(spec: PreferenceBCESpec): PreferenceBCE {
  if (typeof spec !== "object" || spec === null) throw new ShapeError("preferenceBCE", "takes { rTrue, horizon, pairs?, labels?, gammaU?, lambda?, upperMDP? }", spec);
  const rTrue = check.float64("rTrue", spec.rTrue, (spec.rTrue as ArrayLike<number>)?.length ?? -1, "S·A").slice();
  const H = check.positiveInt("horizon", spec.horizon);
  const pairs = spec.pairs === undefined ? 1 : check.positiveInt("pairs", spec.pairs);
  const labels = spec.labels ?? "soft";
  if (labels !== "soft" && labels !== "hard") throw new DomainError("labels", "must be 'soft' or 'hard'", labels);
  const gammaU = spec.gammaU === undefined ? 1 : check.nonNegative("gammaU", spec.gammaU);
  const lambda = spec.lambda === undefined ? 0 : check.nonNegative("lambda", spec.lambda);
  if (spec.upperMDP !== undefined && !(spec.upperMDP instanceof TabularMDP)) throw new ShapeError("upperMDP", "must be a TabularMDP", spec.upperMDP);
  const SA = rTrue.length;
  if (spec.upperMDP && spec.upperMDP.S * spec.upperMDP.A !== SA) {
    throw new ShapeError("rTrue", `must have length S·A = ${spec.upperMDP.S * spec.upperMDP.A} (upperMDP)`, SA);
  }
  const gpow = new Float64Array(H);
  for (let t = 0; t < H; t++) gpow[t] = t === 0 ? 1 : gpow[t - 1] * gammaU;

  // r_x for the last (reward model, x) seen: the loss and its gradient are called group after group
  let lastReward: RewardModel | undefined, lastX: Float64Array | undefined, lastR: Float64Array | undefined;
  const rx = (x: Float64Array, ctx: TrajectoryContext): Float64Array => {
    const { reward } = ctx;
    if (lastReward === reward && lastX && lastX.length === x.length && lastX.every((v, i) => v === x[i])) return lastR!;
    lastR = rewardValues(reward, x, SA);
    lastX = Float64Array.from(x);
    lastReward = reward;
    return lastR;
  };
  const ret = (r: Float64Array, A: number, group: TrajectoryGroup, i: number): number => {
    let acc = 0;
    const o = i * H;
    for (let t = 0; t < H; t++) {
      const st = group.states[o + t];
      if (st < 0) break; // the episode ended at a terminal state
      acc += gpow[t] * r[st * A + group.actions[o + t]];
    }
    return acc;
  };
  const label = (A: number, group: TrajectoryGroup, p: number): number => {
    const dt = ret(rTrue, A, group, 2 * p) - ret(rTrue, A, group, 2 * p + 1);
    if (labels === "soft") return sigmoid(dt);
    return dt > 0 ? 1 : dt < 0 ? 0 : 0.5;
  };
  const checkCall = (group: TrajectoryGroup, ctx: TrajectoryContext, N: number): number => {
    if (typeof ctx !== "object" || ctx === null || !(ctx.mdp instanceof TabularMDP)) throw new ShapeError("ctx", "must be { reward, mdp }", ctx);
    if (ctx.mdp.S * ctx.mdp.A !== SA) throw new ShapeError("rTrue", `must have length S·A = ${ctx.mdp.S * ctx.mdp.A} of the MDP`, SA);
    if (typeof group !== "object" || group === null || !(group.states instanceof Int32Array) || !(group.actions instanceof Int32Array)) {
      throw new ShapeError("group", "must be { states: Int32Array, actions: Int32Array }", group);
    }
    if (group.states.length !== N * H || group.actions.length !== N * H) throw new ShapeError("group", `must hold N·H = ${N * H} steps`, group.states.length);
    return ctx.mdp.A;
  };

  const make = (np: number): PreferenceBCE => {
    const N = 2 * np;
    const obj: PreferenceBCE = {
      groupSize: N,
      horizon: H,
      upperMDP: spec.upperMDP,
      rTrue,
      pairs: np,
      labels,
      gammaU,
      lambda,
      loss(x, group, ctx) {
        const A = checkCall(group, ctx, N);
        const r = rx(x, ctx);
        let l = 0;
        for (let p = 0; p < np; p++) {
          const d = ret(r, A, group, 2 * p) - ret(r, A, group, 2 * p + 1);
          l += softplus(d) - label(A, group, p) * d;
        }
        l /= np;
        if (lambda > 0) l += 0.5 * lambda * sumSq(x);
        return l;
      },
      gradX(x, group, out, ctx) {
        const A = checkCall(group, ctx, N);
        const r = rx(x, ctx);
        const u = new Float64Array(SA);
        for (let p = 0; p < np; p++) {
          const d = ret(r, A, group, 2 * p) - ret(r, A, group, 2 * p + 1);
          const w = (sigmoid(d) - label(A, group, p)) / np;
          if (w === 0) continue;
          const o1 = 2 * p * H, o2 = o1 + H;
          for (let t = 0; t < H; t++) {
            const s1 = group.states[o1 + t], s2 = group.states[o2 + t];
            if (s1 >= 0) u[s1 * A + group.actions[o1 + t]] += w * gpow[t];
            if (s2 >= 0) u[s2 * A + group.actions[o2 + t]] -= w * gpow[t];
          }
        }
        const g = rewardVjp(ctx.reward, x, u);
        if (lambda > 0) for (let k = 0; k < g.length; k++) g[k] += lambda * x[k];
        return g;
      },
      exactValue(problem, x, pi) {
        return exactOf(obj, problem, x, pi, {}).value;
      },
      exactGradX(problem, x, pi) {
        return exactOf(obj, problem, x, pi, { gradX: true }).gradX!;
      },
      exactGradPi(problem, x, pi) {
        return exactOf(obj, problem, x, pi, { gradPi: true }).gradPi!;
      },
    };
    return obj;
  };
  const top = make(pairs);
  // E[mean of i.i.d. pair losses] = E[one pair's loss]: enumerate pairs, not groups of pairs
  if (pairs > 1) (top as { reduced?: TrajectoryObjective }).reduced = make(1);
  return top;
}

function exactOf(obj: TrajectoryObjective, problem: BilevelProblem, x: ArrayLike<number>, pi: ArrayLike<number>, want: ExpectationWants): ExactExpectation {
  const mdpU = checkObjective(obj, problem.mdp);
  const xx = problem.checkX(x);
  const p = check.policy("pi", pi, mdpU.S, mdpU.A);
  return expectation(obj, { reward: problem.reward, mdp: mdpU }, xx, p, want);
}

// ---------------------------------------------------------------------------------------
// Exact enumeration (tiny problems)

/** Every H-step trajectory of an MDP with its probability under π. */
export interface TrajectoryTable {
  H: number;
  /** Number of trajectories T. */
  count: number;
  /** (T, H) row-major. */
  states: Int32Array;
  actions: Int32Array;
  /**
   * Pr^π(τ) = ρ(s_0) Π_t π(a_t|s_t) Π_{t<H−1} P(s_{t+1}|s_t,a_t), length T; a trajectory that
   * ends at a terminal state has −1 at its later steps, which contribute no factor.
   */
  prob: Float64Array;
  /** ∂Pr^π(τ)/∂π(a|s) (table entries), shape (T, S·A). */
  dprob: Float64Array;
}

/**
 * Enumerate the H-step trajectories: s_0 in the support of ρ, every action (also those with
 * π(a|s) = 0, whose probability derivative is not zero), s_{t+1} in the support of P(·|s_t,a_t).
 */
export function enumerateTrajectories(mdp: TabularMDP, pi: ArrayLike<number>, H: number, maxCount = 1_000_000): TrajectoryTable {
  const { S, A } = mdp;
  const SA = S * A;
  const p = check.policy("pi", pi, S, A);
  const h = check.positiveInt("H", H);
  const next = successors(mdp);
  const term = mdp.terminal;
  const rho = mdp.rho;
  const states: number[] = [], actions: number[] = [], prob: number[] = [];
  const dprobRows: Float64Array[] = [];
  const ss = new Int32Array(h), as = new Int32Array(h);
  let count = 0;
  const emit = (pP: number) => {
    // pP = ρ(s_0) Π P; π factors and their leave-one-out products
    const f = new Float64Array(h);
    for (let t = 0; t < h; t++) f[t] = ss[t] < 0 ? 1 : p[ss[t] * A + as[t]];
    const pre = new Float64Array(h + 1), suf = new Float64Array(h + 1);
    pre[0] = 1;
    for (let t = 0; t < h; t++) pre[t + 1] = pre[t] * f[t];
    suf[h] = 1;
    for (let t = h - 1; t >= 0; t--) suf[t] = suf[t + 1] * f[t];
    const d = new Float64Array(SA);
    for (let t = 0; t < h; t++) if (ss[t] >= 0) d[ss[t] * A + as[t]] += pP * pre[t] * suf[t + 1];
    for (let t = 0; t < h; t++) { states.push(ss[t]); actions.push(as[t]); }
    prob.push(pP * pre[h]);
    dprobRows.push(d);
    if (++count > maxCount) throw new DomainError("H", `exact enumeration would visit more than ${maxCount} trajectories; use a smaller horizon or the Monte-Carlo estimators`, h);
  };
  const walk = (t: number, s: number, pP: number) => {
    ss[t] = s;
    for (let a = 0; a < A; a++) {
      as[t] = a;
      if (t === h - 1) { emit(pP); continue; }
      if (term && term[s]) {
        // the episode ends here (docs/math.md#terminal-states)
        ss.fill(-1, t + 1);
        as.fill(-1, t + 1);
        emit(pP);
        continue;
      }
      const row = next[s * A + a];
      for (let k = 0; k < row.to.length; k++) walk(t + 1, row.to[k], pP * row.p[k]);
    }
  };
  for (let s = 0; s < S; s++) if (rho[s] > 0) walk(0, s, rho[s]);
  const dprob = new Float64Array(count * SA);
  for (let i = 0; i < count; i++) dprob.set(dprobRows[i], i * SA);
  return { H: h, count, states: Int32Array.from(states), actions: Int32Array.from(actions), prob: Float64Array.from(prob), dprob };
}

/**
 * The support of every row P(·|s,a) of the effective transitions: empty at terminal states
 * (docs/math.md#terminal-states). @internal
 */
export function successors(mdp: TabularMDP): { to: number[]; p: number[] }[] {
  const { S, A } = mdp;
  const tr = mdp.transitions({ masked: true });
  const rows: { to: number[]; p: number[] }[] = [];
  for (let i = 0; i < S * A; i++) {
    const to: number[] = [], p: number[] = [];
    if ("P" in tr) {
      for (let j = 0; j < S; j++) { const v = tr.P[i * S + j]; if (v > 0) { to.push(j); p.push(v); } }
    } else {
      for (let k = tr.indptr[i]; k < tr.indptr[i + 1]; k++) if (tr.probs[k] > 0) { to.push(tr.indices[k]); p.push(tr.probs[k]); }
    }
    rows.push({ to, p });
  }
  return rows;
}

export interface ExpectationWants {
  gradX?: boolean;
  gradPi?: boolean;
}

export interface ExactExpectation {
  /** f(x, π) = E[l]. */
  value: number;
  /** E[∇_x l] (length n), when asked. */
  gradX?: Float64Array;
  /** ∂f/∂π(a|s) = Σ_groups l · ∂Pr(group)/∂π(a|s) (length S·A), when asked. */
  gradPi?: Float64Array;
  /** Groups enumerated. */
  groups: number;
}

/**
 * E over all groups of N trajectories of the upper MDP under π (tiny problems): f(x, π),
 * and optionally ∂f/∂x and ∂f/∂π. Uses `objective.reduced` when given. Throws a DomainError
 * when more than `maxGroups` groups would be needed.
 */
export function expectation(objective: TrajectoryObjective, ctx: TrajectoryContext, x: Float64Array, pi: Float64Array, want: ExpectationWants = {}, maxGroups = 4_000_000): ExactExpectation {
  const obj = objective.reduced ?? objective;
  const N = check.positiveInt("objective.groupSize", obj.groupSize);
  const H = check.positiveInt("objective.horizon", obj.horizon);
  const { S, A } = ctx.mdp;
  const SA = S * A;
  const n = x.length;
  const tab = enumerateTrajectories(ctx.mdp, pi, H);
  const relevant: number[] = [];
  for (let i = 0; i < tab.count; i++) {
    let keep = tab.prob[i] > 0;
    if (!keep && want.gradPi) for (let j = 0; j < SA && !keep; j++) keep = tab.dprob[i * SA + j] !== 0;
    if (keep) relevant.push(i);
  }
  const T = relevant.length;
  const total = pow(T, N);
  if (total > maxGroups) throw new DomainError("objective", `exact enumeration needs ${T}^${N} = ${total} groups (more than ${maxGroups}); use the Monte-Carlo estimators`, total);
  const states = new Int32Array(N * H), actions = new Int32Array(N * H);
  const group: TrajectoryGroup = { states, actions };
  const idx = new Int32Array(N);
  const gx = want.gradX ? new Float64Array(n) : undefined;
  const gp = want.gradPi ? new Float64Array(SA) : undefined;
  const tmp = new Float64Array(n);
  let value = 0;
  const loo = new Float64Array(N);
  for (let g = 0; g < total; g++) {
    // odometer over relevant^N
    let rest = g;
    for (let i = N - 1; i >= 0; i--) { idx[i] = relevant[rest % T]; rest = Math.floor(rest / T); }
    let pg = 1;
    for (let i = 0; i < N; i++) pg *= tab.prob[idx[i]];
    let anyLoo = false;
    if (gp) {
      for (let i = 0; i < N; i++) {
        let w = 1;
        for (let j = 0; j < N; j++) if (j !== i) w *= tab.prob[idx[j]];
        loo[i] = w;
        if (w !== 0) anyLoo = true;
      }
    }
    if (pg === 0 && !anyLoo) continue;
    for (let i = 0; i < N; i++) {
      states.set(tab.states.subarray(idx[i] * H, idx[i] * H + H), i * H);
      actions.set(tab.actions.subarray(idx[i] * H, idx[i] * H + H), i * H);
    }
    const l = lossOf(obj, x, group, ctx);
    if (pg !== 0) {
      value += pg * l;
      if (gx) {
        gradXOf(obj, x, group, ctx, tmp);
        for (let k = 0; k < n; k++) gx[k] += pg * tmp[k];
      }
    }
    if (gp && anyLoo) {
      for (let i = 0; i < N; i++) {
        const w = l * loo[i];
        if (w === 0) continue;
        const o = idx[i] * SA;
        for (let j = 0; j < SA; j++) gp[j] += w * tab.dprob[o + j];
      }
    }
  }
  return { value, gradX: gx, gradPi: gp, groups: total };
}

/** A policy objective that carries a trajectory objective (for the model-free algorithms). */
export interface TrajectoryPolicyObjective extends PolicyObjective {
  readonly trajectory: TrajectoryObjective;
}

/**
 * The policy-table form of a trajectory objective, f(x, π) = E[l], with ∂f/∂x and ∂f/∂π by
 * exact enumeration (tiny problems): use it as a BilevelProblem's `upper` so that the exact
 * engines (hypergradient 'exact', φ in histories) apply, and so that SoBiRL, the alternating
 * baseline and `hypergradient(…, { method: 'model-free' })` find the trajectory objective
 * (`upper.trajectory`). With `exact: false` the table methods throw and only the model-free
 * methods can use the problem.
 */
export function trajectoryUpper(objective: TrajectoryObjective, reward: RewardModel, options: { exact?: boolean } = {}): TrajectoryPolicyObjective {
  if (typeof objective !== "object" || objective === null || typeof objective.loss !== "function" || typeof objective.gradX !== "function") {
    throw new ShapeError("objective", "must be a trajectory objective { groupSize, horizon, loss, gradX }", objective);
  }
  if (typeof reward !== "object" || reward === null || typeof reward.reward !== "function") throw new ShapeError("reward", "must be a reward model { dim, reward(x, out), vjp? | jacobian? }", reward);
  const exact = options.exact ?? true;
  let key: { x: Float64Array; pi: Float64Array; mdp: TabularMDP } | undefined;
  let cached: ExactExpectation | undefined;
  const all = (x: Float64Array, pi: Float64Array, mdp: TabularMDP): ExactExpectation => {
    if (!exact) throw new DomainError("upper", "this trajectory objective was built with exact: false; f(x, π) can only be estimated (model-free methods)", "exact");
    if (key && key.mdp === mdp && same(key.x, x) && same(key.pi, pi)) return cached!;
    const mdpU = checkObjective(objective, mdp);
    cached = expectation(objective, { reward, mdp: mdpU }, x, pi, { gradX: true, gradPi: true });
    key = { x: Float64Array.from(x), pi: Float64Array.from(pi), mdp };
    return cached;
  };
  return {
    trajectory: objective,
    dim: reward.dim,
    value: (x, pi, mdp) => all(x, pi, mdp).value,
    gradX: (x, pi, out, mdp) => { out.set(all(x, pi, mdp).gradX!); },
    gradPi: (x, pi, out, mdp) => { out.set(all(x, pi, mdp).gradPi!); },
  };
}

/** The trajectory objective to use: the given one, or the problem's `upper.trajectory`. @internal */
export function objectiveOf(problem: BilevelProblem, given: unknown, arg = "objective"): TrajectoryObjective {
  const o = given ?? (problem.upper as Partial<TrajectoryPolicyObjective>).trajectory;
  if (o === undefined) throw new ShapeError(arg, "is required: pass a trajectory objective, or build the problem with upper: trajectoryUpper(objective, reward)", o);
  checkObjective(o, problem.mdp, arg);
  return o as TrajectoryObjective;
}

function same(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sigmoid(d: number): number {
  return d >= 0 ? 1 / (1 + exp(-d)) : exp(d) / (1 + exp(d));
}

function softplus(d: number): number {
  return d > 0 ? d + log1p(exp(-d)) : log1p(exp(d));
}

function sumSq(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}
