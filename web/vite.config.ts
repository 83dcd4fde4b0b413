// The demo page: `npm run web` (dev server) and `npm run build:web` (static files in web/dist).
//
// "bilevel-rl" is not aliased: web/ lies inside the package, so Vite resolves the bare name
// the way Node does for a package importing itself — through package.json "exports" to the
// built dist/index.js (run `npm run build` first; the npm scripts do). That is the file a
// consumer's bundler gets from node_modules/bilevel-rl, wasm inlined as base64.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  // relative asset URLs: web/dist works from any folder of any static host
  base: "./",
  // module workers (the solver worker imports the package)
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // the worker bundle holds the library with both wasm builds inlined (~0.5 MB)
    chunkSizeWarningLimit: 1200,
  },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
});
