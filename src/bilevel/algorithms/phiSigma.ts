// Hessian-free penalty method (seed 004; docs/math.md#phi-sigma, a reconstruction following
// the penalty proxy of Kwon et al. 2023). With g(x, θ) = −J_τ(x, π_θ) (softmax logits θ,
// τ = the problem's temperature):
//   h_σ(x) = min_θ [ σ f(x, π_θ) − J(x, π_θ) ],   h_0(x) = −max_θ J(x, π_θ),
//   Φ_σ(x) = ( h_σ(x) − h_0(x) ) / σ,
//   ∇Φ_σ(x) = ∇_x f(x, θ_σ) + (1/σ) [ ∇_x J(x, θ*) − ∇_x J(x, θ_σ) ],
//   ∇_x J(x, θ) = D_xᵀ (d̃_{π_θ} ⊙ π_θ)  (= E[Σ_t γ^t ∇_x r_x(s_t, a_t)] under π_θ).
// Outer iteration t: (i) n warm-started policy-gradient ascent steps on J (step τ, here
// `lowerStep`), (ii) n warm-started gradient steps on σf − J (step τ', `penaltyStep`),
// (iii) x ← x − η ∇̂Φ_σ. Gradients are exact (soft evaluation + occupancy solves) or
// sampled (B trajectories per estimate; REINFORCE on soft returns for θ, discounted
// visit counts for ∇_x J). ∇_π f always comes from the upper objective (a function of
// the policy table).
// σ: 0.1·min(1, τ) by default (paper 0.1): the bias of ∇Φ_σ grows like σ over the lower
// level's strong concavity, which the entropy τ sets; at τ = 0.1 and σ = 0.1 the biased direction
// stopped being a descent direction of φ far from its stationary points (incentive design).
// Default with exact gradients (docs/math.md#phi-sigma-inexact): spectral steps and inexactness-
// adaptive inner loops. The step: exact descent's Barzilai–Borwein trial step sᵀs/sᵀy from the last
// accepted move, backtracking until φ(x⁺) ≤ max of φ at the last 10 iterates + c⟨∇̂Φ_σ, x⁺ − x⟩,
// c = 1e-4 (update.ts spectralStep; each trial one warm-started tight lower solve, counted). The
// inner loops ('inexact' nRule): n steps per loop, n from n_0 = 20 doubling (continuing the
// warm-started loops, ≤ 10 n_0) while ‖ĥ_n − ĥ_{n/2}‖ > ½‖ĥ_n‖ (ĥ_m the estimate after m steps of
// each loop) or when a search fails; n never shrinks and σ stays σ_0. Safe: φ never rises above
// φ(x_0) (the nonmonotone reference is a max over past φ); an estimate whose error is below half
// its norm is a descent direction of Φ_σ; n is bounded. With sampled gradients (φ is not available)
// and in the paper preset the step is the fixed η and n is fixed.
// 'armijo' with adaptive σ (docs/math.md#phi-sigma-adaptive; the default before): monotone
// backtracking from the carried step; a search that fails or backtracks more than 3 times halves σ
// (≥ σ_0/100) and doubles n (≤ 4n_0). It stays on plateaus of happyText and incentive seed 0.
// Convergence measure (exact gradients): ‖∇̂Φ_σ‖₂ + ‖LSE_τ(Q̂*) − V̂*‖∞, the penalised problem's
// stationarity (within O(σ) of φ's, docs/math.md#phi-sigma) plus the residual of the inner
// estimate θ̂* (zero only when loop (i) has converged); with sampled gradients, ‖∇̂Φ_σ‖₂. With
// `project: 'nonnegative'` the gradient norm is the projected-gradient mapping ‖x − P(x − ∇̂Φ_σ)‖₂.
import { DomainError, NumericalError, ShapeError } from "../../errors";
import { occupancy, policyEvaluation } from "../../lower";
import { luSolveDense } from "../../wasm/routines/index";
import type { Trajectories } from "../../sampling";
import * as check from "../../validate";
import { Rng } from "../../util/random";
import { solveLower, type LowerOptions } from "../lowerSolve";
import type { BilevelProblem } from "../problem";
import {
  defaultHorizon,
  expArray,
  logitGradientOfTable,
  sample,
  sampledOccupancy,
  softLogitGradient,
} from "./actorCritic";
import { algorithm, norm2, parseProjection, projectX, startX, stepSize, type StepInfo, type StateTag, type XProjection } from "./common";
import { logSoftmaxRows } from "../../util/softmax";
import { exp, log } from "../../util/math";
import { byName, count, describe, int, num, oneOf, parsePreset, positive, presetParam, presetValue, seedParam, str } from "../../util/params";
import { solveLower as lowerSolve } from "../lowerSolve";
import { ARMIJO, SPECTRAL_MEMORY, armijo, direction, gradientMapping, initUpdate, spectralStep, stepTo, updateParams, type UpdateOptions, type UpdateState } from "./update";

