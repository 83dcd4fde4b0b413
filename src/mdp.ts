// TabularMDP: validated transitions copied once into their own kernel instance.
// Shapes (row-major, Float64Array unless stated):
//   dense P: (S·A, S), P[(s·A + a)·S + s'] = P(s'|s,a)
//   CSR P:   indptr Int32Array (S·A + 1), indices Int32Array (nnz), probs (nnz)
//   rho:     (S), the initial-state distribution (uniform by default)
//   terminal: (S) mask or a list of state indices; a terminal state's rows of P are kept as
//            given but the kernels see them as zero (docs/math.md#terminal-states)
import { DomainError, MemoryLimitError, ShapeError } from "./errors";
import type { Backend } from "./wasm/module";
import { MAX_WASM_BYTES, backendOf, bandwidth, setTransitions, storeCsr, storeDense, terminalMask, transitions, workOn } from "./wasm/routines/index";
import * as check from "./validate";

interface Common {
  S: number;
  A: number;
  gamma: number;
  /** Initial-state distribution ρ (length S); uniform when omitted. */
  rho?: ArrayLike<number>;
  /** Kernel build to use; the one chosen by the last `init()` when omitted. */
  backend?: Backend;
  /**
   * Terminal states (docs/math.md#terminal-states): booleans or a Uint8Array of 0/1 of
   * length S (a mask), or an array of numbers (distinct state indices). At a terminal state
   * the episode ends after one last action: Q(s, a) = r(s, a), with no continuation and no
   * entropy bonus after it. The rows of P at terminal states must still be distributions
   * (they are kept, but the kernels treat them as zero).
   */
  terminal?: ArrayLike<number> | ArrayLike<boolean>;
}
/** A dense MDP: P of shape (S·A, S) row-major, P[(s·A + a)·S + s'] = P(s'|s,a). */
export interface DenseSpec extends Common {
  P: ArrayLike<number>;
}
/** A CSR MDP: row i = s·A + a of P has its next states in `indices[indptr[i] … indptr[i+1])` and their probabilities at the same positions of `probs`. */
export interface SparseSpec extends Common {
  indptr: ArrayLike<number>;
  indices: ArrayLike<number>;
  probs: ArrayLike<number>;
}
/** Options of `TabularMDP.fromNested` (nested P[s][a][s']). */
export interface NestedOptions {
  gamma: number;
  rho?: ArrayLike<number>;
  /** Store the non-zeros as CSR instead of a dense matrix. */
  sparse?: boolean;
  backend?: Backend;
  /** Terminal states, as in `DenseSpec.terminal`. */
  terminal?: ArrayLike<number> | ArrayLike<boolean>;
}

/** Work counters: Bellman sweeps, linear solves and sampled steps. */
export interface Counters {
  sweeps: number;
  solves: number;
  sampledSteps: number;
}

/**
 * A validated tabular MDP (S states, A actions, discount γ, initial distribution ρ) whose
 * transitions, dense or CSR, live in their own kernel instance. Build one with `dense`,
 * `sparse` or `fromNested`.
 */
export class TabularMDP {
  readonly S: number;
  readonly A: number;
  readonly gamma: number;
  readonly kind: "dense" | "csr";
  /** Stored transition entries: S·A·S for dense P, the non-zeros for CSR. */
  readonly nnz: number;
  /** @internal ρ as validated; never handed out (see `rho`). */
  readonly rho0: Float64Array;

  // The transitions and ρ live in the MDP's own kernel instance, which only the routine
  // layer (src/wasm/routines/) reaches: storeDense/storeCsr attach it at construction.
  private constructor(S: number, A: number, gamma: number, kind: "dense" | "csr", nnz: number, rho: Float64Array) {
    this.S = S;
    this.A = A;
    this.gamma = gamma;
    this.kind = kind;
    this.nnz = nnz;
    this.rho0 = rho;
  }

