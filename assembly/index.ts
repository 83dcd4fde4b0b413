// Kernel exports. The host owns the memory: it lays buffers out from heapBase()
// upwards, grows memory itself, and passes byte offsets. Kernels never allocate.
export * from "./vec";
export * from "./bellman";
export * from "./policy";
export * from "./lu";
export * from "./krylov";
export * from "./sampling";

// First byte the host may use.
export function heapBase(): usize { return __heap_base; }
// 1 in the SIMD build, 0 in the scalar one.
export function simdBuild(): i32 { return ASC_FEATURE_SIMD ? 1 : 0; }
