import { defineConfig } from "tsup";

export default defineConfig({
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
  clean: true,
  splitting: false,
  treeshake: true,
});
