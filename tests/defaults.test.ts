// The defaults matrix as tests (docs/defaults.md, examples/defaults.ts): every algorithm at its
// default options on every built-in problem it applies to, seeds 0, 1, 2.
//   - every cell: the run does not diverge and ends no worse than it started (φ_K ≤ φ(x₀));
//   - every cell: it closes at least 95% (exact and model-based methods) or 80% (sampled
//     methods) of the gap to the best φ any algorithm reached on that instance — except the
//     cells listed in OPEN_SHORTFALLS (examples/defaults.ts, each with its reason), for which
//     the test asserts that they are still short, so the list cannot go stale: a fixed cell
//     fails here until it is taken off the list.
import { beforeAll, describe, expect, it } from "vitest";
import { init } from "../src/index";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { MATRIX_PROBLEMS, OPEN_SHORTFALLS, applicability, gapTarget, labelFit, outsideConditions, runDefaultsCell, scoreCells, type MatrixCell } from "../examples/defaults";

const SEEDS = [0, 1, 2];

beforeAll(async () => {
  await init();
});

describe.each(MATRIX_PROBLEMS.map((p) => [p.name, p] as const))("defaults on %s", (_name, p) => {
  const algorithms = ALGORITHM_LIST.filter((a) => applicability(a, p).applies);
  let cells: MatrixCell[] = [];
  beforeAll(() => {
    cells = [];
    for (const seed of SEEDS) for (const a of algorithms) cells.push(runDefaultsCell(a, p, seed));
    scoreCells(cells);
  }, 900_000);

  const cell = (name: string, seed: number) => cells.find((c) => c.algorithm === name && c.seed === seed)!;
  const where = (c: MatrixCell) => `${c.algorithm} on ${p.name}, seed ${c.seed}: φ(x₀) = ${c.phi0}, φ_K = ${c.phiK}, φ_best = ${c.phiBest}, gap ${c.gap}, ${c.status}${c.message ? ` (${c.message})` : ""}`;
  const cases = algorithms.flatMap((a) => SEEDS.map((seed) => [a.name, seed] as const));

  it.each(cases)("%s, seed %i: does not diverge and ends no worse than it started", (name, seed) => {
    const c = cell(name, seed);
    expect(c.status, where(c)).not.toBe("diverged");
    expect(c.phiK, where(c)).toBeLessThanOrEqual(c.phi0);
  });

  it.each(cases)("%s, seed %i: closes the gap to φ_best down to its threshold (or is a recorded open shortfall, still short)", (name, seed) => {
    const c = cell(name, seed);
    const threshold = gapTarget(name);
    const open = OPEN_SHORTFALLS.find((o) => o.problem === p.name && o.algorithm === name && o.seeds.includes(seed));
    if (c.outside !== undefined) {
      // measured by outsideConditions in this run; a cell is either outside or an open shortfall, not both
      expect(open, `${where(c)}: outside its conditions (${c.outside}) and also listed in OPEN_SHORTFALLS`).toBeUndefined();
      return;
    }
    if (open) expect(c.gap!, `${where(c)}: listed in OPEN_SHORTFALLS (${open.why}) but now meets the target: take it off the list`).toBeLessThan(threshold);
    else expect(c.gap!, where(c)).toBeGreaterThanOrEqual(threshold);
  });
});

// The one measured condition (docs/math.md#alternating-conditions): the alternating baseline
// fits the labels, so it is scored only where fitting them lowers φ. The predicate must hold on
// rlhf and fail on happyText, so it can neither excuse every cell nor none.
describe("outsideConditions", () => {
  const alternating = ALGORITHM_LIST.find((a) => a.name === "alternating")!;
  const problem = (name: string) => MATRIX_PROBLEMS.find((p) => p.name === name)!;

  it.each(SEEDS)("labelFit reproduces the labels' reward exactly on rlhf and happyText (seed %i)", (seed) => {
    for (const name of ["rlhf", "happyText"]) {
      const { problem: pr, rLabel } = problem(name).labels!(seed);
      const fit = labelFit(pr, rLabel);
      expect(fit.residual, name).toBeLessThan(1e-10);
      const r = pr.jvp(new Float64Array(pr.n), fit.x);
      for (let i = 0; i < r.length; i++) expect(r[i], `${name} entry ${i}`).toBeCloseTo(rLabel[i], 9);
    }
  });

  it.each(SEEDS)("alternating is inside its conditions on rlhf (seed %i): the label fit lowers φ", (seed) => {
    expect(outsideConditions(alternating, problem("rlhf"), seed)).toBeUndefined();
  });

  it.each(SEEDS)("alternating is outside its conditions on happyText (seed %i): the label fit raises φ above φ(x₀)", (seed) => {
    expect(outsideConditions(alternating, problem("happyText"), seed)).toMatch(/≥ φ\(x₀\)/);
  });

  it("every other algorithm is inside on every problem", () => {
    for (const a of ALGORITHM_LIST) if (a.name !== "alternating") for (const p of MATRIX_PROBLEMS) if (applicability(a, p).applies) expect(outsideConditions(a, p, 0), `${a.name} on ${p.name}`).toBeUndefined();
  });
});
