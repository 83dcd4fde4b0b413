// Regularised single-loop actor-critic with decaying entropy (seed 000; docs/math.md#actor-critic,
// a reconstruction). It descends the value-penalty Lagrangian
//   L_{w,τ}(x, π) = f(x, π) + w · ( max_π' J_τ(x, π') − J_τ(x, π) )
// with a decaying temperature τ_k = τ_∞ + (τ_0 − τ_∞)(k+1)^{−p}, one step of every component per
// iteration, all at (x_k, π_k, π̃_k):
//   critics  Q̂ ≈ Q^{π_k}_{τ_k}, Q̃ ≈ Q^{π̃_k}_{τ_k}: exact soft evaluation (the tabular,
//            model-based test version) or one batch soft TD(0) step on sampled transitions
//            (expected-SARSA target, ε-exploratory behaviour policy);
//   upper    x ← x − α_k [ ∇_x f(x, π) + w_k ( ∇_x J(x, π̃) − ∇_x J(x, π) ) ],
//            ∇_x J(x, π) = D_xᵀ (d̃_π ⊙ π), with exact or sampled occupancies;
//   actor π̃ one soft PMD step (docs/math.md#policy-mirror-descent) toward π*_{τ_k}: log π̃ ← (log π̃ + η̃ Q̃)/(1 + η̃ τ_k);
//   actor π  one step on −J_{τ_k}(x, π) + f(x, π)/w_k: a soft mirror (PMD) step
//            log π ← (log π + η(Q̂ − ∂f/∂π/(w d̃)))/(1 + ητ_k) (default; the seed allows "mirror or
//            projected"), or a softmax-logit gradient step (docs/math.md#soft-policy-gradient; paper preset).
// Defaults (docs/math.md#actor-critic-adagrad explains why they converge): τ_k decays from
// τ_0 = 2τ to the problem's τ (τ_∞ = τ, power 1/2), so φ, defined at τ, is the limit problem;
// w_k = 10 (k+1)^{1/2} grows, so the O(1/w_k) bias of the penalty vanishes; actor and PMD steps 3
// (constant: PMD converges linearly at any step); α by AdaGrad-norm (Ward, Wu & Bottou 2019),
// α_k = η/√(Σ_{i≤k} ‖ĥ_i‖²) with η = 1: no step is longer than η, α never grows, and the path's
// squared length Σ‖x_{k+1} − x_k‖² ≤ η²(1 + log(Σ‖ĥ_i‖²/‖ĥ_0‖²)), so the actors' lag (they contract
// at a fixed rate) is square-summable up to that log; the rule needs no smoothness constant, which
// here moves with τ_k, w_k and the actors. The τ_k − τ and 1/w_k biases decay like (k+1)^{−1/2},
// no slower than AdaGrad-norm's own rate for ‖∇‖ (k^{−1/2} exact, k^{−1/4} noisy); at power 1/4
// they decayed more slowly and set the floor of ‖∇φ‖ (docs/math.md#actor-critic). The growth
// rule 'adaptive' (×1.25 while the slope of ĥ along the last step keeps half its value, ×½ on a
// sign change or a rise of the Lagrangian, floor α_0/4) stays an option: it sat at its floor as L
// rose with the schedules, and with faster schedules left basins. The paper
// preset restores seed 000's schedules (τ_k = τ(k+1)^{−1/4} → 0, w = 10, α_k = 0.01(k+1)^{−0.6},
// actor 0.1(k+1)^{−0.4}, gradient actor).
// Convergence measure: ‖x − P(x − ĥ)‖₂ + τ_k·KL(π̃ ‖ softmax(Q̃/τ_k)) (max over states): the
// penalised problem's projected stationarity plus the lower residual of π̃.
// Open at the defaults (issue 10; docs/math.md#actor-critic has the measurements): happyText. Its
// gap target lies below every point symmetric under the instance's happy↔great swap, and only
// rounding errors amplified by long steps break that symmetry (exact descent's way); the
// actor-critic's ĥ, w_k times the actors' lag off, turns against ∇φ on the plateau at 0.51.
import { DomainError, NumericalError } from "../../errors";
import { occupancy, policyEvaluation } from "../../lower";
import { sampleTrajectories, type Trajectories } from "../../sampling";
import * as check from "../../validate";
import { Rng } from "../../util/random";
import type { BilevelProblem } from "../problem";
import { algorithm, norm2, parseProjection, projectX, startX, stepSize, type StepInfo, type StateTag, type XProjection } from "./common";
import { direction, gradientMapping, initUpdate, updateParams, type UpdateOptions, type UpdateState } from "./update";

