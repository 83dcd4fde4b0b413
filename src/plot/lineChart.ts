// Line charts as standalone SVG strings: `lineChart` (one panel, any number of series,
// optional log y axis) and `convergenceChart` (two panels, the objective and ‖ĥ‖ on a log
// scale, against the iteration; one colour per run, so several algorithms overlay).
import {
  DASHES,
  el,
  esc,
  formatTick,
  logTicks,
  niceTicks,
  num,
  PALETTE,
  powerLabel,
  svgOpen,
  textWidth,
} from "./svg";

/** One curve. `x` defaults to 0, 1, 2, …; non-finite points (and y ≤ 0 on a log axis) break the line. */
export interface Series {
  name?: string;
  x?: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Stroke colour (default: the palette, by position). */
  color?: string;
  /** SVG stroke-dasharray (default: solid, dashed after the palette wraps). */
  dash?: string;
  /** Draw a dot at each point (default: when the series has at most 40 finite points). */
  markers?: boolean;
}

/** Options of `lineChart`. */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (decades); points with y ≤ 0 are left out. */
  logY?: boolean;
  /** Pixel size (default 640 × 400). */
  width?: number;
  height?: number;
  /** Show the legend (default: when at least one series has a name). */
  legend?: boolean;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface PanelSpec {
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
  subtitle?: string;
}

const AXIS = "#333333";
const MAX_POINTS = 3000;
const GRID = "#e6e6e6";
const GRID_MINOR = "#f3f3f3";

/** A single-panel line chart. */
export function lineChart(series: readonly Series[], options: LineChartOptions = {}): string {
  const width = options.width ?? 640, height = options.height ?? 400;
  const styled = styleSeries(series);
  const showLegend = options.legend ?? styled.some((s) => s.name);
  const legendW = showLegend ? legendWidth(styled) : 0;
  const top = options.title ? 44 : 18;
  const box: Box = { x: 76, y: top, w: width - 76 - 20 - legendW, h: height - top - 54 };
  const out = [svgOpen(width, height, options.title)];
  if (options.title) out.push(titleText(options.title, width / 2, 26));
  out.push(panel(styled, options, box));
  if (showLegend) out.push(legend(styled, box.x + box.w + 16, box.y + 4));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** One run's history as the convergence chart wants it (a subset of the experiment history rows). */
export interface ConvergenceRun {
  name: string;
  history: ReadonlyArray<{ k: number; f: number; hnorm: number; phi?: number }>;
  color?: string;
  dash?: string;
}

/** Options of `convergenceChart`. */
export interface ConvergenceChartOptions {
  title?: string;
  /** Pixel size (default 1000 × 400). */
  width?: number;
  height?: number;
}

/**
 * Two panels side by side: φ(x_k) against k (f(x_k, π_k) for runs that recorded no φ)
 * and ‖ĥ_k‖ against k on a log scale; one colour per run, a shared legend on the right.
 */
export function convergenceChart(runs: readonly ConvergenceRun[], options: ConvergenceChartOptions = {}): string {
  const width = options.width ?? 1000, height = options.height ?? 400;
  const objective: Series[] = [], hnorm: Series[] = [];
  let withPhi = 0;
  for (const run of runs) {
    const phiRows = run.history.filter((r) => typeof r.phi === "number");
    const rows = phiRows.length > 0 ? phiRows : run.history;
    if (phiRows.length > 0) withPhi++;
    objective.push({
      name: run.name,
      x: rows.map((r) => r.k),
      y: rows.map((r) => (phiRows.length > 0 ? (r.phi as number) : r.f)),
      color: run.color,
      dash: run.dash,
    });
    hnorm.push({ name: run.name, x: run.history.map((r) => r.k), y: run.history.map((r) => r.hnorm), color: run.color, dash: run.dash });
  }
  const yLabel = withPhi === runs.length && runs.length > 0 ? "φ(x_k)" : withPhi === 0 ? "f(x_k, π_k)" : "φ(x_k), or f(x_k, π_k) without φ";
  const left = styleSeries(objective), right = styleSeries(hnorm);
  const legendW = legendWidth(left);
  const top = options.title ? 60 : 36;
  const gap = 84;
  const pw = (width - 76 - gap - 20 - legendW) / 2;
  const ph = height - top - 54;
  const boxL: Box = { x: 76, y: top, w: pw, h: ph };
  const boxR: Box = { x: 76 + pw + gap, y: top, w: pw, h: ph };
  const out = [svgOpen(width, height, options.title)];
  if (options.title) out.push(titleText(options.title, width / 2, 24));
  out.push(panel(left, { xLabel: "iteration k", yLabel, subtitle: withPhi === runs.length && runs.length > 0 ? "hyper-objective" : "upper objective" }, boxL));
  out.push(panel(right, { xLabel: "iteration k", yLabel: "‖ĥ_k‖", logY: true, subtitle: "hypergradient estimate norm" }, boxR));
  out.push(legend(left, boxR.x + boxR.w + 16, top + 4));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

// ---------- internals ----------

interface Styled extends Series {
  color: string;
  dash?: string;
}

function styleSeries(series: readonly Series[]): Styled[] {
  return series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length],
    dash: s.dash ?? DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
  }));
}

