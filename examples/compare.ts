// Every bilevel algorithm of the library side by side, from the same start, scored by the
// true hyper-objective φ(x) = f(x, π*_x):
//   * the GridWorld goal-position problem (docs/math.md#grid-goal; default 5 × 5),
//   * the incentive-design problem (docs/math.md#incentive; x ≥ 0 by projection),
//   * tabular RLHF (docs/math.md#rlhf), the one built-in problem with preference labels, where the
//     alternating (deep-RLHF) baseline applies as well.
// Prints one Markdown table per problem and writes them, with the settings used, to
// docs/algorithms.md.
//
//   npm run asbuild && node --import ./scripts/register-wasm.mjs --import tsx examples/compare.ts [--size=N] [--no-write]
//
// Settings: none. Every algorithm runs with its DEFAULT options (only the sampler's seed is
// set), as a user calling `alg.run(problem, { iterations })` would; the problem's budget of
// iterations is the defaults matrix's (examples/defaults.ts, which runs the same on every
// built-in problem and three seeds → docs/defaults.md). The papers' own settings stay one
// option away (`preset: 'paper'`).
//
// SoBiRL needs a trajectory objective: the GridWorld and incentive upper levels are returns,
// so it gets the reward-shaping loss of eq. (12) with N = 1 (`returnLoss`), attached with
// `withTrajectory` (φ stays the exact objective). The alternating baseline applies only
// where the loss is a fit to labels (RLHF): on a return-type loss ∇_x l has no fitting signal.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { init } from "../src/index";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { compareAlgorithms, formatTable, type CompareEntry, type CompareInstance, type CompareRow } from "../src/bilevel/compare";
import { MATRIX_PROBLEMS, applicability } from "./defaults";

interface Setting extends CompareEntry {
  /** What the settings are and why (for the docs). */
  note: string;
}

interface Suite {
  id: string;
  title: string;
  about: string;
  make: () => CompareInstance;
  iterations: number;
  entries: Setting[];
}

// ---------- arguments ----------

const args = process.argv.slice(2);
const WRITE = !args.includes("--no-write");

const backend = await init();

// ---------- problems ----------
// The defaults matrix's instances (examples/defaults.ts), seed 0: the same problems, x_0,
// constraint and, for SoBiRL, the same attached trajectory loss.

const PROBLEM_OF = (name: string) => MATRIX_PROBLEMS.find((p) => p.name === name)!;

function suite(id: string, problem: string, title: string, about: string): Suite {
  const p = PROBLEM_OF(problem);
  const entries: Setting[] = [];
  for (const alg of ALGORITHM_LIST) {
    const how = applicability(alg, p);
    if (!how.applies) continue;
    const options = { ...(alg.info.params.some((q) => q.name === "seed") ? { seed: 0 } : {}), ...(p.constraint ?? {}) };
    entries.push({ name: alg.name, algorithm: alg, options, note: how.via === "withTrajectory" ? "defaults; on the return loss attached by `withTrajectory`" : "defaults" });
  }
  const viaTrajectory = entries.some((e) => e.note.includes("withTrajectory"));
  return {
    id,
    title,
    about,
    // one factory for every entry: the trajectory loss is attached when any entry needs it (it does not change φ or the other methods)
    make: viaTrajectory ? () => p.makeTrajectory!(0) : () => p.make(0),
    iterations: p.iterations,
    entries,
  };
}

// ---------- settings ----------

const suites: Suite[] = [
  suite(
    "grid",
    "gridGoal",
    "GridWorld goal position (docs/math.md#grid-goal), 5 × 5",
    "Slippery 5 × 5 grid (slip 0.1, 5 actions, γ = 0.9, τ = 0.1), start (0, 0), target (4, 2); lower reward r_x(s) = softmax(x)_s (a soft goal, n = 25); " +
      "f = −E_{d̃^π}[1{s = target}] + (μ/2)‖x‖², μ = 1e-3; x_0 = 0.1·N(0, I) (seed 0).",
  ),
  suite(
    "incentive",
    "incentive",
    "Incentive design (docs/math.md#incentive)",
    "S = 8, A = 4, γ = 0.9, τ = 0.1, κ = 1, r_F, r_D ~ N(0, 1), P rows Dirichlet(1) (seed 0); follower reward r_F + x, x ∈ R^{32}; " +
      "f = −J_D(π) + κ Σ d̃_π(s)π(a|s)x(s, a); x_0 = 0 and x ≥ 0: every iterate is projected after its step (the problem's constraint, not a setting).",
  ),
  suite(
    "rlhf",
    "rlhf",
    "Tabular RLHF (docs/math.md#rlhf): where the alternating baseline applies",
    "S = 3, A = 2, γ = 0.9, τ = 1, fragments of H = 2 steps, reward table r_x = x (n = 6), soft Bradley–Terry labels from a hidden r_true (seed 0); " +
      "f = E_{τ1,τ2∼π}[BCE] exactly by enumeration; x_0 = 0.5·N(0, I).",
  ),
];

// ---------- run ----------

const results: { suite: Suite; rows: CompareRow[] }[] = [];
for (const suite of suites) {
  console.log(`\n## ${suite.title}\n`);
  const rows = compareAlgorithms(suite.make, suite.entries, {
    iterations: suite.iterations,
    onRow: (r) => console.error(`  ${suite.id}: ${r.algorithm} → φ ${r.phi0.toFixed(5)} → ${r.phiFinal.toFixed(5)} (${r.timeMs.toFixed(0)} ms)`),
  });
  console.log(formatTable(rows));
  results.push({ suite, rows });
  for (const r of rows) if (!(r.phiFinal < r.phi0)) console.log(`\nWARNING: ${r.algorithm} did not lower φ on ${suite.id}`);
}

