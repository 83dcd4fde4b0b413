// Plain-TypeScript reference paths for the bilevel benchmarks (bench/bilevel.bench.ts):
// the exact hypergradient of the GridWorld goal problem and M-SoBiRL on E1, composed
// only of the src/reference kernels (bellmanSweep, softValueIteration, softmaxPolicy,
// ppi, ppiT, qFromV, softRewardPi, gmres) plus a plain-TS banded LU that mirrors
// assembly/lu.ts (bandwidth, buildBand, bandFactor, bandSolve). Math.exp / Math.log
// throughout (the library uses src/util/math.ts host-side), so results agree with the
// library to rounding, not bit for bit.
//
// The algorithms follow the library step for step (src/bilevel/lowerSolve.ts,
// src/bilevel/hypergradient.ts, src/bilevel/models.ts upperReturn,
// src/bilevel/algorithms/mSoBiRL.ts, src/problems/e1.ts) with the same tolerances and
// iteration caps, but without the library's validation, result copies and true-residual
// checks after LU solves.
import * as ref from "../../src/reference/index";
import type { RefCsr, RefDense, RefMDP } from "../../src/reference/index";
import { e1Data } from "../../src/problems/e1";

// ---------------------------------------------------------------- banded LU (mirrors assembly/lu.ts)

/** Structural bandwidths of I − γP_π over every (s, a) row: kl = max(s − s'), ku = max(s' − s). */
export function bandwidth(m: RefMDP): { kl: number; ku: number } {
  const { S, A } = m;
  let kl = 0, ku = 0;
  for (let i = 0; i < S * A; i++) {
    const s = Math.floor(i / A);
    if (m.kind === "dense") {
      for (let j = 0; j < S; j++) {
        if (m.P[i * S + j] !== 0) {
          if (s - j > kl) kl = s - j;
          if (j - s > ku) ku = j - s;
        }
      }
    } else {
      for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) {
        const j = m.indices[k];
        if (s - j > kl) kl = s - j;
        if (j - s > ku) ku = j - s;
      }
    }
  }
  return { kl, ku };
}

/**
 * M = I − γP_π (or its transpose) in row-major band storage: row i keeps columns
 * [i − kl, i + kl + ku] in a window of w = 2·kl + ku + 1 doubles (column j at offset
 * j − i + kl); the extra kl columns take the fill-in of partial pivoting. kl, ku are the
 * bandwidths of the matrix being built (the caller swaps them for the transpose).
 */
export function buildBand(m: RefMDP, pi: Float64Array, transpose: boolean, kl: number, ku: number, M?: Float64Array): Float64Array {
  const { S, A, gamma } = m;
  const w = 2 * kl + ku + 1;
  const out = M ?? new Float64Array(S * w);
  out.fill(0);
  const add = (i: number, j: number, v: number) => { out[i * w + j - i + kl] += v; };
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      const c = -gamma * pi[i];
      if (c === 0) continue;
      if (m.kind === "dense") {
        for (let j = 0; j < S; j++) {
          const v = m.P[i * S + j];
          if (v !== 0) transpose ? add(j, s, c * v) : add(s, j, c * v);
        }
      } else {
        for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) {
          const j = m.indices[k];
          transpose ? add(j, s, c * m.probs[k]) : add(s, j, c * m.probs[k]);
        }
      }
    }
  }
  for (let s = 0; s < S; s++) add(s, s, 1);
  return out;
}

/**
 * Factor the band matrix in place with partial pivoting (LAPACK gbtrf order: the row
 * swap at step k moves only columns k … k + kl + ku, so the multipliers stay where they
 * were computed and the solve interleaves swaps and eliminations). piv[k] = the row
 * swapped with row k. Throws a RangeError at an exactly zero pivot.
 */
