// Seeded random problems for the benchmarks: the generators of tests/helpers/random-mdp.ts
// (one mulberry32 stream per problem, so every run and every build sees the same numbers;
// its CSR generator is O(nnz), usable at S = 1e6), plus the conversion to library MDPs.
import { TabularMDP, type Backend } from "../../src/index";
import type { RefCsr, RefDense } from "../../src/reference/index";
import { randomVector as vectorIn } from "../../tests/helpers/random-mdp";

export { mulberry32, randomCsr, randomDense, randomPolicy } from "../../tests/helpers/random-mdp";

/** n entries uniform in [lo, hi) (default [0, 1): rewards and right-hand sides). */
export function randomVector(n: number, seed: number, lo = 0, hi = 1): Float64Array {
  return vectorIn(n, seed, lo, hi);
}

/** The same problem as a library MDP on the given backend (copies P into its own wasm memory). */
export function toMDP(m: RefDense | RefCsr, backend: Backend): TabularMDP {
  if (m.kind === "dense") return TabularMDP.dense({ S: m.S, A: m.A, gamma: m.gamma, P: m.P, backend });
  return TabularMDP.sparse({ S: m.S, A: m.A, gamma: m.gamma, indptr: m.indptr, indices: m.indices, probs: m.probs, backend });
}