function projected(x: number[], p: XProjection): number[] {
  projectX(x, p);
  return x;
}
import { exp, log, pow } from "../../util/math";
import { logSoftmaxRows, rowLogSumExp } from "../../util/softmax";
import { byName, count, describe, int, nonNeg, num, oneOf, parsePreset, positive, presetParam, presetValue, seedParam, str, unit } from "../../util/params";

const params = [
  presetParam,
  str("actor", "Actor step of π: soft mirror (PMD) step or softmax-logit gradient step.", ["mirror", "gradient"], { default: "mirror", paper: "gradient" }),
  str("critic", "Critic: exact soft evaluation or batch soft TD(0).", ["exact", "td"], { default: "exact" }),
  str("occupancy", "Occupancies: exact or sampled.", ["exact", "sampled"], { defaultText: "'exact' with the exact critic, 'sampled' with TD" }),
  num("tau0", "τ_0 of τ_k = τ_∞ + (τ_0 − τ_∞)(k+1)^−tauPower.", { defaultText: "2τ (paper: τ; 1 when τ = 0)", ...positive }),
  num("tauFloor", "τ_∞, the limit of τ_k.", { defaultText: "the problem's τ", paper: 0, ...nonNeg }),
  num("tauPower", "Decay exponent of τ_k.", { default: 0.5, paper: 0.25, ...nonNeg }),
  num("w", "Penalty weight w.", { default: 10, ...positive }),
  num("wPower", "Growth exponent of w_k.", { default: 0.5, paper: 0, ...nonNeg }),
  num("alpha", "Upper step: η of 'adagrad' (the length of the first step), the adaptive rule's first α, or the schedule's constant.", { defaultText: "1 with 'adagrad', 0.1 with 'adaptive'", paper: 0.01, ...positive }),
  num("alphaPower", "Decay exponent of α_k.", { default: 0, paper: 0.6, ...nonNeg }),
  str("stepRule", "'adagrad': α_k = alpha/√(Σ_{i≤k} ‖ĥ_i‖²) (AdaGrad-norm); 'adaptive': α grows ×1.25 while the slope of ĥ along the last step keeps half its value, halves when it changes sign or the Lagrangian rises; 'schedule': α_0 (k+1)^−alphaPower.", ["adagrad", "adaptive", "schedule"], { default: "adagrad", paper: "schedule" }),
  num("actorStep", "Actor step.", { default: 3, paper: 0.1, ...positive }),
  num("actorPower", "Decay exponent of the actor step.", { default: 0, paper: 0.4, ...nonNeg }),
  num("pmdStep", "PMD step of π̃.", { defaultText: "actorStep", ...positive }),
  num("pmdPower", "Decay exponent of the PMD step.", { defaultText: "actorPower", ...nonNeg }),
  num("criticStep", "TD critic step.", { default: 0.5, ...positive }),
  num("criticPower", "Decay exponent of the critic step.", { default: 0.2, ...nonNeg }),
  int("episodes", "Sampled episodes per policy per iteration.", { default: 16, ...count }),
  num("explore", "TD: ε of the behaviour policy (1 − ε)π + ε/A.", { default: 0.1, ...unit }),
  int("horizon", "Steps per episode (≥ 2).", { defaultText: "max(2, ⌈log(1e-3)/log γ⌉)", minimum: 2 }),
  seedParam("the trajectory sampler"),
  str("project", "Projection of x after each step.", ["none", "nonnegative"], { default: "none" }),
  ...updateParams,
] as const;
const P = byName(params);

