// `bilevel-rl compare <experiment> --algorithms a,b`: the experiment's problem under several
// algorithms; prints a table, writes compare.md, compare.csv, one overlay plot and each run's files.
import { join } from "node:path";
import type { Command } from "commander";
import { ALGORITHM_NAMES } from "../../experiment/registry";
import type { Experiment, ExperimentResult } from "../../experiment/types";
import { validateExperiment } from "../../experiment/validate";
import { convergenceChart } from "../../plot/index";
import type { Ctx } from "../context";
import { EXIT_INTERRUPTED, EXIT_OK, RunFailure, UsageError } from "../errors";
import { issueLines, loadExperiment, rawDocument, stem } from "../experimentFile";
import { gridInfoOf } from "../gridInfo";
import { parseAlgorithms } from "../options";
import { ensureDir, writeFile, writeRunFiles, type WrittenFile } from "../outputs";
import { fmtExp, fmtNum, Progress } from "../progress";
import { listFiles, nonFinite, problemLine, summaryLine, workerFailure } from "../runs";
import { toCSV, toMarkdown, type Align } from "../table";
import { onStopSignals } from "../signals";
import { ExperimentWorker, type WorkerOutcome } from "../worker";

export function registerCompare(program: Command, ctx: Ctx): void {
  program
    .command("compare")
    .description("run the experiment's problem under several algorithms; print a table, write one overlay plot")
    .argument("<experiment>", "experiment file (JSON)")
    .requiredOption("-a, --algorithms <list>", `comma-separated algorithms (${ALGORITHM_NAMES.join(", ")})`, parseAlgorithms)
    .option("-o, --out <dir>", "output directory (default: results/<file name without .json>-compare)")
    .option("--no-progress", "no progress output")
    .addHelpText(
      "after",
      `
Each algorithm runs with the file's algorithm block when the names match, else with its
default hyperparameters; everything else (problem, x0, iterations, seed, record) is shared.
Writes compare.md, compare.csv, compare.svg and <algorithm>/result.json, history.csv, plots.

Example:
  bilevel-rl compare examples/experiments/gridgoal-msobirl.json --algorithms mSoBiRL,exactDescent`,
    )
    .action(async (file: string, opts: { algorithms: string[]; out?: string; progress: boolean }) => {
      ctx.code = await cmdCompare(ctx, file, opts);
    });
}

interface CompareRowOut {
  algorithm: string;
  status: string;
  phi?: number;
  f: number | null;
  hnorm: number | null;
  iterations: number;
  timeMs: number;
  sweeps: number;
  solves: number;
  sampledSteps: number;
  error?: string;
}

