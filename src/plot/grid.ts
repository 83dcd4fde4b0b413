// Grid pictures as standalone SVG strings: `heatmap` (one value per cell, a viridis colour
// bar, walls in dark grey) for a learned reward or a value map, and `policyArrows` (the
// lower policy drawn on the grid: one arrow per action with length ∝ π(a|s), or the
// greedy action only). Cells are (row, col) with row 0 at the top, cell index
// row·width + col, actions U, D, L, R, stay — the conventions of `gridworld`.
import { el, esc, formatTick, formatValue, luminance, niceTicks, num, svgOpen, textWidth, viridis } from "./svg";

/** A marked cell (start, target, goal…): an outline and a short label. */
export interface CellMark {
  row: number;
  col: number;
  /** One or two characters drawn in the cell, e.g. "S" or "T". */
  label?: string;
  /** What the label means, shown in the caption ("T = target"). */
  name?: string;
  /** Outline colour (default #e8175d). */
  color?: string;
}

/** Options of `heatmap`. */
export interface HeatmapOptions {
  title?: string;
  /** Per cell (length width·height): truthy = wall (dark grey, no value). */
  walls?: ArrayLike<boolean | number>;
  /** The colour bar's label. */
  label?: string;
  marks?: readonly CellMark[];
  /** Write each value in its cell (default: when cells are large and there are at most 144). */
  annotate?: boolean;
  /** Cell size in pixels (default: the grid fits in about 440 px, cells between 3 and 56 px). */
  cellSize?: number;
  /** Colour scale limits (default: the finite values' min and max). */
  min?: number;
  max?: number;
}

/** The subset of a GridWorld the policy plot needs. */
export interface GridShape {
  width: number;
  height: number;
  /** Cell index → state index, −1 for walls (length width·height). */
  cellToState: ArrayLike<number>;
  /** Action names in action-index order (default U, D, L, R, stay). */
  actions?: readonly string[];
}

/** Options of `policyArrows`. */
export interface PolicyArrowsOptions {
  title?: string;
  /** 'all': an arrow per action, length ∝ π(a|s); 'greedy': the most likely action only. Default: 'all' when cells are at least 24 px. */
  mode?: "all" | "greedy";
  /** Leave out actions with π(a|s) below this (mode 'all'; default 0.02). */
  threshold?: number;
  /** A value per state drawn underneath (lightened viridis), e.g. the learned reward. */
  background?: ArrayLike<number>;
  /** Label of the background's colour bar. */
  backgroundLabel?: string;
  marks?: readonly CellMark[];
  /** States without arrows (e.g. absorbing goals). */
  skip?: ArrayLike<number>;
  cellSize?: number;
}

const WALL = "#3b3b3b";
const MISSING = "#d9d9d9";
const MARK = "#e8175d";
/** Unit moves of the named actions: [dx, dy] in picture coordinates (y down). */
const DIRECTIONS: Record<string, readonly [number, number]> = { U: [0, -1], D: [0, 1], L: [-1, 0], R: [1, 0], stay: [0, 0] };
const DEFAULT_ACTIONS = ["U", "D", "L", "R", "stay"];

/** Spread per-state values over the grid's cells (walls → NaN), for `heatmap`. */
export function stateValuesToCells(values: ArrayLike<number>, grid: GridShape): Float64Array {
  const cells = new Float64Array(grid.width * grid.height).fill(NaN);
  for (let c = 0; c < cells.length; c++) {
    const s = grid.cellToState[c];
    if (s >= 0) {
      if (s >= values.length) throw new RangeError(`values: length ${values.length} is too short for state ${s}`);
      cells[c] = values[s];
    }
  }
  return cells;
}

/** The wall mask of a grid (per cell, 1 = wall), for `heatmap`'s `walls`. */
export function wallsOf(grid: GridShape): Uint8Array {
  const walls = new Uint8Array(grid.width * grid.height);
  for (let c = 0; c < walls.length; c++) walls[c] = grid.cellToState[c] < 0 ? 1 : 0;
  return walls;
}

