// The `bilevel-rl` command line: run, hypergrad, solve, compare, list, sweep and merge.
// `main(argv)` parses the arguments (commander), runs one command and resolves to the exit
// code: 0 success, 1 a failed run, 2 bad usage or a bad file, 130 interrupted (Ctrl-C).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { parseJson } from "../experiment/json";
import { ALGORITHM_NAMES, ALGORITHMS, HYPERGRADIENT_METHODS, PROBLEMS, REWARDS, UPPERS, type ParamSpec } from "../experiment/registry";
import { hypergradientOf, resultToJSON, solveLowerOf, type HypergradientOfMethod } from "../experiment/runner";
import { ExperimentError, type Experiment, type ExperimentIssue, type ExperimentResult } from "../experiment/types";
import { parseExperiment, validateExperiment } from "../experiment/validate";
import { convergenceChart } from "../plot/index";
import { init } from "../wasm/module";
import { CliError, EXIT_INTERRUPTED, EXIT_OK, RunFailure, UsageError } from "./errors";
import { readText } from "./files";
import { prettyJson } from "./prettyJson";
import { gridInfoOf } from "./gridInfo";
import { ensureDir, writeFile, writeRunFiles, type WrittenFile } from "./outputs";
import { fmtExp, fmtNum, Progress } from "./progress";
import { cellFileName, describeParams, expandSweep, inShard, mergeCells, mergeToCSV, mergeToMarkdown, parseShard, readSweep, type CellFile } from "./sweep";
import { ExperimentWorker, WorkerRunError, type WorkerOutcome } from "./worker";

/** Where the command writes; injectable for tests and for examples/start.ts. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (progress bar) or not (plain lines). */
  isTTY: boolean;
  columns?: number;
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  get isTTY() {
    return !!process.stdout.isTTY;
  },
  get columns() {
    return process.stdout.columns;
  },
};

interface Ctx {
  io: CliIO;
  verbose: boolean;
  /** The code of the command that ran (set by its action). */
  code: number;
}

const HYPERGRAD_METHODS = HYPERGRADIENT_METHODS.map((m) => m.name);

/** Run the command line; resolves to the exit code (never calls process.exit). */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const ctx: Ctx = { io, verbose: argv.includes("--verbose"), code: EXIT_OK };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ctx.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT_OK;
      if (e.code === "commander.help") return e.exitCode === 0 ? EXIT_OK : 2;
      return 2; // unknown option/command, missing argument, invalid choice: commander printed the message
    }
    return reportError(e, ctx);
  }
}

