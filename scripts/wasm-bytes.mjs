// Shared by the vite plugin in vitest.config.ts and the Node loader hook in
// scripts/register-wasm-hooks.mjs: turns a .wasm file into the source of an ES module
// whose default export is a plain Uint8Array holding the file's bytes, decoded from
// inlined base64. The emitted code uses only `atob`, so it runs unchanged in Node
// (>= 16) and in browsers.

/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function wasmModuleSource(bytes) {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  return [
    `const b64 = ${JSON.stringify(b64)};`,
    `const bin = atob(b64);`,
    `const bytes = new Uint8Array(bin.length);`,
    `for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);`,
    `export default bytes;`,
    ``,
  ].join("\n");
}

/**
 * Strip a `?query` / `#hash` from a module id or URL.
 * @param {string} id
 */
export function cleanId(id) {
  return id.replace(/[?#][\s\S]*$/, "");
}
