// `bilevel-rl sweep <sweep>`: a base experiment × seeds × hyperparameter values, one cell
// file per cell (cells/cell-NNNN.json), shardable with --shard i/n and run by --jobs N
// worker threads at once (pool.ts). A cell's file depends on its experiment alone (written
// by its index, atomically), so the files, the counts and the closing line are the same
// bytes for any --jobs; only the order of the per-cell lines follows the finishing order.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { resultToJSON } from "../../experiment/runner";
import type { ExperimentResult } from "../../experiment/types";
import { validateExperiment } from "../../experiment/validate";
import type { Ctx } from "../context";
import { EXIT_INTERRUPTED, EXIT_OK, RunFailure } from "../errors";
import { stem } from "../experimentFile";
import { parseIntOption } from "../options";
import { ensureDir, writeFile } from "../outputs";
import { WorkerPool } from "../pool";
import { CellsProgress } from "../progress";
import { nonFinite, summaryLine, workerFailure } from "../runs";
import { cellFileName, describeParams, expandSweep, inShard, parseShard, readSweep, type CellFile, type SweepCell } from "../sweep";
import { onStopSignals } from "../signals";
import type { ExperimentWorker } from "../worker";

interface SweepOptions {
  shard?: string;
  out?: string;
  jobs?: number;
}

export function registerSweep(program: Command, ctx: Ctx): void {
  program
    .command("sweep")
    .description("run a sweep file (a base experiment × seeds × hyperparameter values), one result file per cell")
    .argument("<sweep>", "sweep file (JSON): { base, seeds?, grid? }")
    .option("--shard <i/n>", "run only the cells with index ≡ i (mod n), 0 ≤ i < n")
    .option("-j, --jobs <n>", `cells run at once, each in its own worker thread (default: the number of CPUs, here ${availableParallelism()})`, parseIntOption("--jobs"))
    .option("-o, --out <dir>", "output directory (default: results/<file name without .json>); cell files go to <dir>/cells/")
    .addHelpText(
      "after",
      `
Sweep file:
  { "base": "experiment.json" | { …experiment… },
    "seeds": [0, 1, 2],
    "grid": { "/algorithm/beta": [0.01, 0.1], "/algorithm/N": [5, 10] } }
Cells are seeds × grid values (first grid key slowest, seed fastest). Shards write disjoint
cell files into the same --out; \`bilevel-rl merge <dir>\` collects them. --jobs runs that
many cells at once on this machine (with --shard: within the shard); the cell files and the
merged table are the same bytes for any --jobs, only the order of the per-cell lines varies.

Examples:
  bilevel-rl sweep sweep.json --out results/sweep
  bilevel-rl sweep sweep.json --jobs 1 --out results/sweep                          # one cell at a time
  bilevel-rl sweep sweep.json --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --jobs $SLURM_CPUS_PER_TASK --out results/sweep
  bilevel-rl sweep sweep.json --shard $JOB_COMPLETION_INDEX/8 --out /data/sweep      # Kubernetes Indexed Job`,
    )
    .action(async (file: string, opts: SweepOptions) => {
      ctx.code = await cmdSweep(ctx, file, opts);
    });
}

async function cmdSweep(ctx: Ctx, file: string, opts: SweepOptions): Promise<number> {
  const { io } = ctx;
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const jobs = opts.jobs ?? availableParallelism();
  const spec = readSweep(file);
  const cells = expandSweep(spec, validateExperiment);
  const total = cells.length === 0 ? 0 : cells[0].total;
  const mine = cells.filter((c) => inShard(c.index, shard));
  const out = opts.out ?? join("results", stem(file));
  const cellDir = join(out, "cells");
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const shape = [...spec.grid.map(([k, v]) => `${plural(v.length, "value")} of ${k}`), spec.seeds ? plural(spec.seeds.length, "seed") : ""].filter(Boolean).join(" × ") || "the base experiment alone";
  // no more threads than cells; --jobs 1 prints what the sweep printed before --jobs existed
  const pool = new WorkerPool(Math.max(1, Math.min(jobs, mine.length)));
  const parallel = pool.size > 1;
  io.out(`bilevel-rl sweep ${file} (id ${spec.id}): ${total} cells (${shape})${shard ? `; shard ${shard.index}/${shard.count}: ${mine.length} cells` : ""}${parallel ? `; ${pool.size} jobs` : ""} → ${cellDir}/\n`);
  ensureDir(cellDir);
  const progress = parallel ? new CellsProgress({ cells: mine.length, tty: io.isTTY, write: io.out, columns: io.columns }) : undefined;
  const stop = onStopSignals(io, pool, () => progress?.clear());
  let failed = 0, done = 0;

  const runCell = async (cell: SweepCell, worker: ExperimentWorker): Promise<void> => {
    const label = `cell ${cell.index} of ${total} (${describeParams(cell.params, cell.seed)})`;
    const record: CellFile = { sweep: { id: spec.id, index: cell.index, total, ...(cell.seed !== undefined ? { seed: cell.seed } : {}), params: cell.params }, status: "failed" };
    let line: string;
    progress?.start(cell.index, cell.experiment.iterations);
    try {
      const onRow = progress && io.isTTY ? (u: { done: number }) => progress.update(cell.index, u.done) : undefined;
      const { result, runInfo } = await worker.run(cell.experiment, { onRow });
      const diverged = nonFinite(result);
      record.status = diverged && result.status !== "diverged" ? "failed" : result.status;
      if (diverged) record.error = diverged;
      record.result = JSON.parse(resultToJSON(result)) as ExperimentResult;
      line = `${label}: ${diverged ? `failed: ${diverged}` : summaryLine(result, runInfo.timeMs)}`;
    } catch (e) {
      const f = workerFailure(e, file, `cell ${cell.index}`);
      record.status = "failed";
      record.error = f.message;
      line = `${label}: ${f.message}`;
    }
    if (record.status === "failed" || record.status === "diverged") failed++;
    done++;
    writeFile(join(cellDir, cellFileName(cell.index)), JSON.stringify(record, null, 2) + "\n");
    if (progress) progress.finish(cell.index, line);
    else io.out(`${line}\n`);
  };

  try {
    await pool.run(mine, runCell);
  } finally {
    progress?.clear();
    await pool.close();
    stop.remove();
  }
  io.out(`wrote ${done} cell file${done === 1 ? "" : "s"} to ${cellDir}/ (${done - failed} ok, ${failed} failed)${pool.interrupted ? ", interrupted" : ""}; collect them with: bilevel-rl merge ${out}\n`);
  if (pool.interrupted) return stop.exitCode ?? EXIT_INTERRUPTED;
  if (failed > 0) throw new RunFailure(`${failed} of ${done} cells failed (their files record the error)`);
  return EXIT_OK;
}
