// Module-customization hooks registered by scripts/register-wasm.mjs (they run off-thread).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { cleanId, wasmModuleSource } from "./wasm-bytes.mjs";

/** @type {import("node:module").LoadHook} */
export async function load(url, context, nextLoad) {
  const clean = cleanId(url);
  if (clean.startsWith("file:") && clean.endsWith(".wasm")) {
    const bytes = await readFile(fileURLToPath(clean));
    return { format: "module", source: wasmModuleSource(bytes), shortCircuit: true };
  }
  return nextLoad(url, context);
}
