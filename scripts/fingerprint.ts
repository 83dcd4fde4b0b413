// Behaviour fingerprints, the oracle for refactors: FNV-1a 64 of the result JSON of
//   - every algorithm × every built-in bilevel problem it applies to (defaults, 12 iterations (2 on happyText, whose φ enumerates every sentence),
//     φ every 4, x recorded), and
//   - every example experiment (examples/experiments/*.json),
// on the SIMD and the scalar build. Cells that throw are fingerprinted by their error text.
//
//   node --import ./scripts/register-wasm.mjs --import tsx scripts/fingerprint.ts [out.json] [--check ref.json]
//
// With --check, exits 1 and lists every key whose hash differs from ref.json.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { init, parseExperiment, resultToJSON, runExperiment, hypergradientOf, PROBLEMS, ALGORITHMS, HYPERGRADIENT_METHODS, type Backend } from "../src/index";

function fnv(text: string): string {
  let h = 0xcbf29ce484222325n;
  const p = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * p) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

const args = process.argv.slice(2);
// The two slowest cells (finite differences and Φσ on happyText, minutes under load) only with FP_FULL=1.
const FULL = process.env.FP_FULL === "1";
const ci = args.indexOf("--check");
const ref = ci >= 0 ? args[ci + 1] : undefined;
const out = args.find((a, i) => !a.startsWith("--") && (ci < 0 || i !== ci + 1)) ?? "build/fingerprints.json";

const scalar = await init({ simd: false });
const simd = await init({ simd: true });
const backends: [string, Backend][] = ([["simd", simd], ["scalar", scalar]] as [string, Backend][]).filter(([n]) => !process.env.FP_BUILD || process.env.FP_BUILD === n);

const cells: Record<string, unknown>[] = [];
const names: string[] = [];
const problems = PROBLEMS.filter((p) => p.kind === "bilevel");
for (const a of ALGORITHMS) {
  for (const p of problems) {
    if (a.needsTrajectory && !p.trajectory) continue;
    names.push(`${a.name}×${p.name}`);
    cells.push({ version: 1, name: `${a.name}-${p.name}`, seed: 3, problem: { builtin: p.name }, algorithm: { name: a.name }, iterations: p.name === "happyText" ? 2 : 12, x0: "problem", record: { phiEvery: 4, x: true } });
  }
}
const dir = "examples/experiments";
for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
  const j = JSON.parse(readFileSync(join(dir, f), "utf8"));
  if (!("version" in j)) continue;
  names.push(`example:${f}`);
  cells.push(j);
}

const result: Record<string, string> = {};
for (const [bname, backend] of backends) {
  cells.forEach((c, i) => {
    const key = `${bname}:${names[i]}`;
    const t0 = performance.now();
    let text: string;
    try {
      const v = parseExperiment(JSON.stringify(c));
      if (!v.ok) text = "invalid: " + v.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
      else text = resultToJSON(runExperiment(v.experiment, { backend }));
    } catch (e) {
      text = "error: " + (e as Error).name + ": " + (e as Error).message;
    }
    result[key] = fnv(text) + (text.startsWith("error") || text.startsWith("invalid") ? " " + text.slice(0, 120) : "");
    if (process.env.FP_TIMES) console.error(`${(performance.now() - t0).toFixed(0)} ms ${key}`);
  });
}
// hypergradients: every method on every built-in problem at x0 (and its counters)
for (const [bname, backend] of backends) {
  for (const p of problems) {
    for (const m of HYPERGRADIENT_METHODS) {
      if (!FULL && p.name === "happyText" && (m.name === "finite-difference" || m.name === "phi-sigma")) continue;
      const key = `${bname}:hypergradient:${m.name}×${p.name}`;
      const t0 = performance.now();
      let text: string;
      try {
        const exp = { version: 1, seed: 3, problem: { builtin: p.name }, algorithm: { name: "exactDescent" }, iterations: 1, x0: "problem" };
        text = JSON.stringify(hypergradientOf(exp, m.name as never, { backend } as never), (_k, v) => (v instanceof Float64Array ? Array.from(v) : typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
        text = text.replace(/"(timeMs|totalMs|ms)":[0-9.e+-]+,?/g, "");
      } catch (e) {
        text = "error: " + (e as Error).name + ": " + (e as Error).message;
      }
      result[key] = fnv(text) + (text.startsWith("error") ? " " + text.slice(0, 120) : "");
      if (process.env.FP_TIMES) console.error(`${(performance.now() - t0).toFixed(0)} ms ${key}`);
    }
  }
}
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.log(`${Object.keys(result).length} fingerprints → ${out}`);
if (ref) {
  const want = JSON.parse(readFileSync(ref, "utf8")) as Record<string, string>;
  const keys = new Set([...Object.keys(want), ...Object.keys(result)].filter((k) => FULL || !/hypergradient:(finite-difference|phi-sigma)×happyText/.test(k)));
  const diff = [...keys].filter((k) => want[k] !== result[k]);
  for (const k of diff) console.log(`DIFF ${k}: ${want[k]} → ${result[k]}`);
  console.log(diff.length ? `${diff.length} of ${keys.size} differ` : `all ${keys.size} identical`);
  process.exit(diff.length ? 1 : 0);
}
