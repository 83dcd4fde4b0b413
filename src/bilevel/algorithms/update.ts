// The upper-level update rules and step rules every algorithm shares.
//
// Update rules (the direction d_k of x_{k+1} = x_k − β_k d_k from the estimate ĥ_k):
//   'plain'    d = ĥ;
//   'clipped'  d = ĥ · min(1, clipNorm/‖ĥ‖₂)  (global-norm clipping);
//   'adam'     m ← β₁m + (1−β₁)ĥ, v ← β₂v + (1−β₂)ĥ², d = m̂/(√v̂ + ε) with the bias corrections
//              m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) (Kingma & Ba, ICLR 2015, Algorithm 1; their constants
//              β₁ = 0.9, β₂ = 0.999, ε = 1e-8). The moments live in the plain-data state.
// Step rules:
//   spectral   Barzilai–Borwein trial steps with nonmonotone Armijo backtracking against the largest
//              of the last 10 merits (spectralStep, SPECTRAL_MEMORY; docs/math.md#spectral-step).
//   armijo     backtracking on a merit function M (φ, or the method's own): from the trial β,
//              halve until M(x⁺) ≤ M(x) + c⟨ĥ, x⁺ − x⟩ (x⁺ projected); the next search starts at
//              2β when the first trial passed, else at the accepted β. Safe: every accepted step
//              decreases M by at least c|⟨ĥ, x⁺ − x⟩|, and for an L-smooth M with ĥ = ∇M the search
//              stops at β ≥ (1−c)/L·(shrink), so the steps never vanish (Nocedal & Wright, Numerical Optimization, ch. 3).
//   adaptive   a safeguarded step without extra evaluations: β grows by `grow` after an iteration
//              whose merit decreased and halves when it did not (for methods whose merit is a
//              by-product of the step, e.g. f(x_k, π_k) with a tracked policy).
import { DomainError } from "../../errors";
import * as check from "../../validate";
import { byName, num, positive, str } from "../../util/params";
import { projectX, type XProjection } from "./common";
import { pow } from "../../util/math";

/** The upper-level update rules. */
export const UPDATES = ["plain", "clipped", "adam"] as const;
/** An upper-level update rule: 'plain', 'clipped' or 'adam'. */
export type UpdateRule = (typeof UPDATES)[number];

/** The parameters of the update rules (every algorithm lists them). */
export const updateParams = [
  str("update", "Upper update rule: 'plain' x − βĥ, 'clipped' (ĥ rescaled to ‖ĥ‖₂ ≤ clipNorm) or 'adam' (bias-corrected moments).", UPDATES, { default: "plain" }),
  num("clipNorm", "'clipped': the largest ‖ĥ‖₂ a step uses.", { default: 1, ...positive }),
  num("adamBeta1", "'adam': decay β₁ of the first moment.", { default: 0.9, minimum: 0, exclusiveMaximum: 1 }),
  num("adamBeta2", "'adam': decay β₂ of the second moment.", { default: 0.999, minimum: 0, exclusiveMaximum: 1 }),
  num("adamEps", "'adam': ε added to √v̂.", { default: 1e-8, ...positive }),
] as const;
const U = byName(updateParams);

/**
 * The update-rule parameters with another default rule (and the paper's rule for
 * `preset: 'paper'`), for a method whose default is not 'plain'.
 */
export function updateParamsWith(d: { update: UpdateRule; paper: UpdateRule }) {
  const [rule, ...rest] = updateParams;
  return [{ ...rule, default: d.update, paper: d.paper }, ...rest] as unknown as typeof updateParams;
}

/** Options of the update rule (every algorithm's options extend it). */
export interface UpdateOptions {
  /** 'plain' (default): x − βĥ; 'clipped': ĥ rescaled to norm ≤ clipNorm; 'adam'. */
  update?: UpdateRule;
  /** 'clipped': the largest ‖ĥ‖₂ used (default 1). */
  clipNorm?: number;
  /** 'adam': β₁ (default 0.9). */
  adamBeta1?: number;
  /** 'adam': β₂ (default 0.999). */
  adamBeta2?: number;
  /** 'adam': ε (default 1e-8). */
  adamEps?: number;
}

