// as-pect configuration (ESM: the package is "type": "module").
//
// as-pect 8 takes its compiler flags from an asconfig file chosen with `--as-config`
// (default ./as-pect.asconfig.json), not from this file, so the two kernel variants
// share this config and differ only in the asconfig:
//   SIMD path:   asp --config as-pect.config.js --as-config as-pect.asconfig.json
//   scalar twin: asp --config as-pect.config.js --as-config as-pect.scalar.asconfig.json
// as-pect.asconfig.json enables SIMD ("enable": ["simd"]); as-pect.scalar.asconfig.json
// leaves it off, so ASC_FEATURE_SIMD is false and the scalar twins are compiled.
export default {
  /** Spec files: one per kernel file in assembly/. */
  entries: ["assembly/__tests__/**/*.spec.ts"],
  /** Files compiled into every spec (helpers). */
  include: ["assembly/__tests__/**/*.include.ts"],
  /** Regexps of files never treated as specs. */
  disclude: [/node_modules/],
  /** The kernels need no imports beyond as-pect's own. */
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  /** Set to true to write each compiled spec next to it (spec.wasm / spec.wat). */
  outputBinary: false,
};