if (WRITE) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const file = join(root, "docs", "algorithms.md");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, markdown());
  console.log(`\nwrote ${file}`);
}

function markdown(): string {
  const cpu = cpus();
  const lines: string[] = [
    "# Algorithms side by side",
    "",
    "Every algorithm of the library, run from the same start on the GridWorld goal-position problem (docs/math.md#grid-goal) and on the incentive-design problem (docs/math.md#incentive), " +
      "scored by the true hyper-objective φ(x) = f(x, π*_x) (a tight lower solve, tolerance 1e-10, then the exact upper objective). A third table runs them on tabular RLHF, " +
      "the problem where the alternating baseline applies.",
    "",
    `Generated by \`examples/compare.ts\` on ${new Date().toISOString().slice(0, 10)} with Node ${process.version} (${process.platform}/${process.arch}, ` +
      `${cpu.length} × ${cpu[0]?.model?.trim() ?? "unknown CPU"}), ${backend.simd ? "SIMD" : "scalar"} wasm build:`,
    "",
    "```sh",
    "npm run asbuild",
    `node --import ./scripts/register-wasm.mjs --import tsx examples/compare.ts`,
    "```",
    "",
    "All randomness is seeded, so the φ and counter columns are reproducible; wall times depend on the machine.",
    "",
    "## Columns",
    "",
    "| column | meaning |",
    "|---|---|",
    "| algorithm | the algorithm module (`exactDescent`, `mSoBiRL`, …); a parenthesis names a variant |",
    "| φ(x₀) | the true hyper-objective at the common start x₀ (the same in every row) |",
    "| final φ | φ at the last iterate x_K |",
    "| Δφ | final φ − φ(x₀); negative means the algorithm lowered φ |",
    "| iterations | outer iterations K (one x update each) |",
    "| time (ms) | wall time of the K iterations, without the two φ evaluations |",
    "| sweeps | soft Bellman sweeps (value iteration, M-SoBiRL's tracking sweeps) |",
    "| solves | linear solves with (I − γP_π) or its transpose: policy evaluations, occupancies, implicit-function systems |",
    "| solves in f | the part of *solves* made inside evaluations of the upper objective f, ∂f/∂x, ∂f/∂π. These problems' f is a return under π, so each evaluation is a policy evaluation; it is the objective's cost, not the method's (M-SoBiRL and the model-free methods make no other solves) |",
    "| sampled steps | environment steps drawn by the trajectory sampler (rollouts, TD batches, upper trajectories) |",
    "",
    "Per iteration, the counters follow from each method: `exactDescent` makes one transposed solve (plus the objective's), `mSoBiRL` at most N sweeps and no solve of its own, " +
      "`soBiRL` (fully model-free) only samples, `pbrl` and `parl` evaluate policies by solves, `actorCritic` with TD critics only samples, `phiSigma` (exact) makes 4(n + 1) solves.",
    "",
  ];
  for (const { suite, rows } of results) {
    lines.push(`## ${suite.title}`, "", suite.about, "", formatTable(rows), "");
    lines.push(`Settings: every algorithm at its defaults, ${iterationsOf(suite)} iterations; status: ${rows.map((r) => `${r.algorithm} ${r.status}`).join(", ")}.`);
    for (const r of rows) if (r.message) lines.push("", `${r.algorithm}: ${r.message}`);
    lines.push("");
  }
  lines.push(
    "## Notes",
    "",
    "* **Defaults only.** No row has a setting chosen for its problem: each algorithm's step rule adapts to the problem (see each module's doc comment and " +
      "docs/math.md#defaults), and `preset: 'paper'` restores the authors' settings. docs/defaults.md runs the same on every built-in problem and three seeds.",
    "* **Trajectory objective for SoBiRL.** The GridWorld and incentive upper levels are returns, so SoBiRL uses the reward-shaping loss of eq. (12) with N = 1, " +
      "`returnLoss` (truncated where γ^H < 1e-4), attached with `withTrajectory`. φ is always the exact objective.",
    "* **No alternating baseline on the GridWorld and incentive problems.** It fits x to the loss on data from the current policy, x ← x − β E_π[∇_x l], " +
      "and ignores how π*_x moves with x; for a return-type loss ∇_x l holds no fitting signal. It needs preference labels; it runs on the RLHF table.",
    "* **Projection.** Incentive design needs x ≥ 0 (otherwise a uniform negative x charges the follower without changing its policy and φ → −∞). It is the problem's " +
      "constraint: every algorithm gets `project: 'nonnegative'` (those with a native projection search along the feasible path) and the comparison projects after each step.",
    "* **Different end points are expected.** φ is non-convex: methods that converge can stop at different stationary points, and the sampled methods' iterates keep moving.",
    "",
  );
  return lines.join("\n");
}

function iterationsOf(suite: Suite): string {
  const special = suite.entries.filter((e) => e.iterations !== undefined).map((e) => `${e.name} ${e.iterations}`);
  return special.length ? `${suite.iterations}; ${special.join(", ")}` : String(suite.iterations);
}