const params = [
  presetParam,
  num("sigma", "Penalty parameter σ (σ_0 with the adaptive rule).", { defaultText: "0.1·min(1, τ) (0.1 when τ = 0)", paper: 0.1, ...positive }),
  str("sigmaRule", "'adaptive' (with a search on φ): after a search that fails or backtracks more than 3 times, σ halves (down to σ_0/100) and n doubles (up to 4n_0); 'fixed': σ throughout.", ["adaptive", "fixed"], { defaultText: "'adaptive' with stepRule 'armijo', else 'fixed'", paper: "fixed" }),
  str("nRule", "'inexact' (exact gradients): n doubles, continuing the warm-started loops, while the estimate's change over the second half of the loops exceeds half its norm, and after a failed search (n ≤ 10n_0, never shrinking); 'fixed': n throughout (unless the adaptive σ rule doubles it).", ["inexact", "fixed"], { defaultText: "'inexact' with stepRule 'spectral', else 'fixed'", paper: "fixed" }),
  int("n", "Inner steps per loop (n_0 with nRule 'inexact').", { default: 20, ...count }),
  num("eta", "Upper step η: the fixed step, or the first trial step of the backtracking search.", { default: 1, paper: 1e-2, ...positive }),
  str("stepRule", "'spectral': Barzilai–Borwein trial steps with nonmonotone backtracking on φ; 'armijo': monotone backtracking on φ (both exact gradients only); 'fixed': the constant step η.", ["spectral", "armijo", "fixed"], { defaultText: "'spectral' with exact gradients, 'fixed' with sampled ones", paper: "fixed" }),
  num("lowerStep", "Step of the policy-gradient ascent on J.", { default: 1, ...positive }),
  num("penaltyStep", "Step of the descent on σf − J.", { default: 1, ...positive }),
  str("gradient", "Exact (model-based) or sampled gradients.", ["exact", "sampled"], { default: "exact" }),
  int("batch", "Trajectories per sampled estimate.", { default: 64, ...count }),
  int("horizon", "Steps per trajectory.", { defaultText: "⌈log(1e-3)/log γ⌉", ...count }),
  seedParam("the trajectory sampler"),
  str("project", "Projection of x after each step.", ["none", "nonnegative"], { default: "none" }),
  ...updateParams,
] as const;
const P = byName(params);

/** What an experiment file can set (x0 is the experiment's). */
export const phiSigmaInfo = describe({
  name: "phiSigma",
  stepParam: "eta",
  source: "docs/math.md#phi-sigma (seed 004)",
  description: "Hessian-free penalty method Φσ: two policy-gradient loops and a finite-difference hypergradient of bias O(σ).",
  needsSoft: false,
  needsTrajectory: false,
  params,
});

/** How `phiSigma` gets its gradients: exactly from the model or from sampled trajectories. */
export type PhiSigmaGradientMode = "exact" | "sampled";

/** Options of `phiSigma`. */
export interface PhiSigmaOptions extends UpdateOptions {
  x0?: ArrayLike<number>;
  /** 'default' or 'paper' (η = 1e-2 fixed). */
  preset?: "default" | "paper";
  /** 'spectral' (default with exact gradients): Barzilai–Borwein trial steps, nonmonotone backtracking on φ (docs/math.md#phi-sigma-inexact); 'armijo': monotone backtracking on φ; 'fixed' (sampled gradients, paper): the constant step η. */
  stepRule?: "spectral" | "armijo" | "fixed";
  /** Projection of x after each step: 'none' (default) or 'nonnegative' (e.g. incentive design). */
  project?: XProjection;
  /** Penalty parameter σ > 0 (default 0.1·min(1, τ); paper 0.1); the bias ‖∇Φ_σ − ∇φ‖ is O(σ). With 'adaptive' the start σ_0. */
  sigma?: number;
  /** 'adaptive' (default with 'armijo'): σ halves and n doubles after a search that fails or backtracks more than 3 times (σ ≥ σ_0/100, n ≤ 4n_0); 'fixed' (paper). */
  sigmaRule?: "adaptive" | "fixed";
  /** 'inexact' (default with stepRule 'spectral'): n doubles while ‖ĥ_n − ĥ_{n/2}‖ > ½‖ĥ_n‖ or after a failed search (n ≤ 10n_0; docs/math.md#phi-sigma-inexact); 'fixed' (paper). */
  nRule?: "inexact" | "fixed";
  /** Inner steps per loop n (default 20; the start n_0 with nRule 'inexact'). */
  n?: number;
  /** The fixed step, or the first trial step of the search (default 1; paper 1e-2). */
  eta?: number;
  /** Step τ of the policy-gradient ascent on J (default 1). */
  lowerStep?: number;
  /** Step τ' of the gradient descent on σf − J (default 1). */
  penaltyStep?: number;
  /** 'exact' (tabular, model-based; default) or 'sampled' (trajectories). */
  gradient?: PhiSigmaGradientMode;
  /** Trajectories per sampled estimate B (default 64). */
  batch?: number;
  /** Steps per trajectory (default ⌈log(10⁻³)/log γ⌉). */
  horizon?: number;
  /** Seed of the trajectory sampler (default 0). */
  seed?: number;
}