/** A heat map of one value per cell (length width·height, row-major, row 0 at the top). */
export function heatmap(values: ArrayLike<number>, width: number, height: number, options: HeatmapOptions = {}): string {
  checkGrid(width, height);
  if (values.length !== width * height) throw new RangeError(`values: must have length width·height = ${width * height}; got ${values.length}`);
  if (options.walls && options.walls.length !== width * height) throw new RangeError(`walls: must have length width·height = ${width * height}; got ${options.walls.length}`);
  const isWall = (c: number) => !!options.walls?.[c];
  let lo = Infinity, hi = -Infinity;
  for (let c = 0; c < values.length; c++) {
    const v = values[c];
    if (isWall(c) || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (options.min !== undefined) lo = options.min;
  if (options.max !== undefined) hi = options.max;
  const cell = cellSizeFor(width, height, options.cellSize);
  const annotate = options.annotate ?? (cell >= 34 && width * height <= 144);
  const layout = frame(width, height, cell, options.title, true);
  const out = [svgOpen(layout.W, layout.H, options.title)];
  if (options.title) out.push(el("text", { x: layout.W / 2, y: 26, "text-anchor": "middle", "font-size": 15, "font-weight": "600", fill: "#111111" }, esc(options.title)));
  const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  out.push("<g>");
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const i = r * width + c, v = values[i];
      const fill = isWall(i) ? WALL : Number.isFinite(v) ? viridis(t(v)) : MISSING;
      out.push(el("rect", { x: layout.gx + c * cell, y: layout.gy + r * cell, width: cell, height: cell, fill }));
    }
  }
  out.push("</g>");
  if (annotate) {
    const fs = Math.max(7, Math.min(11, Math.floor(cell / 5)));
    out.push(`<g text-anchor="middle" font-size="${fs}">`);
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const i = r * width + c, v = values[i];
        if (isWall(i) || !Number.isFinite(v)) continue;
        const ink = luminance(viridis(t(v))) > 0.55 ? "#111111" : "#ffffff";
        out.push(el("text", { x: layout.gx + (c + 0.5) * cell, y: layout.gy + (r + 0.5) * cell + fs * 0.35, fill: ink }, esc(formatValue(v, 2))));
      }
    }
    out.push("</g>");
  }
  out.push(gridLines(width, height, cell, layout.gx, layout.gy));
  out.push(axisLabels(width, height, cell, layout.gx, layout.gy));
  out.push(marksSvg(options.marks ?? [], width, height, cell, layout.gx, layout.gy));
  if (lo <= hi) out.push(colorBar(lo, hi, layout.gx + width * cell + 22, layout.gy, Math.min(height * cell, 300), options.label));
  out.push(caption(options.marks ?? [], layout.gx, layout.gy + height * cell + 34));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The lower policy π (length S·A, rows π(·|s)) drawn as arrows on the grid. */
