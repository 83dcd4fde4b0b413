#!/usr/bin/env node
// Cross-engine identity beyond Node and Chromium: every example experiment, on the SIMD and
// on the scalar build, must give in Deno (V8), Bun (JavaScriptCore) and Firefox ESR
// (SpiderMonkey) exactly the result JSON that Node wrote to build/identity-node.json
// (tests/identity.test.ts; run the node project first).
//
//   node scripts/engines.mjs [--report file.json] [--only deno,bun,firefox]
//
// Each engine imports one self-contained esbuild bundle of src/index.ts
// (build/engines/bilevel-rl.js: tsup's options, wasm inlined, dependencies inlined) and runs
// tests/engines/run-examples.mjs. Deno and Bun come from their npm packages
// (node_modules/.bin), Firefox ESR from Debian (/usr/bin/firefox-esr), driven over WebDriver
// BiDi by puppeteer-core on a cross-origin isolated page served from 127.0.0.1. Each example
// × build is one test; so is each threads check of runThreads (2 threads against one, bit for
// bit), or, where the engine cannot run threads, init's note saying why.
//
// Writes { engines: [{ name, version, passed, failed, skipped, note?, failures }] } to
// --report (default .vitest-reports/engines.json), prints `N passed, N failed` last and exits
// 1 on any failure. A missing engine is skipped with a warning; with REQUIRE_BROWSER=1 it is
// one failure. $DENO_BIN, $BUN_BIN, $FIREFOX_BIN override where the engines are looked for.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { delimiter, dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const reportPath = resolve(option("--report") ?? join(root, ".vitest-reports", "engines.json"));
const ENGINES = ["deno", "bun", "firefox"];
const only = (option("--only") ?? ENGINES.join(",")).split(",");
const required = process.env.REQUIRE_BROWSER === "1";
const ENGINE_TIMEOUT_MS = 10 * 60_000;

const IDENTITY_PATH = join(root, "build/identity-node.json");
const OUT_DIR = join(root, "build/engines");
const BUNDLE = join(OUT_DIR, "bilevel-rl.js");
const JOB = join(OUT_DIR, "job.json");

/** First executable among the candidates and `names` on PATH; null when none. */
function findExecutable(candidates, names) {
  const all = [...candidates];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) for (const n of names) all.push(join(dir, n));
  for (const c of all) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return null;
}

const BINARIES = {
  deno: () => findExecutable([process.env.DENO_BIN, join(root, "node_modules/.bin/deno")], ["deno"]),
  bun: () => findExecutable([process.env.BUN_BIN, join(root, "node_modules/.bin/bun")], ["bun"]),
  firefox: () => findExecutable([process.env.FIREFOX_BIN, "/usr/bin/firefox-esr", "/usr/bin/firefox"], ["firefox-esr", "firefox"]),
};
const INSTALL = {
  deno: "npm ci (devDependency `deno`)",
  bun: "npm ci (devDependency `bun`)",
  firefox: "apt-get update && apt-get install -y firefox-esr",
};

/** FNV-1a 64 of bytes, 16 hex digits (tests/helpers/scenarios.ts's fnv1a64). */
function fnv1a64(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}