/** State of `phiSigma` (plain data: JSON-safe). */
export interface PhiSigmaState extends StateTag {
  k: number;
  x: number[];
  /** Logits θ̂* (S·A, log-softmax normalised): warm start of loop (i). */
  thetaStar: number[];
  /** Logits θ̂_σ (S·A): warm start of loop (ii). */
  thetaSigma: number[];
  /** xoshiro128** words of the generator that seeds each sampling call. */
  rng: [number, number, number, number];
  sigma: number;
  n: number;
  /** Adaptive σ: the floor of its halvings (σ_0/100); absent with 'fixed'. */
  sigmaMin?: number;
  /** Adaptive σ or nRule 'inexact': the cap on n's doublings (4n_0, 10n_0 with 'inexact'); absent otherwise. */
  nMax?: number;
  /** nRule 'inexact' (docs/math.md#phi-sigma-inexact); absent with 'fixed'. */
  nRule?: "inexact";
  /** The fixed step; 'armijo': the next search's first trial step; 'spectral': the last accepted step. */
  eta: number;
  stepRule: "spectral" | "armijo" | "fixed";
  project: XProjection;
  /** 'spectral', 'armijo': warm start of the merit's lower solves (S); [] for 'fixed'. */
  Vphi: number[];
  /** 'spectral': x_{k−1} and ∇̂Φ_σ(x_{k−1}) of the last accepted move ([] before it), and φ at the last iterates (at most 10). */
  xPrev?: number[];
  hPrev?: number[];
  recent?: number[];
  update: UpdateState;
  lowerStep: number;
  penaltyStep: number;
  gradient: PhiSigmaGradientMode;
  batch: number;
  horizon: number;
  last?: StepInfo;
}

/** The Hessian-free penalty method Φ_σ: two policy-gradient loops and a finite-difference hypergradient of bias O(σ) (docs/math.md#phi-sigma). */
export const phiSigma = algorithm<PhiSigmaOptions, PhiSigmaState, "phiSigma">(
  phiSigmaInfo,
  (problem, o) => {
    const { S, A } = problem.mdp;
    const gradient = oneOf(P.gradient, o.gradient);
    if (gradient === "sampled" && problem.transitions) throw new DomainError("gradient", "'sampled' needs x-independent transitions", gradient);
    const uniform = new Array(S * A).fill(-log(A));
    const preset = parsePreset(o.preset);
    const stepRule = oneOf(P.stepRule, presetValue(P.stepRule, o.stepRule, preset), gradient === "exact" ? "spectral" : "fixed");
    const searched = stepRule !== "fixed";
    if (searched && gradient === "sampled") throw new DomainError("stepRule", `'${stepRule}' needs exact gradients (it evaluates φ): use 'fixed' with 'sampled'`, stepRule);
    const project = parseProjection(o.project);
    const x = startX(problem, o.x0);
    projectX(x, project);
    // the bias of ∇Φ_σ is O(σ/μ) with μ the lower level's strong concavity, here ~τ: σ scales with τ
    const sigma = stepSize("sigma", presetValue(P.sigma, o.sigma, preset), problem.tau > 0 ? 0.1 * Math.min(1, problem.tau) : 0.1);
    const n = o.n === undefined ? P.n.default : check.positiveInt("n", o.n);
    const sigmaRule = oneOf(P.sigmaRule, presetValue(P.sigmaRule, o.sigmaRule, preset), stepRule === "armijo" ? "adaptive" : "fixed");
    if (sigmaRule === "adaptive" && !searched) throw new DomainError("sigmaRule", "'adaptive' needs stepRule 'spectral' or 'armijo' (it reacts to the search on φ)", sigmaRule);
    // the spectral step needs estimates that descend: 20 inner steps left the error above ‖∇φ‖ on happyText (docs/math.md#phi-sigma-inexact)
    const nRule = oneOf(P.nRule, presetValue(P.nRule, o.nRule, preset), stepRule === "spectral" ? "inexact" : "fixed");
    if (nRule === "inexact" && gradient === "sampled") throw new DomainError("nRule", "'inexact' needs exact gradients (it compares estimates): use 'fixed' with 'sampled'", nRule);
    return {
      k: 0,
      x,
      stepRule,
      project,
      Vphi: searched ? new Array(S).fill(0) : [],
      ...(stepRule === "spectral" ? { xPrev: [], hPrev: [], recent: [] } : {}),
      update: initUpdate(o, problem.n),
      thetaStar: uniform.slice(),
      thetaSigma: uniform.slice(),
      rng: new Rng(o.seed === undefined ? 0 : check.seed(o.seed)).s.slice() as [number, number, number, number],
      sigma,
      n,
      ...(sigmaRule === "adaptive" ? { sigmaMin: sigma / 100 } : {}),
      ...(nRule === "inexact" ? { nRule, nMax: INEXACT_GROWTH * n } : sigmaRule === "adaptive" ? { nMax: 4 * n } : {}),
      eta: stepSize("eta", presetValue(P.eta, o.eta, preset), P.eta.default),
      lowerStep: stepSize("lowerStep", o.lowerStep, P.lowerStep.default),
      penaltyStep: stepSize("penaltyStep", o.penaltyStep, P.penaltyStep.default),
      gradient,
      batch: o.batch === undefined ? P.batch.default : check.positiveInt("batch", o.batch),
      horizon: o.horizon === undefined ? defaultHorizon(problem.mdp.gamma) : check.positiveInt("horizon", o.horizon),
    };
  },
  (problem, st) => (st.gradient === "exact" ? exactStep(problem, st) : sampledStep(problem, st)),
);