export function policyArrows(pi: ArrayLike<number>, grid: GridShape, options: PolicyArrowsOptions = {}): string {
  const { width, height } = grid;
  checkGrid(width, height);
  let S = 0;
  for (let c = 0; c < width * height; c++) if (grid.cellToState[c] >= 0) S++;
  if (S === 0 || pi.length % S !== 0) throw new RangeError(`pi: length ${pi.length} is not a multiple of the ${S} states`);
  const A = pi.length / S;
  const names = grid.actions ?? DEFAULT_ACTIONS.slice(0, A);
  if (names.length !== A) throw new RangeError(`pi: ${A} actions per state, but the grid names ${names.length}`);
  const dirs = names.map((n) => {
    const d = DIRECTIONS[n];
    if (!d) throw new RangeError(`actions: unknown action name '${n}' (expected U, D, L, R or stay)`);
    return d;
  });
  if (options.background && options.background.length !== S) throw new RangeError(`background: must have one value per state (${S}); got ${options.background.length}`);
  const cell = cellSizeFor(width, height, options.cellSize);
  const mode = options.mode ?? (cell >= 24 ? "all" : "greedy");
  const threshold = options.threshold ?? 0.02;
  const skip = new Set<number>(Array.from(options.skip ?? [], Number));
  const bg = options.background;
  let lo = Infinity, hi = -Infinity;
  if (bg) for (let s = 0; s < S; s++) if (Number.isFinite(bg[s])) { lo = Math.min(lo, bg[s]); hi = Math.max(hi, bg[s]); }
  const layout = frame(width, height, cell, options.title, !!bg);
  const out = [svgOpen(layout.W, layout.H, options.title)];
  if (options.title) out.push(el("text", { x: layout.W / 2, y: 26, "text-anchor": "middle", "font-size": 15, "font-weight": "600", fill: "#111111" }, esc(options.title)));
  const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  out.push("<g>");
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const s = grid.cellToState[r * width + c];
      const fill = s < 0 ? WALL : bg ? lighten(viridis(t(bg[s])), 0.55) : "#ffffff";
      out.push(el("rect", { x: layout.gx + c * cell, y: layout.gy + r * cell, width: cell, height: cell, fill }));
    }
  }
  out.push("</g>");
  out.push(gridLines(width, height, cell, layout.gx, layout.gy));

  // all shafts in one path, all heads in another, all "stay" circles in a third
  let shafts = "", heads = "";
  const stays: string[] = [];
  const sw = Math.max(0.8, Math.min(2.5, cell / 20));
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const s = grid.cellToState[r * width + c];
      if (s < 0 || skip.has(s)) continue;
      const cx = layout.gx + (c + 0.5) * cell, cy = layout.gy + (r + 0.5) * cell;
      let best = 0;
      for (let a = 1; a < A; a++) if (pi[s * A + a] > pi[s * A + best]) best = a;
      for (let a = 0; a < A; a++) {
        const p = pi[s * A + a];
        if (!Number.isFinite(p)) continue;
        let w: number;
        if (mode === "greedy") {
          if (a !== best) continue;
          w = 1;
        } else {
          if (p < threshold) continue;
          w = p;
        }
        const [dx, dy] = dirs[a];
        if (dx === 0 && dy === 0) {
          stays.push(el("circle", { cx, cy, r: Math.max(1, 0.3 * cell * Math.sqrt(w)) }));
          continue;
        }
        const len = 0.45 * cell * w;
        const head = Math.min(0.5 * len, 0.2 * cell);
        const tx = cx + dx * len, ty = cy + dy * len;
        const bx = tx - dx * head, by = ty - dy * head;
        shafts += `M${num(cx)} ${num(cy)}L${num(bx)} ${num(by)}`;
        const hw = head * 0.6; // half-width of the head, perpendicular (−dy, dx)
        heads += `M${num(tx)} ${num(ty)}L${num(bx - dy * hw)} ${num(by + dx * hw)}L${num(bx + dy * hw)} ${num(by - dx * hw)}Z`;
      }
    }
  }
  if (shafts) out.push(el("path", { d: shafts, fill: "none", stroke: "#1a1a1a", "stroke-width": sw, "stroke-linecap": "round" }));
  if (heads) out.push(el("path", { d: heads, fill: "#1a1a1a", stroke: "none" }));
  if (stays.length) out.push(`<g fill="none" stroke="#1a1a1a" stroke-width="${num(sw)}">\n${stays.join("\n")}\n</g>`);
  out.push(axisLabels(width, height, cell, layout.gx, layout.gy));
  out.push(marksSvg(options.marks ?? [], width, height, cell, layout.gx, layout.gy));
  if (bg && lo <= hi) out.push(colorBar(lo, hi, layout.gx + width * cell + 22, layout.gy, Math.min(height * cell, 300), options.backgroundLabel, 0.55));
  const note = mode === "greedy" ? "arrow: most likely action" : `arrow length ∝ π(a|s)${A === 5 ? ", circle: stay" : ""}`;
  out.push(caption(options.marks ?? [], layout.gx, layout.gy + height * cell + 34, note));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

// ---------- internals ----------

function checkGrid(width: number, height: number): void {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new RangeError(`width, height: must be positive integers; got ${width} × ${height}`);
  }
}

function cellSizeFor(width: number, height: number, requested?: number): number {
  if (requested !== undefined) return requested;
  return Math.max(3, Math.min(56, Math.floor(440 / Math.max(width, height))));
}

/** Grid origin (gx, gy) and picture size: title above, colour bar right, caption below. */
function frame(width: number, height: number, cell: number, title: string | undefined, bar: boolean) {
  const gx = 40, gy = title ? 48 : 28;
  const W = Math.max(gx + width * cell + (bar ? 110 : 24), title ? textWidth(title, 15) + 40 : 0, 260);
  const H = gy + height * cell + 48;
  return { gx, gy, W, H };
}

function gridLines(width: number, height: number, cell: number, gx: number, gy: number): string {
  if (cell < 6) return el("rect", { x: gx, y: gy, width: width * cell, height: height * cell, fill: "none", stroke: "#555555" });
  let d = "";
  for (let c = 1; c < width; c++) d += `M${num(gx + c * cell)} ${num(gy)}V${num(gy + height * cell)}`;
  for (let r = 1; r < height; r++) d += `M${num(gx)} ${num(gy + r * cell)}H${num(gx + width * cell)}`;
  const lines = d ? el("path", { d, fill: "none", stroke: "#ffffff", "stroke-opacity": 0.6, "stroke-width": 1 }) + "\n" : "";
  return lines + el("rect", { x: gx, y: gy, width: width * cell, height: height * cell, fill: "none", stroke: "#555555" });
}

