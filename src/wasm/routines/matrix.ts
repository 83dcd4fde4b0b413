// Routine of the dense matrix-vector kernel (assembly/policy.ts: matvec) for a matrix kept
// in a kernel instance of its own (linalg.ts's DenseMatrix).
import { defaultBackend, type Backend } from "../module";
import { Workspace } from "../workspace";

const matrices = new WeakMap<object, { ws: Workspace; pM: number; rows: number; cols: number }>();

/** Give `owner` its own kernel instance holding M (rows × cols, row-major, checked). */
export function storeMatrix(owner: object, M: Float64Array, rows: number, cols: number, backend?: Backend): void {
  const ws = new Workspace(backend ?? defaultBackend());
  matrices.set(owner, { ws, pM: ws.putF64(M), rows, cols });
}

/** out ← M x for the matrix stored with `owner` (x of length cols, out of length rows). */
export function matvec(owner: object, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const m = matrices.get(owner);
  if (!m) throw new Error("internal: no matrix stored for this owner");
  const { ws } = m;
  const m0 = ws.mark();
  try {
    const px = ws.putF64(x), py = ws.allocF64(m.rows);
    ws.k.matvec(m.pM, px, py, m.rows, m.cols);
    out.set(ws.f64(py, m.rows));
    return out;
  } finally {
    ws.release(m0);
  }
}
