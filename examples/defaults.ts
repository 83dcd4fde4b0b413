// The defaults matrix (docs/defaults.md): every algorithm × every built-in bilevel problem it
// applies to × three seeds, with the algorithm's DEFAULT options only, scored by the true
// hyper-objective φ(x) = f(x, π*_x):
//
//   gap closed = (φ(x_0) − φ(x_K)) / (φ(x_0) − φ_best),
//
// φ_best being the lowest φ(x_K) any algorithm reached on that instance (problem and seed).
// The seed s is the experiment's master seed: it draws the instance and seeds the algorithm's
// sampler or w_0 (the `seed` option, where an algorithm has one), as an experiment file with
// `"seed": s` would. A problem's constraint is part of the problem, not a setting: the
// incentive problem's x ≥ 0 is passed as `project: 'nonnegative'` (the algorithms project
// natively, so their step rules search along the feasible path) and compareAlgorithms also
// projects after every step (a no-op for those that did).
//
// The trajectory methods (soBiRL, alternating) need a trajectory objective: they run natively on
// rlhf and happyText; soBiRL also runs on the problems whose upper level is a return (gridGoal,
// incentive, shaping) through `withTrajectory` with the reward-shaping loss of eq. (12)
// (`returnLoss`, truncated where γ^H < 1e-4). Everywhere else a cell says why it does not apply.
//
//   node --import ./scripts/register-wasm.mjs --import tsx examples/defaults.ts [--no-write] [--problems=a,b] [--seeds=0,1,2] [--algorithms=a,b] [--iterations=K] [--options=JSON] [--from=docs/defaults.json]
//
// tests/defaults.test.ts runs the same cells (runDefaultsCell) and checks the thresholds.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import type { RunStatus, XProjection } from "../src/bilevel/algorithms/common";
import { compareAlgorithms, returnLoss, withTrajectory, type CompareInstance } from "../src/bilevel/compare";
import { additiveReward, e1, gridGoal, happyText, incentive, init, rlhf, shaping, stackelberg } from "../src/index";
import { hypergradient, phi } from "../src/bilevel/hypergradient";
import type { BilevelProblem } from "../src/bilevel/problem";
import { conjugateGradient } from "../src/linalg";
import { gradientMapping } from "../src/bilevel/algorithms/update";

type AnyAlgorithm = (typeof ALGORITHM_LIST)[number];

/** One built-in problem of the matrix: its builder per seed and its iteration budget. */
export interface MatrixProblem {
  name: string;
  /** Outer iterations every algorithm gets on this problem. */
  iterations: number;
  /** The instance for seed s (x_0 and constraint included). */
  make(seed: number): CompareInstance;
  /** The instance with a return-type trajectory loss attached (for soBiRL), when the upper level is a return. */
  makeTrajectory?(seed: number): CompareInstance;
  /** The upper objective is a trajectory objective natively. */
  trajectory: boolean;
  /** The problem's constraint as algorithm options (`project`), for the algorithms that project natively; compareAlgorithms also projects after every step. */
  constraint?: Record<string, unknown>;
  /** A remark printed under the problem's table (what a reader needs to read its rows). */
  note?: string;
  /** Preference problems: the instance and the reward its labels come from (r_label, S·A), for `outsideConditions`. */
  labels?(seed: number): { problem: BilevelProblem; x0: Float64Array; rLabel: Float64Array };
}

