#!/usr/bin/env node
// End-to-end tests in Chromium (tests/e2e/*.e2e.ts, config tests/e2e/vitest.config.ts):
// builds the package (tsup), the demo page (web/) and a consumer app (tests/consumer/) with
// Vite, serves them on 127.0.0.1 and drives Debian's Chromium through playwright-core.
//
//   node scripts/e2e.mjs [--report file.json] [extra vitest arguments]
//
// Writes vitest's JSON report (numPassedTests, numFailedTests, numPendingTests, testResults)
// to --report (default .vitest-reports/e2e.json), prints `N passed, N failed` as its last
// line and exits non-zero on any failure — scripts/test.mjs counts it like its vitest steps.
//
// Without Chromium (/usr/bin/chromium, `chromium` on PATH, $CHROMIUM_BIN) the suite is
// skipped with a loud warning and an empty report; with REQUIRE_BROWSER=1 that is one failure.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findChromium } from "./chromium.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let report = join(root, ".vitest-reports", "e2e.json");
const i = args.indexOf("--report");
if (i >= 0) {
  report = resolve(args[i + 1]);
  args.splice(i, 2);
}
mkdirSync(dirname(report), { recursive: true });

const writeReport = (passed, failed, note) =>
  writeFileSync(report, JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0, testResults: [], note }, null, 2) + "\n");

const chromium = findChromium();
if (!chromium) {
  const required = process.env.REQUIRE_BROWSER === "1";
  const bar = "!".repeat(78);
  console.error([
    "", bar,
    "!!  WARNING: Chromium not found (/usr/bin/chromium, `chromium` on PATH, $CHROMIUM_BIN).",
    "!!  The END-TO-END tests (demo page, consumer app) are SKIPPED.",
    "!!  Install it with:  apt-get update && apt-get install -y chromium",
    required ? "!!  REQUIRE_BROWSER=1: counted as ONE FAILURE." : "!!  (Set REQUIRE_BROWSER=1 to make this a failure, as CI does.)",
    bar, "",
  ].join("\n"));
  writeReport(0, required ? 1 : 0, "Chromium missing");
  console.log(`0 passed, ${required ? 1 : 0} failed`);
  process.exit(required ? 1 : 0);
}

const vitest = join(root, "node_modules/vitest/vitest.mjs");
const child = spawn(
  process.execPath,
  [vitest, "run", "--config", "tests/e2e/vitest.config.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, CHROMIUM_BIN: chromium } },
);
const code = await new Promise((done) => {
  child.on("error", (e) => {
    console.error(`could not start vitest: ${e.message}`);
    done(1);
  });
  child.on("close", (c, signal) => done(c ?? (signal ? 1 : 0)));
});

let passed = 0, failed = 0;
try {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  // a file that failed outside any test (a hook or an import) has no failed test of its own
  failed += (json.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
} catch {
  failed = 1;
  writeReport(0, 1, `vitest left no report (exit code ${code})`);
}
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
