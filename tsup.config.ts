import { defineConfig } from "tsup";

export default defineConfig([
  {
    // The package's entry points (package.json "exports"): "." is everything; the subpaths let
    // an app take less, e.g. bilevel-rl/core without the bilevel layer, the experiment files
    // (their schema validator) or the plots.
    entry: {
      index: "src/index.ts",
      core: "src/core.ts",
      bilevel: "src/bilevel/index.ts",
      experiment: "src/experiment/index.ts",
      plot: "src/plot/index.ts",
    },
    outDir: "dist",
    format: ["esm", "cjs"], // dist/<entry>.js + dist/<entry>.cjs (package.json "type": "module")
    dts: true, // dist/<entry>.d.ts + dist/<entry>.d.cts
    // Inline the wasm bytes as base64: `import bytes from "../../build/x.wasm"` → Uint8Array.
    loader: { ".wasm": "binary" },
    // "neutral" makes esbuild decode the inlined base64 without Node's Buffer, so the same
    // dist/index.js works in Node, in browsers and in a consumer's bundler.
    platform: "neutral",
    target: "es2022",
    sourcemap: true,
    // Clean dist/ except the command line's bundle, which the second config writes concurrently.
    clean: ["!cli.js", "!cli.js.map"],
    // Shared modules go to chunks that every entry imports, in both formats (tsup splits CJS
    // too when asked): one copy of the kernels' state and of the error classes, so that
    // init() from bilevel-rl/core also serves bilevel-rl/experiment, and instanceof holds.
    splitting: true,
    treeshake: true,
  },
  {
    // The `bilevel-rl` command line (package.json "bin"): dist/cli.js, ESM for Node, with the
    // shebang of src/cli/main.ts. Its own bundle, so that the library never pulls in commander
    // or node: modules; the same file is also its experiment worker's entry (src/cli/worker.ts).
    entry: { cli: "src/cli/main.ts" },
    outDir: "dist",
    format: ["esm"],
    dts: false,
    loader: { ".wasm": "binary" },
    platform: "node",
    target: "node18",
    sourcemap: true,
    clean: false,
    splitting: false,
    treeshake: true,
  },
]);
