#!/usr/bin/env node
// `npm test`: every test runner of the project, one after another, counted together.
//
//   1. npm run asbuild                      build/bilevel-{simd,scalar}{,-threads}.wasm
//   2. as-pect kernel specs                 SIMD build, then the scalar twin if configured
//   3. vitest --project node                JSON report → .vitest-reports/node.json
//   4. vitest --project browser (Chromium)  JSON report → .vitest-reports/browser.json
//   5. end to end (scripts/e2e.mjs)          demo page and consumer app in Chromium
//   6. other engines (scripts/engines.mjs)   Deno, Bun, Firefox ESR: every example experiment on
//                                            both builds gives Node's result JSON (one step each)
//   7. API reference (scripts/api-docs.mjs)  every public export documented (TypeDoc validation);
//                                            docs/api matches what `npm run docs:api` generates
//   8. npm run lint:deps                    the layering rules of .dependency-cruiser.cjs (one
//                                            count per rule without a violation, per violation)
//
// A failing step is counted and the later steps still run. A step that crashes or leaves
// no report counts as one failure. The totals go to build/test-summary.json and the last
// line printed is exactly `N passed, N failed`; the exit code is 1 when anything failed.
//
// Environment:
//   REQUIRE_BROWSER=1   a missing Chromium, Deno, Bun or Firefox is a failure (CI sets this), not a warning
//   CHROMIUM_BIN=path   the Chromium to use (default /usr/bin/chromium, else `chromium` on PATH)
//   STEP_TIMEOUT_MIN=n  kill a step after n minutes (default 30) and count it as failed
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findChromium } from "./chromium.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

const REPORT_DIR = ".vitest-reports";
const SUMMARY = "build/test-summary.json";
const STEP_TIMEOUT_MS = Number(process.env.STEP_TIMEOUT_MIN || 30) * 60_000;
const VITEST = join(root, "node_modules/vitest/vitest.mjs");
const ASP = join(root, "node_modules/@as-pect/cli/bin/asp.js");
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, s) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);

/** @type {{ name: string, passed: number, failed: number, skipped: number, note?: string }[]} */
const steps = [];
const record = (name, passed, failed, skipped = 0, note) => {
  steps.push({ name, passed, failed, skipped, ...(note ? { note } : {}) });
  const status = failed ? paint("31", "FAIL") : paint("32", "ok");
  console.log(`\n${paint("1", `[test] ${name}:`)} ${status} ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}${note ? ` (${note})` : ""}`);
};

function banner(title) {
  console.log(`\n${paint("1;36", `━━━ ${title} ━━━`)}`);
}

/**
 * Run a command, streaming its output. With `capture`, stdout+stderr are also collected.
 * Resolves to { code, signal, out, timedOut, error }.
 */
function run(cmd, args, { capture = false, quiet = false, env = {} } = {}) {
  return new Promise((done) => {
    let out = "";
    let timedOut = false;
    let child;
    try {
      child = spawn(cmd, args, {
        cwd: root,
        env: { ...process.env, ...(capture && color ? { FORCE_COLOR: "1" } : {}), ...env },
        stdio: capture ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
      });
    } catch (error) {
      done({ code: null, signal: null, out, timedOut, error });
      return;
    }
    if (capture) {
      child.stdout.on("data", (d) => { if (!quiet) process.stdout.write(d); out += d; });
      child.stderr.on("data", (d) => { process.stderr.write(d); if (!quiet) out += d; });
    }
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(paint("31", `\n[test] ${cmd} ${args.join(" ")}: no result after ${STEP_TIMEOUT_MS / 60_000} min, killing it`));
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
    }, STEP_TIMEOUT_MS);
    child.on("error", (error) => { clearTimeout(timer); done({ code: null, signal: null, out, timedOut, error }); });
    child.on("close", (code, signal) => { clearTimeout(timer); done({ code, signal, out, timedOut }); });
  });
}

const describeExit = (r) =>
  r.error ? `could not start: ${r.error.message}` : r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");

// ── 1. AssemblyScript build ────────────────────────────────────────────────────────
async function asbuild() {
  banner("1/8 npm run asbuild");
  const r = await run("npm", ["run", "asbuild"]);
  if (r.code === 0) console.log(paint("32", "[test] asbuild ok"));
  else record("asbuild", 0, 1, 0, describeExit(r));
}

// ── 2. as-pect kernel specs ────────────────────────────────────────────────────────
/** Parse as-pect 8's closing summary ("[Tests]: P / T", "[Result]: ✔ Pass!"). */
function parseAspect(output) {
  const text = stripAnsi(output);
  const tests = [...text.matchAll(/\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/g)].at(-1);
  const result = [...text.matchAll(/\[Result\]:\s*(.*)/g)].at(-1);
  if (!tests || !result) return null;
  return { passed: Number(tests[1]), total: Number(tests[2]), pass: /Pass/.test(result[1]) };
}

