// `bilevel-rl solve <experiment>`: the lower level at the experiment's x0, as JSON.
import { Option, type Command } from "commander";
import { solveLowerOf } from "../../experiment/runner";
import { ExperimentError } from "../../experiment/types";
import { init } from "../../wasm/module";
import type { Ctx } from "../context";
import { EXIT_OK, RunFailure, UsageError } from "../errors";
import { issueLines, loadExperiment } from "../experimentFile";
import { parseIntOption, parsePositiveNumberOption } from "../options";
import { prettyJson } from "../prettyJson";
import { workerFailure } from "../runs";

type SolveOpts = { solver: "value-iteration" | "policy-iteration"; tol?: number; maxIter?: number; extrapolate: boolean };

export function registerSolve(program: Command, ctx: Ctx): void {
  program
    .command("solve")
    .description("solve the lower level at the experiment's x0; print values, policy, iterations and residual as JSON")
    .argument("<experiment>", "experiment file (JSON)")
    .addOption(new Option("--solver <solver>", "lower-level solver").choices(["value-iteration", "policy-iteration"]).default("value-iteration"))
    .option("--tol <tol>", "target ‖G(V) − V‖∞ (default 1e-10)", parsePositiveNumberOption("--tol"))
    .option("--max-iter <n>", "cap on sweeps or Newton steps", parseIntOption("--max-iter"))
    .option("--no-extrapolate", "plain value iteration, without the error bounds that end it early")
    .addHelpText("after", "\nExample:\n  bilevel-rl solve exp.json --solver policy-iteration")
    .action(async (file: string, opts: SolveOpts) => {
      ctx.code = await cmdSolve(ctx, file, opts);
    });
}

async function cmdSolve(ctx: Ctx, file: string, opts: SolveOpts): Promise<number> {
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