export function bandFactor(M: Float64Array, n: number, kl: number, ku: number, piv = new Int32Array(n)): Int32Array {
  const w = 2 * kl + ku + 1;
  for (let k = 0; k < n; k++) {
    const last = Math.min(n - 1, k + kl);
    let p = k;
    let best = Math.abs(M[k * w + kl]);
    for (let i = k + 1; i <= last; i++) {
      const v = Math.abs(M[i * w + k - i + kl]);
      if (v > best) { best = v; p = i; }
    }
    piv[k] = p;
    if (best === 0) throw new RangeError(`band matrix is singular: pivot ${k} is exactly zero`);
    const span = Math.min(n - 1, k + kl + ku) - k + 1; // columns k … k + kl + ku
    const rk = k * w + kl; // column k of row k
    if (p !== k) {
      const rp = p * w + k - p + kl;
      for (let j = 0; j < span; j++) {
        const t = M[rk + j];
        M[rk + j] = M[rp + j];
        M[rp + j] = t;
      }
    }
    const inv = 1 / M[rk];
    for (let i = k + 1; i <= last; i++) {
      const ri = i * w + k - i + kl; // column k of row i
      const l = M[ri] * inv;
      M[ri] = l;
      if (l !== 0) for (let j = 1; j < span; j++) M[ri + j] -= l * M[rk + j];
    }
  }
  return piv;
}

