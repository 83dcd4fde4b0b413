// Plain-TypeScript reference for assembly/lu.ts: dense LU with partial pivoting, PA = LU.

/**
 * Factor the n×n row-major matrix M in place (unit-lower L below the diagonal, U on and
 * above it). Returns piv with piv[k] = the row swapped with row k at step k (the first row
 * of largest |M(i,k)|, i ≥ k). Throws a RangeError when a pivot is exactly zero.
 */
export function luFactor(M: Float64Array, n: number): Int32Array {
  if (M.length !== n * n) throw new RangeError(`M must have length n*n = ${n * n}; got ${M.length}`);
  const piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(M[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(M[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[k] = p;
    if (best === 0) throw new RangeError(`matrix is singular: pivot ${k} is exactly zero`);
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = M[k * n + j];
        M[k * n + j] = M[p * n + j];
        M[p * n + j] = t;
      }
    }
    const d = M[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const l = M[i * n + k] / d;
      M[i * n + k] = l;
      if (l !== 0) for (let j = k + 1; j < n; j++) M[i * n + j] -= l * M[k * n + j];
    }
  }
  return piv;
}

/** Solve M x = b in place in b (length n = piv.length) from luFactor's output; returns b. */
export function luSolve(M: Float64Array, piv: Int32Array, b: Float64Array): Float64Array {
  const n = piv.length;
  if (b.length !== n) throw new RangeError(`b must have length ${n}; got ${b.length}`);
  if (M.length !== n * n) throw new RangeError(`M must have length n*n = ${n * n}; got ${M.length}`);
  for (let k = 0; k < n; k++) {
    const p = piv[k];
    if (p !== k) {
      const t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
  }
  // forward substitution with unit-lower L
  for (let i = 1; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < i; j++) acc += M[i * n + j] * b[j];
    b[i] -= acc;
  }
  // back substitution with U
  for (let i = n - 1; i >= 0; i--) {
    let acc = 0;
    for (let j = i + 1; j < n; j++) acc += M[i * n + j] * b[j];
    b[i] = (b[i] - acc) / M[i * n + i];
  }
  return b;
}

/**
 * Solve Mᵀ x = b in place in b from luFactor's output (the factors of M, not of Mᵀ):
 * PM = LU gives Mᵀ = Uᵀ Lᵀ P, so solve Uᵀ y = b, then Lᵀ z = y, then x = Pᵀ z. Returns b.
 */
export function luSolveT(M: Float64Array, piv: Int32Array, b: Float64Array): Float64Array {
  const n = piv.length;
  if (b.length !== n) throw new RangeError(`b must have length ${n}; got ${b.length}`);
  if (M.length !== n * n) throw new RangeError(`M must have length n*n = ${n * n}; got ${M.length}`);
  // forward substitution with Uᵀ (lower triangular, U's diagonal)
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < i; j++) acc += M[j * n + i] * b[j];
    b[i] = (b[i] - acc) / M[i * n + i];
  }
  // back substitution with Lᵀ (unit upper triangular)
  for (let i = n - 1; i >= 0; i--) {
    let acc = 0;
    for (let j = i + 1; j < n; j++) acc += M[j * n + i] * b[j];
    b[i] -= acc;
  }
  // undo the row swaps, last first
  for (let k = n - 1; k >= 0; k--) {
    const p = piv[k];
    if (p !== k) {
      const t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
  }
  return b;
}
