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
    .option("--allow-partial", "do not fail when cells are missing")
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

function cmdMerge(ctx: Ctx, dirs: string[], opts: { out?: string; allowPartial?: boolean }): number {
  const files: { path: string; cell: CellFile }[] = [];
  for (const arg of dirs) {
    for (const path of cellFilesIn(arg)) {
      const p = parseJson(readText(path, "cell file"));
      if (!p.ok) throw new UsageError(`${path}: JSON syntax error at line ${p.error.line}, column ${p.error.column}: ${p.error.message}`);
      const cell = p.value as CellFile;
      if (typeof cell !== "object" || cell === null || typeof cell.sweep?.id !== "string" || !Number.isInteger(cell.sweep?.index) || !Number.isInteger(cell.sweep?.total)) {
        throw new UsageError(`${path}: not a sweep cell file (expected { sweep: { id, index, total, … }, status, result })`);
      }
      files.push({ path, cell });
    }
  }
  const table = mergeCells(files);
  const csvPath = opts.out ?? join(statSync(dirs[0]).isDirectory() ? dirs[0] : dirname(dirs[0]), "summary.csv");
  const mdPath = csvPath.replace(/\.csv$/i, "") + ".md";
  ensureDir(dirname(resolve(csvPath)));
  const md = mergeToMarkdown(table);
  writeFile(csvPath, mergeToCSV(table));
  writeFile(mdPath, md);
  ctx.io.out(md);
  ctx.io.out(`\nmerged ${table.rows.length} of ${table.total} cells (sweep ${table.id}) → ${csvPath}, ${mdPath}\n`);
  if (table.missing.length > 0 && !opts.allowPartial) {
    throw new RunFailure(`${table.missing.length} of ${table.total} cells are missing: ${table.missing.join(", ")} (run their shards, or pass --allow-partial)`);
  }
  return EXIT_OK;
}
