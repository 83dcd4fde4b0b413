// `import bytes from "…/x.wasm"` yields the module's raw bytes. Provided by tsup
// (loader ".wasm": "binary"), the vite plugin in vitest.config.ts, and
// scripts/register-wasm.mjs for plain Node + tsx.
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}
