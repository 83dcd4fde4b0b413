// `bilevel-rl list [topic]`: the built-in problems, algorithms, objectives and hypergradient
// methods with their parameters, as text or (--json) as the registry itself.
import type { Command } from "commander";
import { ALGORITHMS, HYPERGRADIENT_METHODS, PROBLEMS, REWARDS, UPPERS, type ParamSpec } from "../../experiment/registry";
import type { Ctx } from "../context";
import { EXIT_OK, UsageError } from "../errors";
import { prettyJson } from "../prettyJson";

export function registerList(program: Command, ctx: Ctx): void {
  program
    .command("list")
    .description("list the built-in problems, algorithms, objectives and hypergradient methods with their parameters")
    .argument("[topic]", "problems | algorithms | objectives | methods (default: all)")
    .option("--json", "print the registry as JSON")
    .action(async (topic: string | undefined, opts: { json?: boolean }) => {
      ctx.code = cmdList(ctx, topic, opts);
    });
}

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

