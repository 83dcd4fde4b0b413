// One MDP's kernel instance: its own linear memory with the transitions, ρ and the
// sampler's running sums laid out once, and its work counters. The instance is reached
// from the MDP object through a module-private WeakMap, so the MDP's public type carries
// no workspace, pointer or kernel; only the routines (this folder) import this file.
import { defaultBackend, type Backend } from "../module";
import { MAX_WASM_BYTES, Workspace } from "../workspace";
import type { Kernels } from "../kernels";
import { noWork, record, type Work } from "./work";

export { MAX_WASM_BYTES };

/** What a routine needs to know of an MDP besides its memory. */
export interface MdpShape {
  readonly S: number;
  readonly A: number;
  readonly gamma: number;
}

export interface Instance {
  readonly ws: Workspace;
  readonly k: Kernels;
  readonly S: number;
  readonly A: number;
  readonly gamma: number;
  readonly dense: boolean;
  /** Stored transition entries: S·A·S for dense P, the non-zeros for CSR. */
  readonly nnz: number;
  /** Dense P, or the CSR probs. */
  readonly P: number;
  /** 0 for dense P. */
  readonly indptr: number;
  readonly indices: number;
  readonly rho: number;
  /** Running sums of P's rows for the sampler (0 until first needed). */
  cdf: number;
  /** Cached structural bandwidths (kl, ku), cleared when P changes. */
  band?: { kl: number; ku: number };
  /**
   * Terminal states (docs/math.md#terminal-states): the mask (1 = terminal), its i32 copy
   * in kernel memory for the sampler, and the user's probabilities of the terminal rows,
   * which the stored P holds as zeros (the continuation mask every kernel applies).
   */
  term?: { mask: Uint8Array; ptr: number; saved: Float64Array };
  readonly counters: Work;
}

const instances = new WeakMap<object, Instance>();

/** The kernel instance of an MDP. */
export function instanceOf(mdp: object): Instance {
  const inst = instances.get(mdp);
  if (!inst) throw new Error("internal: this MDP has no kernel instance");
  return inst;
}

function attach(mdp: MdpShape, backend: Backend | undefined, dense: boolean, nnz: number, term: Uint8Array | undefined, lay: (ws: Workspace) => { P: number; indptr: number; indices: number; rho: number }): void {
  const ws = new Workspace(backend ?? defaultBackend());
  const at = lay(ws);
  const { S, A, gamma } = mdp;
  const inst: Instance = { ws, k: ws.k, S, A, gamma, dense, nnz, ...at, cdf: 0, counters: noWork() };
  if (term) {
    inst.term = { mask: term.slice(), ptr: ws.putI32(term), saved: new Float64Array(0) };
    maskTerminalRows(inst);
  }
  instances.set(mdp, inst);
}

/**
 * The continuation mask (docs/math.md#terminal-states): keep the stored probabilities of
 * every terminal state's rows P(·|s, a) and overwrite them with zeros, so that every kernel
 * (Bellman sweeps, products, solves, the sampler's running sums) sees the effective P whose
 * terminal rows are zero. Without terminal states the stored P is the user's, bit for bit.
 */
function maskTerminalRows(inst: Instance): void {
  const t = inst.term!;
  const { ws, S, A } = inst;
  const heap = ws.heap(), o = inst.P >>> 3;
  const ip = inst.dense ? undefined : ws.i32(inst.indptr, S * A + 1);
  const ranges: number[] = [];
  let n = 0;
  for (let s = 0; s < S; s++) {
    if (!t.mask[s]) continue;
    const i0 = s * A, i1 = i0 + A;
    const k0 = ip ? ip[i0] : i0 * S, k1 = ip ? ip[i1] : i1 * S;
    ranges.push(k0, k1);
    n += k1 - k0;
  }
  const saved = new Float64Array(n);
  let j = 0;
  for (let q = 0; q < ranges.length; q += 2) {
    for (let k = ranges[q]; k < ranges[q + 1]; k++) { saved[j++] = heap[o + k]; heap[o + k] = 0; }
  }
  t.saved = saved;
}

/** Give a new MDP its kernel instance with a dense P (S·A, S), ρ and the terminal mask (if any) copied in. */
export function storeDense(mdp: MdpShape, P: Float64Array, rho: Float64Array, backend?: Backend, term?: Uint8Array): void {
  attach(mdp, backend, true, P.length, term, (ws) => ({ P: ws.putF64(P), indptr: 0, indices: 0, rho: ws.putF64(rho) }));
}