function reportError(e: unknown, ctx: Ctx): number {
  const { io, verbose } = ctx;
  if (e instanceof CliError) {
    io.err(`bilevel-rl: ${e.message}\n`);
    for (const d of e.details) io.err(`${d}\n`);
    const remote = e instanceof RunFailure && e.cause_ instanceof WorkerRunError ? e.cause_.remoteStack : undefined;
    if (verbose) io.err(`${remote ?? e.stack ?? ""}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  io.err(`bilevel-rl: ${err?.name ?? "Error"}: ${err?.message ?? String(e)}\n`);
  if (verbose && err?.stack) io.err(`${err.stack}\n`);
  else io.err("(run with --verbose for the stack trace)\n");
  return 1;
}

// ---------------------------------------------------------------------------------------
// the program

function buildProgram(ctx: Ctx): Command {
  const { io } = ctx;
  const program = new Command("bilevel-rl");
  program
    .description("Bilevel reinforcement learning on tabular MDPs: run experiment files, compare algorithms, sweep hyperparameters.")
    .option("--verbose", "print stack traces of errors")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(`bilevel-rl: ${s}`) })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      `
Exit codes: 0 success · 1 a failed run · 2 bad usage or a bad file · 130 interrupted (Ctrl-C).
Experiment files are described in docs/experiment-format.md; the commands in docs/cli.md.

Examples:
  bilevel-rl list algorithms
  bilevel-rl run examples/experiments/gridgoal-msobirl.json --out results/gridgoal
  bilevel-rl compare examples/experiments/gridgoal-msobirl.json --algorithms mSoBiRL,exactDescent
  bilevel-rl sweep sweep.json --shard $SLURM_ARRAY_TASK_ID/8 --out results/sweep && bilevel-rl merge results/sweep`,
    );

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
(result.json with "status": "interrupted", history.csv, the plots), then exits with 130.

Example:
  bilevel-rl run examples/experiments/gridgoal-msobirl.json --out results/gridgoal`,
    )
    .action(async (file: string, opts: { out?: string; progress: boolean }) => {
      ctx.code = await cmdRun(ctx, file, opts);
    });

  program
    .command("hypergrad")
    .description("print the hypergradient ∇φ at the experiment's x0 as JSON")
    .argument("<experiment>", "experiment file (JSON)")
    .addOption(new Option("-m, --method <method>", "hypergradient method").choices(HYPERGRAD_METHODS).default("exact"))
    .option("--h <step>", "finite-difference: central-difference step", parseNumberOption("--h"))
    .option("--groups <count>", "model-free: trajectory groups", parseIntOption("--groups"))
    .option("--sigma <sigma>", "phi-sigma: σ", parseNumberOption("--sigma"))
    .addHelpText("after", `\nMethods:\n${HYPERGRADIENT_METHODS.map((m) => `  ${m.name.padEnd(18)} ${m.description}`).join("\n")}\n\nExample:\n  bilevel-rl hypergrad exp.json --method finite-difference`)
    .action(async (file: string, opts: { method: string; h?: number; groups?: number; sigma?: number }) => {
      ctx.code = await cmdHypergrad(ctx, file, opts);
    });

  program
    .command("solve")
    .description("solve the lower level at the experiment's x0; print values, policy, iterations and residual as JSON")
    .argument("<experiment>", "experiment file (JSON)")
    .addOption(new Option("--solver <solver>", "lower-level solver").choices(["value-iteration", "policy-iteration"]).default("value-iteration"))
    .option("--tol <tol>", "target ‖G(V) − V‖∞ (default 1e-10)", parseNumberOption("--tol"))
    .option("--max-iter <n>", "cap on sweeps or Newton steps", parseIntOption("--max-iter"))
    .option("--no-extrapolate", "plain value iteration, without the error bounds that end it early")
    .addHelpText("after", "\nExample:\n  bilevel-rl solve exp.json --solver policy-iteration")
    .action(async (file: string, opts: { solver: "value-iteration" | "policy-iteration"; tol?: number; maxIter?: number; extrapolate: boolean }) => {
      ctx.code = await cmdSolve(ctx, file, opts);
    });

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

  program
    .command("list")
    .description("list the built-in problems, algorithms, objectives and hypergradient methods with their parameters")
    .argument("[topic]", "problems | algorithms | objectives | methods (default: all)")
    .option("--json", "print the registry as JSON")
    .action(async (topic: string | undefined, opts: { json?: boolean }) => {
      ctx.code = cmdList(ctx, topic, opts);
    });

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

  return program;
}

// ---------------------------------------------------------------------------------------
// option parsers

function parseNumberOption(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) throw new UsageError(`${name}: expected a number, got ${JSON.stringify(v)}`);
    return x;
  };
}