/** Floor of d̃(s) in the mirror step's per-state gradient (states never visited keep a bounded step). */
const OCC_FLOOR = 1e-3;
/** Growth of the adaptive α after a decrease of the Lagrangian. */
const GROW = 1.25;
/** The adaptive α never falls below FLOOR·α_0: the Lagrangian also moves with the actors, τ_k and w_k, not only with x. */
const FLOOR = 0.25;
/** The default α_0 of each step rule: 'adagrad' η = 1 (its first step has length 1), 'adaptive' 0.1. */
const ALPHA0 = { adagrad: 1, adaptive: 0.1, schedule: 0.1 } as const;

/** What an experiment file can set (x0 is the experiment's). */
export const actorCriticInfo = describe({
  name: "actorCritic",
  stepParam: "alpha",
  source: "docs/math.md#actor-critic (seed 000)",
  description: "Regularised single-loop actor-critic with decaying entropy τ_k and penalty w_k.",
  needsSoft: false,
  needsTrajectory: false,
  params,
});

/** The actor-critic's critic: exact soft policy evaluation or batch soft TD(0). */
export type CriticMode = "exact" | "td";
/** The actor-critic's occupancies: exact (one transposed solve) or sampled. */
export type OccupancyMode = "exact" | "sampled";

/** Options of `actorCritic`. */
export interface ActorCriticOptions extends UpdateOptions {
  x0?: ArrayLike<number>;
  /** Actor step of π: 'mirror' (soft PMD step, default) or 'gradient' (softmax-logit gradient step; paper). */
  actor?: "mirror" | "gradient";
  /** 'exact' (soft policy evaluation, one solve per critic; default) or 'td' (batch soft TD(0) on sampled transitions). */
  critic?: CriticMode;
  /** Occupancies d̃ for the x step and the actor: 'exact' (one transposed solve each) or 'sampled'. Default: 'exact' with the exact critic, 'sampled' with TD. */
  occupancy?: OccupancyMode;
  /** τ_0 of τ_k = τ_∞ + (τ_0 − τ_∞)(k+1)^{−tauPower} (default 2τ; paper τ; 1 when τ = 0). */
  tau0?: number;
  /** τ_∞, the limit of τ_k (default: the problem's τ; paper 0). */
  tauFloor?: number;
  /** 'default' or 'paper' (seed 000's schedules, τ_k → 0). */
  preset?: "default" | "paper";
  /** Decay exponent of τ_k (default 1/2; paper 1/4). */
  tauPower?: number;
  /**
   * 'adagrad' (default): α_k = alpha/√(Σ_{i≤k} ‖ĥ_i‖²), AdaGrad-norm (docs/math.md#actor-critic-adagrad);
   * 'adaptive': α grows ×1.25 while the slope of ĥ along the last step keeps half its value, halves
   * when it changes sign or the Lagrangian rises; 'schedule' (paper): α_0 (k+1)^{−alphaPower}.
   */
  stepRule?: "adagrad" | "adaptive" | "schedule";
  /** Penalty weight w (default 10). */
  w?: number;
  /** Growth exponent: w_k = w (k+1)^{wPower} (default 1/2; paper 0, constant w). */
  wPower?: number;
  /** Upper step: η of 'adagrad' (default 1: the first step has length 1), α_0 of 'adaptive' (default 0.1), or α_k = alpha (k+1)^{−alphaPower} with 'schedule' (paper 0.01, 0.6). */
  alpha?: number;
  alphaPower?: number;
  /** Actor step of π: actorStep (k+1)^{−actorPower} (defaults 3, 0; paper 0.1, 0.4). */
  actorStep?: number;
  actorPower?: number;
  /** PMD step η̃_k of π̃: pmdStep (k+1)^{−pmdPower} (default: the actor schedule). */
  pmdStep?: number;
  pmdPower?: number;
  /** Critic step (TD only): criticStep (k+1)^{−criticPower} (defaults 0.5, 0.2). */
  criticStep?: number;
  criticPower?: number;
  /** Sampled episodes per policy per iteration (default 16). */
  episodes?: number;
  /**
   * TD only: the critics learn from trajectories of the behaviour policy (1 − ε)π + ε/A
   * (the expected-SARSA target stays correct off-policy), so actions whose probability has
   * collapsed keep being re-evaluated. ε ∈ [0, 1] (default 0.1). With ε > 0 and sampled
   * occupancies, the occupancy batches are drawn separately, on-policy.
   */
  explore?: number;
  /** Steps per episode (default ⌈log(10⁻³)/log γ⌉, at least 2). */
  horizon?: number;
  /** Seed of the trajectory sampler (default 0). */
  seed?: number;
  /** Projection of x after each step: 'none' (default) or 'nonnegative' (e.g. incentive design). */
  project?: XProjection;
}