/** The problems of the matrix, in the table's order, with their iteration budgets. */
export const MATRIX_PROBLEMS: readonly MatrixProblem[] = [
  {
    name: "gridGoal",
    iterations: 200,
    trajectory: false,
    make: (seed) => gridGoal({ seed }),
    makeTrajectory(seed) {
      const g = gridGoal({ seed });
      const { rU } = g.problem.upper as unknown as { rU: Float64Array };
      const loss = returnLoss({ reward: rU, gamma: g.problem.mdp.gamma, lambda: 1e-3 }); // gridGoal's default μ
      return { problem: withTrajectory(g.problem, loss), x0: g.x0 };
    },
  },
  {
    name: "incentive",
    iterations: 200,
    trajectory: false,
    constraint: { project: "nonnegative" },
    note: "Seeds 0 and 1 have designs below every run here, behind doors that are flat at τ: on seed 1 the methods stop at 0.301, where ∂φ/∂x(2,2) = −6·10⁻⁷ (the follower's action 2 in state 2 weighs e^{−ΔQ/τ}); SoBiRL's sampled steps went through once (0.0753). A temperature continuation (half the budget at 3τ, then τ) reaches −2.637 on seed 0 and −0.93 on seed 1, but loses on other problems, so it is not a default (docs/continuation.md, docs/math.md#tau-continuation). φ_best stays the best run at the defaults, as the issue defines it.",
    make: (seed) => incentive({ seed }),
    makeTrajectory(seed) {
      const inc = incentive({ seed });
      const loss = returnLoss({ reward: additiveReward(inc.rD, -inc.kappa), gamma: inc.problem.mdp.gamma });
      return { problem: withTrajectory(inc.problem, loss), x0: inc.x0, project: inc.project };
    },
  },
  { name: "e1", iterations: 200, trajectory: false, make: (seed) => e1({ seed }) },
  { name: "stackelberg", iterations: 200, trajectory: false, make: (seed) => stackelberg({ seed }) },
  {
    name: "shaping",
    iterations: 200,
    trajectory: false,
    make: (seed) => shaping({ seed }),
    makeTrajectory(seed) {
      const sh = shaping({ seed });
      const loss = returnLoss({ reward: sh.rTrue, gamma: sh.problem.mdp.gamma, lambda: 0.01 }); // shaping's default μ
      return { problem: withTrajectory(sh.problem, loss), x0: sh.x0 };
    },
  },
  {
    name: "rlhf",
    iterations: 200,
    trajectory: true,
    make: (seed) => rlhf({ seed }),
    labels(seed) {
      const r = rlhf({ seed });
      return { problem: r.problem, x0: r.x0, rLabel: r.objective.rTrue };
    },
  },
  {
    name: "happyText",
    iterations: 200,
    trajectory: true,
    note: "The instance does not depend on the seed (x₀ = 0; the seed draws x₀ only when x0Scale > 0): seeds 0–2 differ only in the sampled methods' draws. It is symmetric under swapping \"happy\" and \"great\" (the same lexicon score), and exact descent kept symmetric stops at φ = 0.4463 (gap 0.93 against this table's φ_best): every run here that ends lower has broken that symmetry, through rounding errors that long steps amplify (docs/math.md#happy-text).",
    make: (seed) => happyText({ seed }),
    labels(seed) {
      const h = happyText({ seed });
      return { problem: h.problem, x0: h.x0, rLabel: h.objective.rTrue };
    },
  },
];

/** Whether an algorithm applies to a problem, and how (natively or through withTrajectory), or why not. */
export function applicability(alg: AnyAlgorithm, p: MatrixProblem): { applies: true; via: "native" | "withTrajectory" } | { applies: false; why: string } {
  if (!alg.info.needsTrajectory) return { applies: true, via: "native" };
  if (p.trajectory) return { applies: true, via: "native" };
  if (alg.name === "alternating") return { applies: false, why: "fits a reward to labels; a return-type loss has no fitting signal (docs/math.md#alternating)" };
  if (p.makeTrajectory) return { applies: true, via: "withTrajectory" };
  return { applies: false, why: "needs a trajectory objective; the upper level is not a return" };
}

/** One cell of the matrix. */
export interface MatrixCell {
  problem: string;
  seed: number;
  algorithm: string;
  via: "native" | "withTrajectory";
  iterations: number;
  status: RunStatus;
  message?: string;
  phi0: number;
  phiK: number;
  timeMs: number;
  sweeps: number;
  solves: number;
  sampledSteps: number;
  /**
   * Stationarity at x_K: ‖x_K − P(x_K − ∇φ(x_K))‖₂ (exact ∇φ; P the problem's projection) divided
   * by the same at x₀. Near 0: a stationary point of φ, so a shortfall there is another basin; near
   * 1 or above: the run had not converged.
   */
  stationarity: number;
  /** Set when the method is outside its conditions on this instance (`outsideConditions`): not scored against the target. */
  outside?: string;
  /** Filled by `scoreCells`: the instance's best φ and this cell's share of the gap. */
  phiBest?: number;
  gap?: number;
}

