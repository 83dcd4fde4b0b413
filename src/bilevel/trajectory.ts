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
import { exp, log1p } from "../util/math";

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
  const Jout = new Float64Array(SA * n); // the one array jacobian writes into (or replaces by its return value)
  const J = checked("reward.jacobian", reward.jacobian!(x, Jout), Jout);
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
    if (lastReward === reward && lastX && same(lastX, x)) return lastR!;
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
  const labelOf = (dt: number): number => (labels === "soft" ? sigmoid(dt) : dt > 0 ? 1 : dt < 0 ? 0 : 0.5);
  const label = (A: number, group: TrajectoryGroup, p: number): number => labelOf(ret(rTrue, A, group, 2 * p) - ret(rTrue, A, group, 2 * p + 1));
  const checkContext = (ctx: TrajectoryContext): void => {
    if (typeof ctx !== "object" || ctx === null || !(ctx.mdp instanceof TabularMDP)) throw new ShapeError("ctx", "must be { reward, mdp }", ctx);
    if (ctx.mdp.S * ctx.mdp.A !== SA) throw new ShapeError("rTrue", `must have length S·A = ${ctx.mdp.S * ctx.mdp.A} of the MDP`, SA);
  };
  const checkCall = (group: TrajectoryGroup, ctx: TrajectoryContext, N: number): number => {
    checkContext(ctx);
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
    pairKernels.set(obj, { table: undefined, loss: obj.loss, gradX: obj.gradX, gpow, lambda, SA, checkContext, labelsFor });
    return obj;
  };
  // R_true per trajectory and the labels of every pair: fixed for a skeleton (π- and x-free)
  const labelTables = new WeakMap<TrajectorySkeleton, PairLabels>();
  const labelsFor = (sk: TrajectorySkeleton): PairLabels => {
    let lt = labelTables.get(sk);
    if (lt) return lt;
    const T = sk.count;
    const Rt = returnsOf(sk, rTrue, gpow);
    let table: Float64Array | undefined;
    if (T * T <= LABEL_TABLE_MAX) {
      table = new Float64Array(T * T);
      for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) table[a * T + b] = labelOf(Rt[a] - Rt[b]);
    }
    labelTables.set(sk, (lt = { Rt, table, label: labelOf }));
    return lt;
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
 * The π-independent part of the enumeration of an MDP's H-step trajectories: the steps of
 * every trajectory and ρ(s_0) Π_t P(s_{t+1}|s_t,a_t). Built once per (MDP, H) and cached; a
 * cached skeleton serves only while the MDP's masked transitions, ρ and terminal mask equal
 * those it was built from (`setTransitions` changes P in place). @internal
 */
export interface TrajectorySkeleton {
  readonly S: number;
  readonly A: number;
  readonly H: number;
  /** Number of trajectories T. */
  readonly count: number;
  /** (T, H) row-major; −1 after a terminal state. */
  readonly states: Int32Array;
  readonly actions: Int32Array;
  /** s_t·A + a_t, (T, H), −1 after a terminal state. */
  readonly sa: Int32Array;
  /** ρ(s_0) Π_t P(s_{t+1}|s_t,a_t), length T. */
  readonly pP: Float64Array;
}

type Transitions = ReturnType<TabularMDP["transitions"]>;
/** What a skeleton depends on: the MDP's masked transitions, ρ and terminal mask (copies). */
interface MdpStamp {
  tr: Transitions;
  rho: Float64Array;
  term: Uint8Array | undefined;
}
const skeletons = new WeakMap<TabularMDP, { skeleton: TrajectorySkeleton; stamp: MdpStamp }[]>();

function stampOf(mdp: TabularMDP): MdpStamp {
  return { tr: mdp.transitions({ masked: true }), rho: mdp.rho, term: mdp.terminal };
}

function sameStamp(a: MdpStamp, b: MdpStamp): boolean {
  if (!same(a.rho, b.rho) || (a.term === undefined) !== (b.term === undefined) || (a.term && !same(a.term, b.term!))) return false;
  if ("P" in a.tr) return "P" in b.tr && same(a.tr.P, b.tr.P);
  return !("P" in b.tr) && same(a.tr.indptr, b.tr.indptr) && same(a.tr.indices, b.tr.indices) && same(a.tr.probs, b.tr.probs);
}