/** State of `actorCritic` (plain data: JSON-safe). */
export interface ActorCriticState extends StateTag {
  k: number;
  x: number[];
  /** log π (S·A), the actor of the penalised problem (softmax logits, normalised per state). */
  theta: number[];
  /** log π̃ (S·A), the actor tracking π*_{τ_k}. */
  thetaT: number[];
  /** Critic of π (S·A): the TD table, or the last exact evaluation. */
  Q: number[];
  /** Critic of π̃ (S·A). */
  QT: number[];
  /** xoshiro128** words of the generator that seeds each sampling call. */
  rng: [number, number, number, number];
  critic: CriticMode;
  actor: "mirror" | "gradient";
  occupancy: OccupancyMode;
  tau0: number;
  tauFloor: number;
  tauPower: number;
  w: number;
  wPower: number;
  /** α_0 of the schedule; η with 'adagrad'; with 'adaptive', the current α. */
  alpha: number;
  alphaPower: number;
  stepRule: "adagrad" | "adaptive" | "schedule";
  /** α_0 (the adaptive rule's floor is FLOOR·α_0). */
  alpha0: number;
  /** 'adagrad': Σ_{i<k} ‖ĥ_i‖² (optional so that older states load). */
  gradSq?: number;
  /** 'adaptive': the Lagrangian at the last iteration (null before the first). */
  meritPrev: number | null;
  /** 'adaptive': x_{k−1} and ĥ_{k−1}, for the slope test of the step rule (absent before the first step; optional so that older states load). */
  xPrev?: number[];
  hPrev?: number[];
  actorStep: number;
  actorPower: number;
  pmdStep: number;
  pmdPower: number;
  criticStep: number;
  criticPower: number;
  episodes: number;
  explore: number;
  horizon: number;
  project: XProjection;
  /** The update rule of the x step (update.ts). */
  update: UpdateState;
  last?: StepInfo;
}

