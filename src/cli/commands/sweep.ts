// `bilevel-rl sweep <sweep>`: a base experiment × seeds × hyperparameter values, one cell
// file per cell (cells/cell-NNNN.json), shardable with --shard i/n.
import { join } from "node:path";
import type { Command } from "commander";
import { resultToJSON } from "../../experiment/runner";
import type { ExperimentResult } from "../../experiment/types";
import { validateExperiment } from "../../experiment/validate";
import type { Ctx } from "../context";
import { EXIT_INTERRUPTED, EXIT_OK, RunFailure } from "../errors";
import { stem } from "../experimentFile";
import { ensureDir, writeFile } from "../outputs";
import { nonFinite, summaryLine, workerFailure } from "../runs";
import { cellFileName, describeParams, expandSweep, inShard, parseShard, readSweep, type CellFile } from "../sweep";
import { onStopSignals } from "../signals";
import { ExperimentWorker } from "../worker";

export function registerSweep(program: Command, ctx: Ctx): void {
  program
    .command("sweep")
    .description("run a sweep file (a base experiment × seeds × hyperparameter values), one result file per cell")
    .argument("<sweep>", "sweep file (JSON): { base, seeds?, grid? }")
    .option("--shard <i/n>", "run only the cells with index ≡ i (mod n), 0 ≤ i < n")
    .option("-o, --out <dir>", "output directory (default: results/<file name without .json>); cell files go to <dir>/cells/")
    .addHelpText(
      "after",
      `
Sweep file:
  { "base": "experiment.json" | { …experiment… },
    "seeds": [0, 1, 2],
    "grid": { "/algorithm/beta": [0.01, 0.1], "/algorithm/N": [5, 10] } }
Cells are seeds × grid values (first grid key slowest, seed fastest). Shards write disjoint
cell files into the same --out; \`bilevel-rl merge <dir>\` collects them.

Examples:
  bilevel-rl sweep sweep.json --out results/sweep
  bilevel-rl sweep sweep.json --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --out results/sweep
  bilevel-rl sweep sweep.json --shard $JOB_COMPLETION_INDEX/8 --out /data/sweep      # Kubernetes Indexed Job`,
    )
    .action(async (file: string, opts: { shard?: string; out?: string }) => {
      ctx.code = await cmdSweep(ctx, file, opts);
    });
}

async function cmdSweep(ctx: Ctx, file: string, opts: { shard?: string; out?: string }): Promise<number> {
  const { io } = ctx;
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const spec = readSweep(file);
  const cells = expandSweep(spec, validateExperiment);
  const total = cells.length === 0 ? 0 : cells[0].total;
  const mine = cells.filter((c) => inShard(c.index, shard));
  const out = opts.out ?? join("results", stem(file));
  const cellDir = join(out, "cells");
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const shape = [...spec.grid.map(([k, v]) => `${plural(v.length, "value")} of ${k}`), spec.seeds ? plural(spec.seeds.length, "seed") : ""].filter(Boolean).join(" × ") || "the base experiment alone";
  io.out(`bilevel-rl sweep ${file} (id ${spec.id}): ${total} cells (${shape})${shard ? `; shard ${shard.index}/${shard.count}: ${mine.length} cells` : ""} → ${cellDir}/\n`);
  ensureDir(cellDir);
  const worker = new ExperimentWorker();
  const stop = onStopSignals(io, worker);
  let failed = 0, done = 0;
  try {
    for (const cell of mine) {
      if (worker.interrupted) break;
      const label = `cell ${cell.index} of ${total} (${describeParams(cell.params, cell.seed)})`;
      const record: CellFile = { sweep: { id: spec.id, index: cell.index, total, ...(cell.seed !== undefined ? { seed: cell.seed } : {}), params: cell.params }, status: "failed" };
      let line: string;
      try {
        const { result, runInfo } = await worker.run(cell.experiment);
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
      const path = join(cellDir, cellFileName(cell.index));
      writeFile(path, JSON.stringify(record, null, 2) + "\n");
      io.out(`${line}\n`);
    }
  } finally {
    await worker.close();
    stop.remove();
  }
  io.out(`wrote ${done} cell file${done === 1 ? "" : "s"} to ${cellDir}/ (${done - failed} ok, ${failed} failed)${worker.interrupted ? ", interrupted" : ""}; collect them with: bilevel-rl merge ${out}\n`);
  if (worker.interrupted) return stop.exitCode ?? EXIT_INTERRUPTED;
  if (failed > 0) throw new RunFailure(`${failed} of ${done} cells failed (their files record the error)`);
  return EXIT_OK;
}
