// The alternating baseline of deep RLHF (Christiano et al. 2017 style; the "DRLHF"
// comparison of the SoBiRL paper, docs/math.md#alternating): fit the reward to preference labels,
// then solve the lower level with the fitted reward, and repeat. Per outer iteration k:
//   1. draw `groups` new labelled groups (pairs) from the current policy π_k in M_U and add
//      them to a buffer that keeps the last `bufferSize` groups;
//   2. `rewardSteps` gradient steps on the mean loss over the buffer,
//        x ← x − β · mean_buffer ∇_x l(x; group),
//      i.e. only the exploitation term (13): the dependence of π on x is ignored;
//   3. π_{k+1} = π*_{x_{k+1}} by a warm-started lower solve.
// Step: the constant β (a reward fit on a buffer that changes every iteration has no fixed
// merit); `update: 'clipped'` or 'adam' apply to the fit's gradient. Convergence measure:
// ‖x_k − x_{k+1}‖/β (the fit's mean gradient over the rewardSteps steps).
// Unlike SoBiRL this is not a descent method on φ(x) = f(x, π*_x): its fixed points fit
// the labels of the data the current policy produces, so it lowers φ only where fitting the
// labels does (docs/math.md#alternating-conditions: rlhf yes, happyText no).
import { DomainError } from "../../errors";
import { sampleTrajectories } from "../../sampling";
import { Rng } from "../../util/random";
import * as check from "../../validate";
import { solveLower, type LowerSolver } from "../lowerSolve";
import { checkObjective, gradXOf, groupAt, lossOf, objectiveOf, type TrajectoryContext } from "../trajectory";
import { algorithm, norm2, startX, stepSize, type StepInfo, type StateTag } from "./common";
import { byName, count, describe, int, num, oneOf, positive, seedParam, solverParam, presetParam, parsePreset } from "../../util/params";
import { direction, initUpdate, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  num("beta", "Step β of the reward fit.", { default: 0.1, ...positive }),
  int("groups", "New labelled groups per outer iteration.", { default: 16, ...count }),
  int("bufferSize", "Groups kept in the buffer.", { default: 3000, ...count }),
  int("rewardSteps", "Reward gradient steps per outer iteration.", { default: 1, ...count }),
  num("tol", "Lower-level tolerance.", { default: 1e-10, ...positive }),
  solverParam,
  seedParam("every draw"),
  ...updateParams,
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const alternatingInfo = describe({
  name: "alternating",
  stepParam: "beta",
  source: "docs/math.md#alternating (deep-RLHF baseline)",
  description: "Alternating baseline: fit the reward to labels of the current policy's pairs, then re-solve the lower level.",
  needsSoft: false,
  needsTrajectory: true,
  params,
});

/** Options of `alternating`. */
export interface AlternatingOptions extends UpdateOptions {
  /** 'default' or 'paper' (the same settings: this method's defaults are the documented ones, docs/math.md#defaults). */
  preset?: "default" | "paper";
  /** x_0 (default 0). */
  x0?: ArrayLike<number>;
  /** Step β of the reward fit (default 0.1). */
  beta?: number;
  /** New labelled groups per outer iteration (default 16, as in PBRL's RLHF runs, docs/math.md#rlhf). */
  groups?: number;
  /** Groups kept in the buffer, newest first (default 3000). */
  bufferSize?: number;
  /** Reward gradient steps per outer iteration (default 1). */
  rewardSteps?: number;
  /** Lower-level tolerance (default 1e-10). */
  tol?: number;
  solver?: LowerSolver;
  /** Seed of every draw (default 0). */
  seed?: number;
}

/** State of `alternating` (plain data: JSON-safe). */
export interface AlternatingState extends StateTag {
  /** The update rule and its state (update.ts). */
  update: UpdateState;
  k: number;
  x: number[];
  /** π_k: the policy that draws the next pairs (uniform at k = 0). */
  pi: number[];
  /** Warm start of the next lower solve. */
  V: number[];
  /** xoshiro128** state words of the host generator. */
  rng: number[];
  /** Buffered groups: states and actions, (groups·N·H) row-major. */
  bufferStates: number[];
  bufferActions: number[];
  beta: number;
  groups: number;
  bufferSize: number;
  rewardSteps: number;
  tol: number;
  solver: LowerSolver;
  last?: StepInfo;
}

/** The alternating baseline: fit the reward to labels of the current policy's pairs, then re-solve the lower level (docs/math.md#alternating). */
export const alternating = algorithm<AlternatingOptions, AlternatingState, "alternating">(
  alternatingInfo,
  (problem, o) => {
    const { S, A } = problem.mdp;
    objectiveOf(problem, undefined);
    const solver = oneOf(P.solver, o.solver);
    return {
      k: 0,
      x: startX(problem, o.x0),
      pi: new Array(S * A).fill(1 / A),
      V: new Array(S).fill(0),
      rng: [...new Rng(o.seed === undefined ? 0 : check.seed(o.seed)).s],
      bufferStates: [],
      bufferActions: [],
      beta: stepSize("beta", o.beta, P.beta.default),
      groups: o.groups === undefined ? P.groups.default : check.positiveInt("groups", o.groups),
      bufferSize: o.bufferSize === undefined ? P.bufferSize.default : check.positiveInt("bufferSize", o.bufferSize),
      rewardSteps: o.rewardSteps === undefined ? P.rewardSteps.default : check.positiveInt("rewardSteps", o.rewardSteps),
      tol: stepSize("tol", o.tol, P.tol.default),
      solver,
      update: (parsePreset(o.preset), initUpdate(o, problem.n)),
    };
  },
  (problem, st) => {
    const { S, A } = problem.mdp;
    const obj = objectiveOf(problem, undefined);
    const mdpU = checkObjective(obj, problem.mdp);
    const N = obj.groupSize, H = obj.horizon, G = N * H;
    const x = problem.checkX(Float64Array.from(st.x));
    const pi = check.policy("state.pi", Float64Array.from(st.pi), S, A);
    if (!Array.isArray(st.rng) || st.rng.length !== 4) throw new DomainError("state.rng", "must hold the 4 generator words", st.rng);
    const rng = new Rng(st.rng as [number, number, number, number]);
    const x0 = Float64Array.from(x);
    problem.moveTo(x); // P_{x_k} for the sampling below
    // 1. new labelled groups from π_k
    const tr = sampleTrajectories(mdpU, pi, { episodes: st.groups * N, horizon: H, seed: rng.fork() });
    const ctx: TrajectoryContext = { reward: problem.reward, mdp: mdpU };
    let f = 0;
    for (let g = 0; g < st.groups; g++) f += lossOf(obj, x, groupAt(tr.states, tr.actions, g, N, H), ctx, { group: g });
    f /= st.groups;
    let bs = st.bufferStates.concat(Array.from(tr.states));
    let ba = st.bufferActions.concat(Array.from(tr.actions));
    const keep = Math.min(bs.length / G, st.bufferSize) * G;
    bs = bs.slice(bs.length - keep);
    ba = ba.slice(ba.length - keep);
    const B = keep / G;
    const states = Int32Array.from(bs), actions = Int32Array.from(ba);
    // 2. reward fit: gradient steps on the buffer's mean loss (π held fixed)
    const n = problem.n;
    const g = new Float64Array(n), tmp = new Float64Array(n);
    const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
    for (let j = 0; j < st.rewardSteps; j++) {
      g.fill(0);
      for (let b = 0; b < B; b++) {
        const d = gradXOf(obj, x, groupAt(states, actions, b, N, H), ctx, tmp, { bufferGroup: b });
        for (let k = 0; k < n; k++) g[k] += d[k] / B;
      }
      const d = direction(update, g, new Float64Array(n));
      for (let k = 0; k < n; k++) x[k] -= st.beta * d[k];
    }
    // 3. lower solve at x_{k+1}
    const low = solveLower(problem, x, { solver: st.solver, tol: st.tol, V0: st.V });
    const step = x0.map((v, k) => (v - x[k]) / st.beta);
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(x),
      pi: Array.from(low.pi),
      V: Array.from(low.V),
      rng: [...rng.s],
      bufferStates: bs,
      bufferActions: ba,
      update,
      last: { f, hnorm: norm2(step), lowerResidual: low.residual },
    };
  },
);