/** Regularised single-loop actor-critic with decaying entropy τ_k and penalty weight w_k (docs/math.md#actor-critic). */
export const actorCritic = algorithm<ActorCriticOptions, ActorCriticState, "actorCritic">(
  actorCriticInfo,
  (problem, o) => {
    const { S, A } = problem.mdp;
    const preset = parsePreset(o.preset);
    const critic = oneOf(P.critic, o.critic);
    const occ = oneOf(P.occupancy, o.occupancy, critic === "td" ? "sampled" : "exact");
    const actorStep = stepSize("actorStep", presetValue(P.actorStep, o.actorStep, preset), P.actorStep.default);
    const actorPower = power("actorPower", presetValue(P.actorPower, o.actorPower, preset), P.actorPower.default);
    const uniform = new Array(S * A).fill(-log(A));
    const stepRule = oneOf(P.stepRule, presetValue(P.stepRule, o.stepRule, preset));
    return {
      k: 0,
      x: projected(startX(problem, o.x0), parseProjection(o.project)),
      project: parseProjection(o.project),
      update: initUpdate(o, problem.n),
      theta: uniform.slice(),
      thetaT: uniform.slice(),
      Q: new Array(S * A).fill(0),
      QT: new Array(S * A).fill(0),
      rng: new Rng(o.seed === undefined ? 0 : check.seed(o.seed)).s.slice() as [number, number, number, number],
      critic,
      actor: oneOf(P.actor, presetValue(P.actor, o.actor, preset)),
      occupancy: occ,
      tau0: stepSize("tau0", o.tau0, problem.tau > 0 ? (preset === "paper" ? problem.tau : 2 * problem.tau) : 1),
      tauFloor: o.tauFloor !== undefined ? check.nonNegative("tauFloor", o.tauFloor) : preset === "paper" ? 0 : problem.tau,
      tauPower: power("tauPower", presetValue(P.tauPower, o.tauPower, preset), P.tauPower.default),
      w: stepSize("w", o.w, P.w.default),
      wPower: power("wPower", presetValue(P.wPower, o.wPower, preset), P.wPower.default),
      alpha: stepSize("alpha", presetValue(P.alpha, o.alpha, preset), ALPHA0[stepRule]),
      alphaPower: power("alphaPower", presetValue(P.alphaPower, o.alphaPower, preset), P.alphaPower.default),
      stepRule,
      alpha0: stepSize("alpha", presetValue(P.alpha, o.alpha, preset), ALPHA0[stepRule]),
      meritPrev: null,
      actorStep,
      actorPower,
      pmdStep: stepSize("pmdStep", o.pmdStep, actorStep),
      pmdPower: power("pmdPower", o.pmdPower, actorPower),
      criticStep: stepSize("criticStep", o.criticStep, P.criticStep.default),
      criticPower: power("criticPower", o.criticPower, P.criticPower.default),
      episodes: o.episodes === undefined ? P.episodes.default : check.positiveInt("episodes", o.episodes),
      explore: o.explore === undefined ? P.explore.default : fraction("explore", o.explore),
      horizon: o.horizon === undefined ? Math.max(2, defaultHorizon(problem.mdp.gamma)) : horizonOption(o.horizon),
    };
  },
  (problem, st) => {
    const { mdp } = problem;
    const { S, A, gamma } = mdp;
    const SA = S * A;
    const k1 = st.k + 1;
    const tau = st.tauFloor + (st.tau0 - st.tauFloor) * pow(k1, -st.tauPower);
    const w = st.w * pow(k1, st.wPower);
    let alpha = st.alpha * pow(k1, -st.alphaPower);
    const eta = st.actorStep * pow(k1, -st.actorPower);
    const etaT = st.pmdStep * pow(k1, -st.pmdPower);
    const beta = st.criticStep * pow(k1, -st.criticPower);
    const x = Float64Array.from(st.x);
    const x0 = Float64Array.from(x);
    const r = problem.rewardAt(x);
    problem.moveTo(x);
    const logPi = logSoftmaxRows(Float64Array.from(st.theta), S, A);
    const logPiT = logSoftmaxRows(Float64Array.from(st.thetaT), S, A);
    const pi = expArray(logPi), piT = expArray(logPiT);
    // samples: per use, one batch for π and one for π̃ from the same seed (common random
    // numbers: the batches coincide where π and π̃ agree, which cuts the variance of the
    // x step's occupancy difference); seeds come from the state's generator
    const rng = new Rng(st.rng);
    let tr: Trajectories | undefined, trT: Trajectories | undefined; // on-policy (occupancies)
    let cr: Trajectories | undefined, crT: Trajectories | undefined; // behaviour (critics)
    if (st.occupancy === "sampled") {
      const seed = rng.fork();
      tr = sample(problem, pi, st.episodes, st.horizon, seed);
      trT = sample(problem, piT, st.episodes, st.horizon, seed);
    }
    if (st.critic === "td") {
      if (st.explore === 0 && tr) {
        cr = tr;
        crT = trT;
      } else {
        const seed = rng.fork();
        cr = sample(problem, mix(pi, st.explore, A), st.episodes, st.horizon, seed);
        crT = sample(problem, mix(piT, st.explore, A), st.episodes, st.horizon, seed);
      }
    }
    // critics at τ_k
    let Q: Float64Array, QT: Float64Array;
    if (st.critic === "exact") {
      Q = evaluate(problem, r, pi, tau);
      QT = evaluate(problem, r, piT, tau);
    } else {
      Q = tdStep(Float64Array.from(st.Q), cr!, st.horizon, r, pi, logPi, S, A, gamma, tau, beta);
      QT = tdStep(Float64Array.from(st.QT), crT!, st.horizon, r, piT, logPiT, S, A, gamma, tau, beta);
    }
    const V = softV(Q, pi, logPi, S, A, tau), VT = softV(QT, piT, logPiT, S, A, tau);
    // state-action occupancies u = d̃ ⊙ π (or their sampled estimates)
    let u: Float64Array, uT: Float64Array;
    if (st.occupancy === "exact") {
      u = stateActionOccupancy(problem, pi);
      uT = stateActionOccupancy(problem, piT);
    } else {
      u = sampledOccupancy(tr!, st.horizon, S, A, gamma);
      uT = sampledOccupancy(trT!, st.horizon, S, A, gamma);
    }
    // upper direction ĥ = ∇_x f(x, π) + w (∇_x J(x, π̃) − ∇_x J(x, π))
    const f = problem.value(x, pi);
    const h = problem.gradX(x, pi);
    const gT = problem.vjp(x, uT, VT), g = problem.vjp(x, u, V);
    for (let i = 0; i < h.length; i++) h[i] += w * (gT[i] - g[i]);
    let penalty = 0;
    const rho0 = mdp.rho0;
    for (let s = 0; s < S; s++) penalty += rho0[s] * (VT[s] - V[s]);
    penalty *= w;
    // lower residual: max_s LSE_τ(Q̃(s,·)) − Ṽ(s) = τ·KL(π̃ ‖ softmax(Q̃/τ)) ≥ 0
    let residual = 0;
    for (let s = 0; s < S; s++) residual = Math.max(residual, rowLogSumExp(QT, s * A, A, tau) - VT[s]);
    // adaptive α (docs/math.md#actor-critic): grow while the step is short for the curvature
    // along it, halve on an overshoot or a rise of the Lagrangian L_k = f + w(J(π̃) − J(π))
    let alphaNext = st.alpha;
    if (st.stepRule === "adaptive") {
      if (st.meritPrev !== null && st.xPrev !== undefined && st.hPrev !== undefined && st.xPrev.length === h.length) {
        // the slope of the estimate along the last step Δ = x_{k−1} − x_k, before and after it:
        // for curvature c along Δ, s_k = s_{k−1}(1 − α_{k−1}c), so s_k < 0 ⇔ the step overshot
        // the minimum along Δ (αc > 1) and s_k ≥ s_{k−1}/2 ⇔ αc ≤ 1/2 (room to grow). L alone
        // cannot tell: it also moves with the actors, τ_k and w_k, and kept falling while α grew
        // ×1.25 per iteration without bound on flat stretches (stackelberg seed 2 jumped off its basin)
        let sPrev = 0, sNow = 0;
        for (let i = 0; i < h.length; i++) {
          const dx = st.xPrev[i] - x0[i];
          sPrev += st.hPrev[i] * dx;
          sNow += h[i] * dx;
        }
        if (f + penalty > (st.meritPrev as number) || sNow < 0) alphaNext = Math.max(0.5 * st.alpha, Math.min(st.alpha, FLOOR * st.alpha0));
        else if (!(sPrev > 0) || sNow >= 0.5 * sPrev) alphaNext = Math.min(GROW * st.alpha, 1e6);
      }
      alpha = alphaNext * pow(k1, -st.alphaPower);
    }
    // AdaGrad-norm (docs/math.md#actor-critic-adagrad): the step shrinks with the accumulated
    // squared norms of the estimates, whatever moves them (x, the actors, τ_k, w_k)
    const hNorm = norm2(h);
    const gradSq = (st.gradSq ?? 0) + hNorm * hNorm;
    if (st.stepRule === "adagrad") alpha = gradSq > 0 ? (st.alpha / Math.sqrt(gradSq)) * pow(k1, -st.alphaPower) : 0;
    // actor π̃: soft PMD step
    const nextT = new Float64Array(SA);
    const c = 1 / (1 + etaT * tau);
    for (let i = 0; i < SA; i++) nextT[i] = (logPiT[i] + etaT * QT[i]) * c;
    // actor π: logit gradient step on −J_τ + f/w
    const gJ = softLogitGradient(Q, V, pi, logPi, stateOf(u, S, A), S, A, tau);
    const gf = logitGradientOfTable(problem.gradPi(x, pi), pi, S, A);
    const next = new Float64Array(SA);
    if (st.actor === "mirror") {
      // mirror (soft PMD) step on −J_τ + f/w: the per-state gradient of f/w is ∂f/∂π(s,·)/(w d̃(s))
      const gPi = problem.gradPi(x, pi);
      const d = stateOf(u, S, A);
      const cm = 1 / (1 + eta * tau);
      for (let s = 0; s < S; s++) {
        const ds = Math.max(d[s], OCC_FLOOR);
        for (let a = 0; a < A; a++) {
          const i = s * A + a;
          next[i] = (logPi[i] + eta * (Q[i] - gPi[i] / (w * ds))) * cm;
        }
      }
    } else {
      for (let i = 0; i < SA; i++) next[i] = logPi[i] + eta * (gJ[i] - gf[i] / w);
    }
    // upper step
    const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
    const d = direction(update, h, new Float64Array(x.length));
    for (let i = 0; i < x.length; i++) x[i] -= alpha * d[i];
    projectX(x, st.project);
    if (!x.every(Number.isFinite)) throw new DomainError("x", "became non-finite: reduce alpha or w", Array.from(x));
    return {
      ...st,
      k: st.k + 1,
      x: Array.from(x),
      theta: Array.from(logSoftmaxRows(next, S, A)),
      thetaT: Array.from(logSoftmaxRows(nextT, S, A)),
      Q: Array.from(Q),
      QT: Array.from(QT),
      rng: rng.s.slice() as [number, number, number, number],
      alpha: alphaNext,
      update,
      meritPrev: st.stepRule === "adaptive" ? f + penalty : null,
      ...(st.stepRule === "adagrad" ? { gradSq } : {}),
      ...(st.stepRule === "adaptive" ? { xPrev: Array.from(x0), hPrev: Array.from(h) } : {}),
      last: { f, hnorm: hNorm, lowerResidual: residual, penalty, measure: gradientMapping(x0, h, st.project) + residual },
    };
  },
);

