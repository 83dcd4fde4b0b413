// Plain-TypeScript reference: problem types and shape checks.
// Shapes (docs/math.md#conventions): flat index i = s*A + a; dense P has length S*A*S with
// P[(s*A+a)*S + s'] = P(s'|s,a); CSR P has indptr (S*A+1), indices and probs (nnz).

/** MDP with a dense transition tensor P: (S·A, S) row-major. */
export type RefDense = { kind: 'dense'; S: number; A: number; gamma: number; P: Float64Array };
/** MDP with CSR transitions: row i = s*A + a holds probs[indptr[i]..indptr[i+1]) at columns indices[·]. */
export type RefCsr = {
  kind: 'csr';
  S: number;
  A: number;
  gamma: number;
  indptr: Int32Array;
  indices: Int32Array;
  probs: Float64Array;
};
export type RefMDP = RefDense | RefCsr;

/** Throws a RangeError unless `x.length === n`. */
export function checkLength(name: string, x: ArrayLike<number>, n: number): void {
  if (x.length !== n) {
    throw new RangeError(`${name} must have length ${n}; got ${x.length}`);
  }
}

/** (P v)(i) = Σ_s' P(s'|i) v(s') for row i = s*A + a, summed in column order. */
export function rowDot(m: RefMDP, i: number, v: Float64Array): number {
  let acc = 0;
  if (m.kind === 'dense') {
    const S = m.S;
    const base = i * S;
    for (let j = 0; j < S; j++) acc += m.P[base + j] * v[j];
  } else {
    for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) acc += m.probs[k] * v[m.indices[k]];
  }
  return acc;
}

/**
 * The effective transitions of an MDP with terminal states (docs/math.md#terminal-states):
 * a copy whose rows s·A + a of every terminal s (terminal[s] ≠ 0) are zero; CSR keeps the
 * structure and zeroes the probabilities. Every reference routine applied to it computes
 * the terminal-state values (Q(s, a) = r(s, a) at terminal s).
 */
export function maskTerminal(m: RefMDP, terminal: ArrayLike<number>): RefMDP {
  checkLength('terminal', terminal, m.S);
  const { S, A } = m;
  if (m.kind === 'dense') {
    const P = m.P.slice();
    for (let s = 0; s < S; s++) if (terminal[s]) P.fill(0, s * A * S, (s + 1) * A * S);
    return { ...m, P };
  }
  const probs = m.probs.slice();
  for (let s = 0; s < S; s++) if (terminal[s]) probs.fill(0, m.indptr[s * A], m.indptr[(s + 1) * A]);
  return { ...m, indptr: m.indptr.slice(), indices: m.indices.slice(), probs };
}
