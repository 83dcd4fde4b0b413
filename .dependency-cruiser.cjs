// The layering of the TypeScript side, checked by `npm run lint:deps` (a step of `npm test`):
//
//   src/wasm/module.ts       compiles the wasm, `init`; no pointers
//   src/wasm/threads.ts      the worker pool of init({ threads }) (dynamic import), with
//   src/wasm/pool.ts         the shared-memory builds; pool.ts is its seam to the routines
//   src/wasm/kernels.ts,     the pointer layer: raw exports, byte offsets, the memory layout
//   src/wasm/workspace.ts
//   src/wasm/routines/       the routine layer: every copy into or out of kernel memory and
//                            every kernel call; its only entry is routines/index.ts
//   everything else          the validated API, the algorithms, the tools: routines only
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "kernel-layer-outside-wasm",
      comment:
        "The pointer layer (raw kernel exports, workspace pointers) is reached only from src/wasm/: call a routine from src/wasm/routines/index.ts instead. " +
        "Exception: tests/lu.test.ts, a kernel-level test of luFactor/luSolve/luSolveT on raw matrices (as tests/kernels.test.ts does on the raw wasm bytes).",
      severity: "error",
      from: { pathNot: "^(src/wasm/|tests/lu\\.test\\.ts$)" },
      to: { path: "^src/wasm/(kernels|workspace)\\.ts$" },
    },
    {
      name: "routine-internals",
      comment: "Outside the routine layer, import routines through src/wasm/routines/index.ts (instance.ts holds the MDPs' kernel instances).",
      severity: "error",
      from: { pathNot: "^src/wasm/routines/" },
      to: { path: "^src/wasm/routines/", pathNot: "^src/wasm/routines/index\\.ts$" },
    },
    {
      name: "module-internals",
      comment:
        "src/wasm/module.ts (compilation, backends) is imported for its values only by src/index.ts and src/core.ts (the public entries), the command line's init and src/wasm/; anyone may import its types (Backend).",
      severity: "error",
      from: { pathNot: "^src/(index\\.ts|core\\.ts|cli/|wasm/)" },
      to: { path: "^src/wasm/module\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "wasm-bytes-outside-module",
      comment: "Only src/wasm/module.ts embeds the compiled kernels (and src/wasm/threads.ts the shared-memory builds, a chunk loaded only by init({ threads })).",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/wasm/(module|threads)\\.ts$" },
      to: { path: "\\.wasm$" },
    },
  ],
  options: {
    doNotFollow: { path: "^(node_modules|build)/" },
    exclude: { path: "^(node_modules|dist)/" },
    // build/ holds the compiled kernels: a leaf, not followed
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".cjs", ".json", ".wasm"] },
  },
};