function tooMany(maxCount: number, H: number): DomainError {
  return new DomainError("H", `exact enumeration would visit more than ${maxCount} trajectories; use a smaller horizon or the Monte-Carlo estimators`, H);
}

/**
 * The skeleton of the H-step trajectories of `mdp` (cached; rebuilt when the MDP changed).
 * Throws a DomainError when there are more than `maxCount` trajectories. @internal
 */
export function trajectorySkeleton(mdp: TabularMDP, H: number, maxCount = 1_000_000): TrajectorySkeleton {
  const stamp = stampOf(mdp);
  let list = skeletons.get(mdp);
  if (!list) skeletons.set(mdp, (list = []));
  let entry = list.find((e) => e.skeleton.H === H);
  if (!entry || !sameStamp(entry.stamp, stamp)) {
    const skeleton = buildSkeleton(mdp.S, mdp.A, H, stamp, maxCount);
    if (entry) {
      entry.skeleton = skeleton;
      entry.stamp = stamp;
    } else list.push((entry = { skeleton, stamp }));
  }
  if (entry.skeleton.count > maxCount) throw tooMany(maxCount, H);
  return entry.skeleton;
}

/**
 * Walk the H-step trajectories: s_0 in the support of ρ, every action (also those with
 * π(a|s) = 0, whose probability derivative is not zero), s_{t+1} in the support of P(·|s_t,a_t).
 */
