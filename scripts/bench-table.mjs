#!/usr/bin/env node
// Regenerates README.md's benchmark section — everything between `<!-- bench:start -->`
// and `<!-- bench:end -->` — from the full-run results in bench/results/:
//   summary.json  core suite (bench/core.bench.ts)
//   bilevel.json  bilevel suite (bench/bilevel.bench.ts)
//   browser.json  browser suite (bench/browser-run.ts)
// One compact table per suite: median ms, ratios vs the plain-TS reference, the engine
// in the table's caption, targets met / not met. A missing results file is reported as
// such. The output depends only on those files, so running it twice changes nothing.
//
//   node scripts/bench-table.mjs            rewrite README.md
//   node scripts/bench-table.mjs --check    exit 1 if README.md is out of date (writes nothing)
//   node scripts/bench-table.mjs --stdout   print the section instead of writing it
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const README = path.join(ROOT, "README.md");
const RESULTS = "bench/results";
const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

const f3 = (x) => (typeof x === "number" && Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toPrecision(3)) : "—");
const fx = (x) => (typeof x === "number" && Number.isFinite(x) ? `${x.toFixed(2)}×` : "—");
const day = (iso) => (typeof iso === "string" ? iso.slice(0, 10) : "?");
const sci = (n) => {
  const e = Math.log10(n);
  return Number.isInteger(e) && n >= 1e4 ? `1e${e}` : String(n);
};

function readJson(rel) {
  const p = path.join(ROOT, rel);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, "utf8"));
}

const link = (rel) => `[${rel}](${rel})`;

/** Short name of a core case from its group and params. */
function coreName(c) {
  const p = c.params;
  switch (c.group) {
    case "dense-sweep": return `dense soft sweep, S = ${sci(p.S)}`;
    case "csr-sweep": return `CSR soft sweep, S = ${sci(p.S)}`;
    case "krylov": return p.method === "bicgstab" ? `solve, BiCGSTAB, S = ${sci(p.S)}` : `solve, 'krylov' (GMRES), S = ${sci(p.S)}`;
    case "lu": return `solve, dense LU${p.transpose === "true" ? " (transposed)" : ""}, n = ${sci(p.n)}`;
    case "sampling": return `sampling ${p.kind === "csr" ? "CSR" : "dense"}, S = ${sci(p.S)} (${p.steps / 1e6} M steps)`;
    default: return c.title;
  }
}

function targetText(t) {
  if (!t) return "";
  const measured = t.unit === "%" ? `${t.measured.toFixed(0)}%` : t.unit === "GFLOP/s" ? `${t.measured.toFixed(1)} GFLOP/s` : `${t.measured.toFixed(2)}×`;
  const req = t.unit === "%" ? `≥ ${t.required}%` : t.unit === "GFLOP/s" ? `≥ ${t.required} GFLOP/s` : `≥ ${t.required}×`;
  return `${req}: **${t.met ? "met" : "not met"}** (${measured})`;
}

function machine(s) {
  return `${s.cpu} × ${s.cores}`;
}

function disturbed(c, limit) {
  return Number.isFinite(c.otherCores) && c.otherCores > limit ? " ⚠" : "";
}

