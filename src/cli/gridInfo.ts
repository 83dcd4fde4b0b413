// The grid behind a gridworld-based experiment (gridGoal, shaping, gridworld), recomputed
// from its normalised parameters with the conventions of src/problems/gridworld.ts: cells
// in reading order, walls '#' are not states, actions U, D, L, R (, stay). Used to draw the
// learned reward and the lower policy; `null` for problems that are not grids.
import type { Experiment } from "../experiment/types";
import type { CellMark, GridShape } from "../plot/index";

export interface GridInfo extends GridShape {
  S: number;
  actions: readonly string[];
  marks: CellMark[];
  /** States without meaningful policy (absorbing goal cells and terminal cells). */
  absorbing: number[];
}

const ACTIONS = ["U", "D", "L", "R", "stay"];

export function gridInfoOf(experiment: Experiment): GridInfo | null {
  // a contextual problem: its first context's grid (the plots show that block)
  const p = "contexts" in experiment.problem ? experiment.problem.contexts[0].problem : experiment.problem;
  if (!("builtin" in p)) return null;
  const name = p.builtin;
  if (name !== "gridGoal" && name !== "shaping" && name !== "gridworld" && name !== "gridIncentive") return null;
  const params = p.params as Record<string, unknown>;
  const cellParam = (k: string): [number, number] | undefined => {
    const v = params[k];
    return Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x)) ? [v[0] as number, v[1] as number] : undefined;
  };
  let map: string[];
  if (Array.isArray(params.map) && params.map.every((r) => typeof r === "string") && params.map.length > 0) map = (params.map as string[]).slice();
  else if (name === "gridworld") {
    const w = Number(params.width ?? 5), h = Number(params.height ?? 5);
    map = Array.from({ length: h }, () => ".".repeat(w));
  } else {
    const size = Number(params.size ?? (name === "shaping" ? 6 : 5));
    map = Array.from({ length: size }, () => ".".repeat(size));
  }
  const height = map.length, width = map[0].length;
  if (!(width > 0) || map.some((r) => r.length !== width)) return null;
  const cellToState = new Int32Array(width * height).fill(-1);
  let S = 0;
  for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) if (map[r][c] !== "#") cellToState[r * width + c] = S++;
  const A = params.actions === 4 ? 4 : 5;
  const marks: CellMark[] = [];
  const absorbing: number[] = [];
  const cellsWith = (ch: string) => {
    const out: [number, number][] = [];
    for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) if (map[r][c] === ch) out.push([r, c]);
    return out;
  };
  const state = (cell: [number, number]) => cellToState[cell[0] * width + cell[1]];
  if (name === "gridGoal") {
    const start = cellParam("start") ?? [0, 0];
    const target = cellParam("target") ?? [height - 1, Math.floor(width / 2)];
    marks.push({ row: start[0], col: start[1], label: "S", name: "start" }, { row: target[0], col: target[1], label: "T", name: "target", color: "#ff7f0e" });
  } else if (name === "gridIncentive") {
    // the goal is made terminal: marked (and skipped by the arrows) with the 'T' cells below
    const goal = cellParam("goal") ?? [height - 1, width - 1];
    const lure = cellParam("lureCell") ?? [Math.floor(height / 2), Math.floor(width / 2)];
    const start = cellParam("start") ?? [0, 0];
    if (goal[0] < height && goal[1] < width && map[goal[0]][goal[1]] !== "#") map[goal[0]] = map[goal[0]].slice(0, goal[1]) + "T" + map[goal[0]].slice(goal[1] + 1);
    marks.push({ row: start[0], col: start[1], label: "S", name: "start" }, { row: lure[0], col: lure[1], label: "L", name: "lure (follower's favourite)", color: "#2ca02c" });
  } else if (name === "shaping") {
    const goal = cellParam("goal") ?? [height - 1, width - 1];
    const starts = cellParam("start") ? [cellParam("start")!] : cellsWith("S").length ? cellsWith("S") : [[0, 0] as [number, number]];
    starts.forEach((s, i) => marks.push({ row: s[0], col: s[1], label: "S", ...(i === 0 ? { name: "start" } : {}) }));
    marks.push({ row: goal[0], col: goal[1], label: "G", name: "goal (absorbing)", color: "#ff7f0e" });
    if (state(goal) >= 0) absorbing.push(state(goal));
  } else {
    const starts = cellParam("start") ? [cellParam("start")!] : cellsWith("S");
    starts.forEach((s, i) => marks.push({ row: s[0], col: s[1], label: "S", ...(i === 0 ? { name: "start" } : {}) }));
    cellsWith("G").forEach((g, i) => {
      marks.push({ row: g[0], col: g[1], label: "G", ...(i === 0 ? { name: "goal (absorbing)" } : {}), color: "#ff7f0e" });
      absorbing.push(state(g));
    });
  }
  // terminal cells (docs/math.md#terminal-states): the episode ends there, so no arrows either
  cellsWith("T").forEach((t, i) => {
    marks.push({ row: t[0], col: t[1], label: "T", ...(i === 0 ? { name: "terminal" } : {}), color: "#7f7f7f" });
    absorbing.push(state(t));
  });
  // drop marks that fall on walls or off the grid (the problem would have refused them anyway)
  const onGrid = marks.filter((m) => m.row >= 0 && m.row < height && m.col >= 0 && m.col < width && cellToState[m.row * width + m.col] >= 0);
  return { width, height, cellToState, S, actions: ACTIONS.slice(0, A), marks: onGrid, absorbing };
}