/** Solve in place in b after bandFactor; returns b. */
export function bandSolve(M: Float64Array, piv: Int32Array, b: Float64Array, n: number, kl: number, ku: number): Float64Array {
  const w = 2 * kl + ku + 1;
  for (let k = 0; k < n; k++) {
    const p = piv[k];
    if (p !== k) {
      const t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
    const bk = b[k];
    if (bk !== 0) {
      const last = Math.min(n - 1, k + kl);
      for (let i = k + 1; i <= last; i++) b[i] -= M[i * w + k - i + kl] * bk;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const d = i * w + kl; // diagonal of row i
    const cnt = Math.min(n - 1, i + kl + ku) - i;
    let acc = 0;
    for (let j = 1; j <= cnt; j++) acc += M[d + j] * b[i + j];
    b[i] = (b[i] - acc) / M[d];
  }
  return b;
}

// ---------------------------------------------------------------- linear solves with I − γP_π

export type RefLinear = "lu" | "krylov";

export interface RefSolveStats {
  /** Solves performed. */
  solves: number;
  /** Matrix–vector products of the Krylov solves (GMRES iterations). */
  krylovIterations: number;
  /** Worst relative residual reported by a Krylov solve. */
  worstResidual: number;
  /** Krylov solves that GMRES left unfinished (a stagnating restart cycle) and Richardson finished. */
  richardsonFinishes: number;
}

/**
 * (I − γP_π) x = b or its transpose: 'lu' = the banded LU above, 'krylov' = reference
 * GMRES (the library's default restart) with the library's Richardson finish (src/lower.ts gmresAt). Relative residual
 * target `tol`, at most 5000 matrix–vector products (the library's defaults).
 */
function solve(
  m: RefMDP,
  band: { kl: number; ku: number },
  pi: Float64Array,
  b: Float64Array,
  transpose: boolean,
  method: RefLinear,
  tol: number,
  stats: RefSolveStats,
  x0?: Float64Array,
): Float64Array {
  stats.solves++;
  if (method === "krylov") {
    // the library's 'krylov': GMRES(defaultRestart(S)); when a restart cycle stops lowering the residual,
    // Richardson (a γ-contraction) finishes from the GMRES iterate with the remaining budget
    const maxIter = 5000;
    let r = ref.gmres(m, pi, b, { transpose, tol, maxIter, x0 });
    if (r.residual > tol && r.iterations < maxIter) {
      const used = r.iterations;
      r = ref.richardson(m, pi, b, { transpose, tol, maxIter: maxIter - used, x0: r.x });
      r.iterations += used;
      stats.richardsonFinishes++;
    }
    stats.krylovIterations += r.iterations;
    stats.worstResidual = Math.max(stats.worstResidual, r.residual);
    if (!(r.residual <= 1e-8)) throw new Error(`reference GMRES stopped at relative residual ${r.residual} after ${r.iterations} iterations`);
    return r.x;
  }
  const [kl, ku] = transpose ? [band.ku, band.kl] : [band.kl, band.ku];
  const M = buildBand(m, pi, transpose, kl, ku);
  const piv = bandFactor(M, m.S, kl, ku);
  return bandSolve(M, piv, Float64Array.from(b), m.S, kl, ku);
}

// ---------------------------------------------------------------- GridWorld goal: exact hypergradient

/** The GridWorld goal problem with one-hot features (r = Φx, r(s, a) = x(s)) and f = −ρᵀV_U^π + (μ/2)‖x‖². */
export interface RefGridGoal {
  m: RefCsr;
  tau: number;
  mu: number;
  /** Upper reward r_U (S·A). */
  rU: Float64Array;
  /** Initial distribution ρ (S). */
  rho: Float64Array;
  /** Structural bandwidths of I − γP_π (the grid's width on an open grid). */
  band: { kl: number; ku: number };
}

export function refGridGoal(m: RefCsr, tau: number, mu: number, rU: Float64Array, rho: Float64Array): RefGridGoal {
  return { m, tau, mu, rU, rho, band: bandwidth(m) };
}

export interface RefHypergradientOptions {
  solver: "value-iteration" | "policy-iteration";
  linear: RefLinear;
  /** Lower-level tolerance on the Bellman residual ‖G(V) − V‖∞. */
  tol: number;
  /** Value iteration with error bounds, as the library's solveLower does by default. */
  extrapolate: boolean;
}

export interface RefHypergradientResult {
  value: number;
  grad: Float64Array;
  pi: Float64Array;
  V: Float64Array;
  /** Sweeps (value iteration) or Newton steps (policy iteration). */
  lowerIterations: number;
  lowerResidual: number;
  stats: RefSolveStats;
}

/** One-hot features: r(s, a) = x(s). */
function oneHotReward(x: Float64Array, S: number, A: number): Float64Array {
  const r = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) r[s * A + a] = x[s];
  return r;
}

/**
 * Exact hypergradient (eq. 9) of the one-hot GridWorld goal problem at x:
 * lower solve (soft value iteration, with error bounds when asked, or soft policy iteration with the chosen linear
 * solver) to `tol`; f = −ρᵀV_U + (μ/2)‖x‖² (one τ = 0 evaluation); ∇_π f = −d̃(s)Q_U(s, a)
 * (one τ = 0 evaluation and one transposed solve for d̃); v = π ⊙ ∇_π f; b = Uᵀv;
 * w = (I − γP_π)^{-T} b; ∇φ = μx + Φᵀ(v − π ⊙ Ew)/τ.
 */
export function refHypergradient(p: RefGridGoal, x: Float64Array, o: RefHypergradientOptions): RefHypergradientResult {
  const { m, tau, mu, rU, rho, band } = p;
  const { S, A, gamma } = m;
  const stats: RefSolveStats = { solves: 0, krylovIterations: 0, worstResidual: 0, richardsonFinishes: 0 };
  const r = oneHotReward(x, S, A);

  // ---- lower level
  let V: Float64Array, pi: Float64Array, lowerIterations: number, lowerResidual: number;
  if (o.solver === "value-iteration") {
    const vi = ref.softValueIteration(m, r, { tau, tol: o.tol, maxIter: 100000, extrapolate: o.extrapolate });
    V = vi.V;
    pi = vi.pi;
    lowerIterations = vi.iterations;
    lowerResidual = vi.residual;
  } else {
    // π_0 from one sweep at V_0 = 0; then evaluate (Newton step) and improve until the Bellman residual ≤ tol
    V = new Float64Array(S);
    const Q0 = new Float64Array(S * A), W = new Float64Array(S);
    ref.bellmanSweep(m, r, V, Q0, W, tau);
    pi = ref.softmaxPolicy(Q0, S, A, tau);
    lowerResidual = Infinity;
    lowerIterations = 0;
    while (lowerIterations < 100) {
      lowerIterations++;
      const b = ref.softRewardPi(r, pi, S, A, tau);
      V = solve(m, band, pi, b, false, o.linear, 1e-13, stats, V);
      const Q = ref.qFromV(m, r, V);
      lowerResidual = improve(Q, pi, V, S, A, tau);
      if (lowerResidual <= o.tol) break;
    }
  }

  // ---- upper objective f = −ρᵀV_U + (μ/2)‖x‖², V_U = (I − γP_π)^{-1} r_U,π
  const evalU = () => solve(m, band, pi, ref.softRewardPi(rU, pi, S, A, 0), false, o.linear, 1e-12, stats);
  const VU = evalU();
  let value = 0;
  for (let s = 0; s < S; s++) value -= rho[s] * VU[s];
  value += 0.5 * mu * sq(x);

  // ---- ∇_π f = −d̃(s) Q_U(s, a)  (the library evaluates π under r_U again here)
  const QU = ref.qFromV(m, rU, evalU());
  const d = solve(m, band, pi, rho, true, o.linear, 1e-12, stats);
  // v = π ⊙ ∇_π f
  const v = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) v[s * A + a] = -pi[s * A + a] * d[s] * QU[s * A + a];
  // b = Uᵀv, U = E − γP: b(s') = Σ_a v(s', a) − γ Σ_{s,a} v(s, a) P(s'|s, a)   (Pᵀv by ppiT with π := v, vector 1)
  const Ptv = ref.ppiT(m, v, new Float64Array(S).fill(1));
  const bU = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) acc += v[s * A + a];
    bU[s] = acc - gamma * Ptv[s];
  }
  const w = solve(m, band, pi, bU, true, o.linear, 1e-12, stats);
  // ∇φ = μx + Φᵀ(v − π ⊙ Ew)/τ, Φᵀu (s) = Σ_a u(s, a)
  const grad = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let acc = 0;
    for (let a = 0; a < A; a++) acc += v[s * A + a] - pi[s * A + a] * w[s];
    grad[s] = mu * x[s] + acc / tau;
  }
  return { value, grad, pi, V, lowerIterations, lowerResidual, stats };
}