/** Exact soft evaluation and occupancy of π_θ (2 solves). */
interface Evaluated {
  pi: Float64Array;
  logPi: Float64Array;
  Q: Float64Array;
  V: Float64Array;
  /** d̃ ⊙ π (S·A). */
  u: Float64Array;
  /** d̃ (S). */
  d: Float64Array;
}

function evaluateLogits(problem: BilevelProblem, r: Float64Array, theta: Float64Array): Evaluated {
  const { mdp, tau } = problem;
  const { S, A } = mdp;
  const logPi = logSoftmaxRows(Float64Array.from(theta), S, A);
  const pi = expArray(logPi);
  const ev = policyEvaluation(mdp, r, pi, { tau });
  const d = occupancy(mdp, pi);
  if (!ev.converged) throw new NumericalError(`phiSigma: the evaluation solve stopped at residual ${ev.residual}`);
  const u = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) u[s * A + a] = d[s] * pi[s * A + a];
  return { pi, logPi, Q: ev.Q, V: ev.V, u, d };
}

/** ∇_θ J_τ (exact, softmax logits) at an evaluated policy. */
function gradJ(problem: BilevelProblem, e: Evaluated): Float64Array {
  const { S, A } = problem.mdp;
  return softLogitGradient(e.Q, e.V, e.pi, e.logPi, e.d, S, A, problem.tau);
}

/** ∇_θ (σ f − J) at an evaluated policy. */
function gradPenalised(problem: BilevelProblem, x: Float64Array, e: Evaluated, sigma: number, gJ = gradJ(problem, e)): Float64Array {
  const { S, A } = problem.mdp;
  const gf = logitGradientOfTable(problem.gradPi(x, e.pi), e.pi, S, A);
  for (let i = 0; i < gf.length; i++) gf[i] = sigma * gf[i] - gJ[i];
  return gf;
}

function rhoDot(problem: BilevelProblem, V: Float64Array): number {
  const rho = problem.mdp.rho;
  let J = 0;
  for (let s = 0; s < V.length; s++) J += rho[s] * V[s];
  return J;
}

/** nRule 'inexact': the cap on n is this many times n_0 (docs/math.md#phi-sigma-inexact). */
const INEXACT_GROWTH = 10;

/** nRule 'inexact': the largest change ‖ĥ_n − ĥ_{n/2}‖ / ‖ĥ_n‖ accepted (an error below half the norm keeps a descent direction). */
const INEXACT_RATIO = 0.5;

/** Adaptive σ: more halvings than this in one search mark the estimate as too biased. */
const REFINE_AFTER = 3;

