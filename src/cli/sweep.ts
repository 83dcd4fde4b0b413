// Sweeps: a base experiment run over a grid of seeds × hyperparameter values, one result
// file per cell, shardable across machines (`--shard i/n` runs the cells with index ≡ i
// mod n), and `merge`, which collects the cell files into one table.
//
// Sweep file (JSON):
//   {
//     "base": "experiment.json" | { …an experiment… },   // a path is relative to the sweep file
//     "seeds": [0, 1, 2],                                 // optional: sets /seed of each cell
//     "grid": { "/algorithm/beta": [0.01, 0.1], "/iterations": [50, 100] }   // optional
//   }
// Grid keys are JSON pointers into the experiment. Cells are the cartesian product, the
// first grid key varying slowest and the seed fastest: index = combination·|seeds| + seed index.
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { parseJson, pointerToken } from "../experiment/json";
import type { Experiment, ExperimentIssue, ExperimentResult, ValidationResult } from "../experiment/types";
import { UsageError } from "./errors";
import { readText } from "./files";
import { parsePointer, setPointer } from "./pointer";
import { toCSV, toMarkdown, type Align } from "./table";

export interface SweepSpec {
  /** The base experiment document (not yet validated). */
  base: unknown;
  /** Seeds, or undefined to keep the base experiment's seed. */
  seeds?: number[];
  /** [JSON pointer, values] in file order. */
  grid: [string, unknown[]][];
  /** A short hash of the resolved sweep: cells of different sweeps are never merged. */
  id: string;
}

export interface SweepCell {
  index: number;
  total: number;
  /** The cell's seed (undefined when the sweep has no `seeds`). */
  seed?: number;
  /** The grid values of the cell, by pointer, in grid order. */
  params: Record<string, unknown>;
  experiment: Experiment;
}

/** What a cell file holds: which cell it is, and the run's result (or its error). */
export interface CellFile {
  sweep: { id: string; index: number; total: number; seed?: number; params: Record<string, unknown> };
  /** The run's status, or 'failed' when it could not run. */
  status: ExperimentResult["status"] | "failed";
  error?: string;
  result?: ExperimentResult;
}

export function cellFileName(index: number): string {
  return `cell-${String(index).padStart(4, "0")}.json`;
}

/** Parse and check a sweep file; errors (exit 2) name the JSON pointer. */
export function readSweep(file: string): SweepSpec {
  const text = readText(file, "sweep file");
  const parsed = parseJson(text);
  if (!parsed.ok) throw new UsageError(`${file}:${parsed.error.line}:${parsed.error.column}: JSON syntax error: ${parsed.error.message}`);
  const doc = parsed.value;
  const errors: ExperimentIssue[] = [];
  const bad = (path: string, message: string) => errors.push({ path, message });
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new UsageError(`${file}: invalid sweep file`, [`/: expected an object { base, seeds?, grid? }, got ${describe(doc)}`]);
  }
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!["base", "seeds", "grid", "$schema", "description"].includes(key)) bad(`/${pointerToken(key)}`, "unknown key (expected base, seeds, grid, description)");

  let base: unknown;
  if (d.base === undefined) bad("/base", "missing: the base experiment (an object, or a path relative to the sweep file)");
  else if (typeof d.base === "string") {
    const path = resolve(dirname(file), d.base);
    const baseText = readText(path, "base experiment");
    const p = parseJson(baseText);
    if (!p.ok) throw new UsageError(`${path}:${p.error.line}:${p.error.column}: JSON syntax error: ${p.error.message}`);
    base = p.value;
  } else if (typeof d.base === "object" && d.base !== null && !Array.isArray(d.base)) base = d.base;
  else bad("/base", `expected an experiment object or a path to one, got ${describe(d.base)}`);

  let seeds: number[] | undefined;
  if (d.seeds !== undefined) {
    if (!Array.isArray(d.seeds) || d.seeds.length === 0) bad("/seeds", `expected a non-empty array of seeds, got ${describe(d.seeds)}`);
    else {
      d.seeds.forEach((s, i) => {
        if (typeof s !== "number" || !Number.isSafeInteger(s) || s < 0) bad(`/seeds/${i}`, `expected a non-negative integer, got ${describe(s)}`);
      });
      seeds = d.seeds as number[];
      if (new Set(seeds).size !== seeds.length) bad("/seeds", "expected distinct seeds");
    }
  }

  const grid: [string, unknown[]][] = [];
  if (d.grid !== undefined) {
    if (d.grid === null || typeof d.grid !== "object" || Array.isArray(d.grid)) bad("/grid", `expected an object { "/json/pointer": [values…] }, got ${describe(d.grid)}`);
    else {
      for (const [key, values] of Object.entries(d.grid as Record<string, unknown>)) {
        const path = `/grid/${pointerToken(key)}`;
        try {
          parsePointer(key);
        } catch (e) {
          bad(path, (e as Error).message);
          continue;
        }
        if (key === "" || key === "/version") bad(path, `cannot vary ${key === "" ? "the whole experiment" : key}`);
        else if (key === "/seed" && seeds !== undefined) bad(path, "use either `seeds` or a /seed grid key, not both");
        else if (!Array.isArray(values) || values.length === 0) bad(path, `expected a non-empty array of values, got ${describe(values)}`);
        else grid.push([key, values]);
      }
    }
  }
  if (errors.length > 0) throw new UsageError(`${file}: invalid sweep file`, errors.map((e) => `${e.path}: ${e.message}`));
  const id = createHash("sha256").update(JSON.stringify({ base, seeds: seeds ?? null, grid })).digest("hex").slice(0, 12);
  return { base, seeds, grid, id };
}

