// Browser benchmarks, one command:
//
//   npm run bench:browser            (= node --import ./scripts/register-wasm.mjs --import tsx bench/browser-run.ts)
//   … -- --quick                     tiny sizes, seconds (writes bench/results/quick/)
//   … -- --no-node                   skip the Node comparison column
//
// Bundles bench/browser.bench.ts (the suite of bench/browser-suite.ts on the library's
// sources, both wasm builds inlined) with Vite, serves it on 127.0.0.1, runs it in Debian's
// Chromium (playwright-core, headless) and, for comparison, runs the same suite in this Node
// process. Writes bench/results/browser.json and bench/results/browser.md (the engines named).
import { execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import type { Plugin } from "vite";
import { ROOT, ensureWasm, launchChromium, serveStatic } from "../tests/e2e/support";
import { cleanId, wasmModuleSource } from "../scripts/wasm-bytes.mjs";
import { runSuite, type BenchCase, type SuiteResult, type Variant } from "./browser-suite";

const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const WITH_NODE = !process.argv.includes("--no-node");
const OUT = join(ROOT, "bench", "results", QUICK ? "quick" : "");
const BUNDLE = join(ROOT, "build", "bench-browser");
const log = (s: string) => console.log(s);

/** `import bytes from "…/x.wasm"` → a Uint8Array (as vitest.config.ts does for the browser tests). */
function wasmBytes(): Plugin {
  return {
    name: "bilevel:wasm-bytes",
    enforce: "pre",
    load(id) {
      if (id.startsWith("\0")) return null;
      const file = cleanId(id);
      if (!file.endsWith(".wasm")) return null;
      return { code: wasmModuleSource(readFileSync(file)), map: null };
    },
  };
}

async function bundle(): Promise<void> {
  const { build } = await import("vite");
  await build({
    configFile: false,
    root: ROOT,
    logLevel: "warn",
    plugins: [wasmBytes()],
    build: {
      outDir: BUNDLE,
      emptyOutDir: true,
      target: "es2022",
      minify: true,
      rollupOptions: { input: { bench: join(ROOT, "bench/browser.bench.ts") }, output: { entryFileNames: "[name].js" } },
    },
  });
}

interface EngineRun {
  engine: string;
  suite: SuiteResult;
}

async function inChromium(): Promise<EngineRun> {
  const server = await serveStatic(BUNDLE, {
    "/index.html": `<!doctype html><meta charset="utf-8"><title>bilevel-rl browser benchmarks</title><link rel="icon" href="data:,"><pre id="log"></pre><script type="module" src="./bench.js"></script>`,
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.exposeFunction("__benchLog", (line: string) => log(`  [chromium] ${line}`));
    page.on("pageerror", (e) => log(`  [chromium] page error: ${e.message}`));
    await page.goto(`${server.url}${QUICK ? "?quick" : ""}`);
    await page.waitForFunction(() => window.__bench?.done === true, undefined, { timeout: 15 * 60_000, polling: 500 });
    const state = await page.evaluate(() => window.__bench);
    if (state.error || !state.result) throw new Error(`the benchmark page failed: ${state.error}`);
    return { engine: `Chromium ${browser.version()} (headless, ${debianChromium()})`, suite: state.result };
  } finally {
    await browser.close();
    await server.close();
  }
}

function debianChromium(): string {
  try {
    return execSync("/usr/bin/chromium --version 2>/dev/null", { encoding: "utf8" }).trim().replace(/^Chromium [\d.]+\s*/, "") || "Debian package";
  } catch {
    return "Debian package";
  }
}

function gitDescribe(): string {
  try {
    const head = execSync("git rev-parse --short HEAD", { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execSync("git status --porcelain", { cwd: ROOT, encoding: "utf8" }).trim() ? " plus uncommitted changes" : "";
    return `${head}${dirty}`;
  } catch {
    return "unknown";
  }
}

const fmt = (ms: number | undefined) => (ms === undefined ? "—" : ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toPrecision(3) : ms.toPrecision(3));
const ratio = (x: number | undefined) => (x === undefined ? "—" : `${x.toFixed(2)}×`);

function markdown(report: Report): string {
  const c = report.chromium;
  const n = report.node;
  const lines = [
    "# Browser benchmarks",
    "",
    `- Engine: **${c.engine}**${n ? `; comparison column: **${n.engine}**` : ""}`,
    `- CPU: ${report.machine.cpu} × ${report.machine.cores} cores (${report.machine.platform}); load average at start ${report.machine.loadStart}, at end ${report.machine.loadEnd}`,
    `- Date: ${report.date}; commit ${report.commit}`,
    `- Timing: Chromium's performance.now() resolution here: ${Number(c.suite.timerResolutionMs.toPrecision(2))} ms, so each sample lasts ≈ ${c.suite.targetMs} ms (many sweeps per sample); median of ${c.suite.samples} interleaved samples (hypergradient: one per sample). Speed-ups are time ratios.`,
    `- Command: \`npm run bench:browser\`${report.quick ? " (--quick: tiny sizes, not meaningful)" : ""}; raw numbers in \`${report.files.json}\`.`,
    "",
    `## ${c.engine.split(" (")[0]}`,
    "",
    "| case | per | simd ms | scalar ms | ref ms | simd vs ref | scalar vs ref | simd vs scalar | check |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ...c.suite.cases.map((k) => row(k)),
  ];
  if (n) {
    lines.push(
      "",
      `## Same suite, same machine: ${n.engine}`,
      "",
      "| case | per | simd ms | scalar ms | ref ms | simd vs ref | Chromium ÷ Node time (simd / scalar / ref) | same numbers as Chromium |",
      "|---|---|---:|---:|---:|---:|---|---|",
      ...n.suite.cases.map((k) => {
        const ck = c.suite.cases.find((x) => x.id === k.id);
        const rel = (v: Variant) => (ck?.variants[v] && k.variants[v] ? (ck.variants[v]!.ms / k.variants[v]!.ms).toFixed(2) : "—");
        const same = ck ? (ck.check.fingerprint === k.check.fingerprint ? "yes (fingerprint " + k.check.fingerprint.slice(0, 8) + "…)" : "**no**") : "—";
        return `| ${k.title} | ${k.unit} | ${fmt(k.variants.simd?.ms)} | ${fmt(k.variants.scalar?.ms)} | ${fmt(k.variants.reference?.ms)} | ${ratio(k.speedup.simdVsRef)} | ${rel("simd")} / ${rel("scalar")} / ${rel("reference")} | ${same} |`;
      }),
    );
  }
  lines.push("", "Notes:", "", ...[...new Set(c.suite.cases.flatMap((k) => k.notes))].map((s) => `- ${s}`), "");
  return lines.join("\n");
}

function row(k: BenchCase): string {
  return `| ${k.title} | ${k.unit} | ${fmt(k.variants.simd?.ms)} | ${fmt(k.variants.scalar?.ms)} | ${fmt(k.variants.reference?.ms)} | ${ratio(k.speedup.simdVsRef)} | ${ratio(k.speedup.scalarVsRef)} | ${ratio(k.speedup.simdVsScalar)} | ${k.check.ok ? "ok" : "**FAILED**"} (${k.check.detail}) |`;
}

interface Report {
  quick: boolean;
  date: string;
  commit: string;
  machine: { cpu: string; cores: number; platform: string; loadStart: string; loadEnd: string };
  chromium: EngineRun;
  node?: EngineRun;
  files: { json: string; markdown: string };
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join("/");

const t0 = performance.now();
const loadStart = loadavg();
await ensureWasm();
log(`bundling bench/browser.bench.ts → ${relative(ROOT, BUNDLE)}/ …`);
await bundle();
log(`running in Chromium${QUICK ? " (quick)" : ""} …`);
const chromium = await inChromium();
let node: EngineRun | undefined;
if (WITH_NODE) {
  log(`running the same suite in Node ${process.version} …`);
  node = { engine: `Node ${process.version} (V8 ${process.versions.v8})`, suite: await runSuite({ quick: QUICK, log: (s) => log(`  [node] ${s}`) }) };
}
mkdirSync(OUT, { recursive: true });
const cpus = os.cpus();
const report: Report = {
  quick: QUICK,
  date: new Date().toISOString(),
  commit: gitDescribe(),
  machine: { cpu: cpus[0]?.model.trim() ?? "unknown", cores: cpus.length, platform: `${os.platform()} ${os.release()} ${os.arch()}`, loadStart, loadEnd: loadavg() },
  chromium,
  ...(node ? { node } : {}),
  files: { json: relative(ROOT, join(OUT, "browser.json")), markdown: relative(ROOT, join(OUT, "browser.md")) },
};
writeFileSync(join(OUT, "browser.json"), JSON.stringify(report, null, 2) + "\n");
writeFileSync(join(OUT, "browser.md"), markdown(report));
log(`\nwrote ${report.files.json} and ${report.files.markdown} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
log(readFileSync(join(OUT, "browser.md"), "utf8"));
const failed = [...chromium.suite.cases, ...(node?.suite.cases ?? [])].filter((k) => !k.check.ok);
const mismatched = node ? node.suite.cases.filter((k) => chromium.suite.cases.find((c) => c.id === k.id)?.check.fingerprint !== k.check.fingerprint) : [];
if (failed.length || mismatched.length) {
  console.error(`checks failed: ${[...failed.map((k) => k.id), ...mismatched.map((k) => `${k.id} (Node ≠ Chromium)`)].join(", ")}`);
  process.exitCode = 1;
}