/** The update rule's part of a state (plain data; Adam's moments m, v and count t). */
export interface UpdateState {
  rule: UpdateRule;
  clipNorm: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Adam's first moment (length n; [] for the other rules). */
  m: number[];
  /** Adam's second moment (length n; [] for the other rules). */
  v: number[];
  /** Adam's step count. */
  t: number;
}

/** The update state from the options (x of length n). */
export function initUpdate(o: UpdateOptions, n: number): UpdateState {
  const rule = o.update ?? U.update.default;
  if (!(UPDATES as readonly string[]).includes(rule)) throw new DomainError("update", "must be 'plain', 'clipped' or 'adam'", rule);
  const decay = (name: string, v: unknown, d: number) => {
    if (v === undefined) return d;
    const x = check.finiteNumber(name, v);
    if (!(x >= 0 && x < 1)) throw new DomainError(name, "must lie in [0, 1)", v);
    return x;
  };
  const pos = (name: string, v: unknown, d: number) => {
    if (v === undefined) return d;
    const x = check.finiteNumber(name, v);
    if (!(x > 0)) throw new DomainError(name, "must be > 0", v);
    return x;
  };
  return {
    rule,
    clipNorm: pos("clipNorm", o.clipNorm, U.clipNorm.default),
    beta1: decay("adamBeta1", o.adamBeta1, U.adamBeta1.default),
    beta2: decay("adamBeta2", o.adamBeta2, U.adamBeta2.default),
    eps: pos("adamEps", o.adamEps, U.adamEps.default),
    m: rule === "adam" ? new Array(n).fill(0) : [],
    v: rule === "adam" ? new Array(n).fill(0) : [],
    t: 0,
  };
}

/**
 * The direction d (x_{k+1} = x_k − β d) of the update rule for the estimate h, written to
 * `out`; advances Adam's moments in `u` (in place). Returns out.
 */
export function direction(u: UpdateState, h: ArrayLike<number>, out: Float64Array): Float64Array {
  const n = h.length;
  if (u.rule === "plain") {
    for (let i = 0; i < n; i++) out[i] = h[i];
  } else if (u.rule === "clipped") {
    let s = 0;
    for (let i = 0; i < n; i++) s += h[i] * h[i];
    const nh = Math.sqrt(s);
    const c = nh > u.clipNorm ? u.clipNorm / nh : 1;
    for (let i = 0; i < n; i++) out[i] = c * h[i];
  } else {
    u.t += 1;
    const b1 = u.beta1, b2 = u.beta2;
    const c1 = 1 - pow(b1, u.t), c2 = 1 - pow(b2, u.t); // util/math: Math.pow differs between engines
    for (let i = 0; i < n; i++) {
      u.m[i] = b1 * u.m[i] + (1 - b1) * h[i];
      u.v[i] = b2 * u.v[i] + (1 - b2) * h[i] * h[i];
      out[i] = u.m[i] / c1 / (Math.sqrt(u.v[i] / c2) + u.eps);
    }
  }
  return out;
}

/** x − β d, projected, written to out. */
export function stepTo(x: ArrayLike<number>, d: ArrayLike<number>, beta: number, project: XProjection, out: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) out[i] = x[i] - beta * d[i];
  projectX(out, project);
  return out;
}

/**
 * The stationarity measure of x for the gradient (estimate) h under the projection:
 * ‖x − P(x − h)‖₂, the projected-gradient mapping at unit step. Without a projection it is
 * ‖h‖₂; with x ≥ 0 it is zero exactly at the KKT points (h_i = 0 where x_i > 0, h_i ≥ 0
 * where x_i = 0), which ‖h‖ is not. Independent of the step rule.
 */
export function gradientMapping(x: ArrayLike<number>, h: ArrayLike<number>, project: XProjection): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    let y = x[i] - h[i];
    if (project === "nonnegative" && y < 0) y = 0;
    const d = x[i] - y;
    s += d * d;
  }
  return Math.sqrt(s);
}

/** Settings of `armijo`. */
export interface ArmijoSettings {
  /** Sufficient-decrease constant c ∈ (0, 1) (1e-4, Nocedal & Wright's choice). */
  c: number;
  /** Shrink factor per trial (½). */
  shrink: number;
  /** Trials before giving up (no move). */
  maxTrials: number;
  /** Cap on the step (and on its growth). */
  maxStep: number;
}

