// Routine of the trajectory sampler (assembly/sampling.ts: sampleTrajectories, with the
// running sums of P's rows from cumulativeRows kept in the MDP's persistent region).
import { instanceOf, type Instance } from "./instance";
import { record } from "./work";
import { parallelSamplingWorth, poolOf } from "../pool";

export interface Sampled {
  states: Int32Array;
  actions: Int32Array;
  rewards?: Float64Array;
  /** Steps taken by each episode: the horizon, or fewer when it ended at a terminal state. */
  lengths: Int32Array;
}

/**
 * Sample `episodes` episodes of `horizon` steps under π from ρ (the MDP's own when
 * omitted), recording r(s_t, a_t) when r is given; episode e draws from stream e of the
 * seed. An episode ends after its step at a terminal state (docs/math.md#terminal-states):
 * its later steps hold state and action −1 (reward 0). Records the steps taken.
 */
export function sample(mdp: object, pi: Float64Array, episodes: number, horizon: number, seed: number, rho?: Float64Array, r?: Float64Array): Sampled {
  const inst = instanceOf(mdp);
  const { ws, k, S, A } = inst;
  const n = episodes * horizon;
  const cdf = cdfRows(inst); // persistent: allocated before the scratch mark
  const m0 = ws.mark();
  try {
    const pPi = ws.putF64(pi);
    const pRho = rho ? ws.putF64(rho) : inst.rho;
    const pR = r ? ws.putF64(r) : 0;
    // with threads, blocks of episodes go to the threads, each with its own scratch
    // (docs/math.md#threads): episode e draws from stream e wherever it runs, so the same bits
    const pool = poolOf(ws.backend);
    const par = pool && episodes > 16 && parallelSamplingWorth(n) ? pool : undefined;
    const workBytes = k.SAMPLE_WORK_BYTES.value as number;
    const pWork = ws.alloc(workBytes * (par ? par.n : 1));
    const advice = "sample fewer episodes × horizon per call";
    const pS = ws.alloc(n * 4, advice), pA = ws.alloc(n * 4, advice);
    const pRew = r ? ws.alloc(n * 8, advice) : 0;
    const pLen = ws.allocI32(episodes);
    const lo = seed % 4294967296, hi = Math.floor(seed / 4294967296), term = inst.term ? inst.term.ptr : 0;
    if (par) par.sample(ws, { P: inst.P, indptr: inst.indptr, indices: inst.indices, pi: pPi, rho: pRho, r: pR, S, A, episodes, horizon, lo, hi, work: pWork, workBytes, states: pS, actions: pA, rewards: pRew, cdf, term, lengths: pLen });
    else k.sampleTrajectories(inst.P, inst.indptr, inst.indices, pPi, pRho, pR, S, A, episodes, horizon, lo, hi, pWork, pS, pA, pRew, cdf, term, pLen);
    const lengths = ws.copyI32(pLen, episodes);
    let steps = n;
    if (inst.term) {
      steps = 0;
      for (let e = 0; e < episodes; e++) steps += lengths[e];
    }
    record(inst.counters, "sampledSteps", steps);
    const out: Sampled = { states: ws.copyI32(pS, n), actions: ws.copyI32(pA, n), lengths };
    if (r) out.rewards = ws.copyF64(pRew, n);
    return out;
  } finally {
    ws.release(m0);
  }
}

/**
 * Pointer to the running sums of P's rows, computed on first use when some row is long
 * enough (> 16 entries) for the sampler to bisect; 0 otherwise. Extends the persistent
 * region, so it runs before a routine takes its scratch mark.
 */
function cdfRows(inst: Instance): number {
  const { ws, S, A } = inst;
  if (inst.cdf) return inst.cdf;
  const long = inst.dense ? S > 16 : maxRow(inst) > 16;
  if (!long) return 0;
  const n = inst.dense ? S * A * S : inst.nnz;
  inst.cdf = ws.alloc(n * 8, "the sampler's cumulative rows need as much memory as P: sample from CSR transitions");
  inst.k.cumulativeRows(inst.P, inst.indptr, S, A, inst.cdf);
  return inst.cdf;
}

function maxRow(inst: Instance): number {
  const { ws, S, A } = inst;
  const ip = ws.i32(inst.indptr, S * A + 1);
  let m = 0;
  for (let i = 0; i < S * A; i++) m = Math.max(m, ip[i + 1] - ip[i]);
  return m;
}
