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
// Settings. The defaults of docs/math.md#defaults are [CONSTRUCTED] starting points (only
// M-SoBiRL's come from the authors' code, for a different problem), so every algorithm got
// its step sizes tuned by hand on each problem: the largest step (among a few powers of
// ~3) that lowers φ steadily, and enough iterations for φ to level off. Everything random
// is seeded (problem instances: seed 0; samplers: seed 1), so a rerun gives the same φ
// columns bit for bit; only the wall times change. The GridWorld settings were tuned on the
// default 5 × 5 grid; --size=N reuses them (on 4 × 4, for one, the Richardson M-SoBiRL
// variant's β = 3 is too large and φ rises).
//
// SoBiRL needs a trajectory objective. Both problems' upper levels are returns, so they
// get the reward-shaping loss of eq. (12) with N = 1 (`returnLoss`):
//   GridWorld  l = −Σ_{t<H} γ^t 1{s_t = target} + (μ/2)‖x‖²
//   incentive  l = −Σ_{t<H} γ^t (r_D − κx)(s_t, a_t)
// truncated at H = ⌈log(1e-4)/log γ⌉ = 88 steps (γ = 0.9), attached to the problem with
// `withTrajectory`, which keeps the exact objective for φ and for the other methods.
//
// The alternating baseline is left out of those two problems: it only fits the reward to the
// loss on data drawn from the current policy, x ← x − β E_π[∇_x l], ignoring how π moves
// with x. For a return-type loss ∇_x l contains no fitting signal: on the GridWorld it is
// μx (weight decay of x), on the incentive problem κ Σ_t γ^t e_{(s_t,a_t)} ≥ 0, which the
// projection onto x ≥ 0 cancels from x_0 = 0. It needs a loss whose x-dependence is a fit
// to labels, i.e. preferences; it runs on the RLHF problem.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  actorCritic,
  alternating,
  exactDescent,
  gridGoal,
  additiveReward,
  incentive,
  init,
  mSoBiRL,
  parl,
  pbrl,
  phiSigma,
  rlhf,
  soBiRL,
} from "../src/index";
import { compareAlgorithms, formatTable, returnLoss, withTrajectory, type CompareEntry, type CompareInstance, type CompareRow } from "../src/bilevel/compare";

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
const sizeArg = args.find((a) => a.startsWith("--size="));
const SIZE = sizeArg ? Number(sizeArg.slice(7)) : 5;
if (!Number.isInteger(SIZE) || SIZE < 2) throw new Error(`--size must be an integer ≥ 2, got ${sizeArg}`);
const WRITE = !args.includes("--no-write");

const backend = await init();

// ---------- problems ----------

const MU = 1e-3; // gridGoal's default weight of (μ/2)‖x‖²

/** GridWorld goal position (docs/math.md#grid-goal), with the reward-shaping trajectory loss attached for SoBiRL. */
function gridProblem(): CompareInstance {
  const g = gridGoal({ size: SIZE, mu: MU });
  const { rU } = g.problem.upper as unknown as { rU: Float64Array }; // upperReturn's r_U = 1{s = target}
  const loss = returnLoss({ reward: rU, gamma: g.problem.mdp.gamma, lambda: MU });
  return { problem: withTrajectory(g.problem, loss), x0: g.x0 };
}

/** Incentive design (docs/math.md#incentive), with l = −Σ γ^t (r_D − κx)(s_t, a_t) attached; x ≥ 0 by projection. */
function incentiveProblem(): CompareInstance {
  const inc = incentive();
  // the designer's net reward r_D − κx
  const net = additiveReward(inc.rD, -inc.kappa);
  const loss = returnLoss({ reward: net, gamma: inc.problem.mdp.gamma });
  return { problem: withTrajectory(inc.problem, loss), x0: inc.x0, project: inc.project };
}

/** Tabular RLHF (docs/math.md#rlhf): S = 3, A = 2, H = 2, τ = 1, Bradley–Terry labels; f exact by enumeration. */
function rlhfProblem(): CompareInstance {
  const r = rlhf();
  return { problem: r.problem, x0: r.x0 };
}

const zeros = (n: number) => new Array(n).fill(0);
const S_GRID = SIZE * SIZE;

// ---------- settings ----------