/** π ← softmax(Q/τ) row-wise; returns the Bellman residual ‖τ·LSE(Q/τ) − V‖∞. */
function improve(Q: Float64Array, pi: Float64Array, V: Float64Array, S: number, A: number, tau: number): number {
  let res = 0;
  for (let s = 0; s < S; s++) {
    const o = s * A;
    let mx = Q[o];
    for (let a = 1; a < A; a++) if (Q[o + a] > mx) mx = Q[o + a];
    let z = 0;
    for (let a = 0; a < A; a++) z += (pi[o + a] = Math.exp((Q[o + a] - mx) / tau));
    for (let a = 0; a < A; a++) pi[o + a] /= z;
    res = Math.max(res, Math.abs(mx + tau * Math.log(z) - V[s]));
  }
  return res;
}

function sq(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}

// ---------------------------------------------------------------- E1 and M-SoBiRL

/** E1 (src/problems/e1.ts): dense P, r_x(i) = c_i·xᵀMx, f = ½‖x‖² + ½Σπ². */
export interface RefE1 {
  m: RefDense;
  tau: number;
  n: number;
  c: Float64Array;
  /** M + Mᵀ, row-major n × n. */
  Msym: Float64Array;
  x0: Float64Array;
}

/** The E1 instance of `e1({ seed })` with the default sizes: the same data (e1Data), plain arrays. */
export function refE1(seed: number, S = 10, A = 5, n = 100, gamma = 0.5, tau = 1): RefE1 {
  const { P, c, M, x0 } = e1Data(seed, S, A, n);
  const Msym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Msym[i * n + j] = M[i * n + j] + M[j * n + i];
  return { m: { kind: "dense", S, A, gamma, P }, tau, n, c, Msym, x0 };
}

export interface RefMSoBiRLOptions {
  iterations: number;
  /** w_0 (length S); the library draws N(0, I_S) from its seed. */
  w0: Float64Array;
  beta?: number;
  zeta?: number;
  N?: number;
  earlyStop?: number;
}

