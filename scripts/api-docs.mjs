#!/usr/bin/env node
// The API reference's checks (typedoc.json; `npm run docs:api` writes docs/api/):
//
//   1. every public export has a doc comment: TypeDoc's validation (notDocumented,
//      notExported, invalidLink) passes with its warnings treated as errors;
//   2. docs/api is up to date: TypeDoc run into a temporary folder gives exactly the
//      committed files, byte for byte (the output has no dates, source links or hashes).
//
//   node scripts/api-docs.mjs [--report file.json]
//
// Writes { numPassedTests, numFailedTests, numPendingTests, testResults } to --report (default
// .vitest-reports/api-docs.json), prints `N passed, N failed` last, exits 1 on a failure.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const at = args.indexOf("--report");
const reportPath = resolve(at >= 0 ? args[at + 1] : join(root, ".vitest-reports", "api-docs.json"));
const COMMITTED = join(root, "docs/api");

/** Relative paths of every file below dir, sorted. */
function files(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), base) : [relative(base, join(dir, e.name))]))
    .sort();
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");

const out = mkdtempSync(join(tmpdir(), "bilevel-rl-api-"));
const typedoc = await new Promise((done) => {
  let text = "";
  const child = spawn(process.execPath, [join(root, "node_modules/typedoc/bin/typedoc"), "--out", out], { cwd: root, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => (text += d));
  child.stderr.on("data", (d) => (text += d));
  child.on("error", (e) => done({ code: null, text: `${text}${e.message}` }));
  child.on("close", (code) => done({ code, text: stripAnsi(text) }));
});

const results = [];
const test = (title, failures) => {
  results.push({ title, status: failures.length ? "failed" : "passed", failureMessages: failures });
  console.log(`${failures.length ? "✗" : "✓"} ${title}`);
  for (const f of failures) console.log(`    ${f.split("\n").join("\n    ")}`);
};

const problems = typedoc.text.split("\n").filter((l) => /^\[(warning|error)\]/.test(l.trim()));
test(
  "every public export has a doc comment (TypeDoc validation, warnings as errors)",
  typedoc.code === 0 && problems.length === 0 ? [] : [problems.length ? problems.join("\n") : `typedoc exited with code ${typedoc.code}:\n${typedoc.text.slice(-3000)}`],
);

const fresh = files(out), committed = files(COMMITTED);
const differences = [];
if (typedoc.code !== 0) differences.push("TypeDoc did not generate the reference (see above)");
else {
  for (const f of fresh) {
    if (!committed.includes(f)) differences.push(`docs/api/${f} is missing`);
    else if (!readFileSync(join(out, f)).equals(readFileSync(join(COMMITTED, f)))) differences.push(`docs/api/${f} differs`);
  }
  for (const f of committed) if (!fresh.includes(f)) differences.push(`docs/api/${f} is no longer generated`);
}
test(
  "docs/api is what `npm run docs:api` generates from the current sources",
  differences.length ? [`${differences.slice(0, 20).join("\n")}${differences.length > 20 ? `\n… ${differences.length - 20} more` : ""}\nRun \`npm run docs:api\` and commit docs/api.`] : [],
);
rmSync(out, { recursive: true, force: true });

const passed = results.filter((r) => r.status === "passed").length;
const failed = results.length - passed;
mkdirSync(dirname(reportPath), { recursive: true });
writeFileSync(reportPath, JSON.stringify({
  numPassedTests: passed,
  numFailedTests: failed,
  numPendingTests: 0,
  numTodoTests: 0,
  testResults: [{ name: "scripts/api-docs.mjs", status: failed ? "failed" : "passed", assertionResults: results }],
}, null, 2) + "\n");
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