/** Give a new MDP its kernel instance with CSR transitions, ρ and the terminal mask (if any) copied in. */
export function storeCsr(mdp: MdpShape, indptr: Int32Array, indices: Int32Array, probs: Float64Array, rho: Float64Array, backend?: Backend, term?: Uint8Array): void {
  attach(mdp, backend, false, probs.length, term, (ws) => ({ P: ws.putF64(probs), indptr: ws.putI32(indptr), indices: ws.putI32(indices), rho: ws.putF64(rho) }));
}

/** The terminal mask of an MDP (1 = terminal; a copy), or undefined when no state is terminal. */
export function terminalMask(mdp: object): Uint8Array | undefined {
  return instanceOf(mdp).term?.mask.slice();
}

/** The backend an MDP runs on. */
export function backendOf(mdp: object): Backend {
  return instanceOf(mdp).ws.backend;
}

/** The work done on one MDP so far (a copy). */
export function workOn(mdp: object): Work {
  const c = instanceOf(mdp).counters;
  return { sweeps: c.sweeps, solves: c.solves, sampledSteps: c.sampledSteps };
}

/**
 * Record n sweeps that host code made over an MDP's P with the product routines (the AMD
 * recursion sweeps its Q tables with `qFromV`): work no kernel call can see as a sweep.
 */
export function recordSweeps(mdp: object, n: number): void {
  record(instanceOf(mdp).counters, "sweeps", n);
}

/**
 * Overwrite a dense MDP's P (same shape, already validated): later calls see the new P;
 * the cached bandwidths are dropped and the sampler's running sums recomputed.
 */
export function setTransitions(mdp: object, P: Float64Array): void {
  const inst = instanceOf(mdp);
  inst.ws.writeF64(inst.P, P);
  if (inst.term) maskTerminalRows(inst);
  inst.band = undefined;
  if (inst.cdf) inst.k.cumulativeRows(inst.P, 0, inst.S, inst.A, inst.cdf);
}

/**
 * A copy of the transitions: `{ P }` for dense, `{ indptr, indices, probs }` for CSR; as the
 * user gave them (stochastic rows), or with `masked` as the kernels use them (the rows of
 * terminal states zero; docs/math.md#terminal-states).
 */
export function transitions(mdp: object, masked = false): { P: Float64Array } | { indptr: Int32Array; indices: Int32Array; probs: Float64Array } {
  const { ws, S, A, dense, nnz, P, indptr, indices, term } = instanceOf(mdp);
  const n = S * A;
  const vals = ws.copyF64(P, dense ? n * S : nnz);
  const ip = dense ? undefined : ws.copyI32(indptr, n + 1);
  if (term && !masked) {
    let j = 0;
    for (let s = 0; s < S; s++) {
      if (!term.mask[s]) continue;
      const i0 = s * A, i1 = i0 + A;
      const k0 = ip ? ip[i0] : i0 * S, k1 = ip ? ip[i1] : i1 * S;
      for (let k = k0; k < k1; k++) vals[k] = term.saved[j++];
    }
  }
  return ip ? { indptr: ip, indices: ws.copyI32(indices, nnz), probs: vals } : { P: vals };
}

/**
 * Structural bandwidths (kl, ku) of I − γP_π: max s − s' and max s' − s over the stored
 * transitions (the `bandwidth` kernel), cached until P changes.
 */
export function bandwidth(mdp: object): { kl: number; ku: number } {
  const inst = instanceOf(mdp);
  if (!inst.band) {
    const { ws, S, A } = inst;
    const m0 = ws.mark();
    try {
      const p = ws.allocI32(2);
      inst.k.bandwidth(inst.P, inst.indptr, inst.indices, S, A, p);
      const v = ws.i32(p, 2);
      inst.band = { kl: v[0], ku: v[1] };
    } finally {
      ws.release(m0);
    }
  }
  return inst.band;
}

/** Bytes of linear memory an MDP's instance holds, and its scratch mark (for memory tests). */
export function memoryOf(mdp: object): { bytes: number; mark: number } {
  const { ws } = instanceOf(mdp);
  return { bytes: ws.byteLength, mark: ws.mark() };
}
