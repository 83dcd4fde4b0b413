// A dense matrix kept in its own kernel instance, for reward models whose derivative is a
// fixed matrix product (E1's (M + Mᵀ)x, dense features). The matrix is copied in once;
// each product copies x in and y out (rows + cols doubles).
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