function legendWidth(series: readonly Styled[]): number {
  const names = series.filter((s) => s.name).map((s) => s.name as string);
  if (names.length === 0) return 0;
  return Math.min(260, Math.max(...names.map((n) => textWidth(n))) + 40);
}

function titleText(title: string, x: number, y: number): string {
  return el("text", { x, y, "text-anchor": "middle", "font-size": 15, "font-weight": "600", fill: "#111111" }, esc(title));
}

function legend(series: readonly Styled[], x: number, y: number): string {
  const out: string[] = ["<g>"];
  let row = 0;
  for (const s of series) {
    if (!s.name) continue;
    const cy = y + 8 + row * 20;
    out.push(el("line", { x1: x, y1: cy, x2: x + 22, y2: cy, stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": s.dash }));
    out.push(el("text", { x: x + 28, y: cy + 4, fill: "#222222" }, esc(s.name)));
    row++;
  }
  out.push("</g>");
  return out.join("\n");
}

function panel(series: readonly Styled[], spec: PanelSpec, box: Box): string {
  const logY = !!spec.logY;
  // finite points of every series
  const pts = series.map((s) => {
    const n = s.y.length;
    const xs: number[] = [], ys: number[] = [];
    // long series: every stride-th point (and the last), at most MAX_POINTS per curve
    const stride = Math.max(1, Math.ceil(n / MAX_POINTS));
    for (let i = 0; i < n; i++) {
      if (stride > 1 && i % stride !== 0 && i !== n - 1) continue;
      const x = s.x ? Number(s.x[i]) : i, y = Number(s.y[i]);
      xs.push(x);
      ys.push(Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0) ? y : NaN);
    }
    return { xs, ys };
  });
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity, allIntX = true;
  for (const { xs, ys } of pts) {
    for (let i = 0; i < ys.length; i++) {
      if (Number.isNaN(ys[i])) continue;
      xmin = Math.min(xmin, xs[i]);
      xmax = Math.max(xmax, xs[i]);
      ymin = Math.min(ymin, ys[i]);
      ymax = Math.max(ymax, ys[i]);
      if (!Number.isInteger(xs[i])) allIntX = false;
    }
  }
  const out: string[] = ["<g>"];
  if (spec.subtitle) out.push(el("text", { x: box.x + box.w / 2, y: box.y - 8, "text-anchor": "middle", fill: "#555555" }, esc(spec.subtitle)));
  out.push(el("rect", { x: box.x, y: box.y, width: box.w, height: box.h, fill: "#fcfcfc", stroke: "none" }));
  const empty = !(xmin <= xmax);
  if (empty) {
    xmin = 0; xmax = 1; ymin = logY ? 0.1 : 0; ymax = logY ? 10 : 1;
  }
  // x axis: the data extent, ticks inside it
  if (xmax === xmin) {
    xmin -= 1;
    xmax += 1;
  }
  let xt = niceTicks(xmin, xmax, Math.max(2, Math.floor(box.w / 90)));
  if (allIntX && xt.step < 1) xt = { ticks: integerTicks(xmin, xmax), step: 1 };
  const xTicks = xt.ticks.filter((t) => t >= xmin - 1e-9 * Math.abs(xmax - xmin) && t <= xmax + 1e-9 * Math.abs(xmax - xmin));
  const sx = (x: number) => box.x + ((x - xmin) / (xmax - xmin)) * box.w;

  // y axis
  let sy: (y: number) => number;
  const yTickMarks: { v: number; label: string }[] = [];
  const yMinor: number[] = [];
  if (logY) {
    const lt = logTicks(ymin, ymax);
    const lo = lt.lo, hi = lt.hi;
    sy = (y: number) => box.y + box.h - ((Math.log10(y) - lo) / (hi - lo)) * box.h;
    for (const p of lt.powers) yTickMarks.push({ v: Math.pow(10, p), label: powerLabel(p) });
    if (hi - lo <= 6) for (let p = lo; p < hi; p++) for (let m = 2; m <= 9; m++) yMinor.push(m * Math.pow(10, p));
  } else {
    const yt = niceTicks(ymin, ymax, Math.max(2, Math.floor(box.h / 55)));
    const lo = yt.ticks[0], hi = yt.ticks[yt.ticks.length - 1];
    sy = (y: number) => box.y + box.h - ((y - lo) / (hi - lo)) * box.h;
    for (const t of yt.ticks) yTickMarks.push({ v: t, label: esc(formatTick(t, yt.step)) });
  }

  // grid
  for (const m of yMinor) out.push(el("line", { x1: box.x, y1: sy(m), x2: box.x + box.w, y2: sy(m), stroke: GRID_MINOR }));
  for (const t of yTickMarks) out.push(el("line", { x1: box.x, y1: sy(t.v), x2: box.x + box.w, y2: sy(t.v), stroke: GRID }));
  for (const t of xTicks) out.push(el("line", { x1: sx(t), y1: box.y, x2: sx(t), y2: box.y + box.h, stroke: GRID }));

  // curves
  if (!empty) {
    pts.forEach(({ xs, ys }, i) => {
      const s = series[i];
      let d = "", pen = false, count = 0;
      const dots: string[] = [];
      for (let j = 0; j < ys.length; j++) {
        if (Number.isNaN(ys[j])) {
          pen = false;
          continue;
        }
        const px = sx(xs[j]), py = sy(ys[j]);
        d += `${pen ? "L" : "M"}${num(px)} ${num(py)}`;
        pen = true;
        count++;
        dots.push(el("circle", { cx: px, cy: py, r: 2.5, fill: s.color }));
      }
      if (count === 0) return;
      out.push(el("path", { d, fill: "none", stroke: s.color, "stroke-width": 1.75, "stroke-linejoin": "round", "stroke-linecap": "round", "stroke-dasharray": s.dash }));
      if (s.markers ?? count <= 40) out.push(...dots);
    });
  } else {
    out.push(el("text", { x: box.x + box.w / 2, y: box.y + box.h / 2, "text-anchor": "middle", fill: "#888888" }, "no data"));
  }

  // frame, ticks, labels
  out.push(el("rect", { x: box.x, y: box.y, width: box.w, height: box.h, fill: "none", stroke: AXIS }));
  for (const t of xTicks) {
    const x = sx(t);
    out.push(el("line", { x1: x, y1: box.y + box.h, x2: x, y2: box.y + box.h + 5, stroke: AXIS }));
    out.push(el("text", { x, y: box.y + box.h + 18, "text-anchor": "middle", fill: AXIS }, esc(formatTick(t, xt.step))));
  }
  for (const t of yTickMarks) {
    const y = sy(t.v);
    out.push(el("line", { x1: box.x - 5, y1: y, x2: box.x, y2: y, stroke: AXIS }));
    out.push(el("text", { x: box.x - 8, y: y + 4, "text-anchor": "end", fill: AXIS }, t.label));
  }
  if (spec.xLabel) out.push(el("text", { x: box.x + box.w / 2, y: box.y + box.h + 40, "text-anchor": "middle", fill: "#222222" }, esc(spec.xLabel)));
  if (spec.yLabel) {
    const x = box.x - 58, y = box.y + box.h / 2;
    out.push(el("text", { x, y, "text-anchor": "middle", transform: `rotate(-90 ${num(x)} ${num(y)})`, fill: "#222222" }, esc(spec.yLabel)));
  }
  out.push("</g>");
  return out.join("\n");
}

/** Integer ticks between xmin and xmax with a 1-2-5 step of at least 1. */
function integerTicks(xmin: number, xmax: number): number[] {
  const ticks: number[] = [];
  for (let t = Math.ceil(xmin); t <= Math.floor(xmax); t++) ticks.push(t);
  return ticks;
}