// ---------- helpers shared with phiSigma.ts (internal) ----------

/** Non-negative finite exponent option. @internal */
export function power(name: string, v: unknown, fallback: number): number {
  return v === undefined ? fallback : check.nonNegative(name, v);
}

/** A number in [0, 1]. */
function fraction(name: string, v: unknown): number {
  const x = check.finiteNumber(name, v);
  if (x < 0 || x > 1) throw new DomainError(name, "must lie in [0, 1]", v);
  return x;
}

/** The behaviour policy (1 − ε)π + ε/A. */
function mix(pi: Float64Array, eps: number, A: number): Float64Array {
  if (eps === 0) return pi;
  const out = new Float64Array(pi.length);
  for (let i = 0; i < pi.length; i++) out[i] = (1 - eps) * pi[i] + eps / A;
  return out;
}

/** Horizon so that γ^H ≤ 10⁻³ (1 for γ = 0). @internal */
export function defaultHorizon(gamma: number): number {
  return gamma > 0 ? Math.max(1, Math.ceil(log(1e-3) / log(gamma))) : 1;
}

function horizonOption(v: unknown): number {
  const H = check.positiveInt("horizon", v);
  if (H < 2) throw new DomainError("horizon", "must be ≥ 2 (TD needs a next state)", v);
  return H;
}