/**
 * The reward-model parameters that reproduce the labels' reward, x_fit = argmin ‖R x − r_label‖₂
 * (R the linear reward model's Jacobian; CG on the normal equations from 0, so the least-norm
 * solution). When the residual is 0, R_x_fit differs from r_label by nothing, so every pair's
 * return difference, hence every label, is fitted exactly: the point the alternating baseline
 * converges to with enough data (docs/math.md#alternating-conditions; its λ‖x‖² aside).
 */
export function labelFit(problem: BilevelProblem, rLabel: Float64Array): { x: Float64Array; residual: number } {
  const zero = new Float64Array(problem.n);
  const RtR = (v: Float64Array) => problem.vjp(zero, problem.jvp(zero, v));
  const { u } = conjugateGradient(RtR, problem.vjp(zero, rLabel), 10 * problem.n, 1e-14);
  const r = problem.jvp(zero, u);
  let num = 0, den = 0;
  for (let i = 0; i < r.length; i++) { num += (r[i] - rLabel[i]) ** 2; den += rLabel[i] ** 2; }
  return { x: u, residual: Math.sqrt(num / (den || 1)) };
}

/**
 * Whether a method is outside its conditions on an instance, measured (the "where a method
 * is outside its conditions on a problem, say so in the table rather than tune it"); the reason,
 * or undefined. One condition today (docs/math.md#alternating-conditions): the alternating
 * baseline aims at a reward that fits the labels, so it applies where fitting the labels lowers
 * φ, φ(x_fit) < φ(x₀). Other methods descend on φ itself and are always inside.
 */
export function outsideConditions(alg: AnyAlgorithm, p: MatrixProblem, seed: number): string | undefined {
  if (alg.name !== "alternating" || !p.labels) return undefined;
  const { problem, x0, rLabel } = p.labels(seed);
  const fit = labelFit(problem, rLabel);
  const phiFit = phi(problem, fit.x).value, phi0 = phi(problem, x0).value;
  if (phiFit < phi0) return undefined;
  return `fitting the labels raises φ here: at the reward that fits every label (x_fit, residual ${fit.residual.toExponential(0)}) φ = ${phiFit.toFixed(4)} ≥ φ(x₀) = ${phi0.toFixed(4)}, and alternating's fixed points fit the labels (docs/math.md#alternating-conditions)`;
}

/** The only options a matrix cell sets: the sampler's seed (where the algorithm has one) and the problem's constraint. */
export function cellOptions(alg: AnyAlgorithm, p: MatrixProblem, seed: number): Record<string, unknown> {
  return { ...(alg.info.params.some((q) => q.name === "seed") ? { seed } : {}), ...(p.constraint ?? {}) };
}

/** Run one algorithm at its defaults on one instance. */
export function runDefaultsCell(alg: AnyAlgorithm, p: MatrixProblem, seed: number, iterations = p.iterations, extra: Record<string, unknown> = {}): MatrixCell {
  const how = applicability(alg, p);
  if (!how.applies) throw new Error(`${alg.name} does not apply to ${p.name}: ${how.why}`);
  const options: Record<string, unknown> = { ...cellOptions(alg, p, seed), ...extra };
  const make = how.via === "withTrajectory" ? () => p.makeTrajectory!(seed) : () => p.make(seed);
  const [row] = compareAlgorithms(make, [{ name: alg.name, algorithm: alg, options }], { iterations });
  const native = p.make(seed), project = (p.constraint?.project ?? "none") as XProjection;
  const G = (x: ArrayLike<number>) => gradientMapping(x, hypergradient(native.problem, Float64Array.from(x), { method: "exact" }).grad, project);
  const stationarity = row.status === "diverged" ? NaN : G(row.x) / G(native.x0 ?? new Float64Array(row.x.length));
  const outside = outsideConditions(alg, p, seed);
  return {
    problem: p.name,
    seed,
    algorithm: alg.name,
    via: how.via,
    iterations: row.iterations,
    status: row.status,
    ...(row.message !== undefined ? { message: row.message } : {}),
    phi0: row.phi0,
    phiK: row.phiFinal,
    timeMs: row.timeMs,
    sweeps: row.sweeps,
    solves: row.solves,
    sampledSteps: row.sampledSteps,
    stationarity,
    ...(outside !== undefined ? { outside } : {}),
  };
}

