// The self-written SVG plots (src/plot): well-formed documents, the bytes of a committed
// golden file, the edge cases a run can produce (a single point, constant values,
// NaN, zeros on a log axis, empty series), and the grid pictures' cells and arrows.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convergenceChart, heatmap, lineChart, policyArrows, stateValuesToCells, wallsOf, type GridShape } from "../src/plot/index";
import { logTicks, niceTicks } from "../src/plot/svg";
import { GOLDEN_SVG, goldenChart } from "./helpers/plot-golden";
import { svgProblems } from "./helpers/svg";

const history = Array.from({ length: 60 }, (_, k) => ({
  k,
  f: -1 + Math.exp(-k / 10),
  hnorm: Math.exp(-k / 8),
  ...(k % 10 === 0 ? { phi: -1 + Math.exp(-k / 10) + 1e-3 } : {}),
}));

/** A 4 × 3 grid with one wall at (1, 1): 11 states. */
function grid(): GridShape & { S: number } {
  const width = 4, height = 3;
  const cellToState = new Int32Array(width * height).fill(-1);
  let s = 0;
  for (let c = 0; c < width * height; c++) if (c !== 1 * width + 1) cellToState[c] = s++;
  return { width, height, cellToState, S: s };
}

describe("line charts", () => {
  it("draw a well-formed SVG document with a title, axis labels, a legend and one path per series", () => {
    const svg = lineChart(
      [
        { name: "first", y: [3, 2, 1.5, 1.2] },
        { name: "second & more", x: [0, 1, 2, 3], y: [2.5, 2.4, 2.2, 2.0] },
      ],
      { title: "A <title>", xLabel: "iteration k", yLabel: "value" },
    );
    expect(svgProblems(svg)).toEqual([]);
    expect(svg).toContain("A &lt;title&gt;");
    expect(svg).toContain("second &amp; more");
    expect(svg).toContain("iteration k");
    expect(svg.match(/<path d="M/g)).toHaveLength(2);
  });

  it("give the committed golden bytes (the browser test compares the same file), and leave their input unchanged", () => {
    const svg = goldenChart();
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN_SVG, svg);
    expect(svgProblems(svg)).toEqual([]);
    expect(svg).toBe(readFileSync(GOLDEN_SVG, "utf8"));
    const copy = structuredClone(history);
    convergenceChart([{ name: "run", history }], { title: "t" });
    expect(history).toEqual(copy);
  });

  it("put decades on a log axis and leave out non-positive values instead of failing", () => {
    const svg = lineChart([{ name: "h", y: [1, 0.1, 0, 1e-3, -1, 1e-5] }], { logY: true });
    expect(svgProblems(svg)).toEqual([]);
    expect(svg).toContain(">10<tspan"); // a 10^p label
  });

  it("survive a single point, constant values, NaN and empty series", () => {
    for (const series of [[{ y: [1] }], [{ y: [2, 2, 2] }], [{ y: [NaN, 1, NaN, 2] }], [{ y: [] }], []]) {
      for (const logY of [false, true]) {
        const svg = lineChart(series, { logY, title: "edge" });
        expect(svgProblems(svg)).toEqual([]);
      }
    }
  });

  it("thin very long series to a bounded number of points", () => {
    const y = Array.from({ length: 100_000 }, (_, i) => 1 / (i + 1));
    const svg = lineChart([{ y }], { logY: true });
    expect(svgProblems(svg)).toEqual([]);
    expect(svg.length).toBeLessThan(200_000);
  });

  it("overlay several runs with φ where recorded and f elsewhere", () => {
    const svg = convergenceChart([
      { name: "with φ", history },
      { name: "without φ", history: history.map(({ k, f, hnorm }) => ({ k, f: f + 0.1, hnorm: hnorm * 2 })) },
    ]);
    expect(svgProblems(svg)).toEqual([]);
    expect(svg).toContain("with φ");
    expect(svg).toContain("without φ");
    expect(svg).toContain("‖ĥ_k‖");
  });
});

describe("axis ticks", () => {
  it("are round numbers covering the data", () => {
    const { ticks, step } = niceTicks(-4.56, 0.02, 6);
    expect(step).toBe(1);
    expect(ticks[0]).toBeLessThanOrEqual(-4.56);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(0.02);
    expect(niceTicks(0, 0.3, 3).ticks).toEqual([0, 0.1, 0.2, 0.3]);
    const lt = logTicks(3e-4, 20);
    expect(lt.lo).toBe(-4);
    expect(lt.hi).toBe(2);
  });
});

describe("grid pictures", () => {
  it("draw a heat map with one rectangle per cell, walls in grey and the marks", () => {
    const g = grid();
    const values = Array.from({ length: g.S }, (_, s) => s / 10);
    const svg = heatmap(stateValuesToCells(values, g), g.width, g.height, {
      walls: wallsOf(g),
      title: "reward",
      label: "r(s)",
      marks: [{ row: 0, col: 0, label: "S", name: "start" }],
    });
    expect(svgProblems(svg)).toEqual([]);
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="56" height="56"/g)).toHaveLength(12);
    expect(svg).toContain('fill="#3b3b3b"'); // the wall
    expect(svg).toContain("S = start");
    expect(heatmap(stateValuesToCells(values, g), g.width, g.height, { walls: wallsOf(g) })).toBe(heatmap(stateValuesToCells(values, g), g.width, g.height, { walls: wallsOf(g) }));
  });

  it("draw the greedy action of each state as an arrow pointing its way", () => {
    const g = grid();
    const A = 5;
    const pi = new Float64Array(g.S * A);
    for (let s = 0; s < g.S; s++) pi[s * A + 3] = 1; // always R
    const svg = policyArrows(pi, g, { mode: "greedy", cellSize: 40 });
    expect(svgProblems(svg)).toEqual([]);
    // every shaft goes right: "M x y L x' y" with x' > x and the same y
    const shafts = /<path d="([^"]+)" fill="none" stroke="#1a1a1a"/.exec(svg)![1];
    const moves = [...shafts.matchAll(/M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)/g)];
    expect(moves).toHaveLength(g.S);
    for (const m of moves) {
      expect(Number(m[3])).toBeGreaterThan(Number(m[1]));
      expect(m[4]).toBe(m[2]);
    }
  });

  it("draw every likely action of a soft policy, with a circle for stay", () => {
    const g = grid();
    const A = 5;
    const pi = new Float64Array(g.S * A).fill(0.2);
    const svg = policyArrows(pi, g, { mode: "all", background: Array.from({ length: g.S }, (_, s) => s), backgroundLabel: "value" });
    expect(svgProblems(svg)).toEqual([]);
    expect(svg.match(/<circle /g)).toHaveLength(g.S);
    expect(() => policyArrows(new Float64Array(7), g)).toThrow(/multiple/);
  });
});