/** Column numbers above the grid and row numbers left of it (every k-th when cells are small). */
function axisLabels(width: number, height: number, cell: number, gx: number, gy: number): string {
  const every = Math.max(1, Math.ceil(16 / cell));
  const step = every <= 1 ? 1 : every <= 2 ? 2 : every <= 5 ? 5 : every <= 10 ? 10 : Math.ceil(every / 10) * 10;
  const out: string[] = [`<g font-size="10" fill="#666666">`];
  for (let c = 0; c < width; c += step) out.push(el("text", { x: gx + (c + 0.5) * cell, y: gy - 5, "text-anchor": "middle" }, String(c)));
  for (let r = 0; r < height; r += step) out.push(el("text", { x: gx - 6, y: gy + (r + 0.5) * cell + 3.5, "text-anchor": "end" }, String(r)));
  out.push("</g>");
  return out.join("\n");
}

function marksSvg(marks: readonly CellMark[], width: number, height: number, cell: number, gx: number, gy: number): string {
  const out: string[] = [];
  for (const m of marks) {
    if (!Number.isInteger(m.row) || !Number.isInteger(m.col) || m.row < 0 || m.row >= height || m.col < 0 || m.col >= width) {
      throw new RangeError(`marks: cell (${m.row}, ${m.col}) is off the ${width} × ${height} grid`);
    }
    const x = gx + m.col * cell, y = gy + m.row * cell;
    const color = m.color ?? MARK;
    const inset = Math.min(2, cell / 6);
    out.push(el("rect", { x: x + inset, y: y + inset, width: cell - 2 * inset, height: cell - 2 * inset, fill: "none", stroke: color, "stroke-width": Math.max(1.5, Math.min(3, cell / 10)) }));
    if (m.label && cell >= 16) {
      const fs = Math.max(8, Math.min(13, Math.floor(cell / 3.2)));
      out.push(el("text", { x: x + inset + 2, y: y + inset + fs, "font-size": fs, "font-weight": "700", fill: color, stroke: "#ffffff", "stroke-width": 2.5, "paint-order": "stroke" }, esc(m.label)));
    }
  }
  return out.length ? `<g>\n${out.join("\n")}\n</g>` : "<g/>";
}

function caption(marks: readonly CellMark[], x: number, y: number, note?: string): string {
  const parts = marks.filter((m) => m.name).map((m) => (m.label ? `${m.label} = ${m.name}` : m.name as string));
  if (note) parts.push(note);
  if (parts.length === 0) return "<g/>";
  return el("text", { x, y: y - 12, fill: "#444444", "font-size": 11 }, esc(parts.join("   ·   ")));
}

function colorBar(lo: number, hi: number, x: number, y: number, h: number, label?: string, lighten_ = 0): string {
  const out: string[] = ["<g>"];
  const bands = 64, bw = 14;
  for (let i = 0; i < bands; i++) {
    const t = 1 - (i + 0.5) / bands;
    const c = viridis(t);
    out.push(el("rect", { x, y: y + (i * h) / bands, width: bw, height: h / bands + 0.5, fill: lighten_ ? lighten(c, lighten_) : c }));
  }
  out.push(el("rect", { x, y, width: bw, height: h, fill: "none", stroke: "#555555" }));
  if (hi > lo) {
    const { ticks, step } = niceTicks(lo, hi, 5);
    for (const t of ticks) {
      if (t < lo - 1e-12 * Math.abs(hi - lo) || t > hi + 1e-12 * Math.abs(hi - lo)) continue;
      const ty = y + h - ((t - lo) / (hi - lo)) * h;
      out.push(el("line", { x1: x + bw, y1: ty, x2: x + bw + 4, y2: ty, stroke: "#555555" }));
      out.push(el("text", { x: x + bw + 7, y: ty + 4, fill: "#333333", "font-size": 10 }, esc(formatTick(t, step))));
    }
  } else {
    out.push(el("text", { x: x + bw + 7, y: y + h / 2 + 4, fill: "#333333", "font-size": 10 }, esc(formatValue(lo))));
  }
  if (label) {
    const lx = x + bw + 62, ly = y + h / 2;
    out.push(el("text", { x: lx, y: ly, "text-anchor": "middle", transform: `rotate(90 ${num(lx)} ${num(ly)})`, fill: "#222222", "font-size": 11 }, esc(label)));
  }
  out.push("</g>");
  return out.join("\n");
}

/** Mix a #rrggbb colour with white (amount 0 = unchanged, 1 = white). */
function lighten(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v + (255 - v) * amount));
  return "#" + ch.map((v) => v.toString(16).padStart(2, "0")).join("");
}
