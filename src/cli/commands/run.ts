// `bilevel-rl run <experiment>`: one run with progress; writes result.json, history.csv and the plots.
import { join } from "node:path";
import type { Command } from "commander";
import type { Ctx } from "../context";
import { EXIT_INTERRUPTED, EXIT_OK, RunFailure } from "../errors";
import { loadExperiment, stem } from "../experimentFile";
import { gridInfoOf } from "../gridInfo";
import { ensureDir, writeRunFiles } from "../outputs";
import { Progress } from "../progress";
import { contextLines, listFiles, nonFinite, problemLine, summaryLine, workerFailure } from "../runs";
import { onStopSignals } from "../signals";
import { ExperimentWorker, type WorkerOutcome } from "../worker";

export function registerRun(program: Command, ctx: Ctx): void {
  program
    .command("run")
    .description("run an experiment file; writes result.json, history.csv, convergence.svg (and reward.svg, policy.svg for grid problems)")
    .argument("<experiment>", "experiment file (JSON)")
    .option("-o, --out <dir>", "output directory (default: results/<file name without .json>)")
    .option("--no-progress", "no progress output")
    .addHelpText(
      "after",
      `
Progress: a bar (iteration, φ or f, ‖ĥ‖, rate, ETA) on a terminal, plain lines when piped.
Ctrl-C stops the run after the current iteration and writes the history so far
(result.json with "status": "interrupted", history.csv, the plots), then exits with 130;
SIGTERM and SIGHUP do the same and exit with 143 and 129. A repeat within 1 s is the same
stop; a later one quits at once without writing.

Example:
  bilevel-rl run examples/experiments/gridgoal-msobirl.json --out results/gridgoal`,
    )
    .action(async (file: string, opts: { out?: string; progress: boolean }) => {
      ctx.code = await cmdRun(ctx, file, opts);
    });
}

async function cmdRun(ctx: Ctx, file: string, opts: { out?: string; progress: boolean }): Promise<number> {
  const { io } = ctx;
  const experiment = loadExperiment(file);
  const out = opts.out ?? join("results", stem(file));
  const grid = gridInfoOf(experiment);
  ensureDir(out); // fail before the run, not after it
  const worker = new ExperimentWorker();
  let progress: Progress | undefined;
  const stop = onStopSignals(io, worker, () => progress?.finish());
  try {
    io.out(`bilevel-rl run ${file}: ${experiment.algorithm.name}, ${experiment.iterations} iterations, seed ${experiment.seed}\n`);
    if (opts.progress) progress = new Progress({ total: experiment.iterations, tty: io.isTTY, write: io.out, columns: io.columns });
    let outcome: WorkerOutcome;
    try {
      outcome = await worker.run(experiment, { grid: !!grid, onRow: (u) => progress?.update(u.done, { ...u.row, phi: u.phi }, u.elapsedMs) });
    } catch (e) {
      progress?.finish();
      throw workerFailure(e, file);
    } finally {
      await worker.close();
    }
    progress?.finish();
    const { result, runInfo } = outcome;
    io.out(`${problemLine(result)} · ${result.algorithm}\n`);
    const contexts = contextLines(result);
    if (contexts) io.out(contexts);
    io.out(`${summaryLine(result, runInfo.timeMs)}\n`);
    io.out(`work: ${result.counters.sweeps} Bellman sweeps, ${result.counters.solves} linear solves, ${result.counters.sampledSteps} sampled steps\n`);
    const files = writeRunFiles(out, result, grid && outcome.grid ? { info: grid, data: outcome.grid } : undefined);
    listFiles(io, out, files);
    if (result.status === "interrupted") {
      io.err(`bilevel-rl: interrupted: ${result.iterations} iterations kept in ${join(out, "result.json")} (status "interrupted") and ${join(out, "history.csv")}\n`);
      return stop.exitCode ?? EXIT_INTERRUPTED;
    }
    const diverged = nonFinite(result);
    if (diverged) throw new RunFailure(`${diverged} (the files above hold the history up to there)`);
    return EXIT_OK;
  } finally {
    stop.remove();
  }
}
