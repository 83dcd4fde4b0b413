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
  readonly counters: Work;
}

const instances = new WeakMap<object, Instance>();

/** The kernel instance of an MDP. */
export function instanceOf(mdp: object): Instance {
  const inst = instances.get(mdp);
  if (!inst) throw new Error("internal: this MDP has no kernel instance");
  return inst;
}

function attach(mdp: MdpShape, backend: Backend | undefined, dense: boolean, nnz: number, lay: (ws: Workspace) => { P: number; indptr: number; indices: number; rho: number }): void {
  const ws = new Workspace(backend ?? defaultBackend());
  const at = lay(ws);
  const { S, A, gamma } = mdp;
  instances.set(mdp, { ws, k: ws.k, S, A, gamma, dense, nnz, ...at, cdf: 0, counters: noWork() });
}

/** Give a new MDP its kernel instance with a dense P (S·A, S) and ρ copied in. */
export function storeDense(mdp: MdpShape, P: Float64Array, rho: Float64Array, backend?: Backend): void {
  attach(mdp, backend, true, P.length, (ws) => ({ P: ws.putF64(P), indptr: 0, indices: 0, rho: ws.putF64(rho) }));
}

/** Give a new MDP its kernel instance with CSR transitions and ρ copied in. */
export function storeCsr(mdp: MdpShape, indptr: Int32Array, indices: Int32Array, probs: Float64Array, rho: Float64Array, backend?: Backend): void {
  attach(mdp, backend, false, probs.length, (ws) => ({ P: ws.putF64(probs), indptr: ws.putI32(indptr), indices: ws.putI32(indices), rho: ws.putF64(rho) }));
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
  inst.band = undefined;
  if (inst.cdf) inst.k.cumulativeRows(inst.P, 0, inst.S, inst.A, inst.cdf);
}

/** A copy of the transitions as stored: `{ P }` for dense, `{ indptr, indices, probs }` for CSR. */
export function transitions(mdp: object): { P: Float64Array } | { indptr: Int32Array; indices: Int32Array; probs: Float64Array } {
  const { ws, S, A, dense, nnz, P, indptr, indices } = instanceOf(mdp);
  const n = S * A;
  if (dense) return { P: ws.copyF64(P, n * S) };
  return { indptr: ws.copyI32(indptr, n + 1), indices: ws.copyI32(indices, nnz), probs: ws.copyF64(P, nnz) };
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