/** Fill φ_best (per problem and seed, over the cells given) and each cell's gap closed. */
export function scoreCells(cells: MatrixCell[]): MatrixCell[] {
  const best = new Map<string, number>();
  for (const c of cells) {
    const key = `${c.problem}/${c.seed}`;
    if (Number.isFinite(c.phiK)) best.set(key, Math.min(best.get(key) ?? Infinity, c.phiK));
  }
  for (const c of cells) {
    const b = best.get(`${c.problem}/${c.seed}`) ?? NaN;
    c.phiBest = b;
    c.gap = c.phi0 - b > 0 ? (c.phi0 - c.phiK) / (c.phi0 - b) : c.phiK <= c.phi0 ? 1 : 0;
    if (!Number.isFinite(c.phiK)) c.gap = NaN;
  }
  return cells;
}

/** The sampled methods: their gap threshold is 0.8, the others' 0.95 (issue "defaults"). */
export const SAMPLED = new Set(["soBiRL", "alternating"]);

/** The gap-closed target of an algorithm: 0.8 for the sampled methods, 0.95 for the others. */
export const gapTarget = (algorithm: string): number => (SAMPLED.has(algorithm) ? 0.8 : 0.95);

/** A cell known to miss its gap threshold at the defaults, with the reason (tests/defaults.test.ts asserts it is still short). */
export interface OpenShortfall {
  problem: string;
  algorithm: string;
  seeds: number[];
  why: string;
}

/** The cells that miss the gap target today (the issue stays open for them); see docs/defaults.md. */
export const OPEN_SHORTFALLS: readonly OpenShortfall[] = [
  // Another basin: the run ends at a stationary point of φ (‖G(x_K)‖/‖G(x₀)‖ ≤ 0.013) above the best.
  { problem: "incentive", algorithm: "exactDescent", seeds: [1], why: "another basin: stationary at φ = 0.3014 (‖G‖ ratio 5e-4; the same φ at K = 1000); soBiRL's sampled steps reached a lower basin (0.0753), whose door is flat at τ (∂φ/∂x(2,2) = −6e-7; docs/math.md#tau-continuation)" },
  { problem: "incentive", algorithm: "phiSigma", seeds: [1], why: "exact descent's basin: φ = 0.3018 (‖G‖ ratio 0.11) against its stationary 0.3014; soBiRL reached a lower basin (0.0753)" },
  { problem: "incentive", algorithm: "actorCritic", seeds: [1], why: "φ = 0.3016, within 0.07% of exact descent's stationary 0.3014 (‖G‖ ratio 0.068); soBiRL reached a lower basin (0.0753)" },
  { problem: "incentive", algorithm: "parl", seeds: [1], why: "exact descent's basin: φ = 0.3014 (‖G‖ ratio 0.007), exact descent's stationary value; soBiRL reached a lower basin (0.0753)" },
  { problem: "incentive", algorithm: "pbrl", seeds: [1], why: "exact descent's basin: φ = 0.304 (‖G‖ ratio 0.29) against its stationary 0.3014, gap 0.893; soBiRL reached a lower basin (0.0753)" },
  { problem: "stackelberg", algorithm: "pbrl", seeds: [0], why: "another basin: −7.211 (‖G‖ ratio 0.12; with lambdaTol 0.02, λ up to 640: −7.214, ratio 0.015) where exact descent reaches −7.744; a nonmonotone test in its search changes nothing there (docs/math.md#pbrl-lbfgs)" },
  { problem: "stackelberg", algorithm: "phiSigma", seeds: [1], why: "another basin: stationary at −8.766 (‖G‖ ratio 0.003) where exact descent reaches −9.417" },
  // Slow: not stationary at K = 200.
  { problem: "incentive", algorithm: "mSoBiRL", seeds: [1], why: "another basin: φ = 0.3021 (‖G‖ ratio 0.055), exact descent's stationary 0.3014; soBiRL reached a lower basin (0.0753)" },
  { problem: "stackelberg", algorithm: "mSoBiRL", seeds: [0], why: "slow: follows the narrow valley monotone exact descent also follows (φ = −7.20 at K = 200, ‖G‖ ratio 0.21; −7.39 at K = 1000); spectral exact descent's −7.74 lies in another basin; the lag rule keeps the moves too short to leave it, and no throttle changed alone closes it without costing another cell or resting on a tolerance window (docs/math.md#m-sobirl-spectral)" },
  { problem: "happyText", algorithm: "phiSigma", seeds: [0, 1, 2], why: "ends at φ = 0.475 (‖G‖ ratio 0.07; 0.453 at K = 320) in a slower region than exact descent: its first estimates are inexact (at n = 20 one pointed uphill, cos −0.95). With accurate estimates from the first move (n at its cap, or a test on the true error) it reaches 0.4405, but then stackelberg ends in worse basins (gaps 0.65–0.90); the target also needs the happy↔great symmetry of the instance broken (docs/math.md#phi-sigma-inexact, #happy-text)" },
  { problem: "happyText", algorithm: "actorCritic", seeds: [0, 1, 2], why: "circles on the plateau (φ 0.51–0.55 from k = 50; 0.529 at K = 200, ‖G‖ ratio 0.97): ĥ, w_k times the actors' lag off, turns against ∇φ every few iterations; the target (φ ≤ 0.4445) also needs the happy↔great symmetry of the instance broken (exact descent kept symmetric stops at 0.4463, gap 0.943), which exact descent gets from rounding errors its long steps amplify (docs/math.md#actor-critic)" },
];

