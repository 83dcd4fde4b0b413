import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    outDir: "dist",
    format: ["esm", "cjs"], // dist/index.js + dist/index.cjs (package.json "type": "module")
    dts: true, // dist/index.d.ts + dist/index.d.cts
    // Inline the wasm bytes as base64: `import bytes from "../../build/x.wasm"` → Uint8Array.
    loader: { ".wasm": "binary" },
    // "neutral" makes esbuild decode the inlined base64 without Node's Buffer, so the same
    // dist/index.js works in Node, in browsers and in a consumer's bundler.
    platform: "neutral",
    target: "es2022",
    sourcemap: true,
    // Clean dist/ except the command line's bundle, which the second config writes concurrently.
    clean: ["!cli.js", "!cli.js.map"],
    splitting: false,
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
