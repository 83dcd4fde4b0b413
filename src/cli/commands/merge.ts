// `bilevel-rl merge <dir…>`: the cell files of a sweep (from one or several shards) as one
// table, summary.csv and summary.md.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { parseJson } from "../../experiment/json";
import type { Ctx } from "../context";
import { EXIT_OK, RunFailure, UsageError } from "../errors";
import { readText } from "../files";
import { ensureDir, writeFile } from "../outputs";
import { mergeCells, mergeToCSV, mergeToMarkdown, type CellFile } from "../sweep";

export function registerMerge(program: Command, ctx: Ctx): void {
  program
    .command("merge")
    .description("collect the cell files of a sweep into one table (CSV + Markdown)")
    .argument("<dir...>", "directories holding cell-NNNN.json files (or cells/ below them), or cell files")
    .option("-o, --out <file>", "CSV file to write; the Markdown goes next to it as .md (default: <first dir>/summary.csv)")
    .option("--allow-partial", "do not fail when cells are missing; skip unreadable or inconsistent cell files with a warning naming each")
    .addHelpText("after", "\nExample:\n  bilevel-rl merge results/sweep --out results/sweep/summary.csv")
    .action(async (dirs: string[], opts: { out?: string; allowPartial?: boolean }) => {
      ctx.code = cmdMerge(ctx, dirs, opts);
    });
}

function cellFilesIn(arg: string): string[] {
  if (!existsSync(arg)) throw new UsageError(`merge: ${arg}: no such file or directory`);
  if (statSync(arg).isFile()) return [arg];
  const found: string[] = [];
  for (const dir of [arg, join(arg, "cells")]) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) if (/^cell-\d+\.json$/.test(name)) found.push(join(dir, name));
  }
  return found;
}

/** What is wrong with a parsed cell file, or undefined when it has a cell file's shape. */
function notACell(v: unknown): string | undefined {
  const c = v as CellFile;
  const shape = "not a sweep cell file (expected { sweep: { id, index, total, … }, status, result })";
  if (typeof c !== "object" || c === null || typeof c.sweep?.id !== "string" || !Number.isInteger(c.sweep?.index) || !Number.isInteger(c.sweep?.total)) return shape;
  if (typeof c.status !== "string") return `${shape}: status is missing`;
  const r = c.result as unknown as Record<string, unknown> | undefined;
  if (r !== undefined && (typeof r !== "object" || r === null || typeof r.final !== "object" || r.final === null || typeof r.counters !== "object" || r.counters === null)) return `${shape}: result has no final values or counters`;
  return undefined;
}

function cmdMerge(ctx: Ctx, dirs: string[], opts: { out?: string; allowPartial?: boolean }): number {
  const files: { path: string; cell: CellFile }[] = [];
  // without --allow-partial a bad cell file stops the merge (exit 2); with it, a warning names it
  let skipped = 0;
  const skip = (path: string, why: string) => {
    skipped++;
    ctx.io.err(`bilevel-rl: warning: skipped ${path}: ${why}\n`);
  };
  for (const arg of dirs) {
    for (const path of cellFilesIn(arg)) {
      let text: string;
      try {
        text = readText(path, "cell file");
      } catch (e) {
        if (!opts.allowPartial || !(e instanceof UsageError)) throw e;
        skip(path, e.message);
        continue;
      }
      const p = parseJson(text);
      const why = !p.ok ? `JSON syntax error at line ${p.error.line}, column ${p.error.column}: ${p.error.message}` : notACell(p.value);
      if (why !== undefined) {
        if (!opts.allowPartial) throw new UsageError(`${path}: ${why}`);
        skip(path, why);
        continue;
      }
      files.push({ path, cell: (p as { value: unknown }).value as CellFile });
    }
  }
  if (files.length === 0 && skipped > 0) throw new UsageError("merge: none of the cell files could be read (see the warnings above)");
  const table = mergeCells(files, opts.allowPartial ? skip : undefined);
  const csvPath = opts.out ?? join(statSync(dirs[0]).isDirectory() ? dirs[0] : dirname(dirs[0]), "summary.csv");
  const mdPath = csvPath.replace(/\.csv$/i, "") + ".md";
  ensureDir(dirname(resolve(csvPath)));
  const md = mergeToMarkdown(table);
  writeFile(csvPath, mergeToCSV(table));
  writeFile(mdPath, md);
  ctx.io.out(md);
  ctx.io.out(`\nmerged ${table.rows.length} of ${table.total} cells (sweep ${table.id}) → ${csvPath}, ${mdPath}${skipped ? `; skipped ${skipped} unreadable or inconsistent cell file${skipped === 1 ? "" : "s"}` : ""}\n`);
  if (table.missing.length > 0 && !opts.allowPartial) {
    throw new RunFailure(`${table.missing.length} of ${table.total} cells are missing: ${table.missing.join(", ")} (run their shards, or pass --allow-partial)`);
  }
  return EXIT_OK;
}