function exactStep(problem: BilevelProblem, st: PhiSigmaState): PhiSigmaState {
  const { S, A } = problem.mdp;
  const x = Float64Array.from(st.x);
  const r = problem.rewardAt(x);
  problem.moveTo(x);
  const thStar = Float64Array.from(st.thetaStar);
  let eStar = evaluateLogits(problem, r, thStar);
  const thSig = Float64Array.from(st.thetaSigma);
  let eSig = evaluateLogits(problem, r, thSig);
  // (i) m more warm-started ascent steps on J, (ii) m more descent steps on σ f − J
  const inner = (m: number) => {
    for (let i = 0; i < m; i++) {
      const g = gradJ(problem, eStar);
      for (let j = 0; j < thStar.length; j++) thStar[j] = eStar.logPi[j] + st.lowerStep * g[j];
      eStar = evaluateLogits(problem, r, thStar);
    }
    for (let i = 0; i < m; i++) {
      const g = gradPenalised(problem, x, eSig, st.sigma);
      for (let j = 0; j < thSig.length; j++) thSig[j] = eSig.logPi[j] - st.penaltyStep * g[j];
      eSig = evaluateLogits(problem, r, thSig);
    }
  };
  let n = st.n;
  let h: Float64Array;
  if (st.nRule === "inexact" && st.nMax !== undefined) {
    // docs/math.md#phi-sigma-inexact: the change of the estimate over the second half of the
    // loops stands for its remaining error; double n (continuing the loops) until it is at most
    // half the estimate's norm
    const half = Math.floor(n / 2);
    inner(half);
    let hHalf = combineGrad(problem, x, st.sigma, eStar, eSig);
    inner(n - half);
    h = combineGrad(problem, x, st.sigma, eStar, eSig);
    while (n < st.nMax && distance(h, hHalf) > INEXACT_RATIO * norm2(h)) {
      const more = Math.min(n, st.nMax - n);
      inner(more);
      n += more;
      hHalf = h;
      h = combineGrad(problem, x, st.sigma, eStar, eSig);
    }
  } else {
    inner(n);
    h = combineGrad(problem, x, st.sigma, eStar, eSig);
  }
  // (iii) x step along ∇̂Φ_σ
  const f = problem.value(x, eStar.pi);
  const penalty = (rhoDot(problem, eStar.V) - rhoDot(problem, eSig.V)) / st.sigma;
  const residual = softResidual(eStar.Q, eStar.V, S, A, problem.tau);
  const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
  const d = direction(update, h, new Float64Array(x.length));
  let xn: Float64Array, eta = st.eta, Vphi = st.Vphi, sigma = st.sigma;
  let xPrev = st.xPrev, hPrev = st.hPrev, recent = st.recent;
  if (st.stepRule === "fixed") {
    xn = stepTo(x, d, st.eta, st.project, new Float64Array(x.length));
  } else {
    const at0 = lowerSolve(problem, x, { tol: 1e-10, V0: st.Vphi });
    let Vt = at0.V;
    const merit = (xt: Float64Array) => {
      const low = lowerSolve(problem, xt, { tol: 1e-10, V0: at0.V });
      Vt = low.V;
      return problem.value(xt, low.pi);
    };
    const phi = problem.value(x, at0.pi);
    let ls;
    if (st.stepRule === "spectral") {
      // docs/math.md#phi-sigma-spectral: the secant step of the last accepted move, tested
      // against the largest φ of the last SPECTRAL_MEMORY iterates
      recent = [...(st.recent ?? []), phi].slice(-SPECTRAL_MEMORY);
      const trial = spectralStep(x, h, st.xPrev ?? [], st.hPrev ?? [], st.eta) ?? st.eta;
      ls = armijo(merit, x, phi, h, d, trial, st.project, ARMIJO, Math.max(...recent));
      if (ls.beta > 0) {
        eta = ls.beta;
        xPrev = st.x.slice();
        hPrev = Array.from(h);
      }
    } else {
      ls = armijo(merit, x, phi, h, d, st.eta, st.project);
      eta = ls.next;
    }
    xn = ls.x;
    // adaptive σ (docs/math.md#phi-sigma-adaptive): a search that fails or needs more than
    // REFINE_AFTER halvings says ∇̂Φ_σ barely descends φ, i.e. its error (O(σ) bias plus the
    // inner loops' error over σ) is of the order of ‖∇φ‖: halve σ, double the inner steps
    if (st.sigmaMin !== undefined && st.nMax !== undefined && (ls.beta === 0 || ls.trials > REFINE_AFTER) && sigma > st.sigmaMin) {
      sigma = Math.max(sigma / 2, st.sigmaMin);
      n = Math.min(2 * n, st.nMax);
    } else if (st.nRule === "inexact" && st.nMax !== undefined && ls.beta === 0) {
      // a failed search: the estimate did not descend φ, so its error is of the order of ‖∇φ‖
      n = Math.min(2 * n, st.nMax);
    }
    Vphi = Array.from(ls.beta > 0 ? Vt : at0.V);
    problem.moveTo(xn);
  }
  if (!xn.every(Number.isFinite)) throw new DomainError("x", "became non-finite: reduce eta", Array.from(xn));
  return {
    ...st,
    k: st.k + 1,
    x: Array.from(xn),
    eta,
    Vphi,
    ...(st.stepRule === "spectral" ? { xPrev, hPrev, recent } : {}),
    sigma,
    n,
    update,
    thetaStar: Array.from(eStar.logPi),
    thetaSigma: Array.from(eSig.logPi),
    last: { f, hnorm: norm2(h), lowerResidual: residual, penalty, measure: gradientMapping(x, h, st.project) + residual },
  };
}

/** ‖a − b‖₂. */
function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return Math.sqrt(s);
}

