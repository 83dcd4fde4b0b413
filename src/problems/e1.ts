// E1, the SoBiRL paper's synthetic problem (docs/math.md#e1): S = 10, A = 5, γ = 0.5,
// τ = 1, n = 100, r_x(s,a) = c_{s,a}·xᵀMx, f(x, π) = ½‖x‖² + ½Σπ². Global minimum φ* = S/(2A).
import { TabularMDP } from "../mdp";
import { BilevelProblem, type RewardModel } from "../bilevel/problem";
import { policyL2 } from "../bilevel/models";
import { Rng } from "../util/random";
import { DenseMatrix } from "../linalg";
import * as check from "../validate";

/** Options of `e1` (defaults S = 10, A = 5, n = 100, γ = 0.5, τ = 1, seed 0). */
export interface E1Options {
  S?: number;
  A?: number;
  n?: number;
  gamma?: number;
  tau?: number;
  /** Seed of the instance (P, c, M) and of x_0. */
  seed?: number;
}

/** What `e1` returns. */
export interface E1Instance {
  problem: BilevelProblem;
  /** x_0 ~ N(0, I_n). */
  x0: Float64Array;
  /** The global minimum value φ* = S/(2A), attained at x = 0. */
  phiStar: number;
}

/**
 * The SoBiRL paper's synthetic problem E1 (docs/math.md#e1): a random MDP with
 * r_x(s,a) = c_{s,a}·xᵀMx and f = ½‖x‖² + ½Σπ²; φ* = S/(2A) at x = 0.
 */
export function e1(options: E1Options = {}): E1Instance {
  const S = options.S === undefined ? 10 : check.positiveInt("S", options.S);
  const A = options.A === undefined ? 5 : check.positiveInt("A", options.A);
  const n = options.n === undefined ? 100 : check.positiveInt("n", options.n);
  const gamma = options.gamma ?? 0.5;
  const tau = options.tau ?? 1;
  const { P, c, M, x0 } = e1Data(options.seed === undefined ? 0 : check.seed(options.seed), S, A, n);
  const mdp = TabularMDP.dense({ S, A, P, gamma });
  return { problem: new BilevelProblem({ mdp, tau, reward: quadraticReward(c, M, n), upper: policyL2() }), x0, phiStar: S / (2 * A) };
}

/**
 * E1's random data from its seed, in the order drawn: P (dense S·A × S; each row k ~ U{1..S−1}
 * distinct next states with U(0,1) weights, normalised), c (S·A, products of two uniforms),
 * M (n × n, N(0, 1), not symmetric) and x_0 ~ N(0, I_n). The benchmark's plain-TS
 * reference builds its instance from the same data.
 */
export function e1Data(seed: number, S: number, A: number, n: number): { P: Float64Array; c: Float64Array; M: Float64Array; x0: Float64Array } {
  const rng = new Rng(seed);
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) {
    const k = S > 1 ? rng.int(1, S) : 1;
    const idx = Array.from({ length: S }, (_, j) => j);
    for (let j = 0; j < k; j++) {
      const t = rng.int(j, S);
      [idx[j], idx[t]] = [idx[t], idx[j]];
    }
    let z = 0;
    const wts = idx.slice(0, k).map(() => {
      const u = rng.uniform() + 1e-12;
      z += u;
      return u;
    });
    for (let j = 0; j < k; j++) P[i * S + idx[j]] = wts[j] / z;
  }
  const c = new Float64Array(S * A);
  for (let i = 0; i < S * A; i++) c[i] = rng.uniform() * rng.uniform();
  const M = rng.normals(n * n);
  const x0 = rng.normals(n);
  return { P, c, M, x0 };
}

/**
 * r_x(i) = c_i·xᵀMx; R_x row i = c_i (M + Mᵀ) x. Both need g = (M + Mᵀ)x (xᵀMx = ½xᵀg),
 * cached for the last x since an outer iteration evaluates r and R at the same point.
 */
export function quadraticReward(c: Float64Array, M: Float64Array, n: number): RewardModel {
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = M[i * n + j] + M[j * n + i];
  const Msym = new DenseMatrix(sym, n, n); // the product runs in the SIMD kernels
  const g = new Float64Array(n), at = new Float64Array(n);
  let valid = false, quad = 0;
  const update = (x: Float64Array) => {
    if (valid) {
      let same = true;
      for (let k = 0; k < n; k++) if (at[k] !== x[k]) { same = false; break; }
      if (same) return;
    }
    Msym.mul(x, g);
    quad = 0;
    for (let i = 0; i < n; i++) quad += x[i] * g[i];
    quad *= 0.5;
    at.set(x);
    valid = true;
  };
  return {
    dim: n,
    rows: c.length,
    reward(x, out) {
      update(x);
      for (let i = 0; i < c.length; i++) out[i] = c[i] * quad;
    },
    vjp(x, u, out) {
      update(x);
      let cu = 0;
      for (let i = 0; i < c.length; i++) cu += c[i] * u[i];
      for (let k = 0; k < n; k++) out[k] = cu * g[k];
    },
    jacobian(x, out) {
      update(x);
      for (let i = 0; i < c.length; i++) for (let k = 0; k < n; k++) out[i * n + k] = c[i] * g[k];
    },
  };
}