/** exp of each entry; with log-softmax input, a policy table. @internal */
export function expArray(v: Float64Array): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = exp(v[i]);
  return out;
}

/** V(s) = Σ_a π(a|s) (Q(s,a) − τ log π(a|s)). @internal */
export function softV(Q: Float64Array, pi: Float64Array, logPi: Float64Array, S: number, A: number, tau: number): Float64Array {
  const V = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      if (pi[i] > 0) acc += pi[i] * (Q[i] - tau * logPi[i]);
    }
    V[s] = acc;
  }
  return V;
}

/** Soft Q^π at temperature τ by one solve (counted). @internal */
export function evaluate(problem: BilevelProblem, r: Float64Array, pi: Float64Array, tau: number): Float64Array {
  const ev = policyEvaluation(problem.mdp, r, pi, { tau });
  if (!ev.converged) throw new NumericalError(`actorCritic: the evaluation solve stopped at residual ${ev.residual}`);
  return ev.Q;
}

/** d̃_π ⊙ π (S·A) by one transposed solve (counted). @internal */
export function stateActionOccupancy(problem: BilevelProblem, pi: Float64Array): Float64Array {
  const { S, A } = problem.mdp;
  const d = occupancy(problem.mdp, pi);
  const u = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] = d[s] * pi[s * A + a];
  return u;
}

/** d̃(s) = Σ_a u(s,a). @internal */
export function stateOf(u: Float64Array, S: number, A: number): Float64Array {
  const d = new Float64Array(S);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) d[s] += u[s * A + a];
  return d;
}