function parseIntOption(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(x) || x < 1) throw new UsageError(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

function parseAlgorithms(v: string): string[] {
  const names = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--algorithms: expected a comma-separated list of algorithms, got ${JSON.stringify(v)}`);
  for (const n of names) {
    if (!ALGORITHM_NAMES.includes(n)) throw new UsageError(`--algorithms: unknown algorithm ${JSON.stringify(n)}; expected some of ${ALGORITHM_NAMES.join(", ")}`);
  }
  if (new Set(names).size !== names.length) throw new UsageError(`--algorithms: each algorithm may appear once, got ${JSON.stringify(v)}`);
  return names;
}

// ---------------------------------------------------------------------------------------
// experiment files

function issueLines(issues: readonly ExperimentIssue[]): string[] {
  return issues.map((e) => `${e.path || "/"}: ${e.message}`);
}

/** Read, parse and validate an experiment file: syntax and validation errors are UsageErrors (exit 2). */
export function loadExperiment(file: string): Experiment {
  const text = readText(file, "experiment file");
  const v = parseExperiment(text);
  if (v.ok) return v.experiment;
  const syntax = v.errors.length === 1 && v.errors[0].path === "" && /^JSON syntax error/.test(v.errors[0].message);
  if (syntax) throw new UsageError(`${file}: ${v.errors[0].message}`);
  const n = v.errors.length;
  throw new UsageError(`${file}: invalid experiment (${n} error${n === 1 ? "" : "s"}):`, issueLines(v.errors));
}

/** The raw JSON document of a file that loadExperiment already accepted. */
function rawDocument(file: string): Record<string, unknown> {
  const p = parseJson(readText(file, "experiment file"));
  if (!p.ok) throw new UsageError(`${file}: JSON syntax error at line ${p.error.line}, column ${p.error.column}: ${p.error.message}`);
  return p.value as Record<string, unknown>;
}

function stem(file: string): string {
  const b = basename(file);
  const e = extname(b);
  return e ? b.slice(0, -e.length) : b;
}

function workerFailure(e: unknown, file: string, what = "the run"): CliError {
  if (e instanceof WorkerRunError) {
    if (e.kind === "config") {
      const lines = e.issues ? issueLines(e.issues) : [e.message];
      return new UsageError(`${file}: the experiment cannot be set up:`, lines);
    }
    return new RunFailure(`${what} failed: ${e.errorName}: ${e.message}`, [], e);
  }
  if (e instanceof CliError) return e;
  const err = e as Error;
  return new RunFailure(`${what} failed: ${err?.name ?? "Error"}: ${err?.message ?? String(e)}`, [], e);
}

function problemLine(r: Pick<ExperimentResult, "problem">): string {
  const p = r.problem;
  return `${p.name} (S = ${p.S}, A = ${p.A}, n = ${p.n}, γ = ${p.gamma}, τ = ${p.tau})`;
}

function nonFinite(result: ExperimentResult): string | undefined {
  const bad = (v: number | null | undefined) => typeof v === "number" && !Number.isFinite(v);
  const at = result.history.findIndex((r) => bad(r.f) || bad(r.hnorm) || bad(r.phi));
  if (at >= 0) {
    const r = result.history[at];
    const which = bad(r.f) ? `f = ${r.f}` : bad(r.hnorm) ? `‖ĥ‖ = ${r.hnorm}` : `φ = ${r.phi}`;
    return `the run diverged: ${which} at iteration k = ${r.k}`;
  }
  if (bad(result.final.phi)) return `the run diverged: φ(x_K) = ${result.final.phi}`;
  if (result.final.x.some((v) => !Number.isFinite(v))) return "the run diverged: x_K is not finite";
  return undefined;
}

/** SIGINT: the first stops the run cleanly (flag → abort after the current iteration), the second exits at once. */
function onSigint(io: CliIO, worker: ExperimentWorker, beforeMessage?: () => void): () => void {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      worker.interrupt();
      beforeMessage?.();
      io.err("\nbilevel-rl: interrupted (Ctrl-C): stopping after the current iteration and writing the history so far; Ctrl-C again to quit at once\n");
    } else {
      io.err("bilevel-rl: interrupted twice: exiting without writing\n");
      process.exit(EXIT_INTERRUPTED);
    }
  };
  process.on("SIGINT", handler);
  return () => process.off("SIGINT", handler);
}

function summaryLine(result: ExperimentResult, timeMs?: number): string {
  const f = result.final;
  const parts: string[] = [];
  if (f.phi !== undefined) parts.push(`φ(x_K) = ${fmtNum(f.phi)}`);
  if (f.f !== null) parts.push(`f = ${fmtNum(f.f)}`);
  if (f.hnorm !== null) parts.push(`‖ĥ‖ = ${fmtExp(f.hnorm)}`);
  const time = timeMs === undefined ? "" : ` in ${(timeMs / 1000).toFixed(2)} s`;
  const verb = result.status === "interrupted" ? `interrupted after ${result.iterations} of ${result.experiment.iterations} iterations` : `completed ${result.iterations} iterations`;
  return `${verb}${time}: ${parts.join(", ")}`;
}

function listFiles(io: CliIO, dir: string, files: readonly WrittenFile[]): void {
  io.out(`wrote ${dir}/\n`);
  const width = Math.max(...files.map((f) => f.path.length));
  for (const f of files) io.out(`  ${f.path.padEnd(width)}  ${f.what}\n`);
}

// ---------------------------------------------------------------------------------------
// run

async function cmdRun(ctx: Ctx, file: string, opts: { out?: string; progress: boolean }): Promise<number> {
  const { io } = ctx;
  const experiment = loadExperiment(file);
  const out = opts.out ?? join("results", stem(file));
  const grid = gridInfoOf(experiment);
  ensureDir(out); // fail before the run, not after it
  const worker = new ExperimentWorker();
  let progress: Progress | undefined;
  const removeSigint = onSigint(io, worker, () => progress?.finish());
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
    io.out(`${summaryLine(result, runInfo.timeMs)}\n`);
    io.out(`work: ${result.counters.sweeps} Bellman sweeps, ${result.counters.solves} linear solves, ${result.counters.sampledSteps} sampled steps\n`);
    const files = writeRunFiles(out, result, grid && outcome.grid ? { info: grid, data: outcome.grid } : undefined);
    listFiles(io, out, files);
    if (result.status === "interrupted") {
      io.err(`bilevel-rl: interrupted: ${result.iterations} iterations kept in ${join(out, "result.json")} (status "interrupted") and ${join(out, "history.csv")}\n`);
      return EXIT_INTERRUPTED;
    }
    const diverged = nonFinite(result);
    if (diverged) throw new RunFailure(`${diverged} (the files above hold the history up to there)`);
    return EXIT_OK;
  } finally {
    removeSigint();
  }
}

// ---------------------------------------------------------------------------------------
// hypergrad, solve

async function cmdHypergrad(ctx: Ctx, file: string, opts: { method: string; h?: number; groups?: number; sigma?: number }): Promise<number> {
  const experiment = loadExperiment(file);
  await init();
  let report;
  try {
    report = hypergradientOf(experiment, opts.method as HypergradientOfMethod, { h: opts.h, groups: opts.groups, sigma: opts.sigma });
  } catch (e) {
    if (e instanceof ExperimentError) throw new UsageError(`${file}: the hypergradient cannot be computed:`, issueLines(e.errors));
    throw workerFailure(e, file, `the ${opts.method} hypergradient`);
  }
  ctx.io.out(prettyJson(report) + "\n");
  if (!Number.isFinite(report.norm) || !Number.isFinite(report.value)) throw new RunFailure(`the ${opts.method} hypergradient is not finite (φ = ${report.value}, ‖∇φ‖ = ${report.norm})`);
  return EXIT_OK;
}

async function cmdSolve(ctx: Ctx, file: string, opts: { solver: "value-iteration" | "policy-iteration"; tol?: number; maxIter?: number; extrapolate: boolean }): Promise<number> {
  const experiment = loadExperiment(file);
  await init();
  let report;
  try {
    report = solveLowerOf(experiment, { solver: opts.solver, tol: opts.tol, maxIter: opts.maxIter, extrapolate: opts.extrapolate });
  } catch (e) {
    if (e instanceof ExperimentError) throw new UsageError(`${file}: the lower level cannot be solved:`, issueLines(e.errors));
    throw workerFailure(e, file, "the lower-level solve");
  }
  ctx.io.out(prettyJson({ solver: opts.solver, ...report }) + "\n");
  if (!report.converged) throw new RunFailure(`the lower-level ${opts.solver} did not converge: residual ${report.residual} after ${report.iterations} iterations`);
  return EXIT_OK;
}

// ---------------------------------------------------------------------------------------
// compare

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
  const removeSigint = onSigint(io, worker, () => progress?.finish());
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
    removeSigint();
  }
  if (worker.interrupted) {
    io.err(`bilevel-rl: interrupted: the table holds the runs up to then\n`);
    return EXIT_INTERRUPTED;
  }
  if (failed > 0) throw new RunFailure(`${failed} of ${variants.length} runs failed or diverged (see the table)`);
  return EXIT_OK;
}

function compareMarkdown(rows: readonly CompareRowOut[]): string {
  const num = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Number.isFinite(v) ? fmtNum(v) : String(v));
  const int = (v: number) => (Number.isFinite(v) ? String(v) : "—");
  const lines = [
    "| algorithm | status | final φ | final f | final ‖ĥ‖ | iterations | time (ms) | sweeps | solves | sampled steps |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(`| ${r.algorithm} | ${r.status} | ${num(r.phi)} | ${num(r.f)} | ${r.hnorm === null ? "—" : fmtExp(r.hnorm)} | ${int(r.iterations)} | ${Number.isFinite(r.timeMs) ? r.timeMs.toFixed(1) : "—"} | ${int(r.sweeps)} | ${int(r.solves)} | ${int(r.sampledSteps)} |`);
  }
  return lines.join("\n") + "\n";
}

function compareCSV(rows: readonly CompareRowOut[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = ["algorithm", "status", "phi", "f", "hnorm", "iterations", "timeMs", "sweeps", "solves", "sampledSteps", "error"];
  const lines = [head.join(",")];
  for (const r of rows) lines.push([r.algorithm, r.status, r.phi, r.f, r.hnorm, r.iterations, Number.isFinite(r.timeMs) ? r.timeMs.toFixed(3) : "", r.sweeps, r.solves, r.sampledSteps, r.error].map(cell).join(","));
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------
// list

function paramType(p: ParamSpec): string {
  let t: string = p.type;
  if (p.enum) t = p.enum.map((v) => (typeof v === "string" ? `'${v}'` : String(v))).join(" | ");
  const bounds: string[] = [];
  if (p.minimum !== undefined) bounds.push(`≥ ${p.minimum}`);
  if (p.exclusiveMinimum !== undefined) bounds.push(`> ${p.exclusiveMinimum}`);
  if (p.maximum !== undefined) bounds.push(`≤ ${p.maximum}`);
  if (p.exclusiveMaximum !== undefined) bounds.push(`< ${p.exclusiveMaximum}`);
  if (p.length) bounds.push(`length ${p.length}`);
  return bounds.length ? `${t} ${bounds.join(", ")}` : t;
}

function paramDefault(p: ParamSpec): string {
  const show = (v: unknown): string => (typeof v === "string" ? `'${v}'` : Array.isArray(v) ? `[${v.map(show).join(", ")}]` : JSON.stringify(v));
  if (p.default !== undefined) return ` [default: ${show(p.default)}]`;
  if (p.defaultText !== undefined) return ` [default: ${p.defaultText}]`;
  return ""; // required, optional without a default, or seeded (the description says so)
}

function paramLines(params: readonly ParamSpec[]): string[] {
  if (params.length === 0) return ["      (no parameters)"];
  const nameW = Math.max(...params.map((p) => p.name.length));
  const typeW = Math.min(34, Math.max(...params.map((p) => paramType(p).length)));
  return params.map((p) => `      ${p.name.padEnd(nameW)}  ${paramType(p).padEnd(typeW)}  ${p.description}${paramDefault(p)}`);
}

function cmdList(ctx: Ctx, topic: string | undefined, opts: { json?: boolean }): number {
  const topics = ["problems", "algorithms", "objectives", "methods"];
  if (topic !== undefined && !topics.includes(topic)) throw new UsageError(`list: unknown topic ${JSON.stringify(topic)}; expected one of ${topics.join(", ")}`);
  const want = (t: string) => topic === undefined || topic === t;
  if (opts.json) {
    const doc: Record<string, unknown> = {};
    if (want("problems")) doc.problems = PROBLEMS;
    if (want("algorithms")) doc.algorithms = ALGORITHMS;
    if (want("objectives")) doc.objectives = { rewards: REWARDS, uppers: UPPERS };
    if (want("methods")) doc.methods = HYPERGRADIENT_METHODS;
    ctx.io.out(prettyJson(doc) + "\n");
    return EXIT_OK;
  }
  const lines: string[] = [];
  if (want("problems")) {
    lines.push('Problems   "problem": { "builtin": NAME, "params": { … } }', "");
    for (const p of PROBLEMS) {
      const tags = [p.kind === "mdp" ? "MDP generator: add reward, upper, tau" : "", p.trajectory ? "trajectory objective" : "", p.xDependentTransitions ? "x-dependent transitions" : ""].filter(Boolean);
      lines.push(`  ${p.name}  —  ${p.description}${tags.length ? ` (${tags.join("; ")})` : ""}  [${p.source}]`, ...paramLines(p.params), "");
    }
  }
  if (want("algorithms")) {
    lines.push('Algorithms   "algorithm": { "name": NAME, …hyperparameters }', "");
    for (const a of ALGORITHMS) {
      const tags = [a.needsSoft ? "needs τ > 0" : "", a.needsTrajectory ? "needs a trajectory objective" : ""].filter(Boolean);
      lines.push(`  ${a.name}  —  ${a.description}${tags.length ? ` (${tags.join("; ")})` : ""}  [${a.source}]`, ...paramLines(a.params), "");
    }
  }
  if (want("objectives")) {
    lines.push('Reward models (custom problems)   "reward": { NAME: { … } }', "");
    for (const r of REWARDS) lines.push(`  ${r.name}  —  ${r.description}`, ...paramLines(r.params), "");
    lines.push('Upper objectives (custom problems)   "upper": { NAME: { … } }', "");
    for (const u of UPPERS) lines.push(`  ${u.name}  —  ${u.description}`, ...paramLines(u.params), "");
  }
  if (want("methods")) {
    lines.push("Hypergradient methods   bilevel-rl hypergrad FILE --method NAME", "");
    const w = Math.max(...HYPERGRADIENT_METHODS.map((m) => m.name.length));
    for (const m of HYPERGRADIENT_METHODS) lines.push(`  ${m.name.padEnd(w)}  ${m.description}`);
    lines.push("");
  }
  ctx.io.out(lines.join("\n"));
  return EXIT_OK;
}

// ---------------------------------------------------------------------------------------
// sweep, merge

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
  const removeSigint = onSigint(io, worker);
  let failed = 0, done = 0;
  try {
    for (const cell of mine) {
      if (worker.interrupted) break;
      const label = `cell ${cell.index} of ${total} (${describeParams(cell.params, cell.seed)})`;
      const record: CellFile = { sweep: { id: spec.id, index: cell.index, total, ...(cell.seed !== undefined ? { seed: cell.seed } : {}), params: cell.params }, status: "completed" };
      let line: string;
      try {
        const { result, runInfo } = await worker.run(cell.experiment);
        const diverged = nonFinite(result);
        record.status = diverged ? "failed" : result.status;
        if (diverged) record.error = diverged;
        record.result = JSON.parse(resultToJSON(result)) as ExperimentResult;
        line = `${label}: ${diverged ? `failed: ${diverged}` : summaryLine(result, runInfo.timeMs)}`;
      } catch (e) {
        const f = workerFailure(e, file, `cell ${cell.index}`);
        record.status = "failed";
        record.error = f.message;
        line = `${label}: ${f.message}`;
      }
      if (record.status === "failed") failed++;
      done++;
      const path = join(cellDir, cellFileName(cell.index));
      writeFile(path, JSON.stringify(record, null, 2) + "\n");
      io.out(`${line}\n`);
    }
  } finally {
    await worker.close();
    removeSigint();
  }
  io.out(`wrote ${done} cell file${done === 1 ? "" : "s"} to ${cellDir}/ (${done - failed} ok, ${failed} failed)${worker.interrupted ? ", interrupted" : ""}; collect them with: bilevel-rl merge ${out}\n`);
  if (worker.interrupted) return EXIT_INTERRUPTED;
  if (failed > 0) throw new RunFailure(`${failed} of ${done} cells failed (their files record the error)`);
  return EXIT_OK;
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

// ---------------------------------------------------------------------------------------

/** The version in the package.json above this file (src/cli/ or dist/). */
function packageVersion(): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 5; i++) {
      const pj = join(dir, "package.json");
      if (existsSync(pj)) {
        const pkg = JSON.parse(readFileSync(pj, "utf8")) as { name?: string; version?: string };
        if (pkg.name === "bilevel-rl" && pkg.version) return pkg.version;
      }
      dir = dirname(dir);
    }
  } catch {
    // fall through
  }
  return "unknown";
}
