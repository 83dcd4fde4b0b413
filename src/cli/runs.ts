// What the commands that run experiments share: turning a worker's failure into an exit
// code, spotting a diverged run, and the summary lines they print (signals: signals.ts).
import type { ExperimentResult } from "../experiment/types";
import type { CliIO } from "./context";
import { CliError, RunFailure, UsageError } from "./errors";
import { issueLines } from "./experimentFile";
import type { WrittenFile } from "./outputs";
import { fmtExp, fmtNum } from "./progress";
import { WorkerRunError } from "./worker";

export function workerFailure(e: unknown, file: string, what = "the run"): CliError {
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

export function problemLine(r: Pick<ExperimentResult, "problem">): string {
  const p = r.problem;
  return `${p.name} (S = ${p.S}, A = ${p.A}, n = ${p.n}, γ = ${p.gamma}, τ = ${p.tau})`;
}

/**
 * A contextual problem's contexts, one line each with its weight, size and φ_c at the final x
 * (docs/math.md#contextual); undefined for other problems.
 */
export function contextLines(r: Pick<ExperimentResult, "problem" | "final" | "experiment">): string | undefined {
  const cs = r.problem.contexts;
  if (!cs) return undefined;
  const sampled = "contexts" in r.experiment.problem && r.experiment.problem.sample ? `, one sampled per iteration (seed ${r.experiment.problem.sample.seed})` : "";
  const lines = [`contexts: ${cs.length}, φ = Σ_c w_c φ_c${sampled}`];
  cs.forEach((c, i) => {
    const phi = r.final.phiByContext?.[i];
    lines.push(`  ${i} ${c.name}: w = ${c.weight}, S = ${c.S} (states ${c.offset}..${c.offset + c.S - 1})${phi !== undefined ? `, φ_c(x_K) = ${phi}` : ""}`);
  });
  return lines.join("\n") + "\n";
}

/** Why a run counts as diverged (status 'diverged', or a non-finite value that slipped through), or undefined. */
export function nonFinite(result: ExperimentResult): string | undefined {
  if (result.status === "diverged") return result.message ?? "the run diverged";
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

export function summaryLine(result: ExperimentResult, timeMs?: number): string {
  const f = result.final;
  const parts: string[] = [];
  if (f.phi !== undefined) parts.push(`φ(x_K) = ${fmtNum(f.phi)}`);
  if (f.f !== null) parts.push(`f = ${fmtNum(f.f)}`);
  if (f.hnorm !== null) parts.push(`‖ĥ‖ = ${fmtExp(f.hnorm)}`);
  const time = timeMs === undefined ? "" : ` in ${(timeMs / 1000).toFixed(2)} s`;
  const of = `${result.iterations} of ${result.experiment.iterations} iterations`;
  const verb =
    result.status === "interrupted" ? `interrupted after ${of}`
    : result.status === "converged" ? `converged after ${of} (stopTol ${result.experiment.stopTol})`
    : result.status === "diverged" ? `diverged after ${of}`
    : `completed ${result.iterations} iterations`;
  return `${verb}${time}: ${parts.join(", ")}`;
}

export function listFiles(io: CliIO, dir: string, files: readonly WrittenFile[]): void {
  io.out(`wrote ${dir}/\n`);
  const width = Math.max(...files.map((f) => f.path.length));
  for (const f of files) io.out(`  ${f.path.padEnd(width)}  ${f.what}\n`);
}
