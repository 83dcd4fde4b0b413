// Linear algebra outside the kernels: a dense matrix kept in its own kernel instance, for
// reward models whose derivative is a fixed matrix product (E1's (M + Mᵀ)x, dense
// features; the matrix is copied in once, each product copies x in and y out, rows + cols
// doubles), and conjugate gradients on a matrix given only by its products (PARL's
// implicit-function system, whose Hessian is never formed).
import { ShapeError } from "./errors";
import type { Backend } from "./wasm/module";
import { matvec, storeMatrix } from "./wasm/routines/index";
import * as check from "./validate";

export class DenseMatrix {
  readonly rows: number;
  readonly cols: number;

  /** M: rows × cols, row-major. */
  constructor(M: ArrayLike<number>, rows: number, cols: number, backend?: Backend) {
    this.rows = check.positiveInt("rows", rows);
    this.cols = check.positiveInt("cols", cols);
    const m = check.float64("M", M, rows * cols, "rows·cols, row-major");
    storeMatrix(this, m, rows, cols, backend);
  }

  /** y = M x (length rows); writes into `out` when given. */
  mul(x: ArrayLike<number>, out = new Float64Array(this.rows)): Float64Array {
    if (x.length !== this.cols) throw new ShapeError("x", `must have length ${this.cols}`, x.length);
    if (out.length !== this.rows) throw new ShapeError("out", `must have length ${this.rows}`, out.length);
    return matvec(this, x, out);
  }
}

/** What a conjugate-gradient solve did. */
export interface CgInfo {
  iterations: number;
  /** ‖rhs − M u‖₂ / ‖rhs‖₂ at the end (the recursively updated residual). */
  residual: number;
  converged: boolean;
  /** Some search direction p had pᵀMp ≤ 0 (or NaN): M is not positive definite there. */
  negativeCurvature: boolean;
}

/**
 * Conjugate gradients (Hestenes–Stiefel) for M u = rhs with M symmetric, positive definite
 * for convergence, given only by its product `M(v)` (which may return a fresh array or
 * overwrite nothing it was given). Starts at u = 0 and stops when ‖r‖₂ ≤ tol·‖rhs‖₂, after
 * `maxIter` products, or when pᵀMp is 0 or not finite (the iterate so far is returned).
 */
export function conjugateGradient(M: (v: Float64Array) => Float64Array, rhs: Float64Array, maxIter: number, tol: number): { u: Float64Array; info: CgInfo } {
  const n = rhs.length;
  const u = new Float64Array(n);
  const bn = Math.sqrt(dot(rhs, rhs));
  if (bn === 0 || n === 0) return { u, info: { iterations: 0, residual: 0, converged: true, negativeCurvature: false } };
  const res = Float64Array.from(rhs), p = Float64Array.from(rhs);
  let rr = dot(res, res), it = 0, negative = false;
  while (it < maxIter && Math.sqrt(rr) > tol * bn) {
    it++;
    const Mp = M(p);
    const pMp = dot(p, Mp);
    if (!(pMp > 0)) negative = true;
    if (pMp === 0 || !Number.isFinite(pMp)) break;
    const alpha = rr / pMp;
    for (let i = 0; i < n; i++) { u[i] += alpha * p[i]; res[i] -= alpha * Mp[i]; }
    const rrNew = dot(res, res);
    const beta = rrNew / rr;
    rr = rrNew;
    for (let i = 0; i < n; i++) p[i] = res[i] + beta * p[i];
  }
  const residual = Math.sqrt(rr) / bn;
  return { u, info: { iterations: it, residual, converged: residual <= tol, negativeCurvature: negative } };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
