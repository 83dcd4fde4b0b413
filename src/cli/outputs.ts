// Writing a run's files: result.json, history.csv, convergence.svg and, for grid problems,
// reward.svg and policy.svg. Every file is a function of the result alone (no times), so
// two runs of the same experiment write byte-identical files. Every file the command line
// writes goes through writeFile (atomic: a temporary file, then a rename).
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { historyToCSV, resultToJSON } from "../experiment/runner";
import type { ExperimentResult } from "../experiment/types";
import { convergenceChart, heatmap, policyArrows, stateValuesToCells, wallsOf } from "../plot/index";
import { RunFailure } from "./errors";
import type { GridInfo } from "./gridInfo";
import type { GridPlotData } from "./worker";

export interface WrittenFile {
  path: string;
  what: string;
}

export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new RunFailure(`cannot create the output directory ${dir}: ${(e as Error).message}`);
  }
}

/**
 * Write `text` to `path` atomically: into a temporary file in the same directory, then
 * renamed over `path` (a rename within one file system is atomic), so a reader, a merge or
 * a killed process never sees a half-written result, cell or table.
 */
export function writeFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new RunFailure(`cannot write ${path}: ${(e as Error).message.replace(tmp, path)}`);
  }
}

export function runTitle(result: ExperimentResult): string {
  const p = result.problem;
  const status = result.status === "interrupted" ? ` (interrupted after ${result.iterations})` : "";
  return `${p.name} (S = ${p.S}, A = ${p.A}, n = ${p.n}) · ${result.algorithm} · seed ${result.seed}${status}`;
}

/** The problem's name in plot titles; a contextual problem's grid plots show its first context. */
function problemTitle(result: ExperimentResult): string {
  const c = result.problem.contexts?.[0];
  return c ? `${result.problem.name} (context 0: ${c.name}, w = ${c.weight})` : result.problem.name;
}

export function rewardSvg(result: ExperimentResult, grid: GridInfo, data: GridPlotData): string {
  const label = data.rewardPerState ? "r_x(s)" : "mean over a of r_x(s, a)";
  return heatmap(stateValuesToCells(data.reward, grid), grid.width, grid.height, {
    walls: wallsOf(grid),
    title: `Learned reward at the final x · ${problemTitle(result)} · ${result.algorithm}`,
    label,
    marks: grid.marks,
  });
}

export function policySvg(result: ExperimentResult, grid: GridInfo, data: GridPlotData): string | undefined {
  if (!data.pi) return undefined;
  return policyArrows(data.pi, grid, {
    title: `Lower policy π*(a|s) at the final x · ${problemTitle(result)} · ${result.algorithm}`,
    background: data.reward,
    backgroundLabel: data.rewardPerState ? "r_x(s)" : "mean over a of r_x(s, a)",
    marks: grid.marks,
    skip: grid.absorbing,
  });
}

/** Write every file of one run into `dir` (created); returns what was written, in order. */
export function writeRunFiles(dir: string, result: ExperimentResult, grid?: { info: GridInfo; data: GridPlotData }): WrittenFile[] {
  ensureDir(dir);
  const files: WrittenFile[] = [];
  const put = (name: string, text: string, what: string) => {
    const path = join(dir, name);
    writeFile(path, text);
    files.push({ path, what });
  };
  put("result.json", resultToJSON(result) + "\n", `the result (status ${result.status}, ${result.iterations} iterations)`);
  put("history.csv", historyToCSV(result), "one row per iteration: k, f, ‖ĥ‖, lower residual, φ, penalty");
  put("convergence.svg", convergenceChart([{ name: result.algorithm, history: result.history }], { title: runTitle(result) }), "φ (or f) and ‖ĥ‖ against the iteration");
  // a contextual problem's grid plots show its first context (its block comes first)
  if (grid && grid.info.S === (result.problem.contexts?.[0].S ?? result.problem.S)) {
    put("reward.svg", rewardSvg(result, grid.info, grid.data), "the learned reward on the grid");
    const policy = policySvg(result, grid.info, grid.data);
    if (policy) put("policy.svg", policy, "the lower policy π*_x as arrows");
  }
  return files;
}