/** Every cell of the sweep, validated (a cell whose values are invalid is a UsageError naming it). */
export function expandSweep(spec: SweepSpec, validate: (doc: unknown) => ValidationResult): SweepCell[] {
  const seedList: (number | undefined)[] = spec.seeds ?? [undefined];
  let combos: Record<string, unknown>[] = [{}];
  for (const [pointer, values] of spec.grid) {
    const next: Record<string, unknown>[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [pointer]: v });
    combos = next;
  }
  const total = combos.length * seedList.length;
  const cells: SweepCell[] = [];
  const problems: string[] = [];
  let index = 0;
  for (const params of combos) {
    for (const seed of seedList) {
      let doc = spec.base;
      try {
        for (const [pointer, value] of Object.entries(params)) doc = setPointer(doc, pointer, value);
        if (seed !== undefined) doc = setPointer(doc, "/seed", seed);
      } catch (e) {
        problems.push(`cell ${index} (${describeParams(params, seed)}): ${(e as Error).message}`);
        index++;
        continue;
      }
      const v = validate(doc);
      if (!v.ok) {
        for (const e of v.errors) problems.push(`cell ${index} (${describeParams(params, seed)}): ${e.path || "/"}: ${e.message}`);
      } else cells.push({ index, total, seed, params, experiment: v.experiment });
      index++;
    }
  }
  if (problems.length > 0) throw new UsageError(`the sweep has invalid cells`, problems);
  return cells;
}

export function describeParams(params: Record<string, unknown>, seed?: number): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (seed !== undefined) parts.push(`seed=${seed}`);
  return parts.length ? parts.join(", ") : "base";
}

/** `i/n` with 0 ≤ i < n. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard: expected i/n (e.g. 0/4, or $SLURM_ARRAY_TASK_ID/4), got ${JSON.stringify(text)}`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard: the shard count n must be at least 1, got ${count}`);
  if (index >= count) throw new UsageError(`--shard: the shard index i must lie in [0, ${count - 1}] for n = ${count}, got ${index}`);
  return { index, count };
}

export function inShard(cellIndex: number, shard: { index: number; count: number } | undefined): boolean {
  return shard === undefined || cellIndex % shard.count === shard.index;
}

// ---------------------------------------------------------------------------------------
// merge

export interface MergeRow {
  index: number;
  seed?: number;
  params: Record<string, unknown>;
  status: string;
  algorithm: string;
  iterations: number | null;
  phi: number | null;
  f: number | null;
  hnorm: number | null;
  sweeps: number | null;
  solves: number | null;
  sampledSteps: number | null;
  error?: string;
}

export interface MergeTable {
  id: string;
  total: number;
  rows: MergeRow[];
  /** Cell indices with no file. */
  missing: number[];
  /** The grid's pointers (columns), in grid order. */
  keys: string[];
  hasSeeds: boolean;
}

/**
 * Collect cell files (already parsed) into one table, sorted by cell index. A file of
 * another sweep, a cell index outside [0, total) or one cell twice with different contents
 * is a UsageError naming the file; with `skip` (merge --allow-partial) such a file is
 * reported to `skip` and left out instead, and the sweep is the one most files belong to.
 */
