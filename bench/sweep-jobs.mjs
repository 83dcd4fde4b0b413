// Cells per second of `bilevel-rl sweep` at --jobs 1 and --jobs 2 (or --jobs-list 1,2,4):
// the same sweep (a seeded M-SoBiRL experiment on a 15 × 15 GridWorld goal problem, about
// 0.5–2 s per cell) run as a real command, from source, into fresh directories. Two
// figures per run: the whole command (process start, tsx, wasm compile, worker start-up
// included) and the sweep alone (from the command's first line to its last, worker
// start-up included). The runs alternate (1, 2, 1, 2, …) so that a change in the machine's
// load hits both; the best of the repeats is reported. The cell files of every run are
// checked to be the same bytes (exit 1 otherwise). With GNU time (/usr/bin/time) the CPU
// time of each command is recorded too: CPU ÷ wall time is the cores the command got, which
// tells a sweep that could not scale (a busy machine) from one that did not.
// Results: bench/results/sweep-jobs.json.
//
//   npm run bench:sweep [-- --cells 12 --iterations 1500 --repeats 2 --jobs-list 1,2 --dist]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// --dist: the bundle users run (dist/cli.js, after `npm run build`) instead of the sources under tsx
const DIST = process.argv.includes("--dist");
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const ENTRY = DIST ? ["dist/cli.js"] : ["--import", "./scripts/register-wasm.mjs", "--import", "tsx", "src/cli/main.ts"];

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
function positiveInt(name, fallback) {
  const v = arg(name, String(fallback));
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    console.error(`bench/sweep-jobs: --${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return Number(v);
}
const cells = positiveInt("cells", 12);
const iterations = positiveInt("iterations", 1500);
const repeats = positiveInt("repeats", 2);
const jobsList = arg("jobs-list", "1,2").split(",").map((s) => {
  if (!/^\d+$/.test(s.trim()) || Number(s) < 1) {
    console.error(`bench/sweep-jobs: --jobs-list: expected positive integers separated by commas, got ${JSON.stringify(s)}`);
    process.exit(2);
  }
  return Number(s);
});
const outFile = arg("out", join(ROOT, "bench", "results", "sweep-jobs.json"));

const dir = mkdtempSync(join(tmpdir(), "bilevel-rl-bench-sweep-"));
const base = {
  version: 1,
  seed: 0,
  problem: { builtin: "gridGoal", params: { size: 15, slip: 0.1, gamma: 0.95, tau: 0.1, features: "softmax" } },
  algorithm: { name: "mSoBiRL", beta: 0.1, zeta: 0.5, N: 10, wStep: "richardson" },
  iterations,
  record: { phiEvery: 100 },
};
writeFileSync(join(dir, "base.json"), JSON.stringify(base, null, 2));
// two step sizes × seeds: --cells rounded up to an even count
const seeds = Array.from({ length: Math.ceil(cells / 2) }, (_, i) => i);
const grid = { "/algorithm/beta": [0.05, 0.1] };
const sweep = { base: "base.json", seeds, grid };
const cellCount = seeds.length * 2;
writeFileSync(join(dir, "sweep.json"), JSON.stringify(sweep, null, 2));

/** One `sweep --jobs j` run: wall times of the command and of the sweep (first line to last). */
function runSweep(jobs, out) {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    let tFirst, stdout = "", stderr = "";
    const argv = [process.execPath, ...ENTRY, "sweep", join(dir, "sweep.json"), "--jobs", String(jobs), "--out", out];
    // GNU time, when there, adds the command's CPU time: CPU ÷ wall is the cores it got
    const cmd = TIME ? [TIME, "-f", "bench-cpu %U %S", ...argv] : argv;
    const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (d) => {
      tFirst ??= performance.now();
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => {
      const t1 = performance.now();
      if (code !== 0) return fail(new Error(`sweep --jobs ${jobs} exited with ${code}: ${stderr}`));
      const lines = stdout.trimEnd().split("\n");
      const cpu = /^bench-cpu ([\d.]+) ([\d.]+)$/m.exec(stderr);
      const commandS = (t1 - t0) / 1000;
      const cpuS = cpu ? Number(cpu[1]) + Number(cpu[2]) : null;
      done({ commandS, sweepS: (t1 - (tFirst ?? t0)) / 1000, cpuS, cores: cpuS === null ? null : cpuS / commandS, closing: lines.at(-1) });
    });
  });
}

const before = loadavg();
console.log(`bench/sweep-jobs (${DIST ? "dist/cli.js" : "sources under tsx"}): ${cellCount} cells of M-SoBiRL on a 15 × 15 GridWorld, ${iterations} iterations each; --jobs ${jobsList.join(", ")}; ${repeats} repeats; ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), availableParallelism ${availableParallelism()}; load average ${before.map((x) => x.toFixed(2)).join(", ")}`);
const runs = [];
let reference;
try {
  for (let r = 0; r < repeats; r++) {
    for (const jobs of jobsList) {
      const out = join(dir, `out-j${jobs}-r${r}`);
      const t = await runSweep(jobs, out);
      const files = readdirSync(join(out, "cells")).sort().map((n) => [n, readFileSync(join(out, "cells", n), "utf8")]);
      if (files.length !== cellCount) throw new Error(`--jobs ${jobs}: ${files.length} cell files, expected ${cellCount}`);
      const closing = t.closing.replaceAll(out, "<out>");
      if (reference === undefined) reference = { files, closing };
      else {
        const differ = files.filter(([n, text], i) => reference.files[i][0] !== n || reference.files[i][1] !== text).map(([n]) => n);
        if (differ.length) throw new Error(`--jobs ${jobs}: cell files differ from the first run's: ${differ.join(", ")}`);
        if (closing !== reference.closing) throw new Error(`--jobs ${jobs}: the closing line differs: ${closing} vs ${reference.closing}`);
      }
      rmSync(out, { recursive: true, force: true });
      runs.push({ jobs, repeat: r, commandS: t.commandS, sweepS: t.sweepS, cpuS: t.cpuS, cores: t.cores });
      const cpu = t.cpuS === null ? "" : `; CPU ${t.cpuS.toFixed(2)} s = ${t.cores.toFixed(2)} cores busy`;
      console.log(`  --jobs ${jobs} (repeat ${r + 1}): command ${t.commandS.toFixed(2)} s, sweep ${t.sweepS.toFixed(2)} s = ${(cellCount / t.sweepS).toFixed(2)} cells/s${cpu}`);
    }
  }
} catch (e) {
  console.error(`bench/sweep-jobs: ${e.message}`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
const after = loadavg();

const best = jobsList.map((jobs) => {
  const mine = runs.filter((r) => r.jobs === jobs);
  const sweepS = Math.min(...mine.map((r) => r.sweepS));
  const fastest = mine.reduce((a, b) => (b.commandS < a.commandS ? b : a));
  const commandS = fastest.commandS;
  return { jobs, sweepS, commandS, cellsPerS: cellCount / sweepS, cellsPerSCommand: cellCount / commandS, cpuS: fastest.cpuS, cores: fastest.cores };
});
const one = best[0];
console.log("\n| --jobs | sweep (s) | cells/s | × --jobs " + one.jobs + " | command (s) | cells/s (command) | CPU (s) | cores busy |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const b of best) {
  const cpu = b.cpuS === null ? "— | —" : `${b.cpuS.toFixed(2)} | ${b.cores.toFixed(2)}`;
  console.log(`| ${b.jobs} | ${b.sweepS.toFixed(2)} | ${b.cellsPerS.toFixed(2)} | ${(b.cellsPerS / one.cellsPerS).toFixed(2)}× | ${b.commandS.toFixed(2)} | ${b.cellsPerSCommand.toFixed(2)} | ${cpu} |`);
}
console.log(`\nload average before ${before.map((x) => x.toFixed(2)).join(", ")}, after ${after.map((x) => x.toFixed(2)).join(", ")}; every run wrote the same cell files`);

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      entry: DIST ? "dist/cli.js" : "src/cli/main.ts (tsx)",
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      availableParallelism: availableParallelism(),
      loadAverageBefore: before,
      loadAverageAfter: after,
      sweep: { cells: cellCount, iterations, experiment: base, grid, seeds: sweep.seeds },
      runs,
      best,
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${outFile}`);