/** Nocedal & Wright's constants: c = 1e-4, halving, 40 trials, steps up to 1e6. */
export const ARMIJO: ArmijoSettings = { c: 1e-4, shrink: 0.5, maxTrials: 40, maxStep: 1e6 };

/** What `armijo` returns. */
export interface ArmijoResult {
  /** The accepted point (x itself when no trial passed). */
  x: Float64Array;
  /** The accepted step (0 when no trial passed). */
  beta: number;
  /** The merit at the accepted point (M(x) when no trial passed). */
  value: number;
  /** Merit evaluations made. */
  trials: number;
  /** The first trial step of the next search. */
  next: number;
}

/**
 * Backtracking (Armijo) along −d from x with merit M: the first β in beta0·shrinkʲ with
 * M(x⁺) ≤ M(x) + c⟨h, x⁺ − x⟩, x⁺ = P(x − βd), and ⟨h, x⁺ − x⟩ < 0. With the projection this
 * is the projected sufficient-decrease condition (Bertsekas, Nonlinear Programming, ch. 2).
 * When no trial passes (d not a descent direction for h, or M(x) at round-off), x stays.
 * The next search starts at min(2β, maxStep) when the first trial passed, else at β.
 * `reference` (default M(x)) replaces M(x) on the right for a nonmonotone search (`spectralStep`).
 */
export function armijo(merit: (x: Float64Array) => number, x: ArrayLike<number>, value: number, h: ArrayLike<number>, d: ArrayLike<number>, beta0: number, project: XProjection, s: ArmijoSettings = ARMIJO, reference = value): ArmijoResult {
  let beta = Math.min(beta0, s.maxStep);
  for (let j = 0; j < s.maxTrials; j++, beta *= s.shrink) {
    const xt = stepTo(x, d, beta, project, new Float64Array(x.length));
    let slope = 0;
    for (let i = 0; i < x.length; i++) slope += h[i] * (xt[i] - x[i]);
    if (!(slope < 0)) {
      // no descent along d at this step (or a zero step under the projection)
      if (j === 0 && slope === 0) return { x: Float64Array.from(x), beta: 0, value, trials: j, next: beta0 };
      continue;
    }
    const mt = merit(xt);
    if (mt <= reference + s.c * slope) {
      return { x: xt, beta, value: mt, trials: j + 1, next: j === 0 ? Math.min(2 * beta, s.maxStep) : beta };
    }
  }
  return { x: Float64Array.from(x), beta: 0, value, trials: s.maxTrials, next: beta0 };
}


/** Merits the nonmonotone test of the spectral rule compares with (Birgin, Martínez & Raydan's M = 10). */
export const SPECTRAL_MEMORY = 10;

/** Largest factor by which a spectral trial step may exceed the last accepted one. */
export const SPECTRAL_GROWTH = 4;

/**
 * The spectral (Barzilai–Borwein) trial step of the spectral projected gradient method
 * (docs/math.md#spectral-step): β = sᵀs/sᵀy with s = x_k − x_{k−1}, y = h_k − h_{k−1}, the
 * step of the secant model of the curvature along the last move, kept in [minStep, maxStep];
 * when sᵀy ≤ 0 (no positive curvature seen) twice the last accepted step. `null` before the
 * first move.
 */
export function spectralStep(x: ArrayLike<number>, h: ArrayLike<number>, xPrev: ArrayLike<number>, hPrev: ArrayLike<number>, lastStep: number, s: ArmijoSettings = ARMIJO): number | null {
  if (xPrev.length !== x.length) return null;
  let ss = 0, sy = 0;
  for (let i = 0; i < x.length; i++) {
    const si = x[i] - xPrev[i];
    ss += si * si;
    sy += si * (h[i] - hPrev[i]);
  }
  if (!(ss > 0)) return null;
  // growth capped at SPECTRAL_GROWTH× the last accepted step: a secant step from a nearly flat
  // stretch can be huge and land where the lower policy saturates and ∇φ vanishes spuriously
  const beta = sy > 0 ? Math.min(ss / sy, SPECTRAL_GROWTH * lastStep) : 2 * lastStep;
  return Math.min(Math.max(beta, 1e-10), s.maxStep);
}