/**
 * M-SoBiRL (least-squares w step) on E1, as src/bilevel/algorithms/mSoBiRL.ts: per outer
 * iteration π = softmax(Q/τ); v = π ⊙ ∇_π f = π²; b = Uᵀv; one step
 * w ← w − ζ Aᵀ(Aw − b), A = (I − γP_π)ᵀ; ĥ = x + R_xᵀ(v − π ⊙ Ew)/τ; x ← x − βĥ;
 * then up to N soft Bellman sweeps at the new x, warm-started, stopping once
 * ‖ΔV‖∞ ≤ earlyStop. (M + Mᵀ)x is computed once per x, as in E1's reward model.
 */
export function refMSoBiRL(p: RefE1, o: RefMSoBiRLOptions): { x: Float64Array; sweeps: number; f: number } {
  const { m, tau, n, c, Msym } = p;
  const { S, A, gamma } = m;
  const SA = S * A;
  const beta = o.beta ?? 8e-3, zeta = o.zeta ?? 0.5, N = o.N ?? 10, earlyStop = o.earlyStop ?? 1e-6;
  const x = Float64Array.from(p.x0);
  const w = Float64Array.from(o.w0);
  let Q = new Float64Array(SA); // V_0 = 0 ⇒ π_0 uniform
  let Qs = new Float64Array(SA);
  let V = new Float64Array(S), Vn = new Float64Array(S);
  const pi = new Float64Array(SA), v = new Float64Array(SA), r = new Float64Array(SA);
  const ones = new Float64Array(S).fill(1);
  const Ptv = new Float64Array(S), b = new Float64Array(S), Ptw = new Float64Array(S), res = new Float64Array(S), Pres = new Float64Array(S);
  const g = new Float64Array(n);
  // g = (M + Mᵀ)x; returns xᵀMx = ½ xᵀg
  const quadAt = (xx: Float64Array): number => {
    let q = 0;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) acc += Msym[row + j] * xx[j];
      g[i] = acc;
      q += xx[i] * acc;
    }
    return 0.5 * q;
  };
  quadAt(x);
  let sweeps = 0, f = NaN;
  for (let k = 0; k < o.iterations; k++) {
    // 1. π_k = softmax(Q_k/τ)
    ref.softmaxPolicy(Q, S, A, tau, pi);
    // 2. v = π ⊙ ∇_π f = π ⊙ π;  b = Uᵀv
    for (let i = 0; i < SA; i++) v[i] = pi[i] * pi[i];
    ref.ppiT(m, v, ones, Ptv);
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let a = 0; a < A; a++) acc += v[s * A + a];
      b[s] = acc - gamma * Ptv[s];
    }
    // 3. w ← w − ζ (I − γP_π)(w − γP_πᵀw − b)
    ref.ppiT(m, pi, w, Ptw);
    for (let s = 0; s < S; s++) res[s] = w[s] - gamma * Ptw[s] - b[s];
    ref.ppi(m, pi, res, Pres);
    for (let s = 0; s < S; s++) w[s] -= zeta * (res[s] - gamma * Pres[s]);
    // 4. ĥ = x + R_xᵀu, u = (v − π ⊙ Ew)/τ, R_x row i = c_i (M + Mᵀ)x  ⇒  R_xᵀu = (cᵀu) g
    let cu = 0;
    for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) cu += (c[s * A + a] * (v[s * A + a] - pi[s * A + a] * w[s])) / tau;
    // f(x_k, π_k), reported per iteration by the library
    f = 0.5 * (sq(x) + sq(pi));
    // 5. x ← x − βĥ
    for (let i = 0; i < n; i++) x[i] -= beta * (x[i] + cu * g[i]);
    // 6. r_{x_{k+1}} and warm-started sweeps
    const quad = quadAt(x);
    for (let i = 0; i < SA; i++) r[i] = c[i] * quad;
    for (let t = 0; t < N; t++) {
      const delta = ref.bellmanSweep(m, r, V, Qs, Vn, tau);
      sweeps++;
      const tv = V; V = Vn; Vn = tv;
      const tq = Q; Q = Qs; Qs = tq;
      if (!(delta > earlyStop)) break;
    }
  }
  return { x, sweeps, f };
}