/** "" when equal, else the first differing line of the two texts. */
function firstDifference(mine, node, engine) {
  if (mine === node) return "";
  const a = mine.split("\n"), b = node.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: ${engine} ${JSON.stringify(a[i])?.slice(0, 200)} vs Node ${JSON.stringify(b[i])?.slice(0, 200)}`;
  }
  return "(same lines, different bytes)";
}

function sh(cmd, cmdArgs, env = {}) {
  return new Promise((done) => {
    let out = "";
    const child = spawn(cmd, cmdArgs, { cwd: root, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), ENGINE_TIMEOUT_MS);
    child.on("error", (error) => { clearTimeout(timer); done({ code: null, out: out + error.message }); });
    child.on("close", (code, signal) => { clearTimeout(timer); done({ code, signal, out }); });
  });
}

// ── the engines ─────────────────────────────────────────────────────────────────────
/** Deno and Bun run tests/engines/cli.mjs, which writes runExamples' answer to a file. */
async function runCli(name, bin) {
  const out = join(OUT_DIR, `${name}.json`);
  rmSync(out, { force: true });
  const version = (await sh(bin, ["--version"])).out.trim().split("\n")[0];
  const cli = join(root, "tests/engines/cli.mjs");
  const r = name === "deno"
    ? await sh(bin, ["run", "--no-lock", `--allow-read=${root}`, `--allow-write=${OUT_DIR}`, cli, JOB, out], { DENO_NO_UPDATE_CHECK: "1" })
    : await sh(bin, [cli, JOB, out]);
  if (r.code !== 0 || !existsSync(out)) throw new Error(`${bin} exited with ${r.signal ?? `code ${r.code}`}:\n${r.out.slice(-3000)}`);
  return { version, ...JSON.parse(readFileSync(out, "utf8")) };
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json" };

/** A page on 127.0.0.1 that imports the bundle, runs the examples and POSTs the answer back. */
async function runFirefox(bin) {
  const page = `<!doctype html><meta charset="utf-8"><title>bilevel-rl engines</title>
<script type="module">
const post = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
try {
  const [{ runExamples, runThreads }, lib, job] = await Promise.all([
    import("/tests/engines/run-examples.mjs"),
    import("/build/engines/bilevel-rl.js"),
    fetch("/build/engines/job.json").then((r) => r.json()),
  ]);
  const out = await runExamples(lib, job.examples);
  await post({ ...out, threads: await runThreads(lib), crossOriginIsolated: globalThis.crossOriginIsolated === true });
} catch (e) {
  await post({ error: String(e && e.stack || e) });
}
</script>`;
  const served = new Set([BUNDLE, JOB, join(root, "tests/engines/run-examples.mjs")]);
  let answer;
  const answered = new Promise((ok) => (answer = ok));
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (req.method === "POST" && path === "/result") {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d) => (body += d));
      req.on("end", () => { res.end("ok"); answer(body); });
      return;
    }
    const file = join(root, path);
    const body = path === "/" ? page : served.has(file) ? readFileSync(file) : null;
    // cross-origin isolated (as a page that uses threads must be): SharedArrayBuffer for init({ threads })
    res.writeHead(body === null ? 404 : 200, {
      "content-type": path === "/" ? TYPES[".html"] : TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    res.end(body ?? "not found");
  });
  await new Promise((ok, fail) => { server.once("error", fail); server.listen(0, "127.0.0.1", ok); });
  const url = `http://127.0.0.1:${server.address().port}/`;

  const { default: puppeteer } = await import("puppeteer-core");
  const browser = await puppeteer.launch({ browser: "firefox", executablePath: bin, headless: true, timeout: 120_000 });
  let timer;
  try {
    const version = `Firefox${/esr/i.test(bin) ? " ESR" : ""} ${(await browser.version()).replace(/^firefox\//i, "")} (SpiderMonkey)`;
    const tab = await browser.newPage();
    const logs = [];
    tab.on("console", (m) => logs.push(m.text()));
    tab.on("pageerror", (e) => logs.push(String(e)));
    await tab.goto(url);
    const timeout = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`no answer after ${ENGINE_TIMEOUT_MS / 60_000} min; console: ${logs.join(" | ")}`)), ENGINE_TIMEOUT_MS)));
    const out = JSON.parse(await Promise.race([answered, timeout]));
    if (out.error) throw new Error(`the page failed: ${out.error}`);
    return { version, runtime: version, ...out };
  } finally {
    clearTimeout(timer);
    await browser.close().catch(() => {});
    await new Promise((ok) => server.close(ok));
  }
}

// ── main ────────────────────────────────────────────────────────────────────────────
/** @type {{ name: string, version?: string, passed: number, failed: number, skipped: number, note?: string, failures: string[] }[]} */
const report = [];

function writeReport() {
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, JSON.stringify({ engines: report }, null, 2) + "\n");
}

/** Node's reference, and a check that it was computed from the wasm builds on disk now. */
function loadReference() {
  if (!existsSync(IDENTITY_PATH)) throw new Error(`${relative(root, IDENTITY_PATH)} is missing: run \`npx vitest run --project node tests/identity.test.ts\` first`);
  const node = JSON.parse(readFileSync(IDENTITY_PATH, "utf8"));
  const wasm = { simd: fnv1a64(readFileSync(join(root, "build/bilevel-simd.wasm"))), scalar: fnv1a64(readFileSync(join(root, "build/bilevel-scalar.wasm"))) };
  if (node.wasm?.simd !== wasm.simd || node.wasm?.scalar !== wasm.scalar) {
    throw new Error(`${relative(root, IDENTITY_PATH)} was written for other wasm builds: rerun \`npx vitest run --project node tests/identity.test.ts\` after \`npm run asbuild\``);
  }
  if (!(node.experiments?.length >= 7)) throw new Error(`${relative(root, IDENTITY_PATH)} lists ${node.experiments?.length ?? 0} experiments, expected every example (7 or more)`);
  return node;
}