function coreSection(s) {
  if (!s) return [`*Core kernels: no results (${RESULTS}/summary.json is missing; run \`npm run bench\`).*`, ""];
  const L = [];
  const targets = new Map();
  for (const t of s.targets ?? []) if (t.case) (targets.get(t.case) ?? targets.set(t.case, []).get(t.case)).push(t);
  const met = (s.targets ?? []).filter((t) => t.met).length;
  const npNote = s.numpy?.skipped ? ` numpy columns skipped: ${s.numpy.skipped}.` : s.numpy?.versions ? ` numpy = ${s.numpy.versions} on the same arrays, one OpenBLAS thread (all threads in summary.json); × numpy = numpy's time ÷ the SIMD build's (> 1: SIMD faster).` : "";
  L.push(`**Core kernels — ${s.engine} (V8 ${s.v8})**, ${machine(s)}; ${day(s.date)}, commit ${s.commit}${s.uncommitted?.length ? "+" : ""}${s.mode === "quick" ? ", QUICK run (not meaningful)" : ""}. Median ms per sweep / solve / call; ratios are the reference's time ÷ the build's.${npNote} Targets met: ${met} of ${(s.targets ?? []).length}.`);
  L.push("");
  L.push("| case | SIMD ms | scalar ms | reference ms | numpy ms | SIMD × plain TS | scalar × plain TS | SIMD × numpy | targets |");
  L.push("|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const c of s.cases) {
    const per = (v) => (v ? f3(v.ms / c.unit.perOp) : "—");
    const ts = (targets.get(c.id) ?? []).filter((t) => t.unit !== "%");
    L.push(`| ${coreName(c)}${disturbed(c, s.contendedAboveCores)} | ${per(c.variants.simd)} | ${per(c.variants.scalar)} | ${per(c.variants.reference)} | ${per(c.numpy?.one)} | ${fx(c.speedup.simdVsRef)} | ${fx(c.speedup.scalarVsRef)} | ${fx(c.speedup.simdVsNumpy)} | ${ts.map(targetText).join("; ")} |`);
  }
  const pk = s.diagnostics?.f64x2Peak;
  if (pk) {
    L.push("");
    L.push(`Dense LU: the f64x2 mul + sub ceiling (no FMA in wasm SIMD128 on Node 20; the LU's own 4 × 4 tile on L1 data) measured ${f3(pk.gflops)} GFLOP/s; the LU cases reach ${s.cases.filter((c) => c.group === "lu").map((c) => `${f3(c.derived?.simdGflops)}`).join(" / ")} GFLOP/s (⅔n³ over the whole op, in table order).`);
  }
  const bw = (s.targets ?? []).find((t) => t.unit === "%");
  if (bw && s.bandwidth) {
    L.push("");
    L.push(`Memory bandwidth: the S = ${sci(Number(s.cases.find((c) => c.id === bw.case)?.params.S))} dense SIMD sweep streams P at ${f3(s.bandwidth.denseSweepGBps)} GB/s = ${(100 * s.bandwidth.fraction).toFixed(0)}% of the single-thread read ceiling (${f3(s.bandwidth.ceilingGBps)} GB/s, wasm SIMD dot); target ≥ ${bw.required}%: **${bw.met ? "met" : "not met"}**.`);
  }
  if (s.contendedCases?.length) L.push("", `⚠ other processes used more than ${s.contendedAboveCores} cores during these cases: do not trust them.`);
  L.push("");
  return L;
}

function bilevelSection(s) {
  if (!s) return [`*Bilevel: no results (${RESULTS}/bilevel.json is missing; run \`npm run bench:bilevel\`).*`, ""];
  const L = [];
  const byCase = new Map((s.targets ?? []).map((t) => [t.case, t]));
  const met = (s.targets ?? []).filter((t) => t.met).length;
  L.push(`**Bilevel — ${s.engine} (V8 ${s.v8})**, ${machine(s)}; ${day(s.date)}, commit ${s.commit}${s.uncommitted?.length ? "+" : ""}${s.mode === "quick" ? ", QUICK run (not meaningful)" : ""}. Median ms per op: one exact hypergradient on the ${s.settings?.gridSize ?? 50} × ${s.settings?.gridSize ?? 50} GridWorld goal problem (S = 2500, A = 4, γ = 0.99, τ = 0.05, n = 2500, lower level to ${s.settings?.lowerTol ?? 1e-10}), or one whole M-SoBiRL run on E1; the reference is the same algorithm in plain TS on the \`src/reference\` kernels. Targets met: ${met} of ${(s.targets ?? []).length}.`);
  L.push("");
  if (s.numpy?.skipped) L.push(`numpy columns skipped: ${s.numpy.skipped}.`, "");
  else if (s.numpy?.versions) L.push(`numpy = ${s.numpy.versions}, one OpenBLAS thread, on the same arrays (sparse P, scipy.sparse.linalg solves); × numpy = numpy's time ÷ the SIMD build's.`, "");
  L.push("| case | SIMD ms | scalar ms | reference ms | numpy ms | SIMD × plain TS | scalar × plain TS | SIMD × numpy | target (SIMD) |");
  L.push("|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const c of s.cases) {
    const name = c.group === "hypergradient"
      ? `hypergradient, ${c.params.solver === "value-iteration" ? (c.params.extrapolate === "false" ? "value iteration without error bounds" : "value iteration") : "policy iteration"} + ${c.params.linear === "lu" ? "banded LU" : "GMRES"}`
      : `M-SoBiRL on E1, ${c.params.iterations} iterations`;
    const t = byCase.get(c.id);
    const tt = t ? `< ${t.requiredMs} ms: **${t.met ? "met" : "not met"}**` : "";
    L.push(`| ${name}${disturbed(c, s.contendedAboveCores)} | ${f3(c.variants.simd.ms)} | ${f3(c.variants.scalar.ms)} | ${f3(c.variants.reference.ms)} | ${f3(c.numpy?.one?.ms)} | ${fx(c.speedup.simdVsRef)} | ${fx(c.speedup.scalarVsRef)} | ${fx(c.speedup.simdVsNumpy)} | ${tt} |`);
  }
  const ext = (s.external ?? []).filter((e) => s.cases.some((c) => c.group === e.group));
  if (ext.length && s.mode !== "quick") {
    L.push("");
    L.push(`For comparison (quoted in the issue, not measured by the suite): ${ext.map((e) => `${e.what}: ≈ ${e.ms >= 1000 ? `${e.ms / 1000} s` : `${e.ms} ms`}`).join("; ")}.`);
  }
  if (s.contendedCases?.length) L.push("", `⚠ other processes used more than ${s.contendedAboveCores} cores during these cases: do not trust them.`);
  L.push("");
  return L;
}