// ---------------------------------------------------------------------------------------
// the document

const fmt = (v: number | undefined, d = 4) => (v === undefined || !Number.isFinite(v) ? "—" : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(d));

function markdown(cells: MatrixCell[], seeds: number[], problems: readonly MatrixProblem[], algorithms: readonly AnyAlgorithm[], totalMs: number, engine: string): string {
  const lines: string[] = [];
  lines.push("# Defaults matrix");
  lines.push("");
  lines.push("Generated by `node --import ./scripts/register-wasm.mjs --import tsx examples/defaults.ts` (do not edit by hand).");
  lines.push("Every algorithm at its **default options** (only the master seed is set, as an experiment file's `seed`)");
  lines.push("on every built-in bilevel problem it applies to, seeds " + seeds.join(", ") + ". Scored by the exact φ(x) = f(x, π*_x).");
  lines.push("`gap` = (φ(x₀) − φ_K)/(φ(x₀) − φ_best), φ_best the lowest φ_K any algorithm reached on that instance;");
  lines.push("targets: ≥ 0.95 for the exact and model-based methods, ≥ 0.8 for the sampled ones (" + [...SAMPLED].join(", ") + "),");
  lines.push("no `diverged`, φ_K ≤ φ(x₀) (tests/defaults.test.ts checks each cell). The incentive problem's x ≥ 0 is its");
  lines.push("constraint, passed as `project: 'nonnegative'` and applied after each step. `via withTrajectory`: soBiRL on a return-type upper level, with the");
  lines.push("reward-shaping loss of eq. (12) attached (`returnLoss`); φ stays the exact objective.");
  lines.push("`‖G(x_K)‖/‖G(x₀)‖`: the projected gradient ‖x − P(x − ∇φ(x))‖₂ of the exact ∇φ at the last iterate over the same at x₀;");
  lines.push("near 0 the run ended at a stationary point of φ (a shortfall there is another basin), near 1 it had not converged.");
  lines.push("");
  lines.push(`Engine: ${engine}. Total time ${(totalMs / 1000).toFixed(1)} s.`);
  lines.push("");
  lines.push("## Summary: the worst gap closed over the seeds");
  lines.push("");
  lines.push("| algorithm | " + problems.map((p) => `${p.name} (K = ${p.iterations})`).join(" | ") + " |");
  lines.push("|---|" + problems.map(() => "---:").join("|") + "|");
  for (const a of algorithms) {
    const row = problems.map((p) => {
      const how = applicability(a, p);
      if (!how.applies) return "n/a";
      const cs = cells.filter((c) => c.problem === p.name && c.algorithm === a.name);
      if (cs.length === 0) return "—";
      const gapOf = (c: MatrixCell) => (Number.isFinite(c.gap!) ? c.gap! : -Infinity);
      const worst = Math.min(...cs.map(gapOf));
      const scored = cs.filter((c) => c.outside === undefined);
      const bad = cs.some((c) => c.status === "diverged") ? " **diverged**" : "";
      const target = gapTarget(a.name);
      const mark = (scored.length === 0 || Math.min(...scored.map(gapOf)) >= target) && !bad ? "" : " ✗";
      const outside = scored.length < cs.length ? " ○" : "";
      return `${fmt(worst, 3)}${bad}${mark}${outside}`;
    });
    lines.push(`| ${a.name} | ${row.join(" | ")} |`);
  }
  lines.push("");
  lines.push("n/a: " + [...new Set(problems.flatMap((p) => algorithms.map((a) => ({ a, how: applicability(a, p) })).filter((x) => !x.how.applies).map((x) => `${x.a.name}: ${(x.how as { why: string }).why}`)))].join("; ") + ".");
  const outside = cells.filter((c) => c.outside !== undefined);
  if (outside.length) lines.push("○: outside the method's conditions on that problem, measured on every seed (below); not scored against the target, still held to no divergence and φ_K ≤ φ(x₀).");
  lines.push("");
  if (outside.length) {
    lines.push("## Outside the method's conditions (measured, not tuned)");
    lines.push("");
    // one line per (algorithm, problem, reason), with its seeds
    const groups = new Map<string, number[]>();
    for (const c of outside) {
      const line = `- ${c.algorithm} on ${c.problem}, seeds %s: ${c.outside}`;
      groups.set(line, [...(groups.get(line) ?? []), c.seed]);
    }
    for (const [line, seeds] of groups) lines.push(line.replace("%s", seeds.join(", ")));
    lines.push("");
  }
  if (OPEN_SHORTFALLS.length) {
    lines.push("## Open shortfalls (below the gap target at the defaults)");
    lines.push("");
    for (const o of OPEN_SHORTFALLS) lines.push(`- ${o.algorithm} on ${o.problem}, seeds ${o.seeds.join(", ")}: ${o.why}`);
    lines.push("");
  }
  // the same scores against a reference a local method reaches from x₀: exact descent's φ_K
  const exact = new Map(cells.filter((c) => c.algorithm === "exactDescent").map((c) => [`${c.problem}/${c.seed}`, c.phiK]));
  if (exact.size) {
    lines.push("## For comparison: the gap against exact descent's φ_K (not the issue's measure)");
    lines.push("");
    lines.push("The same runs scored against exact descent's own φ_K on each instance, (φ(x₀) − φ_K)/(φ(x₀) − φ_exact), instead of the best φ any");
    lines.push("method reached: a reference that a local method reaches from x₀. Above 1 when a method ends below exact descent. Shown for the");
    lines.push("planners' question on the measure; the targets and tests use the issue's measure above. ✗: below the same thresholds.");
    lines.push("");
    lines.push("| algorithm | " + problems.map((p) => p.name).join(" | ") + " |");
    lines.push("|---|" + problems.map(() => "---:").join("|") + "|");
    for (const a of algorithms) {
      if (a.name === "exactDescent") continue;
      const row = problems.map((p) => {
        const cs = cells.filter((c) => c.problem === p.name && c.algorithm === a.name && c.outside === undefined);
        if (!applicability(a, p).applies) return "n/a";
        if (cs.length === 0) return "—";
        const g = cs.map((c) => {
          const ref = exact.get(`${c.problem}/${c.seed}`) ?? NaN;
          return c.phi0 - ref > 0 ? (c.phi0 - c.phiK) / (c.phi0 - ref) : NaN;
        });
        const worst = Math.min(...g.map((v) => (Number.isFinite(v) ? v : Infinity)));
        return worst === Infinity ? "—" : `${fmt(worst, 3)}${worst < gapTarget(a.name) ? " ✗" : ""}`;
      });
      lines.push(`| ${a.name} | ${row.join(" | ")} |`);
    }
    lines.push("");
  }
  for (const p of problems) {
    lines.push(`## ${p.name}`);
    lines.push("");
    lines.push("| algorithm | seed | φ(x₀) | φ_K | φ_best | gap | ‖G(x_K)‖/‖G(x₀)‖ | iterations | status | time (ms) | sweeps | solves | sampled steps |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
    for (const a of algorithms) {
      for (const c of cells.filter((c) => c.problem === p.name && c.algorithm === a.name)) {
        const name = c.via === "withTrajectory" ? `${a.name} (via withTrajectory)` : a.name;
        lines.push(`| ${name} | ${c.seed} | ${fmt(c.phi0)} | ${fmt(c.phiK)} | ${fmt(c.phiBest)} | ${fmt(c.gap, 3)} | ${fmt(c.stationarity, 3)} | ${c.iterations} | ${c.status}${c.outside !== undefined ? " (outside ○)" : ""} | ${c.timeMs.toFixed(0)} | ${c.sweeps} | ${c.solves} | ${c.sampledSteps} |`);
      }
    }
    if (p.note) lines.push("", p.note);
    const msgs = cells.filter((c) => c.problem === p.name && c.status === "diverged");
    for (const c of msgs) lines.push(`\n${c.algorithm}, seed ${c.seed}: ${c.message}`);
    lines.push("");
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------
// main

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const args = process.argv.slice(2);
  const list = (flag: string) => args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3).split(",");
  const seeds = (list("seeds") ?? ["0", "1", "2"]).map(Number);
  const wanted = list("problems");
  const problems = MATRIX_PROBLEMS.filter((p) => !wanted || wanted.includes(p.name));
  const wantedAlgs = list("algorithms");
  const algorithms = ALGORITHM_LIST.filter((a) => !wantedAlgs || wantedAlgs.includes(a.name));
  const kOverride = list("iterations")?.map(Number)[0];
  // diagnostics only (the matrix itself is defaults-only): options given to every algorithm
  const extra = JSON.parse(args.find((a) => a.startsWith("--options="))?.slice(10) ?? "{}") as Record<string, unknown>;
  const backend = await init();
  const t0 = performance.now();
  // --from=docs/defaults.json: re-render saved cells (after editing OPEN_SHORTFALLS or the layout) without running them
  const from = args.find((a) => a.startsWith("--from="))?.slice(7);
  const cells: MatrixCell[] = from ? (JSON.parse(readFileSync(from, "utf8")) as MatrixCell[]) : [];
  for (const p of from ? [] : problems) {
    for (const seed of seeds) {
      for (const a of algorithms) {
        if (!applicability(a, p).applies) continue;
        const c = runDefaultsCell(a, p, seed, kOverride ?? p.iterations, extra);
        cells.push(c);
        console.error(`${p.name} seed ${seed} ${a.name}: φ0 ${fmt(c.phi0)} → ${fmt(c.phiK)} (${c.status}, ${c.timeMs.toFixed(0)} ms)`);
      }
    }
  }
  // conditions are a property of the instance, not of the run: re-measured for saved cells too
  if (from) {
    for (const c of cells) {
      const a = ALGORITHM_LIST.find((x) => x.name === c.algorithm), p = MATRIX_PROBLEMS.find((x) => x.name === c.problem);
      const why = a && p ? outsideConditions(a, p, c.seed) : undefined;
      if (why === undefined) delete c.outside;
      else c.outside = why;
    }
  }
  scoreCells(cells);
  const engine = `Node ${process.version}, ${backend.simd ? "SIMD" : "scalar"} build`;
  const totalMs = from ? cells.reduce((t, c) => t + c.timeMs, 0) : performance.now() - t0;
  const md = markdown(cells, seeds, problems, algorithms, totalMs, engine);
  console.log(md);
  if (!args.includes("--no-write")) {
    const out = args.find((a) => a.startsWith("--out="))?.slice(6) ?? join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "defaults.md");
    writeFileSync(out, md + "\n");
    writeFileSync(out.replace(/\.md$/, ".json"), JSON.stringify(cells, null, 1) + "\n");
    console.error(`wrote ${out}`);
  }
}
