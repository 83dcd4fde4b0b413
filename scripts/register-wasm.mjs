// Make `import bytes from "./x.wasm"` yield the file's bytes (a Uint8Array) in plain Node,
// matching tsup's `binary` loader and the vite plugin in vitest.config.ts:
//
//   node --import ./scripts/register-wasm.mjs --import tsx some.ts
//
// (either order of the two --import flags works). ESM imports go through a module
// customization hook (node:module register, Node >= 20.6). A plain CommonJS
// `require("./x.wasm")` gets `{ __esModule: true, default: Uint8Array }` via
// require.extensions. Not covered: `require` of a .wasm from a .cts file run by tsx
// (Node 20 routes that through its ESM translator, which only accepts CommonJS formats).
import { readFileSync } from "node:fs";
import { createRequire, register } from "node:module";

register("./register-wasm-hooks.mjs", import.meta.url);

const require = createRequire(import.meta.url);
const Module = require("node:module");
Module._extensions[".wasm"] = (module, filename) => {
  module.exports = { __esModule: true, default: new Uint8Array(readFileSync(filename)) };
};