async function aspect(name, args) {
  const r = await run(process.execPath, [ASP, ...args], { capture: true });
  const s = parseAspect(r.out);
  if (!s) {
    record(name, 0, 1, 0, `no as-pect summary (${describeExit(r)}): compile error or crash`);
    return;
  }
  let failed = s.total - s.passed;
  let note;
  if ((r.code !== 0 || !s.pass) && failed === 0) {
    failed = 1;
    note = `as-pect reported failure (${describeExit(r)}) with every test passing: group/hook error`;
  }
  record(name, s.passed, failed, 0, note);
}

async function kernelSpecs() {
  banner("2/8 as-pect kernel specs");
  if (!existsSync("as-pect.config.js")) {
    record("as-pect (simd)", 0, 1, 0, "as-pect.config.js is missing");
    return;
  }
  await aspect("as-pect (simd)", ["--config", "as-pect.config.js"]);
  // The scalar twin: its own config file, or the shared config with a scalar asconfig.
  const scalarConfig = existsSync("as-pect.scalar.config.js") ? "as-pect.scalar.config.js" : null;
  const scalarAsconfig = existsSync("as-pect.scalar.asconfig.json") ? "as-pect.scalar.asconfig.json" : null;
  if (scalarConfig || scalarAsconfig) {
    banner("2/8 as-pect kernel specs (scalar build)");
    await aspect("as-pect (scalar)", [
      "--config", scalarConfig ?? "as-pect.config.js",
      ...(scalarAsconfig ? ["--as-config", scalarAsconfig] : []),
    ]);
  }
}

