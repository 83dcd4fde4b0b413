// Small, deterministic SVG building blocks shared by the charts: escaping, coordinate
// formatting, "nice" axis ticks (linear 1-2-5 and log decades), tick labels, a colour
// palette and the viridis colour map. No DOM, no node: imports, no randomness, no ids:
// the same input always gives the same bytes, in Node and in browsers.

/** Escape text for SVG character data and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A coordinate with at most two decimals, no trailing zeros, no "-0". */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  if (r === 0 || Object.is(r, -0)) return "0";
  return String(r);
}

/** Attributes → ` a="b" c="d"` (undefined values are left out; insertion order is kept). */
export function attrs(a: Record<string, string | number | undefined>): string {
  let out = "";
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    out += ` ${k}="${typeof v === "number" ? num(v) : esc(v)}"`;
  }
  return out;
}

export function el(name: string, a: Record<string, string | number | undefined>, body?: string): string {
  return body === undefined ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${body}</${name}>`;
}

export const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** Opening tag of a standalone SVG document with a white background. */
export function svgOpen(width: number, height: number, title?: string): string {
  const head =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}"` +
    ` font-family="${esc(FONT)}" font-size="12">`;
  const lines = [head];
  if (title) lines.push(`<title>${esc(title)}</title>`);
  lines.push(el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }));
  return lines.join("\n");
}

/** A rough, deterministic text width (no font metrics available): 0.6 em per character. */
export function textWidth(s: string, fontSize = 12): number {
  return [...s].length * fontSize * 0.6;
}

/** Category colours (Tableau 10), cycled. */
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** Dash patterns used after the palette wraps around, so 20 series stay distinguishable. */
export const DASHES = [undefined, "6 3", "2 3", "8 3 2 3"];

// ---------- ticks ----------

/** About `count` round ticks (steps 1, 2, 5 × 10^k) covering [min, max]; returns the ticks and the step. */
export function niceTicks(min: number, max: number, count = 6): { ticks: number[]; step: number } {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  const lo = Math.floor(min / step + 1e-9), hi = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = lo; i <= hi; i++) ticks.push(cleanFloat(i * step, step));
  return { ticks, step };
}

/** Round i·step to the step's decimals so that 0.30000000000000004 prints as 0.3. */
function cleanFloat(v: number, step: number): number {
  const d = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return d > 15 ? v : Number(v.toFixed(d));
}

/** Integer powers p (ticks at 10^p) covering [min, max] (both > 0), thinned to at most ~8 labels. */
export function logTicks(min: number, max: number): { lo: number; hi: number; powers: number[] } {
  let lo = Math.floor(Math.log10(min) + 1e-12), hi = Math.ceil(Math.log10(max) - 1e-12);
  if (hi <= lo) hi = lo + 1;
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  lo = Math.floor(lo / every) * every;
  hi = Math.ceil(hi / every) * every;
  const powers: number[] = [];
  for (let p = lo; p <= hi; p += every) powers.push(p);
  return { lo, hi, powers };
}

const MINUS = "\u2212";

/** A tick label for a linear axis with the given step. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e5 || a < 1e-3) s = v.toExponential(Math.max(0, Math.min(3, Math.ceil(-Math.log10(step / a) - 1e-9)))).replace(/e\+?/, "e");
  else s = v.toFixed(Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9))));
  return s.replace(/^-/, MINUS).replace(/e-/, "e" + MINUS);
}

/** A compact value label (colour bars, cell annotations): `digits` significant digits (default 3). */
export function formatValue(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  const s = a >= 1e4 || a < 1e-2 ? v.toExponential(digits - 1).replace(/e\+?/, "e") : String(Number(v.toPrecision(digits)));
  return s.replace(/^-/, MINUS).replace(/e-/, "e" + MINUS);
}

/** "10^p" with a superscript exponent. */
export function powerLabel(p: number): string {
  if (p === 0) return "1";
  if (p === 1) return "10";
  const exp = p < 0 ? MINUS + String(-p) : String(p);
  return `10<tspan dy="-5" font-size="9">${exp}</tspan>`;
}

// ---------- colour ----------

// viridis, sampled at 9 evenly spaced points (matplotlib's table)
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** Viridis colour of t ∈ [0, 1] as #rrggbb (t is clamped; NaN → grey). */
export function viridis(t: number): string {
  if (!Number.isFinite(t)) return "#bbbbbb";
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const c = VIRIDIS[i], d = VIRIDIS[i + 1];
  return "#" + [0, 1, 2].map((j) => Math.round(c[j] + (d[j] - c[j]) * f).toString(16).padStart(2, "0")).join("");
}

/** Perceived lightness of a #rrggbb colour in [0, 1] (for choosing black or white text). */
export function luminance(hex: string): number {
  const n = parseInt(hex.slice(1), 16);
  return (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
}
