// Raw signatures of the kernel exports (assembly/index.ts). Pointers are byte offsets.
type ptr = number;
export interface Kernels {
  readonly memory: WebAssembly.Memory;
  /** Bytes of scratch sampleTrajectories needs. */
  readonly SAMPLE_WORK_BYTES: WebAssembly.Global;
  /** min_s and max_s of V'(s) − V(s) in the last bellmanDense/bellmanCsr sweep. */
  readonly deltaMin: WebAssembly.Global;
  readonly deltaMax: WebAssembly.Global;
  heapBase(): ptr;
  simdBuild(): number;
  dot(x: ptr, y: ptr, n: number): number;
  axpy(y: ptr, alpha: number, x: ptr, n: number): void;
  bellmanDense(P: ptr, r: ptr, V: ptr, Q: ptr, Vout: ptr, S: number, A: number, gamma: number, tau: number, pi: ptr): number;
  bellmanCsr(indptr: ptr, indices: ptr, probs: ptr, r: ptr, V: ptr, Q: ptr, Vout: ptr, S: number, A: number, gamma: number, tau: number, pi: ptr): number;
  bellmanDenseRows(P: ptr, r: ptr, V: ptr, Q: ptr, Vout: ptr, S: number, A: number, gamma: number, tau: number, pi: ptr, s0: number, s1: number): number;
  bellmanCsrRows(indptr: ptr, indices: ptr, probs: ptr, r: ptr, V: ptr, Q: ptr, Vout: ptr, S: number, A: number, gamma: number, tau: number, pi: ptr, s0: number, s1: number): number;
  softmaxPolicy(Q: ptr, pi: ptr, S: number, A: number, tau: number): void;
  ppiDense(P: ptr, pi: ptr, v: ptr, out: ptr, S: number, A: number): void;
  ppiTDense(P: ptr, pi: ptr, v: ptr, out: ptr, S: number, A: number): void;
  ppiCsr(indptr: ptr, indices: ptr, probs: ptr, pi: ptr, v: ptr, out: ptr, S: number, A: number): void;
  ppiTCsr(indptr: ptr, indices: ptr, probs: ptr, pi: ptr, v: ptr, out: ptr, S: number, A: number): void;
  ppi(P: ptr, indptr: ptr, indices: ptr, pi: ptr, v: ptr, out: ptr, S: number, A: number, transpose: boolean | number): void;
  matvec(M: ptr, x: ptr, y: ptr, rows: number, cols: number): void;
  softRewardPi(r: ptr, pi: ptr, out: ptr, S: number, A: number, tau: number): void;
  qFromV(P: ptr, indptr: ptr, indices: ptr, r: ptr, V: ptr, Q: ptr, S: number, A: number, gamma: number): void;
  buildSystem(P: ptr, indptr: ptr, indices: ptr, pi: ptr, M: ptr, S: number, A: number, gamma: number, transpose: boolean | number): void;
  luFactor(M: ptr, piv: ptr, n: number): number;
  /** Threaded builds only: luFactor's panel at k0 (rows swapped within it), on columns [j0, j1) right of it its swaps, U₁₂ and the trailing update, and its swaps on columns [j0, j1) left of it. */
  luPanel(M: ptr, piv: ptr, n: number, k0: number): number;
  luUpdateCols(M: ptr, piv: ptr, n: number, k0: number, j0: number, j1: number): void;
  luSwapCols(M: ptr, piv: ptr, n: number, k0: number, j0: number, j1: number): void;
  /** luFactor's panel width. */
  readonly LU_PANEL: WebAssembly.Global;
  /** Threaded builds only: rows [s0, s1) of P_π v (ppi, not transposed). */
  ppiRows(P: ptr, indptr: ptr, indices: ptr, pi: ptr, v: ptr, out: ptr, S: number, A: number, s0: number, s1: number): void;
  /** Threaded builds: nonzero while ppi hands its products to the host's split (env.parallelProduct). */
  readonly productThreads: WebAssembly.Global;
  luSolve(M: ptr, piv: ptr, b: ptr, n: number): void;
  luSolveT(M: ptr, piv: ptr, b: ptr, n: number): void;
  bandwidth(P: ptr, indptr: ptr, indices: ptr, S: number, A: number, out: ptr): void;
  buildBand(P: ptr, indptr: ptr, indices: ptr, pi: ptr, M: ptr, S: number, A: number, gamma: number, transpose: boolean | number, kl: number, ku: number): void;
  bandFactor(M: ptr, piv: ptr, n: number, kl: number, ku: number): number;
  bandSolve(M: ptr, piv: ptr, b: ptr, n: number, kl: number, ku: number): void;
  bicgstab(P: ptr, indptr: ptr, indices: ptr, pi: ptr, b: ptr, x: ptr, work: ptr, S: number, A: number, gamma: number, transpose: boolean | number, tol: number, maxIter: number, info: ptr): void;
  gmres(P: ptr, indptr: ptr, indices: ptr, pi: ptr, b: ptr, x: ptr, work: ptr, S: number, A: number, gamma: number, transpose: boolean | number, tol: number, maxIter: number, m: number, info: ptr): void;
  richardson(P: ptr, indptr: ptr, indices: ptr, pi: ptr, b: ptr, x: ptr, work: ptr, S: number, A: number, gamma: number, transpose: boolean | number, tol: number, maxIter: number, info: ptr): void;
  pow2Scale(x: ptr, n: number): number;
  systemResidual(P: ptr, indptr: ptr, indices: ptr, pi: ptr, b: ptr, x: ptr, work: ptr, S: number, A: number, gamma: number, transpose: boolean | number): number;
  seedRng(rng: ptr, lo: number, hi: number): void;
  seedStream(rng: ptr, lo: number, hi: number, stream: number): void;
  rngNext(rng: ptr): number;
  rngUniform(rng: ptr): number;
  sampleTrajectories(P: ptr, indptr: ptr, indices: ptr, pi: ptr, rho: ptr, r: ptr, S: number, A: number, episodes: number, horizon: number, lo: number, hi: number, work: ptr, states: ptr, actions: ptr, rewards: ptr, cdf: ptr, term: ptr, lengths: ptr): void;
  sampleTrajectoriesRange(P: ptr, indptr: ptr, indices: ptr, pi: ptr, rho: ptr, r: ptr, S: number, A: number, e1: number, e2: number, horizon: number, lo: number, hi: number, work: ptr, states: ptr, actions: ptr, rewards: ptr, cdf: ptr, term: ptr, lengths: ptr): void;
  cumulativeRows(P: ptr, indptr: ptr, S: number, A: number, out: ptr): void;
}