const suites: Suite[] = [
  {
    id: "grid",
    title: `GridWorld goal position (docs/math.md#grid-goal), ${SIZE} × ${SIZE}`,
    about:
      `Slippery ${SIZE} × ${SIZE} grid (slip 0.1, 5 actions, γ = 0.9, τ = 0.1), start (0, 0), target (${SIZE - 1}, ${Math.floor(SIZE / 2)}); ` +
      `lower reward r_x(s) = softmax(x)_s (a soft goal, n = ${S_GRID}); f = −E_{d̃^π}[1{s = target}] + (μ/2)‖x‖², μ = 1e-3; ` +
      "x_0 = 0.1·N(0, I) (seed 0).",
    make: gridProblem,
    iterations: 200,
    entries: [
      { name: "exactDescent", algorithm: exactDescent, options: { beta: 3 }, note: "β = 3; lower solve by soft VI to 1e-10 (warm-started), one transposed LU solve per ∇φ." },
      {
        name: "mSoBiRL",
        algorithm: mSoBiRL,
        options: { beta: 1, w0: zeros(S_GRID) },
        note: "β = 1, ζ = 0.5, N = 10 sweeps (early stop 1e-6), least-squares w-step (Algorithm 1), w_0 = 0. With the authors' w_0 ~ N(0, I) the error of w_0 dominates ĥ_k for ~100 iterations (‖ĥ_0‖ = 1.5 against ‖∇φ(x_0)‖ = 0.094); that pushes the soft goal away from the target, where ∇φ vanishes, and φ ends at +0.04 to +0.06 for every β in {0.03, 0.1, 0.3, 1, 3}. The outcome is not monotone in β: at β = 2 the early ĥ_k (lagging lower policy) overshoot, φ(x_50) = +3.05, and φ is back to only −0.42 at k = 200.",
      },
      {
        name: "mSoBiRL (Richardson w-step)",
        algorithm: mSoBiRL,
        options: { beta: 3, w0: zeros(S_GRID), wStep: "richardson" },
        note: "As above with w ← b + γP_πᵀw (not in the paper; contracts by γ per iteration), β = 3.",
      },
      {
        name: "soBiRL",
        algorithm: soBiRL,
        options: { beta: 1, evaluation: "monte-carlo", Mq: 8, derivative: "rollout", Md: 8, groups: 64, seed: 1 },
        note: "Fully model-free: β = 1; T = 5 PMD steps (η = 1/τ) with Monte-Carlo soft Q (M_q = 8 rollouts per pair, T_q = 66); ∂Q̂, ∂V̂ by M_d = 8 rollouts (T_d = 66); M_u = 64 trajectories of H = 88 steps; running-mean baseline.",
      },
      {
        name: "pbrl",
        algorithm: pbrl,
        options: { lambda: 10, alpha: 3 },
        note: "Value penalty, λ = 10, softmax-logit policy, T = 5 PMD steps for π̂ (exact soft evaluation), backtracking from α = 3 (from the default 1/(1+λ), φ is only at −3.46 after 500 iterations).",
      },
      { name: "parl", algorithm: parl, options: { beta: 1 }, note: "β = 1; K = 10 warm-started soft-PG steps (backtracking η); exact forward-mode H and C, CG (50 iterations, tol 1e-10, damping 1e-8)." },
      {
        name: "actorCritic",
        algorithm: actorCritic,
        options: { critic: "td", w: 3, alpha: 0.3, alphaPower: 0, actorStep: 3, actorPower: 0, tauPower: 0, seed: 1 },
        note: "Model-free: TD(0) critics and sampled occupancies (16 episodes × 66 steps per batch, ε = 0.1 exploration); penalty weight w = 3, constant steps α = 0.3 and actor 3, critic 0.5·(k+1)^−0.2, constant τ_k = τ (tauPower 0). With the default schedules of docs/math.md#defaults (decaying τ_k, α_k, actor steps) φ moves by < 0.02 in 300 iterations; with w = 10 the TD noise makes φ swing between −4.6 and 0 (the soft goal leaves the target and comes back).",
      },
      { name: "phiSigma", algorithm: phiSigma, options: { eta: 1, n: 5 }, note: "Exact (tabular) gradients, σ = 0.1, n = 5 inner steps per loop (inner steps τ = τ' = 1), η = 1." },
    ],
  },
  {
    id: "incentive",
    title: "Incentive design (docs/math.md#incentive)",
    about:
      "S = 8, A = 4, γ = 0.9, τ = 0.1, κ = 1, r_F, r_D ~ N(0, 1), P rows Dirichlet(1) (seed 0); follower reward r_F + x, x ∈ R^{32}; " +
      "f = −J_D(π) + κ Σ d̃_π(s)π(a|s)x(s, a); x_0 = 0 and x ≥ 0: every iterate is projected (PBRL, PARL and M-SoBiRL natively, the others by the comparison after each step).",
    make: incentiveProblem,
    iterations: 300,
    entries: [
      { name: "exactDescent", algorithm: exactDescent, options: { beta: 0.1 }, note: "β = 0.1 (0.3 oscillates); projected after each step." },
      {
        name: "mSoBiRL",
        algorithm: mSoBiRL,
        iterations: 3000,
        options: { beta: 0.001, w0: zeros(8), project: "nonnegative" },
        note: "β = 0.001, ζ = 0.5, N = 10, least-squares w-step, w_0 = 0, native projection, 3000 iterations. At a fixed x the least-squares w iteration needs 1000–3000 iterations to settle here (contraction 1 − ζσ_min² per step), so β must stay small: with β = 0.01 the untracked w sends x uphill into a worse stationary point on this instance.",
      },
      {
        name: "mSoBiRL (Richardson w-step)",
        algorithm: mSoBiRL,
        iterations: 1000,
        options: { beta: 0.01, w0: zeros(8), wStep: "richardson", project: "nonnegative" },
        note: "Richardson w-step (not in the paper; a γ-contraction, so w tracks fast), β = 0.01, native projection, 1000 iterations.",
      },
      {
        name: "soBiRL",
        algorithm: soBiRL,
        options: { beta: 0.02, evaluation: "monte-carlo", Mq: 8, derivative: "rollout", Md: 8, groups: 256, seed: 1 },
        note: "Fully model-free as on the GridWorld, with M_u = 256 groups and β = 0.02: the loss is a sum over 88 steps of N(0, 1) rewards, so the score term is noisy; φ fluctuates by a few tenths between iterations.",
      },
      { name: "pbrl", algorithm: pbrl, options: { project: "nonnegative", alpha: 1 }, note: "Value penalty, λ = 10, T = 5 PMD steps, backtracking from α = 1, native projection x ≥ 0." },
      { name: "parl", algorithm: parl, options: { project: "nonnegative", beta: 0.1 }, note: "β = 0.1, K = 10 soft-PG steps, native projection x ≥ 0." },
      {
        name: "actorCritic",
        algorithm: actorCritic,
        options: { critic: "td", w: 3, alpha: 0.3, alphaPower: 0.5, actorStep: 3, actorPower: 0, tauPower: 0, seed: 1 },
        note: "TD critics, sampled occupancies, w = 3, α_k = 0.3·(k+1)^−½, constant actor step 3, constant τ_k = τ; φ still moves by a few tenths between iterations. With w = 10 and a constant α = 0.03 the end point depends on the sampler seed (φ from 2.35 to 3.56 over seeds 0–3); with w = 10 and a slower actor (step ≤ 1) x outruns it and φ rises (to 8–26).",
      },
      { name: "phiSigma", algorithm: phiSigma, options: { eta: 0.1, sigma: 0.01, n: 5 }, note: "Exact gradients, σ = 0.01, n = 5, η = 0.1. The sampled variant (B = 64) does not settle here: φ reached 346 with σ = 0.01 and wandered between 3.3 and 12 with σ = 0.1, apparently because the 1/σ-scaled noise of the sampled occupancies, clipped at x = 0 by the projection, pushes x (the payments) upward." },
    ],
  },
  {
    id: "rlhf",
    title: "Tabular RLHF (docs/math.md#rlhf): where the alternating baseline applies",
    about:
      "S = 3, A = 2, γ = 0.9, τ = 1, fragments of H = 2 steps, reward table r_x = x (n = 6), soft Bradley–Terry labels from a hidden r_true (seed 0); " +
      "f = E_{τ1,τ2∼π}[BCE] exactly by enumeration; x_0 = 0.5·N(0, I).",
    make: rlhfProblem,
    iterations: 100,
    entries: [
      { name: "exactDescent", algorithm: exactDescent, options: { beta: 1 }, note: "β = 1." },
      { name: "mSoBiRL", algorithm: mSoBiRL, options: { beta: 1, w0: zeros(3) }, note: "β = 1, ζ = 0.5, N = 10, least-squares w-step, w_0 = 0." },
      { name: "soBiRL", algorithm: soBiRL, options: { beta: 1, evaluation: "monte-carlo", Mq: 8, Md: 8, groups: 64, seed: 1 }, note: "Fully model-free, β = 1, M_u = 64 pairs, M_q = M_d = 8." },
      { name: "pbrl", algorithm: pbrl, options: { alpha: 1 }, note: "Value penalty, λ = 10, backtracking from α = 1." },
      { name: "parl", algorithm: parl, options: { beta: 1 }, note: "β = 1, K = 10 soft-PG steps." },
      {
        name: "actorCritic",
        algorithm: actorCritic,
        options: { critic: "td", w: 3, alpha: 1, alphaPower: 0, actorStep: 3, actorPower: 0, tauPower: 0, seed: 1 },
        note: "TD critics, sampled occupancies, w = 3, constant α = 1, actor step 3, constant τ_k = τ (with w = 10, α = 1 diverges: φ → 87).",
      },
      { name: "phiSigma", algorithm: phiSigma, options: { eta: 1, n: 5 }, note: "Exact gradients, σ = 0.1, n = 5, η = 1." },
      { name: "alternating", algorithm: alternating, options: { beta: 1, seed: 1 }, note: "β = 1, 16 new labelled pairs per iteration, buffer 3000, one reward step, exact lower solve." },
    ],
  },
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
    `node --import ./scripts/register-wasm.mjs --import tsx examples/compare.ts${SIZE !== 5 ? ` --size=${SIZE}` : ""}`,
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
    lines.push(`## ${suite.title}`, "", suite.about, "", formatTable(rows), "", "Settings (iterations: " + iterationsOf(suite) + "):", "");
    lines.push("| algorithm | options | notes |", "|---|---|---|");
    for (const e of suite.entries) lines.push(`| ${e.name} | \`${optionsText(e.options)}\` | ${e.note.replace(/\|/g, "\\|")} |`);
    lines.push("");
  }
  lines.push(
    "## Notes",
    "",
    "* **Trajectory objective for SoBiRL.** The GridWorld and incentive upper levels are returns, so SoBiRL uses the reward-shaping loss of eq. (12) with N = 1, " +
      "`returnLoss` (GridWorld: l = −Σ_{t<H} γ^t 1{s_t = target} + (μ/2)‖x‖²; incentive: l = −Σ_{t<H} γ^t (r_D − κx)(s_t, a_t)), truncated at H = 88 steps " +
      "(bias ≤ γ^H‖r‖∞/(1 − γ) ≈ 1e-3·‖r‖∞), attached with `withTrajectory`. φ is always the exact objective.",
    "* **No alternating baseline on the GridWorld and incentive problems.** It fits x to the loss on data from the current policy, x ← x − β E_π[∇_x l], " +
      "and ignores how π*_x moves with x. For a return-type loss there is nothing to fit: ∇_x l is μx on the GridWorld (weight decay; φ changes by −5e-5 in 100 iterations) " +
      "and κ Σ_t γ^t e_{(s_t,a_t)} ≥ 0 on the incentive problem (x stays at the projected start 0). It needs preference labels; it runs on the RLHF table.",
    "* **Projection.** Incentive design needs x ≥ 0 (otherwise a uniform negative x charges the follower without changing its policy and φ → −∞). PBRL, PARL and M-SoBiRL project natively " +
      "(M-SoBiRL projects x_{k+1} before its N tracking sweeps, so the sweeps track the projected point); for the other methods the comparison projects x after every step.",
    "* **Different end points are expected.** φ is non-convex; on the incentive problem the descent methods stop at the same projected stationary point, φ ≈ 2.299, " +
      "while PBRL (it descends the penalised landscape jointly in x and π) and the two sampling methods, SoBiRL and the TD actor-critic, whose noisy iterates keep moving, end lower.",
    "* **M-SoBiRL's solves.** Every solve charged to M-SoBiRL on the GridWorld and incentive problems is an evaluation of f or ∂f/∂π (a return needs a policy evaluation); " +
      "it makes none of its own, as the RLHF table (f by enumeration, 0 solves) shows. Its w_0 = 0 departs from the authors' N(0, I) draw, see the GridWorld settings.",
    "",
  );
  return lines.join("\n");
}

function iterationsOf(suite: Suite): string {
  const special = suite.entries.filter((e) => e.iterations !== undefined).map((e) => `${e.name} ${e.iterations}`);
  return special.length ? `${suite.iterations}; ${special.join(", ")}` : String(suite.iterations);
}

function optionsText(o: Record<string, unknown> | undefined): string {
  if (!o) return "{}";
  const parts = Object.entries(o).map(([k, v]) => {
    if (Array.isArray(v) && v.every((z) => z === 0)) return `${k}: zeros(${v.length})`;
    return `${k}: ${JSON.stringify(v)}`;
  });
  return `{ ${parts.join(", ")} }`;
}