/** ∇_x f(x, π_σ) + (1/σ)[D_xᵀ(d̃* ⊙ π*) − D_xᵀ(d̃_σ ⊙ π_σ)]. */
function combineGrad(problem: BilevelProblem, x: Float64Array, sigma: number, eStar: Pick<Evaluated, "u" | "V">, eSig: Pick<Evaluated, "u" | "V" | "pi">): Float64Array {
  const h = problem.gradX(x, eSig.pi);
  const gStar = problem.vjp(x, eStar.u, eStar.V);
  const gSig = problem.vjp(x, eSig.u, eSig.V);
  for (let i = 0; i < h.length; i++) h[i] += (gStar[i] - gSig[i]) / sigma;
  return h;
}

/** max_s |LSE_τ(Q(s,·)) − V(s)| (‖G(V^π) − V^π‖∞ when Q = r + γPV^π); max for τ = 0. */
function softResidual(Q: Float64Array, V: Float64Array, S: number, A: number, tau: number): number {
  let res = 0;
  for (let s = 0; s < S; s++) {
    const o = s * A;
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, Q[o + a]);
    let g = m;
    if (tau > 0) {
      let z = 0;
      for (let a = 0; a < A; a++) z += exp((Q[o + a] - m) / tau);
      g = m + tau * log(z);
    }
    res = Math.max(res, Math.abs(g - V[s]));
  }
  return res;
}

function sampledStep(problem: BilevelProblem, st: PhiSigmaState): PhiSigmaState {
  const { S, A, gamma } = problem.mdp;
  const tau = problem.tau;
  const x = Float64Array.from(st.x);
  const r = problem.rewardAt(x);
  problem.moveTo(x);
  const rng = new Rng(st.rng);
  const B = st.batch, H = st.horizon;
  // (i) n ascent steps on J with REINFORCE estimates
  const thStar = logSoftmaxRows(Float64Array.from(st.thetaStar), S, A);
  let lastNorm = 0;
  for (let i = 0; i < st.n; i++) {
    const pi = expArray(thStar);
    const tr = sample(problem, pi, B, H, rng.fork());
    const g = reinforce(tr, H, r, pi, thStar, S, A, gamma, tau).grad;
    lastNorm = maxAbs(g);
    for (let j = 0; j < thStar.length; j++) thStar[j] += st.lowerStep * g[j];
    logSoftmaxRows(thStar, S, A);
  }
  // (ii) n descent steps on σ f − J (∇_π f from the objective)
  const thSig = logSoftmaxRows(Float64Array.from(st.thetaSigma), S, A);
  for (let i = 0; i < st.n; i++) {
    const pi = expArray(thSig);
    const tr = sample(problem, pi, B, H, rng.fork());
    const gJ = reinforce(tr, H, r, pi, thSig, S, A, gamma, tau).grad;
    const gf = logitGradientOfTable(problem.gradPi(x, pi), pi, S, A);
    for (let j = 0; j < thSig.length; j++) thSig[j] -= st.penaltyStep * (st.sigma * gf[j] - gJ[j]);
    logSoftmaxRows(thSig, S, A);
  }
  // (iii) ∇_x J at both policies from discounted visit counts, with common random numbers
  const piStar = expArray(thStar), piSig = expArray(thSig);
  const seed = rng.fork();
  const trStar = sample(problem, piStar, B, H, seed);
  const trSig = sample(problem, piSig, B, H, seed);
  const uStar = sampledOccupancy(trStar, H, S, A, gamma);
  const uSig = sampledOccupancy(trSig, H, S, A, gamma);
  const none = new Float64Array(S); // V is only used with x-dependent transitions (excluded)
  const h = combineGrad(problem, x, st.sigma, { u: uStar, V: none }, { u: uSig, V: none, pi: piSig });
  const f = problem.value(x, piStar);
  const Jstar = reinforce(trStar, H, r, piStar, thStar, S, A, gamma, tau).J;
  const Jsig = reinforce(trSig, H, r, piSig, thSig, S, A, gamma, tau).J;
  const update = { ...st.update, m: st.update.m.slice(), v: st.update.v.slice() };
  const xn = stepTo(x, direction(update, h, new Float64Array(x.length)), st.eta, st.project, new Float64Array(x.length));
  if (!xn.every(Number.isFinite)) throw new DomainError("x", "became non-finite: reduce eta", Array.from(xn));
  return {
    ...st,
    k: st.k + 1,
    x: Array.from(xn),
    update,
    thetaStar: Array.from(thStar),
    thetaSigma: Array.from(thSig),
    rng: rng.s.slice() as [number, number, number, number],
    last: { f, hnorm: norm2(h), lowerResidual: lastNorm, penalty: (Jstar - Jsig) / st.sigma, measure: gradientMapping(x, h, st.project) },
  };
}

