// Every algorithm at its defaults on every built-in problem it applies to, seeds 0, 1, 2:
// φ(x₀), final φ, gap closed = (φ(x₀) − φ_K)/(φ(x₀) − φ_best) with φ_best the best final φ
// any method reached on that instance, and the wall time per cell.
//
//   node --import ./scripts/register-wasm.mjs --import tsx scripts/try-defaults.ts [--iterations=200] [--problems=a,b] [--algorithms=a,b] [--seeds=0,1,2] [--json=file] [--options='{"alg":{...}}']
//
// Applicability: the trajectory methods (soBiRL, alternating) need a trajectory objective:
// rlhf and happyText carry one; gridGoal, incentive and shaping (return-type upper levels)
// get the reward-shaping loss `returnLoss` through `withTrajectory` for soBiRL; e1 (f has a
// ½Σπ² term) and stackelberg (x-dependent transitions) have none. The alternating baseline
// has no fitting signal on a return-type loss (examples/compare.ts), so it runs on rlhf and
// happyText only. Incentive design runs projected (x ≥ 0): natively where the algorithm has
// `project`, otherwise by the comparison after each step.
import { writeFileSync } from "node:fs";
import { init, gridGoal, incentive, e1, stackelberg, shaping, rlhf, happyText, additiveReward } from "../src/index";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { compareAlgorithms, returnLoss, withTrajectory, type CompareInstance } from "../src/bilevel/compare";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.join("=")]; }));
const K = Number(args.iterations ?? 200);
const seeds = (args.seeds ?? "0,1,2").split(",").map(Number);
const onlyP = args.problems?.split(",");
const onlyA = args.algorithms?.split(",");
const extra: Record<string, Record<string, unknown>> = args.options ? JSON.parse(args.options) : {};

await init();

type Make = (seed: number) => CompareInstance;
const problems: Record<string, { make: Make; trajectory: Make | null; alternating: boolean }> = {
  gridGoal: {
    make: (seed) => { const g = gridGoal({ seed }); return { problem: g.problem, x0: g.x0 }; },
    trajectory: (seed) => {
      const g = gridGoal({ seed });
      const { rU } = g.problem.upper as unknown as { rU: Float64Array };
      return { problem: withTrajectory(g.problem, returnLoss({ reward: rU, gamma: g.problem.mdp.gamma, lambda: 1e-3 })), x0: g.x0 };
    },
    alternating: false,
  },
  incentive: {
    make: (seed) => { const i = incentive({ seed }); return { problem: i.problem, x0: i.x0, project: i.project }; },
    trajectory: (seed) => {
      const i = incentive({ seed });
      const loss = returnLoss({ reward: additiveReward(i.rD, -i.kappa), gamma: i.problem.mdp.gamma });
      return { problem: withTrajectory(i.problem, loss), x0: i.x0, project: i.project };
    },
    alternating: false,
  },
  e1: { make: (seed) => { const e = e1({ seed }); return { problem: e.problem, x0: e.x0 }; }, trajectory: null, alternating: false },
  stackelberg: { make: (seed) => { const s = stackelberg({ seed }); return { problem: s.problem, x0: s.x0 }; }, trajectory: null, alternating: false },
  shaping: {
    make: (seed) => { const s = shaping({ seed }); return { problem: s.problem, x0: s.x0 }; },
    trajectory: (seed) => {
      const s = shaping({ seed });
      const up = s.problem.upper as unknown as { rU: Float64Array };
      return { problem: withTrajectory(s.problem, returnLoss({ reward: up.rU, gamma: s.problem.mdp.gamma, lambda: 1e-2 })), x0: s.x0 };
    },
    alternating: false,
  },
  rlhf: { make: (seed) => { const r = rlhf({ seed }); return { problem: r.problem, x0: r.x0 }; }, trajectory: (seed) => { const r = rlhf({ seed }); return { problem: r.problem, x0: r.x0 }; }, alternating: true },
  happyText: { make: (seed) => { const h = happyText({ seed }); return { problem: h.problem, x0: h.x0 }; }, trajectory: (seed) => { const h = happyText({ seed }); return { problem: h.problem, x0: h.x0 }; }, alternating: true },
};

const native = new Set(["exactDescent", "mSoBiRL", "pbrl", "parl", "actorCritic", "phiSigma"]); // algorithms with a `project` option
interface Cell { problem: string; seed: number; alg: string; phi0: number; phiK: number; timeMs: number; error?: string; gap?: number }
const cells: Cell[] = [];
for (const [pname, p] of Object.entries(problems)) {
  if (onlyP && !onlyP.includes(pname)) continue;
  for (const seed of seeds) {
    const rowCells: Cell[] = [];
    for (const alg of ALGORITHM_LIST) {
      if (onlyA && !onlyA.includes(alg.name)) continue;
      const traj = alg.name === "soBiRL" || alg.name === "alternating";
      if (traj && !p.trajectory) continue;
      if (alg.name === "alternating" && !p.alternating) continue;
      const make = traj ? p.trajectory! : p.make;
      const options: Record<string, unknown> = { ...(extra[alg.name] ?? {}) };
      if (alg.info.params.some((q) => q.seeded) && options.seed === undefined) options.seed = seed;
      if (pname === "incentive" && native.has(alg.name)) options.project = "nonnegative";
      const t0 = performance.now();
      const [row] = compareAlgorithms(() => make(seed), [{ name: alg.name, algorithm: alg, options }], { iterations: K, onError: "record" });
      const cell: Cell = { problem: pname, seed, alg: alg.name, phi0: row.phi0, phiK: row.phiFinal, timeMs: performance.now() - t0, error: row.error };
      rowCells.push(cell);
      console.error(`${pname} s${seed} ${alg.name}: ${row.phi0.toPrecision(5)} → ${row.phiFinal.toPrecision(5)} (${cell.timeMs.toFixed(0)} ms)${row.error ? " ERROR " + row.error : ""}`);
    }
    const best = Math.min(...rowCells.map((c) => (Number.isFinite(c.phiK) ? c.phiK : Infinity)));
    for (const c of rowCells) c.gap = (c.phi0 - c.phiK) / (c.phi0 - best);
    cells.push(...rowCells);
  }
}

// one line per (problem, algorithm): final φ per seed and the smallest gap closed
const fmt = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(3)) : String(v));
console.log(`| problem | algorithm | φ(x₀) s0/s1/s2 | final φ s0/s1/s2 | gap closed s0/s1/s2 | min gap | time s0/s1/s2 (ms) |`);
console.log(`|---|---|---|---|---|---:|---|`);
const keys = [...new Set(cells.map((c) => `${c.problem}|${c.alg}`))];
for (const key of keys) {
  const cs = cells.filter((c) => `${c.problem}|${c.alg}` === key);
  const [pn, an] = key.split("|");
  const minGap = Math.min(...cs.map((c) => c.gap ?? NaN));
  console.log(`| ${pn} | ${an} | ${cs.map((c) => fmt(c.phi0)).join(" / ")} | ${cs.map((c) => (c.error ? "ERR" : fmt(c.phiK))).join(" / ")} | ${cs.map((c) => fmt(c.gap ?? NaN)).join(" / ")} | ${fmt(minGap)} | ${cs.map((c) => c.timeMs.toFixed(0)).join(" / ")} |`);
}
if (args.json) writeFileSync(args.json, JSON.stringify({ K, seeds, cells }, null, 1));