function buildSkeleton(S: number, A: number, h: number, stamp: MdpStamp, maxCount: number): TrajectorySkeleton {
  const next = successorRows(stamp.tr, S, A);
  const term = stamp.term;
  const rho = stamp.rho;
  const states: number[] = [], actions: number[] = [], pPs: number[] = [];
  const ss = new Int32Array(h), as = new Int32Array(h);
  let count = 0;
  const emit = (pP: number) => {
    for (let t = 0; t < h; t++) { states.push(ss[t]); actions.push(as[t]); }
    pPs.push(pP);
    if (++count > maxCount) throw tooMany(maxCount, h);
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
  const sa = new Int32Array(count * h);
  for (let i = 0; i < sa.length; i++) sa[i] = states[i] < 0 ? -1 : states[i] * A + actions[i];
  return { S, A, H: h, count, states: Int32Array.from(states), actions: Int32Array.from(actions), sa, pP: Float64Array.from(pPs) };
}

/**
 * Pr^π(τ) for every trajectory of a skeleton and, when `withD`, the rows of ∂Pr^π(τ)/∂π as
 * sparse (T, H) tables: the distinct indices s·A + a of τ in order of first visit (−1 after the
 * last) and their entries Σ_{t: (s_t,a_t) = (s,a)} ρΠP · Π_{t' ≠ t} π(a_t'|s_t').
 */
function policyWeights(sk: TrajectorySkeleton, p: Float64Array, withD: boolean): { prob: Float64Array; dIdx: Int32Array; dVal: Float64Array } {
  const { count, H: h, sa, pP } = sk;
  const prob = new Float64Array(count);
  const dIdx = new Int32Array(withD ? count * h : 0).fill(-1), dVal = new Float64Array(withD ? count * h : 0);
  // π factors and their leave-one-out products
  const f = new Float64Array(h), pre = new Float64Array(h + 1), suf = new Float64Array(h + 1);
  pre[0] = 1;
  suf[h] = 1;
  for (let i = 0; i < count; i++) {
    const o = i * h;
    for (let t = 0; t < h; t++) f[t] = sa[o + t] < 0 ? 1 : p[sa[o + t]];
    for (let t = 0; t < h; t++) pre[t + 1] = pre[t] * f[t];
    const w = pP[i];
    prob[i] = w * pre[h];
    if (!withD) continue;
    for (let t = h - 1; t >= 0; t--) suf[t] = suf[t + 1] * f[t];
    let len = 0;
    for (let t = 0; t < h; t++) {
      const j = sa[o + t];
      if (j < 0) continue;
      let k = 0;
      while (k < len && dIdx[o + k] !== j) k++;
      if (k === len) { dIdx[o + len++] = j; dVal[o + k] = 0; }
      dVal[o + k] += w * pre[t] * suf[t + 1];
    }
  }
  return { prob, dIdx, dVal };
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
  const sk = trajectorySkeleton(mdp, h, maxCount);
  const { prob, dIdx, dVal } = policyWeights(sk, p, true);
  const dprob = new Float64Array(sk.count * SA);
  for (let i = 0; i < sk.count; i++) {
    for (let k = i * h; k < (i + 1) * h && dIdx[k] >= 0; k++) dprob[i * SA + dIdx[k]] = dVal[k];
  }
  return { H: h, count: sk.count, states: sk.states.slice(), actions: sk.actions.slice(), prob, dprob };
}

/**
 * The support of every row P(·|s,a) of the effective transitions: empty at terminal states
 * (docs/math.md#terminal-states). @internal
 */
export function successors(mdp: TabularMDP): { to: number[]; p: number[] }[] {
  return successorRows(mdp.transitions({ masked: true }), mdp.S, mdp.A);
}

function successorRows(tr: Transitions, S: number, A: number): { to: number[]; p: number[] }[] {
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
  const p = check.policy("pi", pi, S, A);
  const sk = trajectorySkeleton(ctx.mdp, H);
  const pw = policyWeights(sk, p, want.gradPi === true);
  const { prob, dIdx, dVal } = pw;
  const relevant = new Int32Array(sk.count);
  let T = 0;
  for (let i = 0; i < sk.count; i++) {
    let keep = prob[i] > 0;
    for (let k = i * H; !keep && want.gradPi && k < (i + 1) * H && dIdx[k] >= 0; k++) keep = dVal[k] !== 0;
    if (keep) relevant[T++] = i;
  }
  // T^N by exact integer products (pow(T, N) is exp(N·log T): 216² came out as 46656.00000000003,
  // one group too many for the loop below)
  let total = 1;
  for (let i = 0; i < N; i++) total *= T;
  if (total > maxGroups) throw new DomainError("objective", `exact enumeration needs ${T}^${N} = ${total} groups (more than ${maxGroups}); use the Monte-Carlo estimators`, total);
  const kernel = pairKernelOf(obj);
  if (kernel) return pairExpectation(kernel, ctx, x, sk, pw, relevant.subarray(0, T), want, total);

  const n = x.length;
  const states = new Int32Array(N * H), actions = new Int32Array(N * H);
  const group: TrajectoryGroup = { states, actions };
  const idx = new Int32Array(N);
  const gx = want.gradX ? new Float64Array(n) : undefined;
  const gp = want.gradPi ? new Float64Array(S * A) : undefined;
  const tmp = new Float64Array(n);
  let value = 0;
  const loo = new Float64Array(N);
  for (let g = 0; g < total; g++) {
    // odometer over relevant^N
    let rest = g;
    for (let i = N - 1; i >= 0; i--) { idx[i] = relevant[rest % T]; rest = Math.floor(rest / T); }
    let pg = 1;
    for (let i = 0; i < N; i++) pg *= prob[idx[i]];
    let anyLoo = false;
    if (gp) {
      for (let i = 0; i < N; i++) {
        let w = 1;
        for (let j = 0; j < N; j++) if (j !== i) w *= prob[idx[j]];
        loo[i] = w;
        if (w !== 0) anyLoo = true;
      }
    }
    if (pg === 0 && !anyLoo) continue;
    for (let i = 0; i < N; i++) {
      states.set(sk.states.subarray(idx[i] * H, idx[i] * H + H), i * H);
      actions.set(sk.actions.subarray(idx[i] * H, idx[i] * H + H), i * H);
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
      // the rows of ∂Pr/∂π are sparse: adding w·0 elsewhere would change nothing
      for (let i = 0; i < N; i++) {
        const w = l * loo[i];
        if (w === 0) continue;
        for (let k = idx[i] * H; k < (idx[i] + 1) * H && dIdx[k] >= 0; k++) gp[dIdx[k]] += w * dVal[k];
      }
    }
  }
  return { value, gradX: gx, gradPi: gp, groups: total };
}

/**
 * What the exact enumeration needs to evaluate a one-pair `preferenceBCE` objective without
 * building groups: its constants, its own loss and gradX (the fast path applies only while
 * the objective still carries them), R_true per trajectory and the label table (π- and
 * x-independent, cached per skeleton).
 */
interface PairKernel {
  readonly loss: TrajectoryObjective["loss"];
  readonly gradX: TrajectoryObjective["gradX"];
  readonly gpow: Float64Array;
  readonly lambda: number;
  /** S·A of rTrue. */
  readonly SA: number;
  /** Throws as the loss does on a context of the wrong shape. */
  checkContext(ctx: TrajectoryContext): void;
  labelsFor(sk: TrajectorySkeleton): PairLabels;
  /** The last pair table (one x). */
  table?: PairTable;
}

interface PairLabels {
  /** R_true(τ) per trajectory. */
  Rt: Float64Array;
  /** y(τ_a, τ_b) at a·T + b (T = skeleton count), or undefined when T² is too large to store. */
  table: Float64Array | undefined;
  /** y from a difference of true returns. */
  label(dt: number): number;
}

const pairKernels = new WeakMap<TrajectoryObjective, PairKernel>();

/** The pair kernel of a one-pair preferenceBCE that still has its own loss and gradX. */
function pairKernelOf(obj: TrajectoryObjective): PairKernel | undefined {
  const k = pairKernels.get(obj);
  return k && obj.groupSize === 2 && obj.loss === k.loss && obj.gradX === k.gradX ? k : undefined;
}
/** Largest table of exp(−|d|), log1p(exp(−|d|)) over pairs of distinct returns (entries). */
const PAIR_MEMO_MAX = 1 << 20;
/** Largest label table stored (entries). */
const LABEL_TABLE_MAX = 1 << 21;

/** Returns Σ_t γ^t r(s_t, a_t) of every trajectory of a skeleton. */
function returnsOf(sk: TrajectorySkeleton, r: ArrayLike<number>, gpow: Float64Array, out = new Float64Array(sk.count)): Float64Array {
  const { H, sa } = sk;
  for (let i = 0; i < sk.count; i++) {
    let acc = 0;
    for (let t = 0; t < H; t++) {
      const j = sa[i * H + t];
      if (j < 0) break; // the episode ended at a terminal state
      acc += gpow[t] * r[j];
    }
    out[i] = acc;
  }
  return out;
}

/**
 * The loss l and its slope w = ∂l/∂d = σ(d) − y of every pair (a, b) of trajectories at one
 * x (π-free): entry pos[a]·M + pos[b]. Kept by the kernel while x (through R_x, and ‖x‖² for
 * λ) stays the same, so that steps that move only π (Φσ's inner loops) skip the exp and log.
 */
interface PairTable {
  sk: TrajectorySkeleton;
  Rx: Float64Array;
  c: number;
  M: number;
  pos: Int32Array;
  L: Float64Array;
  W: Float64Array;
}

/** Largest pair table kept between calls (entries of L and of W). */
const PAIR_TABLE_MAX = 1 << 20;

function pairTable(kern: PairKernel, sk: TrajectorySkeleton, Rx: Float64Array, c: number, rel: Int32Array): PairTable {
  const last = kern.table;
  if (last && last.sk === sk && Object.is(last.c, c) && same(last.Rx, Rx)) return last;
  const { count } = sk;
  // every pair of the skeleton when that is small enough to keep, else only the relevant ones
  const full = count * count <= PAIR_TABLE_MAX;
  const M = full ? count : rel.length;
  const pos = new Int32Array(count).fill(-1);
  const idx = full ? null : rel;
  for (let k = 0; k < M; k++) pos[idx ? idx[k] : k] = k;
  const { Rt, table, label } = kern.labelsFor(sk);
  const lambda = kern.lambda;
  // e = exp(−|d|) and log1p(e) depend on |d| alone, and d(b, a) = −d(a, b) exactly: compute them
  // once per unordered pair of distinct returns (trajectories often share R_x(τ))
  const cls = new Int32Array(M);
  const ids = new Map<number, number>();
  for (let k = 0; k < M; k++) {
    const v = Rx[idx ? idx[k] : k];
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    cls[k] = id;
  }
  const K = ids.size;
  const memo = K * K <= PAIR_MEMO_MAX;
  const E = new Float64Array(memo ? K * K : 0).fill(NaN), LP = new Float64Array(memo ? K * K : 0);
  const L = new Float64Array(M * M), W = new Float64Array(M * M);
  for (let ka = 0; ka < M; ka++) {
    const a = idx ? idx[ka] : ka, Ra = Rx[a];
    for (let kb = 0; kb < M; kb++) {
      const b = idx ? idx[kb] : kb;
      const d = Ra - Rx[b];
      const y = table ? table[a * count + b] : label(Rt[a] - Rt[b]);
      // σ(d) and softplus(d) share e = exp(−|d|), as sigmoid() and softplus() compute it
      let e: number, lp: number;
      if (memo) {
        const m = cls[ka] * K + cls[kb];
        e = E[m];
        if (e === e) lp = LP[m];
        else {
          e = exp(d >= 0 ? -d : d);
          lp = log1p(e);
          const m2 = cls[kb] * K + cls[ka];
          E[m] = E[m2] = e;
          LP[m] = LP[m2] = lp;
        }
      } else {
        e = exp(d >= 0 ? -d : d);
        lp = log1p(e);
      }
      let l = (d > 0 ? d + lp : lp) - y * d;
      if (lambda > 0) l += c;
      L[ka * M + kb] = l;
      W[ka * M + kb] = (d >= 0 ? 1 / (1 + e) : e / (1 + e)) - y;
    }
  }
  const t: PairTable = { sk, Rx, c, M, pos, L, W };
  if (full) kern.table = t;
  return t;
}

/**
 * The exact expectation of a one-pair preference BCE from its pair table: the pairs (a, b) of
 * relevant trajectories in the order (and with the floating-point operations) of the general
 * loop, so f and ∂f/∂π come out bit-identical. ∂f/∂x = R_xᵀ E[w·(c(τ_a) − c(τ_b))] +
 * λ·x·Σ Pr(a)Pr(b) takes one vjp instead of one per pair (R_xᵀ is linear), so its sums run
 * in another order.
 */
function pairExpectation(
  kern: PairKernel,
  ctx: TrajectoryContext,
  x: Float64Array,
  sk: TrajectorySkeleton,
  pw: { prob: Float64Array; dIdx: Int32Array; dVal: Float64Array },
  rel: Int32Array,
  want: ExpectationWants,
  total: number,
): ExactExpectation {
  kern.checkContext(ctx);
  const { gpow, lambda, SA } = kern;
  const { H, sa } = sk;
  const { prob, dIdx, dVal } = pw;
  const T = rel.length;
  const Rx = returnsOf(sk, rewardValues(ctx.reward, x, SA), gpow);
  const c = lambda > 0 ? 0.5 * lambda * sumSq(x) : 0;
  const { M, pos, L, W } = pairTable(kern, sk, Rx, c, rel);
  const gp = want.gradPi ? new Float64Array(SA) : undefined;
  let value = 0;
  for (let ai = 0; ai < T; ai++) {
    const a = rel[ai], pa = prob[a], oa = a * H, ra = pos[a] * M;
    for (let bi = 0; bi < T; bi++) {
      const b = rel[bi], pb = prob[b];
      const pg = pa * pb;
      if (pg === 0 && !(gp && (pb !== 0 || pa !== 0))) continue;
      const l = L[ra + pos[b]];
      if (!Number.isFinite(l)) throw new DomainError("objective.loss", "must return a finite number", l);
      if (pg !== 0) value += pg * l;
      if (gp) {
        const wa = l * pb;
        if (wa !== 0) for (let k = oa; k < oa + H && dIdx[k] >= 0; k++) gp[dIdx[k]] += wa * dVal[k];
        const wb = l * pa;
        if (wb !== 0) for (let k = b * H; k < b * H + H && dIdx[k] >= 0; k++) gp[dIdx[k]] += wb * dVal[k];
      }
    }
  }
  let gx: Float64Array | undefined;
  if (want.gradX) {
    gx = new Float64Array(x.length);
    // E[w·(c(τ_a) − c(τ_b))]; u is one pair's vector, summed over t as the loss's gradX does
    const U = new Float64Array(SA), u = new Float64Array(SA), mark = new Int32Array(SA).fill(-1), touched = new Int32Array(2 * H);
    let pairs = 0, psum = 0;
    for (let ai = 0; ai < T; ai++) {
      const a = rel[ai], pa = prob[a], oa = a * H, ra = pos[a] * M;
      for (let bi = 0; bi < T; bi++) {
        const b = rel[bi];
        const pg = pa * prob[b];
        if (pg === 0) continue;
        pairs++;
        psum += pg;
        const w = W[ra + pos[b]];
        if (w === 0) continue;
        const ob = b * H, stamp = ai * T + bi;
        let nt = 0;
        for (let t = 0; t < H; t++) {
          const j1 = sa[oa + t], j2 = sa[ob + t];
          if (j1 >= 0) {
            if (mark[j1] !== stamp) { mark[j1] = stamp; u[j1] = 0; touched[nt++] = j1; }
            u[j1] += w * gpow[t];
          }
          if (j2 >= 0) {
            if (mark[j2] !== stamp) { mark[j2] = stamp; u[j2] = 0; touched[nt++] = j2; }
            u[j2] -= w * gpow[t];
          }
        }
        for (let k = 0; k < nt; k++) U[touched[k]] += pg * u[touched[k]];
      }
    }
    if (pairs > 0) {
      const g = rewardVjp(ctx.reward, x, U);
      if (lambda > 0) for (let k = 0; k < g.length; k++) g[k] += psum * (lambda * x[k]);
      checked("objective.gradX", g, gx);
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
  // f, ∂f/∂x and ∂f/∂π at the last (x, π, M): a general objective gets all three from one
  // enumeration; a preference BCE (one cheap pass each) only what is asked, so that steps that
  // need ∂f/∂π alone (Φσ's inner loops) skip the ∂f/∂x pass
  let key: { x: Float64Array; pi: Float64Array; mdp: TabularMDP } | undefined;
  let cached: { value: number; gradX?: Float64Array; gradPi?: Float64Array } | undefined;
  const at = (x: Float64Array, pi: Float64Array, mdp: TabularMDP, part?: "gradX" | "gradPi"): { value: number; gradX?: Float64Array; gradPi?: Float64Array } => {
    if (!exact) throw new DomainError("upper", "this trajectory objective was built with exact: false; f(x, π) can only be estimated (model-free methods)", "exact");
    const hit = key && key.mdp === mdp && same(key.x, x) && same(key.pi, pi);
    if (hit && (part === undefined || cached![part])) return cached!;
    const mdpU = checkObjective(objective, mdp);
    const lazy = pairKernelOf(objective.reduced ?? objective) !== undefined;
    const e = expectation(objective, { reward, mdp: mdpU }, x, pi, lazy ? { gradX: part === "gradX", gradPi: part === "gradPi" } : { gradX: true, gradPi: true });
    if (hit) cached![part!] = e[part!];
    else {
      cached = { value: e.value, gradX: e.gradX, gradPi: e.gradPi };
      key = { x: Float64Array.from(x), pi: Float64Array.from(pi), mdp };
    }
    return cached!;
  };
  return {
    trajectory: objective,
    dim: reward.dim,
    value: (x, pi, mdp) => at(x, pi, mdp).value,
    gradX: (x, pi, out, mdp) => { out.set(at(x, pi, mdp, "gradX").gradX!); },
    gradPi: (x, pi, out, mdp) => { out.set(at(x, pi, mdp, "gradPi").gradPi!); },
  };
}

/** The trajectory objective to use: the given one, or the problem's `upper.trajectory`. @internal */
export function objectiveOf(problem: BilevelProblem, given: unknown, arg = "objective"): TrajectoryObjective {
  const o = given ?? (problem.upper as Partial<TrajectoryPolicyObjective>).trajectory;
  if (o === undefined) throw new ShapeError(arg, "is required: pass a trajectory objective, or build the problem with upper: trajectoryUpper(objective, reward)", o);
  checkObjective(o, problem.mdp, arg);
  return o as TrajectoryObjective;
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
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