/** Sample a batch under π with the wasm sampler (counted). @internal */
export function sample(problem: BilevelProblem, pi: Float64Array, episodes: number, horizon: number, seed: number): Trajectories {
  return sampleTrajectories(problem.mdp, pi, { episodes, horizon, seed });
}

/**
 * Sampled discounted state-action occupancy: (1/B) Σ_i Σ_{t<H} γ^t 1{(s_t, a_t) = (s, a)},
 * rescaled by (1/(1−γ)) / Σ_{t<H} γ^t so that it sums to 1/(1−γ) like d̃ ⊙ π; episodes that ended
 * at a terminal state before H are not rescaled (their sum is complete). @internal
 */
export function sampledOccupancy(tr: Trajectories, horizon: number, S: number, A: number, gamma: number): Float64Array {
  const u = new Float64Array(S * A);
  const { states, actions } = tr;
  const B = states.length / horizon;
  let mass = 0;
  for (let t = 0, g = 1; t < horizon; t++, g *= gamma) mass += g;
  const scale = 1 / ((1 - gamma) * mass * B);
  for (let o = 0, e = 0; o < states.length; o += horizon, e++) {
    const L = tr.lengths[e];
    if (L < horizon) {
      // ended at a terminal state (docs/math.md#terminal-states): nothing was cut off, no rescaling
      for (let t = 0, g = 1 / B; t < L; t++, g *= gamma) u[states[o + t] * A + actions[o + t]] += g;
      continue;
    }
    for (let t = 0, g = scale; t < horizon; t++, g *= gamma) u[states[o + t] * A + actions[o + t]] += g;
  }
  return u;
}

/**
 * One batch soft TD(0) step (expected-SARSA target): for every pair (s, a) visited in the
 * batch, Q(s,a) += β (mean over its visits of [r(s,a) + γ V̂(s')] − Q(s,a)), with
 * V̂(s') = Σ_a' π(a'|s') (Q(s',a') − τ log π(a'|s')) from the table before the step.
 */
function tdStep(Q: Float64Array, tr: Trajectories, H: number, r: Float64Array, pi: Float64Array, logPi: Float64Array, S: number, A: number, gamma: number, tau: number, beta: number): Float64Array {
  const V = softV(Q, pi, logPi, S, A, tau);
  const sum = new Float64Array(S * A), cnt = new Float64Array(S * A);
  const { states, actions } = tr;
  for (let o = 0; o < states.length; o += H) {
    for (let t = 0; t + 1 < H; t++) {
      if (states[o + t] < 0) break; // the episode has ended
      const i = states[o + t] * A + actions[o + t];
      const next = states[o + t + 1];
      // a step at a terminal state (next = −1) has no continuation: target r(s, a)
      sum[i] += next < 0 ? r[i] : r[i] + gamma * V[next];
      cnt[i] += 1;
    }
  }
  for (let i = 0; i < Q.length; i++) if (cnt[i] > 0) Q[i] += beta * (sum[i] / cnt[i] - Q[i]);
  return Q;
}

/** ∂J_τ/∂θ(s,a) = d̃(s) π(a|s) (Q(s,a) − τ log π(a|s) − V(s)) (docs/math.md#soft-policy-gradient, softmax logits). @internal */
export function softLogitGradient(Q: Float64Array, V: Float64Array, pi: Float64Array, logPi: Float64Array, d: Float64Array, S: number, A: number, tau: number): Float64Array {
  const g = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      g[i] = d[s] * pi[i] * (Q[i] - tau * logPi[i] - V[s]);
    }
  }
  return g;
}

/** Chain rule through the softmax: ∂f/∂θ(s,a) = π(a|s) (g(s,a) − Σ_a' π(a'|s) g(s,a')). @internal */
export function logitGradientOfTable(g: Float64Array, pi: Float64Array, S: number, A: number): Float64Array {
  const out = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let m = 0;
    for (let a = 0; a < A; a++) m += pi[s * A + a] * g[s * A + a];
    for (let a = 0; a < A; a++) out[s * A + a] = pi[s * A + a] * (g[s * A + a] - m);
  }
  return out;
}
