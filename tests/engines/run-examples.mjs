// Shared by every engine of scripts/engines.mjs (Deno, Bun, Firefox): run each example
// experiment on the SIMD and on the scalar build with the bundled package and return the
// result JSON texts, which the driver compares byte for byte with Node's
// (build/identity-node.json). Plain ES2022, no runtime-specific API.

/**
 * @param {typeof import("../../src/index")} lib  the package (the bundle build/engines/bilevel-rl.js)
 * @param {{ file: string, text: string }[]} examples  experiment documents
 * @returns {Promise<{ simd: boolean, scalar: boolean, results: { file: string, build: "simd" | "scalar", json?: string, error?: string }[] }>}
 */
export async function runExamples(lib, examples) {
  const scalar = await lib.init({ simd: false });
  const simd = await lib.init({ simd: true });
  const results = [];
  for (const { file, text } of examples) {
    for (const [build, backend] of /** @type {const} */ ([["simd", simd], ["scalar", scalar]])) {
      try {
        const v = lib.parseExperiment(text);
        if (!v.ok) throw new Error(v.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
        results.push({ file, build, json: lib.resultToJSON(lib.runExperiment(v.experiment, { backend })) });
      } catch (e) {
        results.push({ file, build, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
    }
  }
  return { simd: simd.simd, scalar: scalar.simd, results };
}