  /** Work done on this MDP so far by the lower-level functions (sweeps, solves, sampled steps); a copy. */
  get counters(): Counters {
    return workOn(this);
  }

  /** The initial-state distribution ρ (length S). A fresh copy on every access: changing it has no effect. */
  get rho(): Float64Array {
    return this.rho0.slice();
  }

  /**
   * Structural bandwidths (kl, ku) of I − γP_π: max s − s' and max s' − s over the stored
   * transitions. Grid-like MDPs have narrow bands, which the 'lu' solver exploits.
   */
  bandwidth(): { kl: number; ku: number } {
    const { kl, ku } = bandwidth(this);
    return { kl, ku };
  }

  /**
   * The terminal-state mask (length S, 1 = terminal; a copy), or undefined when no state is
   * terminal (docs/math.md#terminal-states).
   */
  get terminal(): Uint8Array | undefined {
    return terminalMask(this);
  }

  /** True when this MDP runs on the SIMD build. */
  get simd(): boolean {
    return backendOf(this).simd;
  }

  /** An MDP with a dense transition matrix P of shape (S·A, S). */
  static dense(spec: DenseSpec): TabularMDP {
    if (typeof spec !== "object" || spec === null) throw new ShapeError("spec", "must be an object { S, A, P, gamma, rho? }", spec);
    const { S, A } = sizes(spec);
    const gamma = check.discount(spec.gamma);
    const bytes = S * A * S * 8;
    if (bytes > MAX_WASM_BYTES) {
      throw new MemoryLimitError(bytes, MAX_WASM_BYTES, "a dense P of this size exceeds wasm32 memory: use TabularMDP.sparse with CSR transitions");
    }
    const P = check.float64("P", spec.P, S * A * S, "S·A·S, index (s·A + a)·S + s'");
    check.stochasticDense(P, S, A);
    const rho = initial(spec.rho, S);
    const term = spec.terminal === undefined ? undefined : check.terminal("terminal", spec.terminal, S);
    const mdp = new TabularMDP(S, A, gamma, "dense", S * A * S, rho);
    storeDense(mdp, P, rho, spec.backend, term);
    return mdp;
  }

  /** An MDP with CSR transitions: row (s·A + a) holds the next states `indices[indptr[i]..indptr[i+1])`. */
  static sparse(spec: SparseSpec): TabularMDP {
    if (typeof spec !== "object" || spec === null) throw new ShapeError("spec", "must be an object { S, A, indptr, indices, probs, gamma, rho? }", spec);
    const { S, A } = sizes(spec);
    const gamma = check.discount(spec.gamma);
    const indptr = check.int32("indptr", spec.indptr, S * A + 1);
    const nnz = indptr[S * A];
    const bytes = nnz * 12 + (S * A + 1) * 4;
    if (bytes > MAX_WASM_BYTES) throw new MemoryLimitError(bytes, MAX_WASM_BYTES, "the CSR transitions exceed wasm32 memory: reduce the number of non-zeros");
    const indices = check.int32("indices", spec.indices);
    const probs = check.float64("probs", spec.probs, (spec.probs as ArrayLike<number>)?.length ?? -1);
    check.stochasticCsr(indptr, indices, probs, S, A);
    const rho = initial(spec.rho, S);
    const term = spec.terminal === undefined ? undefined : check.terminal("terminal", spec.terminal, S);
    const mdp = new TabularMDP(S, A, gamma, "csr", nnz, rho);
    storeCsr(mdp, indptr, indices, probs, rho, spec.backend, term);
    return mdp;
  }