function browserSection(b) {
  if (!b) return [`*Browser: no results (${RESULTS}/browser.json is missing; run \`npm run bench:browser\`).*`, ""];
  const L = [];
  const c = b.chromium;
  const n = b.node;
  const engine = c.engine.replace(/ \(.*$/, "");
  L.push(`**Browser — ${engine}** (headless)${n ? `, with the same suite in ${n.engine} for comparison` : ""}, ${b.machine.cpu} × ${b.machine.cores}; ${day(b.date)}, commit ${b.commit}${b.quick ? ", QUICK run (not meaningful)" : ""}. Median ms per sweep / hypergradient. The issue sets no browser targets.`);
  L.push("");
  L.push(`| case | SIMD ms | scalar ms | reference ms | SIMD vs ref | scalar vs ref${n ? " | Node SIMD ms" : ""} |`);
  L.push(`|---|---:|---:|---:|---:|---:${n ? "|---:" : ""}|`);
  for (const k of c.suite.cases) {
    const nk = n?.suite.cases.find((x) => x.id === k.id);
    const name = k.title.replace(/^exact hypergradient, gridGoal (\d+)×\d+ .*?\), /, "hypergradient $1×$1, ");
    L.push(`| ${name} | ${f3(k.variants.simd?.ms)} | ${f3(k.variants.scalar?.ms)} | ${f3(k.variants.reference?.ms)} | ${fx(k.speedup.simdVsRef)} | ${fx(k.speedup.scalarVsRef)}${n ? ` | ${f3(nk?.variants.simd?.ms)}` : ""} |`);
  }
  L.push("");
  return L;
}

function section() {
  const core = readJson(`${RESULTS}/summary.json`);
  const bilevel = readJson(`${RESULTS}/bilevel.json`);
  const browser = readJson(`${RESULTS}/browser.json`);
  const commits = [
    ["core", core?.commit && `${core.commit}${core.uncommitted?.length ? " plus uncommitted changes" : ""}`],
    ["bilevel", bilevel?.commit && `${bilevel.commit}${bilevel.uncommitted?.length ? " plus uncommitted changes" : ""}`],
    ["browser", browser?.commit],
  ].filter(([, c]) => c);
  const mixed = new Set(commits.map(([, c]) => c)).size > 1;
  const L = [
    "<!-- generated by `node scripts/bench-table.mjs` from bench/results/*.json: edits between the markers are overwritten -->",
    "",
    `Full tables with the load, the per-case checks and what each op includes: ${link("bench/results/summary.md")} (core), ${link("bench/results/bilevel.md")} (bilevel), ${link("bench/results/browser.md")} (browser); where the time goes and what was changed to meet the targets: ${link("bench/ANALYSIS.md")}. ⚠ marks a case disturbed by other processes.${mixed ? ` The suites ran at different commits (${commits.map(([k, c]) => `${k} ${c}`).join(", ")}): the kernels may have changed in between, so compare across tables with care.` : ""}`,
    "",
    ...coreSection(core),
    ...bilevelSection(bilevel),
    ...browserSection(browser),
  ];
  while (L[L.length - 1] === "") L.pop();
  return L.join("\n");
}

const args = new Set(process.argv.slice(2));
const text = section();
if (args.has("--stdout")) {
  process.stdout.write(text + "\n");
  process.exit(0);
}
const readme = readFileSync(README, "utf8");
const i = readme.indexOf(START), j = readme.indexOf(END);
if (i < 0 || j < 0 || j < i || readme.indexOf(START, i + 1) >= 0 || readme.indexOf(END, j + 1) >= 0) {
  console.error(`README.md must contain exactly one ${START} … ${END} pair`);
  process.exit(2);
}
const next = `${readme.slice(0, i + START.length)}\n${text}\n${readme.slice(j)}`;
if (args.has("--check")) {
  if (next !== readme) {
    console.error("README.md's benchmark section is out of date: run `node scripts/bench-table.mjs`");
    process.exit(1);
  }
  console.log("README.md's benchmark section is up to date");
  process.exit(0);
}
if (next === readme) console.log("README.md: benchmark section already up to date");
else {
  writeFileSync(README, next);
  console.log(`README.md: benchmark section regenerated from ${RESULTS}/{summary,bilevel,browser}.json`);
}