async function cmdCompare(ctx: Ctx, file: string, opts: { algorithms: string[]; out?: string; progress: boolean }): Promise<number> {
  const { io } = ctx;
  const base = loadExperiment(file);
  const raw = rawDocument(file);
  const rawAlgorithm = raw.algorithm as { name?: string } | undefined;
  // one experiment per algorithm: the file's block when the names match, else the defaults
  const variants: { name: string; experiment: Experiment }[] = [];
  const problems: string[] = [];
  for (const name of opts.algorithms) {
    const doc = { ...raw, algorithm: rawAlgorithm?.name === name ? rawAlgorithm : { name } };
    const v = validateExperiment(doc);
    if (v.ok) variants.push({ name, experiment: v.experiment });
    else for (const line of issueLines(v.errors)) problems.push(`${name}: ${line}`);
  }
  if (problems.length > 0) throw new UsageError(`${file}: cannot run every algorithm on this problem:`, problems);

  const out = opts.out ?? join("results", `${stem(file)}-compare`);
  const grid = gridInfoOf(base);
  const worker = new ExperimentWorker();
  let progress: Progress | undefined;
  const stop = onStopSignals(io, worker, () => progress?.finish());
  const rows: CompareRowOut[] = [];
  const results: ExperimentResult[] = [];
  const written: WrittenFile[] = [];
  let failed = 0;
  try {
    io.out(`bilevel-rl compare ${file}: ${opts.algorithms.join(", ")} · ${base.iterations} iterations · seed ${base.seed}\n`);
    ensureDir(out);
    for (let i = 0; i < variants.length; i++) {
      const { name, experiment } = variants[i];
      if (worker.interrupted) break;
      const label = `[${i + 1}/${variants.length}] ${name}`;
      if (!opts.progress) io.out(`${label}\n`);
      progress = opts.progress ? new Progress({ total: experiment.iterations, tty: io.isTTY, write: io.out, columns: io.columns, label }) : undefined;
      let outcome: WorkerOutcome;
      try {
        outcome = await worker.run(experiment, { grid: !!grid, onRow: (u) => progress?.update(u.done, { ...u.row, phi: u.phi }, u.elapsedMs) });
      } catch (e) {
        progress?.finish();
        const f = workerFailure(e, file, name);
        if (f.exitCode === 2) throw f;
        failed++;
        io.err(`bilevel-rl: ${f.message}\n`);
        rows.push({ algorithm: name, status: "failed", f: null, hnorm: null, iterations: 0, timeMs: NaN, sweeps: 0, solves: 0, sampledSteps: 0, error: f.message });
        continue;
      }
      progress?.finish();
      const { result, runInfo } = outcome;
      results.push(result);
      const diverged = nonFinite(result);
      if (diverged) failed++;
      rows.push({
        algorithm: name,
        status: diverged ? "diverged" : result.status,
        ...(result.final.phi !== undefined ? { phi: result.final.phi } : {}),
        f: result.final.f,
        hnorm: result.final.hnorm,
        iterations: result.iterations,
        timeMs: runInfo.timeMs,
        ...result.counters,
      });
      io.out(`${label}: ${summaryLine(result, runInfo.timeMs)}\n`);
      written.push(...writeRunFiles(join(out, name), result, grid && outcome.grid ? { info: grid, data: outcome.grid } : undefined));
    }
  } finally {
    await worker.close();
  }
  try {
    const md = compareMarkdown(rows);
    const put = (name: string, text: string, what: string) => {
      const path = join(out, name);
      writeFile(path, text);
      written.unshift({ path, what });
    };
    if (results.length > 0) {
      put("compare.svg", convergenceChart(results.map((r) => ({ name: r.algorithm, history: r.history })), { title: `${problemLine(results[0])} · ${results.length} algorithms` }), "overlay of φ (or f) and ‖ĥ‖ against the iteration");
    }
    put("compare.csv", compareCSV(rows), "the table as CSV");
    put("compare.md", `# ${results[0] ? problemLine(results[0]) : base.name}\n\n${md}`, "the table as Markdown");
    io.out(`\n${md}\n`);
    listFiles(io, out, written);
  } finally {
    stop.remove();
  }
  if (worker.interrupted) {
    io.err(`bilevel-rl: interrupted: the table holds the runs up to then\n`);
    return stop.exitCode ?? EXIT_INTERRUPTED;
  }
  if (failed > 0) throw new RunFailure(`${failed} of ${variants.length} runs failed or diverged (see the table)`);
  return EXIT_OK;
}

function compareMarkdown(rows: readonly CompareRowOut[]): string {
  const num = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Number.isFinite(v) ? fmtNum(v) : String(v));
  const int = (v: number) => (Number.isFinite(v) ? String(v) : "—");
  const head = ["algorithm", "status", "final φ", "final f", "final ‖ĥ‖", "iterations", "time (ms)", "sweeps", "solves", "sampled steps"];
  const align = head.map((_, i): Align => (i < 2 ? "left" : "right"));
  return toMarkdown(
    head,
    align,
    rows.map((r) => [r.algorithm, r.status, num(r.phi), num(r.f), r.hnorm === null ? "—" : fmtExp(r.hnorm), int(r.iterations), Number.isFinite(r.timeMs) ? r.timeMs.toFixed(1) : "—", int(r.sweeps), int(r.solves), int(r.sampledSteps)]),
  );
}

function compareCSV(rows: readonly CompareRowOut[]): string {
  const head = ["algorithm", "status", "phi", "f", "hnorm", "iterations", "timeMs", "sweeps", "solves", "sampledSteps", "error"];
  return toCSV(
    head,
    rows.map((r) => [r.algorithm, r.status, r.phi, r.f, r.hnorm, r.iterations, Number.isFinite(r.timeMs) ? r.timeMs.toFixed(3) : "", r.sweeps, r.solves, r.sampledSteps, r.error]),
  );
}