// ── 3./4. vitest projects ──────────────────────────────────────────────────────────
async function vitest(project, label, env = {}) {
  banner(label);
  const report = join(REPORT_DIR, `${project}.json`);
  rmSync(report, { force: true });
  const r = await run(
    process.execPath,
    [VITEST, "run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
    { env },
  );
  let json;
  try {
    json = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    record(`vitest ${project}`, 0, 1, 0, `no JSON report (${describeExit(r)})`);
    return;
  }
  const passed = json.numPassedTests ?? 0;
  let failed = json.numFailedTests ?? 0;
  const skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  const notes = [];
  // A file that fails to load (syntax/import error, throw at top level) has no failed test.
  const brokenFiles = (json.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
  );
  if (brokenFiles.length) {
    failed += brokenFiles.length;
    notes.push(`${brokenFiles.length} file(s) failed outside any test`);
  }
  if (r.code !== 0 && failed === 0) {
    failed = 1;
    notes.push(`vitest ${describeExit(r)} without a failed test: unhandled error or no test files`);
  }
  record(`vitest ${project}`, passed, failed, skipped, notes.join("; ") || undefined);
}

async function browser() {
  const chromium = findChromium();
  if (!chromium) {
    const required = process.env.REQUIRE_BROWSER === "1";
    const bar = "!".repeat(78);
    console.error(paint("1;33", [
      "", bar,
      "!!  WARNING: Chromium not found (/usr/bin/chromium, `chromium` on PATH, $CHROMIUM_BIN).",
      "!!  The BROWSER half of the test suite (vitest --project browser) is SKIPPED:",
      "!!  nothing was checked in a browser, and none of it is counted below.",
      "!!  Install it with:  apt-get update && apt-get install -y chromium",
      required ? "!!  REQUIRE_BROWSER=1: counted as ONE FAILURE." : "!!  (Set REQUIRE_BROWSER=1 to make this a failure, as CI does.)",
      bar, "",
    ].join("\n")));
    if (required) record("vitest browser", 0, 1, 0, "Chromium missing and REQUIRE_BROWSER=1");
    else steps.push({ name: "vitest browser", passed: 0, failed: 0, skipped: 0, note: "SKIPPED: Chromium missing" });
    return;
  }
  await vitest("browser", `4/8 vitest --project browser (${chromium})`, { CHROMIUM_BIN: chromium });
}

async function e2e() {
  const chromium = findChromium();
  if (!chromium) return; // browser() has already warned (and counted the failure under REQUIRE_BROWSER=1)
  banner(`5/8 end to end (scripts/e2e.mjs, ${chromium})`);
  const report = join(REPORT_DIR, "e2e.json");
  rmSync(report, { force: true });
  const r = await run(process.execPath, [join(root, "scripts/e2e.mjs"), "--report", report], { env: { CHROMIUM_BIN: chromium } });
  let json;
  try { json = JSON.parse(readFileSync(report, "utf8")); }
  catch { record("e2e", 0, 1, 0, `no JSON report (${describeExit(r)})`); return; }
  let failed = json.numFailedTests ?? 0;
  const broken = (json.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
  failed += broken;
  const notes = broken ? [`${broken} file(s) failed outside any test`] : [];
  if (r.code !== 0 && failed === 0) { failed = 1; notes.push(`scripts/e2e.mjs ${describeExit(r)} without a failed test`); }
  record("e2e", json.numPassedTests ?? 0, failed, json.numPendingTests ?? 0, notes.join("; ") || undefined);
}

async function engines() {
  banner("6/8 Deno, Bun and Firefox ESR (scripts/engines.mjs)");
  const report = join(REPORT_DIR, "engines.json");
  rmSync(report, { force: true });
  const r = await run(process.execPath, [join(root, "scripts/engines.mjs"), "--report", report]);
  let json;
  try { json = JSON.parse(readFileSync(report, "utf8")); }
  catch { record("engines", 0, 1, 0, `no JSON report (${describeExit(r)})`); return; }
  const entries = json.engines ?? [];
  for (const e of entries) {
    if (e.note?.startsWith("SKIPPED")) steps.push({ name: e.name, passed: 0, failed: 0, skipped: 0, note: e.note });
    else record(e.name, e.passed ?? 0, e.failed ?? 0, e.skipped ?? 0, e.note);
  }
  if (r.code !== 0 && !entries.some((e) => e.failed > 0)) record("engines", 0, 1, 0, `scripts/engines.mjs ${describeExit(r)} without a failed test`);
}

async function apiDocs() {
  banner("7/8 API reference (scripts/api-docs.mjs)");
  const report = join(REPORT_DIR, "api-docs.json");
  rmSync(report, { force: true });
  const r = await run(process.execPath, [join(root, "scripts/api-docs.mjs"), "--report", report]);
  let json;
  try { json = JSON.parse(readFileSync(report, "utf8")); }
  catch { record("api docs", 0, 1, 0, `no JSON report (${describeExit(r)})`); return; }
  let failed = json.numFailedTests ?? 0;
  const notes = [];
  if (r.code !== 0 && failed === 0) { failed = 1; notes.push(`scripts/api-docs.mjs ${describeExit(r)} without a failed test`); }
  record("api docs", json.numPassedTests ?? 0, failed, 0, notes.join("; ") || undefined);
}

// ── 8. dependency rules ─────────────────────────────────────────────────────────────
/**
 * `npm run lint:deps` with a JSON report: each rule of .dependency-cruiser.cjs without a
 * violation counts as passed, each violation as failed; no report counts as one failure.
 */
async function lintDeps() {
  banner("8/8 npm run lint:deps (.dependency-cruiser.cjs)");
  const r = await run("npm", ["run", "--silent", "lint:deps", "--", "--output-type", "json"], { capture: true, quiet: true });
  let json;
  try {
    json = JSON.parse(r.out.slice(r.out.indexOf("{")));
  } catch {
    record("dependency rules", 0, 1, 0, `no JSON report (${describeExit(r)})`);
    return;
  }
  const rules = json.summary?.ruleSetUsed?.forbidden ?? [];
  const violations = json.summary?.violations ?? [];
  for (const v of violations) console.log(paint("31", `  ${v.rule.name}: ${v.from} → ${v.to}`));
  const broken = new Set(violations.map((v) => v.rule.name));
  let failed = violations.length;
  let note;
  if (r.code !== 0 && failed === 0) {
    failed = 1;
    note = `depcruise ${describeExit(r)} without a violation`;
  }
  console.log(`[test] ${json.summary?.totalCruised ?? "?"} modules cruised, ${violations.length} violation(s)`);
  record("dependency rules", rules.filter((rule) => !broken.has(rule.name)).length, failed, 0, note);
}

// ── main ─────────────────────────────────────────────────────────────────────────
function finish(crash) {
  if (crash) steps.push({ name: "scripts/test.mjs", passed: 0, failed: 1, skipped: 0, note: `crashed: ${crash}` });
  const passed = steps.reduce((n, s) => n + s.passed, 0);
  const failed = steps.reduce((n, s) => n + s.failed, 0);
  const skipped = steps.reduce((n, s) => n + s.skipped, 0);
  try {
    mkdirSync(dirname(SUMMARY), { recursive: true });
    writeFileSync(SUMMARY, JSON.stringify({ passed, failed, skipped, steps, finishedAt: new Date().toISOString() }, null, 2) + "\n");
  } catch (e) {
    console.error(`[test] could not write ${SUMMARY}: ${e.message}`);
  }
  console.log(`\n${paint("1", "━━━ summary ━━━")}`);
  for (const s of steps) {
    const tag = s.failed ? paint("31", "FAIL") : s.note?.startsWith("SKIPPED") ? paint("33", "SKIP") : paint("32", " ok ");
    console.log(`  ${tag}  ${s.name.padEnd(18)} ${String(s.passed).padStart(5)} passed ${String(s.failed).padStart(4)} failed${s.skipped ? ` ${s.skipped} skipped` : ""}${s.note ? `  (${s.note})` : ""}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

try {
  rmSync(SUMMARY, { force: true });
  mkdirSync(REPORT_DIR, { recursive: true });
  await asbuild();
  await kernelSpecs();
  await vitest("node", "3/8 vitest --project node");
  await browser();
  await e2e();
  await engines();
  await apiDocs();
  await lintDeps();
  finish();
} catch (e) {
  console.error(e);
  finish(e?.message ?? String(e));
}
