// The `bilevel-rl` command line: run, hypergrad, solve, compare, list, sweep and merge, one
// file each under commands/. `main(argv)` parses the arguments (commander), runs one command
// and resolves to the exit code: 0 success, 1 a failed run, 2 bad usage or a bad file,
// 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (signals.ts).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { registerCompare } from "./commands/compare";
import { registerHypergrad } from "./commands/hypergrad";
import { registerList } from "./commands/list";
import { registerMerge } from "./commands/merge";
import { registerRun } from "./commands/run";
import { registerSolve } from "./commands/solve";
import { registerSweep } from "./commands/sweep";
import { processIO, type CliIO, type Ctx } from "./context";
import { CliError, EXIT_OK, RunFailure } from "./errors";
import { WorkerRunError } from "./worker";

export { processIO, type CliIO } from "./context";
export { loadExperiment } from "./experimentFile";

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
Exit codes: 0 success · 1 a failed run · 2 bad usage or a bad file · 130, 143, 129 stopped by
SIGINT (Ctrl-C), SIGTERM or SIGHUP after writing the history so far.
Experiment files are described in docs/experiment-format.md; the commands in docs/cli.md.

Examples:
  bilevel-rl list algorithms
  bilevel-rl run examples/experiments/gridgoal-msobirl.json --out results/gridgoal
  bilevel-rl compare examples/experiments/gridgoal-msobirl.json --algorithms mSoBiRL,exactDescent
  bilevel-rl sweep sweep.json --shard $SLURM_ARRAY_TASK_ID/8 --out results/sweep && bilevel-rl merge results/sweep`,
    );
  // in this order in --help
  registerRun(program, ctx);
  registerHypergrad(program, ctx);
  registerSolve(program, ctx);
  registerCompare(program, ctx);
  registerList(program, ctx);
  registerSweep(program, ctx);
  registerMerge(program, ctx);
  return program;
}

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
