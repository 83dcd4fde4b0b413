// Routines of the policy products (assembly/policy.ts): P_π v and P_πᵀ v (ppi), Pᵀu for
// an S·A vector u (ppi with π := u on a vector of ones) and Q = r + γ P V (qFromV).
// Each copies its inputs into scratch and the result into `out` (fresh when omitted),
// which it returns; no validation.
import { instanceOf } from "./instance";

/** out ← P_π v, or P_πᵀ v with `transpose` (the ppi kernel); v and out have length S. */
export function ppi(mdp: object, pi: Float64Array, v: Float64Array, transpose: boolean, out?: Float64Array): Float64Array {
  const { ws, k, S, A, P, indptr, indices } = instanceOf(mdp);
  out ??= new Float64Array(S);
  const m0 = ws.mark();
  try {
    const pPi = ws.allocF64(S * A), pV = ws.allocF64(S), pOut = ws.allocF64(S);
    ws.writeF64(pPi, pi);
    ws.writeF64(pV, v);
    k.ppi(P, indptr, indices, pPi, pV, pOut, S, A, transpose ? 1 : 0);
    return ws.readF64(pOut, out, S);
  } finally {
    ws.release(m0);
  }
}

/**
 * out ← Pᵀu = Σ_{s,a} u(s,a) P(·|s,a) for an S·A vector u (any signs): the ppi kernel,
 * transposed, with π := u and v := 1.
 */
export function pTransposeSA(mdp: object, u: Float64Array, out?: Float64Array): Float64Array {
  const { ws, k, S, A, P, indptr, indices } = instanceOf(mdp);
  out ??= new Float64Array(S);
  const m0 = ws.mark();
  try {
    const pU = ws.allocF64(S * A), pOnes = ws.allocF64(S), pOut = ws.allocF64(S);
    ws.writeF64(pU, u);
    ws.fillF64(pOnes, 1, S);
    k.ppi(P, indptr, indices, pU, pOnes, pOut, S, A, 1);
    return ws.readF64(pOut, out, S);
  } finally {
    ws.release(m0);
  }
}

/** out ← r + γ P V (length S·A) for an S-vector V (the qFromV kernel); r = 0 when omitted. */
export function qFromV(mdp: object, r: Float64Array | undefined, V: Float64Array, gamma: number, out?: Float64Array): Float64Array {
  const { ws, k, S, A, P, indptr, indices } = instanceOf(mdp);
  out ??= new Float64Array(S * A);
  const m0 = ws.mark();
  try {
    const pr = ws.allocF64(S * A), pV = ws.allocF64(S), pQ = ws.allocF64(S * A);
    if (r) ws.writeF64(pr, r);
    else ws.fillF64(pr, 0, S * A);
    ws.writeF64(pV, V);
    k.qFromV(P, indptr, indices, pr, pV, pQ, S, A, gamma);
    return ws.readF64(pQ, out, S * A);
  } finally {
    ws.release(m0);
  }
}