/**
 * REINFORCE for the soft return on a batch: with G_t = Σ_{t'≥t} γ^{t'−t} (r_{t'} − τ log π(a_{t'}|s_{t'}))
 * (truncated at the horizon, and ending at a terminal state),
 *   ĝ(s, ·) = (1/B) Σ_i Σ_t γ^t (G_t − b_{−i}(s_t)) (e_{a_t} − π(·|s_t)) for s = s_t,
 * where the baseline b_{−i}(s) is the mean of G over visits to s in the other episodes
 * (independent of episode i, so the estimate stays unbiased). Also returns Ĵ = mean G_0.
 */
function reinforce(tr: Trajectories, H: number, r: Float64Array, pi: Float64Array, logPi: Float64Array, S: number, A: number, gamma: number, tau: number): { grad: Float64Array; J: number } {
  const { states, actions } = tr;
  const B = states.length / H;
  const G = new Float64Array(states.length);
  const sum = new Float64Array(S), cnt = new Float64Array(S);
  let J = 0;
  for (let o = 0; o < states.length; o += H) {
    let acc = 0;
    for (let t = H - 1; t >= 0; t--) {
      if (states[o + t] < 0) continue; // after a terminal state (docs/math.md#terminal-states): G = 0
      const i = states[o + t] * A + actions[o + t];
      acc = r[i] - tau * logPi[i] + gamma * acc;
      G[o + t] = acc;
      sum[states[o + t]] += acc;
      cnt[states[o + t]] += 1;
    }
    J += acc;
  }
  const grad = new Float64Array(S * A);
  const own = new Float64Array(S), ownCnt = new Float64Array(S);
  for (let o = 0; o < states.length; o += H) {
    for (let t = 0; t < H; t++) {
      const s = states[o + t];
      if (s < 0) break;
      own[s] += G[o + t];
      ownCnt[s] += 1;
    }
    for (let t = 0, g = 1 / B; t < H; t++, g *= gamma) {
      const s = states[o + t], a = actions[o + t];
      if (s < 0) break;
      const c = cnt[s] - ownCnt[s];
      const b = c > 0 ? (sum[s] - own[s]) / c : 0;
      const wgt = g * (G[o + t] - b);
      for (let k = 0; k < A; k++) grad[s * A + k] -= wgt * pi[s * A + k];
      grad[s * A + a] += wgt;
    }
    for (let t = 0; t < H && states[o + t] >= 0; t++) {
      own[states[o + t]] = 0;
      ownCnt[states[o + t]] = 0;
    }
  }
  return { grad, J: J / B };
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

// ---------- ∇Φ_σ with the inner problems solved to high accuracy (for tests) ----------

/** Options of `phiSigmaGradient`. */
export interface PhiSigmaGradientOptions {
  /** Target ‖∇_θ(σf − J)‖∞ at θ_σ (default 1e-11). */
  tol?: number;
  /** Cap on Newton steps for θ_σ (default 50). */
  maxIter?: number;
  /** Solve for θ* (default: soft policy iteration to 1e-13). */
  lower?: LowerOptions;
  /** Central-difference step for the Newton Jacobian (default 1e-5). */
  h?: number;
}

/** What `phiSigmaGradient` returns. */
export interface PhiSigmaGradientResult {
  /** Φ_σ(x) = (h_σ(x) − h_0(x))/σ = f(x, π_σ) + (J(x, π*) − J(x, π_σ))/σ. */
  value: number;
  /** ∇Φ_σ(x), length n. */
  grad: Float64Array;
  /** h_σ(x) = σ f(x, π_σ) − J(x, π_σ). */
  hSigma: number;
  /** h_0(x) = −J(x, π*). */
  h0: number;
  /** π* = π_{θ*} (S·A). */
  piStar: Float64Array;
  /** π_σ = π_{θ_σ} (S·A). */
  piSigma: Float64Array;
  /** ‖∇_θ(σf − J)‖∞ at θ_σ. */
  residual: number;
  /** Newton steps taken for θ_σ. */
  iterations: number;
  converged: boolean;
}

/**
 * ∇Φ_σ(x) with θ* from a tight soft policy iteration and θ_σ from Newton's method on
 * ∇_θ(σf − J) = 0 in reduced logits (last logit of each state fixed), started at θ*;
 * the Jacobian is a central difference of the analytic gradient, the steps are damped
 * by backtracking on ‖∇_θ(σf − J)‖₂.
 */
export function phiSigmaGradient(problem: BilevelProblem, x: ArrayLike<number>, sigma: number, options: PhiSigmaGradientOptions = {}): PhiSigmaGradientResult {
  const xx = problem.checkX(x);
  problem.requireSoft("phiSigmaGradient");
  const sig = check.finiteNumber("sigma", sigma);
  if (sig <= 0) throw new DomainError("sigma", "must be > 0", sigma);
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const tol = options.tol === undefined ? 1e-11 : check.nonNegative("tol", options.tol);
  const maxIter = options.maxIter === undefined ? 50 : check.positiveInt("maxIter", options.maxIter);
  const hFD = options.h === undefined ? 1e-5 : check.finiteNumber("h", options.h);
  if (hFD <= 0) throw new DomainError("h", "must be > 0", options.h);
  const { mdp, tau } = problem;
  const { S, A } = mdp;
  const low = solveLower(problem, xx, { solver: "policy-iteration", tol: 1e-13, ...options.lower });
  if (!low.converged) throw new NumericalError(`phiSigmaGradient: the lower solve stopped at residual ${low.residual}`);
  const r = low.r;
  // θ* = Q*/τ (log-softmax normalised): avoids log 0 where π* underflows
  const thStar = new Float64Array(S * A);
  for (let i = 0; i < thStar.length; i++) thStar[i] = low.Q[i] / tau;
  const eStar = evaluateLogits(problem, r, thStar);
  // Newton on F(z) = reduced ∇_θ(σf − J), z = θ(s, a) − θ(s, A−1) for a < A−1
  const m = S * (A - 1);
  const Fred = (z: Float64Array): { F: Float64Array; e: Evaluated } => {
    const e = evaluateLogits(problem, r, expand(z, S, A));
    const g = gradPenalised(problem, xx, e, sig);
    return { F: reduce(g, S, A), e };
  };
  let z = reduce(eStar.logPi, S, A, true);
  let cur = Fred(z);
  let residual = maxAbs(cur.F), it = 0;
  while (residual > tol && it < maxIter && m > 0) {
    it++;
    const J = new Float64Array(m * m); // row-major, J[i·m + j] = ∂F_i/∂z_j
    const zp = Float64Array.from(z);
    for (let j = 0; j < m; j++) {
      const step = hFD * Math.max(1, Math.abs(z[j]));
      zp[j] = z[j] + step;
      const Fp = Fred(zp).F;
      zp[j] = z[j] - step;
      const Fm = Fred(zp).F;
      zp[j] = z[j];
      for (let i = 0; i < m; i++) J[i * m + j] = (Fp[i] - Fm[i]) / (2 * step);
    }
    const dz = denseSolve(problem, J, cur.F, m);
    // backtracking on ‖F‖₂
    const n0 = norm2(cur.F);
    let t = 1, accepted = false;
    for (let b = 0; b < 30; b++, t *= 0.5) {
      const zt = new Float64Array(m);
      for (let i = 0; i < m; i++) zt[i] = z[i] - t * dz[i];
      const next = Fred(zt);
      if (norm2(next.F) < n0 || b === 29) {
        z = zt;
        cur = next;
        accepted = norm2(next.F) < n0;
        break;
      }
    }
    const res = maxAbs(cur.F);
    if (!accepted && !(res < residual)) { residual = res; break; } // stalled at rounding level
    residual = res;
  }
  const eSig = cur.e;
  const fSig = problem.value(xx, eSig.pi);
  const Jstar = rhoDot(problem, eStar.V), Jsig = rhoDot(problem, eSig.V);
  const hSigma = sig * fSig - Jsig, h0 = -Jstar;
  const grad = combineGrad(problem, xx, sig, eStar, eSig);
  return {
    value: fSig + (Jstar - Jsig) / sig,
    grad,
    hSigma,
    h0,
    piStar: eStar.pi,
    piSigma: eSig.pi,
    residual,
    iterations: it,
    converged: residual <= tol,
  };
}

/** Reduced coordinates: θ(s, a) − θ(s, A−1) for a < A−1 (`shift`), or just the first A−1 entries of a gradient. */
function reduce(v: Float64Array, S: number, A: number, shift = false): Float64Array {
  const out = new Float64Array(S * (A - 1));
  for (let s = 0; s < S; s++) {
    const base = shift ? v[s * A + A - 1] : 0;
    for (let a = 0; a < A - 1; a++) out[s * (A - 1) + a] = v[s * A + a] - base;
  }
  return out;
}

function expand(z: Float64Array, S: number, A: number): Float64Array {
  const th = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A - 1; a++) th[s * A + a] = z[s * (A - 1) + a];
  return th;
}

/** Solve M y = b (m × m, row-major) with the kernels' dense LU. */
function denseSolve(problem: BilevelProblem, M: Float64Array, b: Float64Array, m: number): Float64Array {
  const y = new Float64Array(m);
  const bad = luSolveDense(problem.mdp, M, b, m, y, "the Newton system of phiSigmaGradient needs (S(A−1))² doubles: use a smaller problem");
  if (bad !== 0) throw new NumericalError(`phiSigmaGradient: the Newton system is singular (zero pivot at column ${bad - 1})`);
  return y;
}
