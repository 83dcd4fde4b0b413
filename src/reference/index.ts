// Plain-TypeScript reference implementation of the wasm kernels (assembly/*.ts), for tests
// and benchmarks. Plain loops, naive summation order: results agree with the kernels to
// about 1e-12 relative, except the sampler, which agrees bit for bit.
export type { RefDense, RefCsr, RefMDP } from './types.js';
export { maskTerminal } from './types.js';
export { bellmanSweep, softValueIteration, softmaxPolicy } from './bellman.js';
export { ppi, ppiT, softRewardPi, qFromV, buildSystem } from './policy.js';
export { luFactor, luSolve, luSolveT } from './lu.js';
export { bicgstab, gmres, richardson, solveLinear, policyEvaluation, occupancy } from './krylov.js';
export { Xoshiro128, sampleTrajectories } from './sampling.js';
