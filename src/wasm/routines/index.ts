// The routine layer: every movement of data into and out of kernel memory and every kernel
// call, one routine per kernel (named after it), on typed arrays. Routines do no
// validation; the validated API (lower.ts, sampling.ts, mdp.ts, linalg.ts) and the
// algorithms call them with checked inputs. Below this folder: the pointer layer
// (workspace.ts, kernels.ts), which nothing else may import (.dependency-cruiser.cjs).
export { storeDense, storeCsr, setTransitions, transitions, terminalMask, bandwidth, backendOf, workOn, memoryOf, recordSweeps, MAX_WASM_BYTES, type MdpShape } from "./instance";
export { bellmanSweeps, type SweepsResult } from "./bellman";
export { ppi, pTransposeSA, qFromV } from "./policy";
export { solveSystem, evaluatePolicy, luSolveDense, type LinearMethod, type SolveSettings, type SolveInfo } from "./solve";
export { sample, type Sampled } from "./sampling";
export { storeMatrix, matvec } from "./matrix";
export { meter, tally, openReading, closeReading, unmetered, noWork, type Work } from "./work";
export { instantiateKernels } from "../workspace";
