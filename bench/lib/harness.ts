// Thin layer over benny: one suite per case (SIMD build, scalar build, plain-TS reference,
// in that order, in the same process), results read back from benny's summary.
import { execSync } from "node:child_process";
import { readFileSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as b from "benny";
import type { RunEnvironment } from "./report";

export type VariantName = "simd" | "scalar" | "reference";
export const VARIANTS: readonly VariantName[] = ["simd", "scalar", "reference"];

export interface CaseOptions {
  minSamples: number;
  /** Seconds per variant after minSamples are in. */
  maxTime: number;
  /** Seconds per sample (benchmark.js repeats fast ops until a sample lasts this long). */
  minTime: number;
}

export interface VariantResult {
  /** Median of the per-op sample times, ms (used for every ratio). */
  ms: number;
  /** Mean per-op time, ms (benny's ops/s is 1000 / meanMs). */
  meanMs: number;
  minMs: number;
  /** benny's relative margin of error of the mean, %. */
  rme: number;
  samples: number;
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat; undefined elsewhere). */
function machineBusySeconds(): number | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all − idle − iowait (USER_HZ = 100 on Linux)
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return busy / 100;
  } catch {
    return undefined;
  }
}

/**
 * Watches how much CPU *other* processes used while a suite ran: machine busy time minus
 * this process's own CPU time, per second of wall time (in cores). Near 0 on a quiet machine.
 */
export function contentionProbe(): () => number {
  const w0 = performance.now(), m0 = machineBusySeconds(), c0 = process.cpuUsage();
  return () => {
    const m1 = machineBusySeconds();
    if (m0 === undefined || m1 === undefined) return NaN;
    const c = process.cpuUsage(c0);
    const own = (c.user + c.system) / 1e6;
    const wall = (performance.now() - w0) / 1e3;
    return Math.max(0, (m1 - m0 - own) / wall);
  };
}

/**
 * Wait until other processes use at most `limit` cores for two consecutive 1 s windows
 * (this process idles meanwhile), or `maxSeconds` pass. Returns the seconds waited.
 */
export async function waitQuiet(limit: number, maxSeconds: number): Promise<number> {
  const t0 = performance.now();
  let calm = 0;
  while ((performance.now() - t0) / 1e3 < maxSeconds) {
    const probe = contentionProbe();
    await new Promise((r) => setTimeout(r, 1000));
    const others = probe();
    if (!Number.isFinite(others)) break;
    calm = others <= limit ? calm + 1 : 0;
    if (calm >= 2) break;
  }
  return (performance.now() - t0) / 1e3;
}

/** Keeps results alive so nothing is optimised away. */
export let sink: unknown;

/** Run one benny suite over named ops; returns per-variant timings. Setup happens before this call. */
export async function runSuite(
  title: string,
  file: string,
  folder: string,
  ops: Record<string, () => unknown>,
  options: CaseOptions,
): Promise<{ results: Record<string, VariantResult>; otherCores: number }> {
  const names = Object.keys(ops);
  const probe = contentionProbe();
  const summary = await b.suite(
    title,
    b.configure({ cases: { ...options, delay: 0.005 }, minDisplayPrecision: 6 }),
    // benny calls a case function once to see whether it returns a function or a promise;
    // returning nothing makes the op itself the timed body (that first call is a warm-up).
    ...names.map((n) => b.add(n, () => { sink = ops[n](); })),
    b.cycle((r) => `  ${r.name}: ${(r.details.median * 1e3).toPrecision(4)} ms/op (median), ±${r.margin.toFixed(1)}%, ${r.samples} samples`),
    b.complete(() => undefined),
    b.save({ file, folder, format: "json", details: true }),
  );
  const out: Record<string, VariantResult> = {};
  for (const r of summary.results) {
    const d = r.details;
    out[r.name] = { ms: d.median * 1e3, meanMs: d.mean * 1e3, minMs: d.min * 1e3, rme: d.relativeMarginOfError, samples: r.samples };
  }
  return { results: out, otherCores: probe() };
}

/** Best of `reps` wall-clock runs, ms (for calibration and diagnostics, not for reported results). */
export function bestOf(reps: number, f: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    sink = f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Round up to 1, 2, 2.5 or 5 × 10^k. */
export function niceCeil(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return Math.ceil(m * p);
  return Math.ceil(x);
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export interface QuietPolicy {
  /** Folder of benny's JSON files. */
  out: string;
  /** Other processes' average cores above which an attempt counts as disturbed. */
  contended: number;
  maxAttempts: number;
  /** No reruns once the whole run is older than this many seconds… */
  budgetS: number;
  /** …counted from this performance.now() reading. */
  startedAt: number;
  log: (line: string) => void;
}

/**
 * runSuite, rerun when other processes disturbed it: waits for a quiet machine first and
 * keeps the least disturbed attempt (whose benny JSON is the one left on disk).
 */
export async function runSuiteQuietly(title: string, file: string, ops: Record<string, () => unknown>, options: CaseOptions, q: QuietPolicy) {
  let best: { results: Record<string, VariantResult>; otherCores: number } | undefined;
  let attempts = 0;
  const tmp = `${file}.attempt`;
  for (;;) {
    attempts++;
    const r = await runSuite(title, attempts === 1 ? file : tmp, q.out, ops, options);
    if (!best || !(r.otherCores >= best.otherCores)) {
      best = r;
      if (attempts > 1) renameSync(path.join(q.out, `${tmp}.json`), path.join(q.out, `${file}.json`));
    }
    if (!(r.otherCores > q.contended)) break;
    q.log(`    ! other processes used ${r.otherCores.toFixed(2)} cores on average during this attempt`);
    if (attempts >= q.maxAttempts || (performance.now() - q.startedAt) / 1e3 > q.budgetS) {
      q.log(`    ! keeping the least disturbed attempt (${best.otherCores.toFixed(2)} cores): its times are not trustworthy`);
      break;
    }
    const waited = await waitQuiet(q.contended, 45);
    q.log(`    … waited ${waited.toFixed(0)} s for a quiet machine; attempt ${attempts + 1}`);
  }
  rmSync(path.join(q.out, `${tmp}.json`), { force: true });
  return { ...best!, attempts };
}

/** Where and when the suite runs: engine, CPU, platform, memory. */
export function runEnvironment(): RunEnvironment {
  return {
    date: new Date().toISOString(),
    engine: `Node ${process.version}`,
    v8: process.versions.v8,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemGB: os.totalmem() / 1e9,
  };
}

/** The commit the suite runs at, and the files under assembly/ and src/ that differ from it. */
export function gitState(root: string): { commit: string; dirty: string[] } {
  try {
    const run = (cmd: string) => execSync(cmd, { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString();
    return {
      commit: run("git rev-parse --short HEAD").trim(),
      dirty: run("git status --porcelain -- assembly src").split("\n").filter(Boolean).map((l) => l.slice(3)),
    };
  } catch {
    return { commit: "unknown", dirty: [] }; // not a checkout
  }
}