async function bundle(node) {
  const { build } = await import("esbuild");
  mkdirSync(OUT_DIR, { recursive: true });
  // tsup.config.ts's library options, with the dependencies (ajv, the loader) inlined as well,
  // so that the same file runs in every engine without a package resolver.
  await build({
    entryPoints: [join(root, "src/index.ts")],
    outfile: BUNDLE,
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    loader: { ".wasm": "binary" },
    logLevel: "warning",
  });
  const examples = node.experiments.map(({ file }) => ({ file, text: readFileSync(join(root, "examples/experiments", file), "utf8") }));
  writeFileSync(JOB, JSON.stringify({ bundle: BUNDLE, examples }) + "\n");
}

/** Each of Node's experiments × { simd, scalar } is one test. */
function judge(name, node, out) {
  const entry = { name, version: out.version, passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const { file, json } of node.experiments) {
    for (const build of ["simd", "scalar"]) {
      const r = out.results.find((x) => x.file === file && x.build === build);
      let why = !r ? "no result" : r.error ? r.error : firstDifference(r.json, json, name);
      if (!why && build === "simd" && out.simd !== true) why = "the SIMD backend did not run SIMD kernels";
      if (!why && build === "scalar" && out.scalar !== false) why = "the scalar backend ran SIMD kernels";
      if (why) {
        entry.failed++;
        entry.failures.push(`${file} (${build}): ${why}`);
      } else entry.passed++;
    }
  }
  // threads (docs/math.md#threads): 2 threads give one thread's bits; an engine that cannot
  // run them must say why (init's note) and still compute, on one thread
  const t = out.threads;
  if (!t) {
    entry.failed++;
    entry.failures.push("threads: no answer from runThreads");
  } else if (t.threads < 2) {
    if (typeof t.note === "string" && t.note.length > 0) {
      entry.passed++;
      entry.threadsNote = `one thread: ${t.note}`;
    } else {
      entry.failed++;
      entry.failures.push("threads: init({ threads: 2 }) gave one thread without a note saying why");
    }
  } else {
    for (const c of t.checks) {
      if (c.diff || c.error) {
        entry.failed++;
        entry.failures.push(`threads, ${c.name}: ${c.error ?? c.diff}`);
      } else entry.passed++;
    }
    entry.threadsNote = `${t.threads} threads, ${t.checks.length} checks`;
  }
  return entry;
}

let node;
try {
  node = loadReference();
  await bundle(node);
} catch (e) {
  console.error(`[engines] ${e.message}`);
  for (const name of only) report.push({ name, passed: 0, failed: 1, skipped: 0, note: e.message.split("\n")[0], failures: [e.message] });
}

if (node) {
  for (const name of only) {
    if (!ENGINES.includes(name)) {
      report.push({ name, passed: 0, failed: 1, skipped: 0, note: `unknown engine (known: ${ENGINES.join(", ")})`, failures: [] });
      continue;
    }
    const bin = BINARIES[name]();
    if (!bin) {
      const bar = "!".repeat(78);
      console.error([
        "", bar,
        `!!  WARNING: ${name} not found: its identity tests are SKIPPED.`,
        `!!  Install it with:  ${INSTALL[name]}`,
        required ? "!!  REQUIRE_BROWSER=1: counted as ONE FAILURE." : "!!  (Set REQUIRE_BROWSER=1 to make this a failure, as CI does.)",
        bar, "",
      ].join("\n"));
      report.push({ name, passed: 0, failed: required ? 1 : 0, skipped: 0, note: `${required ? "" : "SKIPPED: "}${name} missing`, failures: [] });
      continue;
    }
    const started = Date.now();
    try {
      const out = name === "firefox" ? await runFirefox(bin) : await runCli(name, bin);
      const entry = judge(name, node, out);
      entry.note = `${out.runtime ?? out.version}, ${((Date.now() - started) / 1000).toFixed(0)} s; threads: ${entry.threadsNote ?? "n/a"}`;
      report.push(entry);
    } catch (e) {
      report.push({ name, passed: 0, failed: 1, skipped: 0, note: `${bin}: ${e.message.split("\n")[0]}`, failures: [e.message] });
    }
  }
}

writeReport();
for (const e of report) {
  console.log(`[engines] ${e.name}: ${e.passed} passed, ${e.failed} failed${e.note ? ` (${e.note})` : ""}`);
  for (const f of e.failures) console.log(`    ✗ ${f}`);
}
const passed = report.reduce((n, e) => n + e.passed, 0);
const failed = report.reduce((n, e) => n + e.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
