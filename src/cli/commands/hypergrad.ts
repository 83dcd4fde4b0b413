// `bilevel-rl hypergrad <experiment>`: the hypergradient ∇φ at the experiment's x0, as JSON.
import { Option, type Command } from "commander";
import { HYPERGRADIENT_METHODS } from "../../experiment/registry";
import { hypergradientOf, type HypergradientOfMethod } from "../../experiment/runner";
import { ExperimentError } from "../../experiment/types";
import { init } from "../../wasm/module";
import type { Ctx } from "../context";
import { EXIT_OK, RunFailure, UsageError } from "../errors";
import { issueLines, loadExperiment } from "../experimentFile";
import { parseIntOption, parsePositiveNumberOption } from "../options";
import { prettyJson } from "../prettyJson";
import { workerFailure } from "../runs";

const HYPERGRAD_METHODS = HYPERGRADIENT_METHODS.map((m) => m.name);

export function registerHypergrad(program: Command, ctx: Ctx): void {
  program
    .command("hypergrad")
    .description("print the hypergradient ∇φ at the experiment's x0 as JSON")
    .argument("<experiment>", "experiment file (JSON)")
    .addOption(new Option("-m, --method <method>", "hypergradient method").choices(HYPERGRAD_METHODS).default("exact"))
    .option("--h <step>", "finite-difference: central-difference step", parsePositiveNumberOption("--h"))
    .option("--groups <count>", "model-free: trajectory groups", parseIntOption("--groups"))
    .option("--sigma <sigma>", "phi-sigma: σ", parsePositiveNumberOption("--sigma"))
    .addHelpText("after", `\nMethods:\n${HYPERGRADIENT_METHODS.map((m) => `  ${m.name.padEnd(18)} ${m.description}`).join("\n")}\n\nExample:\n  bilevel-rl hypergrad exp.json --method finite-difference`)
    .action(async (file: string, opts: { method: string; h?: number; groups?: number; sigma?: number }) => {
      ctx.code = await cmdHypergrad(ctx, file, opts);
    });
}

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
