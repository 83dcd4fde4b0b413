// A dense matrix kept in its own kernel instance, for reward models whose derivative is a
// fixed matrix product (E1's (M + Mᵀ)x, dense features). The matrix is copied in once;
// each product copies x in and y out (rows + cols doubles).
import { ShapeError } from "./errors";
import { defaultBackend, type Backend } from "./wasm/module";
import { Workspace } from "./wasm/workspace";
import * as check from "./validate";

export class DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  private readonly ws: Workspace;
  private readonly pM: number;

  /** M: rows × cols, row-major. */
  constructor(M: ArrayLike<number>, rows: number, cols: number, backend?: Backend) {
    this.rows = check.positiveInt("rows", rows);
    this.cols = check.positiveInt("cols", cols);
    const m = check.float64("M", M, rows * cols, "rows·cols, row-major");
    this.ws = new Workspace(backend ?? defaultBackend());
    this.pM = this.ws.putF64(m);
  }

  /** y = M x (length rows); writes into `out` when given. */
  mul(x: ArrayLike<number>, out = new Float64Array(this.rows)): Float64Array {
    if (x.length !== this.cols) throw new ShapeError("x", `must have length ${this.cols}`, x.length);
    if (out.length !== this.rows) throw new ShapeError("out", `must have length ${this.rows}`, out.length);
    const { ws } = this;
    const m0 = ws.mark();
    try {
      const px = ws.putF64(x), py = ws.allocF64(this.rows);
      ws.k.matvec(this.pM, px, py, this.rows, this.cols);
      out.set(ws.f64(py, this.rows));
      return out;
    } finally {
      ws.release(m0);
    }
  }
}