  /** Build from nested arrays `P[s][a][s']` (dense, or CSR of the non-zeros with `sparse: true`). */
  static fromNested(P: ArrayLike<ArrayLike<ArrayLike<number>>>, options: NestedOptions): TabularMDP {
    if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object { gamma, rho?, sparse? }", options);
    if (!Array.isArray(P) && !ArrayBuffer.isView(P)) throw new ShapeError("P", "must be nested arrays P[s][a][s']", P);
    const S = P.length;
    if (S === 0) throw new DomainError("P", "must have at least one state", S);
    const A = P[0]?.length ?? 0;
    if (!A) throw new DomainError("P", "must have at least one action: P[0] is empty", A);
    const flat = new Float64Array(S * A * S);
    for (let s = 0; s < S; s++) {
      if (!P[s] || P[s].length !== A) throw new ShapeError("P", `every P[s] must have A = ${A} rows`, P[s]?.length, { s });
      for (let a = 0; a < A; a++) {
        const row = P[s][a];
        if (!row || row.length !== S) throw new ShapeError("P", `every P[s][a] must have S = ${S} entries`, row?.length, { s, a });
        for (let j = 0; j < S; j++) flat[(s * A + a) * S + j] = row[j];
      }
    }
    const common = { S, A, gamma: options.gamma, rho: options.rho, backend: options.backend, terminal: options.terminal };
    if (!options.sparse) return TabularMDP.dense({ ...common, P: flat });
    // validate as P (positions named in P's flat layout) before dropping the zeros
    check.float64("P", flat, S * A * S, "S·A·S, index (s·A + a)·S + s'");
    check.stochasticDense(flat, S, A);
    return TabularMDP.sparse({ ...common, ...denseToCsr(flat, S, A) });
  }

  /**
   * Overwrite a dense MDP's P in place (same shape, validated), e.g. for x-dependent
   * transitions. Results computed earlier are unaffected; later calls see the new P.
   */
  setTransitions(P: ArrayLike<number>): void {
    if (this.kind !== "dense") throw new ShapeError("P", "setTransitions needs a dense MDP", this.kind);
    const { S, A } = this;
    const flat = check.float64("P", P, S * A * S, "S·A·S, index (s·A + a)·S + s'");
    check.stochasticDense(flat, S, A);
    setTransitions(this, flat);
  }

  /**
   * A copy of the transitions: `{ P }` for dense, `{ indptr, indices, probs }` for CSR. As
   * given (stochastic rows, so the copy builds the same MDP again), or with `masked: true`
   * as the kernels use them: the rows of terminal states zero (docs/math.md#terminal-states).
   */
  transitions(options?: { masked?: boolean }): { P: Float64Array } | { indptr: Int32Array; indices: Int32Array; probs: Float64Array } {
    return transitions(this, options?.masked === true);
  }
}

/** Throw a ShapeError unless `mdp` is a TabularMDP (checked at every compute entry). */
export function requireMdp(mdp: unknown): asserts mdp is TabularMDP {
  if (!(mdp instanceof TabularMDP)) throw new ShapeError("mdp", "must be a TabularMDP (from TabularMDP.dense, .sparse or .fromNested)", mdp);
}

/** CSR of the non-zeros of a dense (S·A, S) matrix. */
export function denseToCsr(P: ArrayLike<number>, S: number, A: number): { indptr: Int32Array; indices: Int32Array; probs: Float64Array } {
  const n = S * A;
  const indptr = new Int32Array(n + 1);
  let nnz = 0;
  for (let i = 0; i < n * S; i++) if (P[i] !== 0) nnz++;
  const indices = new Int32Array(nnz), probs = new Float64Array(nnz);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < S; j++) {
      const x = P[i * S + j];
      if (x !== 0) { indices[k] = j; probs[k] = x; k++; }
    }
    indptr[i + 1] = k;
  }
  return { indptr, indices, probs };
}

function sizes(spec: Common): { S: number; A: number } {
  return { S: check.positiveInt("S", spec.S), A: check.positiveInt("A", spec.A) };
}

function initial(rho: ArrayLike<number> | undefined, S: number): Float64Array {
  return rho === undefined ? new Float64Array(S).fill(1 / S) : check.distribution("rho", rho, S).slice();
}