export function mergeCells(files: { path: string; cell: CellFile }[], skip?: (path: string, why: string) => void): MergeTable {
  if (files.length === 0) throw new UsageError("merge: found no cell files (cell-NNNN.json) in the given directories");
  let { id, total } = files[0].cell.sweep;
  if (skip) {
    const votes = new Map<string, number>();
    for (const f of files) {
      const key = JSON.stringify([f.cell.sweep.id, f.cell.sweep.total]);
      votes.set(key, (votes.get(key) ?? 0) + 1);
    }
    const best = [...votes.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    [id, total] = JSON.parse(best) as [string, number];
  }
  const reject = (path: string, why: string) => {
    if (!skip) throw new UsageError(`merge: ${path} ${why}`);
    skip(path, why);
  };
  const byIndex = new Map<number, { path: string; cell: CellFile }>();
  for (const f of files) {
    const s = f.cell.sweep;
    if (s.id !== id || s.total !== total) {
      reject(f.path, `belongs to another sweep (id ${s.id}, not ${id}); merge one sweep at a time`);
      continue;
    }
    if (s.index < 0 || s.index >= total) {
      reject(f.path, `claims cell ${s.index}, outside the sweep's cells 0 to ${total - 1}`);
      continue;
    }
    const prev = byIndex.get(s.index);
    if (prev) {
      // the same cell from two directories (a re-run shard): they must agree
      if (JSON.stringify(prev.cell) !== JSON.stringify(f.cell)) reject(f.path, `holds cell ${s.index}, which ${prev.path} holds with different contents`);
      continue;
    }
    byIndex.set(s.index, f);
  }
  if (byIndex.size === 0) throw new UsageError("merge: none of the cell files could be merged (see the warnings above)");
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  const keys = Object.keys(byIndex.get(indices[0])!.cell.sweep.params);
  const rows: MergeRow[] = indices.map((i) => {
    const c = byIndex.get(i)!.cell;
    const r = c.result;
    return {
      index: i,
      seed: c.sweep.seed,
      params: c.sweep.params,
      status: c.status,
      algorithm: r?.algorithm ?? "",
      iterations: r ? r.iterations : null,
      phi: r?.final.phi ?? null,
      f: r?.final.f ?? null,
      hnorm: r?.final.hnorm ?? null,
      sweeps: r ? r.counters.sweeps : null,
      solves: r ? r.counters.solves : null,
      sampledSteps: r ? r.counters.sampledSteps : null,
      ...(c.error ? { error: c.error } : {}),
    };
  });
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (!byIndex.has(i)) missing.push(i);
  return { id, total, rows, missing, keys, hasSeeds: rows.some((r) => r.seed !== undefined) };
}

function columns(t: MergeTable): string[] {
  return ["cell", ...(t.hasSeeds ? ["seed"] : []), ...t.keys, "algorithm", "status", "iterations", "phi", "f", "hnorm", "sweeps", "solves", "sampledSteps"];
}

function rowValues(t: MergeTable, r: MergeRow): unknown[] {
  return [r.index, ...(t.hasSeeds ? [r.seed ?? null] : []), ...t.keys.map((k) => r.params[k]), r.algorithm, r.status, r.iterations, r.phi, r.f, r.hnorm, r.sweeps, r.solves, r.sampledSteps];
}

/** The table as CSV (numbers at full precision, one row per cell). */
export function mergeToCSV(t: MergeTable): string {
  return toCSV(columns(t), t.rows.map((r) => rowValues(t, r)));
}

/** The table as Markdown (6 significant digits). */
export function mergeToMarkdown(t: MergeTable): string {
  const head = columns(t).map((c) => (c === "phi" ? "final φ" : c === "f" ? "final f" : c === "hnorm" ? "final ‖ĥ‖" : c === "sampledSteps" ? "sampled steps" : c));
  const numeric = new Set(["cell", "seed", "iterations", "phi", "f", "hnorm", "sweeps", "solves", "sampledSteps"]);
  const align = columns(t).map((c): Align => (numeric.has(c) ? "right" : "left"));
  const md = (v: unknown): string => {
    if (v === null || v === undefined) return "—";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
    if (typeof v === "string") return v;
    return JSON.stringify(v);
  };
  let out = toMarkdown(head, align, t.rows.map((r) => rowValues(t, r).map(md)));
  const failed = t.rows.filter((r) => r.error);
  if (failed.length) out += "\n" + failed.map((r) => `- cell ${r.index} failed: ${r.error}`).join("\n") + "\n";
  if (t.missing.length) out += `\nMissing cells (${t.missing.length} of ${t.total}): ${t.missing.join(", ")}\n`;
  return out;
}

/** A readable form of a value for messages. */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}
