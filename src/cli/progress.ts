// Progress of a long run. On a terminal: one line redrawn in place (a bar, iteration,
// φ or f, ‖ĥ‖, rate and ETA), at most ~12 times a second. Piped (logs, Slurm, CI): plain
// lines `k=…/… phi=… hnorm=… rate=… it/s eta=…` after the first iteration, every tenth of
// the run, every 10 s at most apart, and at the end.

export interface ProgressRow {
  f: number;
  hnorm: number;
  phi?: number;
}

export interface ProgressOptions {
  /** Iterations of the whole run. */
  total: number;
  /** Redraw a bar in place (a terminal) or print plain lines. */
  tty: boolean;
  write: (s: string) => void;
  /** Terminal width (default 100). */
  columns?: number;
  /** Prefix of each line, e.g. the algorithm in `compare`. */
  label?: string;
  now?: () => number;
}

export class Progress {
  private readonly t0: number;
  private lastDraw = -Infinity;
  private lastLine = -Infinity;
  private nextLine = 1;
  private readonly every: number;
  private phi: number | undefined;
  private drawn = false;
  private done_ = 0;
  private row: ProgressRow | undefined;
  private elapsed: number | undefined;
  private first: { done: number; elapsed: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? (() => performance.now());
    this.t0 = this.now();
    this.every = Math.max(1, Math.ceil(o.total / 10));
  }

  /**
   * `done` iterations are complete; `row` is the last one's history record; `elapsedMs`,
   * when known, is the run's own time so far (else the time since this object was made).
   */
  update(done: number, row: ProgressRow, elapsedMs?: number): void {
    this.done_ = done;
    this.elapsed = elapsedMs;
    this.row = row;
    if (typeof row.phi === "number") this.phi = row.phi;
    const t = this.now();
    const last = done >= this.o.total;
    if (this.o.tty) {
      if (last || t - this.lastDraw >= 80) {
        this.lastDraw = t;
        this.o.write("\r\x1b[2K" + this.barLine(t));
        this.drawn = true;
      }
    } else if (done >= this.nextLine || last || t - this.lastLine >= 10_000) {
      this.lastLine = t;
      this.nextLine = (Math.floor(done / this.every) + 1) * this.every;
      this.o.write(this.plainLine(t) + "\n");
    }
  }

  /** End the bar's line (terminal) so that later output starts on a fresh line. */
  finish(): void {
    if (this.o.tty && this.drawn) {
      if (this.row) this.o.write("\r\x1b[2K" + this.barLine(this.now()));
      this.o.write("\n");
      this.drawn = false;
    }
  }

  /** Rate from the first update on (the first iteration carries set-up and warm-up time). */
  private stats(t: number) {
    const elapsed = (this.elapsed ?? t - this.t0) / 1000;
    if (this.first === undefined) this.first = { done: this.done_, elapsed };
    const dn = this.done_ - this.first.done, dt = elapsed - this.first.elapsed;
    const rate = dn > 0 && dt > 0 ? dn / dt : NaN;
    const eta = rate > 0 ? (this.o.total - this.done_) / rate : this.done_ >= this.o.total ? 0 : NaN;
    return { elapsed, rate, eta };
  }

  private objective(): { name: string; value: number } {
    if (this.phi !== undefined) return { name: "phi", value: this.phi };
    return { name: "f", value: this.row?.f ?? NaN };
  }

  private plainLine(t: number): string {
    const { rate, eta } = this.stats(t);
    const obj = this.objective();
    const parts = [
      `k=${this.done_}/${this.o.total}`,
      `${obj.name}=${fmtNum(obj.value)}`,
      `hnorm=${fmtExp(this.row?.hnorm ?? NaN)}`,
      `rate=${fmtRate(rate)} it/s`,
      `eta=${fmtDuration(eta)}`,
    ];
    return (this.o.label ? `${this.o.label} ` : "") + parts.join(" ");
  }

  private barLine(t: number): string {
    const { rate, eta } = this.stats(t);
    const obj = this.objective();
    const total = this.o.total;
    const count = `${String(this.done_).padStart(String(total).length)}/${total}`;
    const tail = `  ${count}  ${obj.name === "phi" ? "φ" : "f"} ${fmtNum(obj.value)}  ‖ĥ‖ ${fmtExp(this.row?.hnorm ?? NaN)}  ${fmtRate(rate)} it/s  ETA ${fmtDuration(eta)}`;
    const label = this.o.label ? `${this.o.label} ` : "";
    const columns = this.o.columns ?? 100;
    const width = Math.max(10, Math.min(40, columns - tail.length - label.length - 3));
    const filled = Math.round((width * this.done_) / Math.max(1, total));
    return `${label}[${"█".repeat(filled)}${"░".repeat(width - filled)}]${tail}`;
  }
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return v.toExponential(4);
  return v.toPrecision(6);
}

export function fmtExp(v: number): string {
  return Number.isFinite(v) ? v.toExponential(2) : String(v);
}

function fmtRate(rate: number): string {
  return Number.isFinite(rate) ? rate.toFixed(1) : "?";
}

export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export interface CellsProgressOptions {
  /** Cells this process runs (the shard's, or all). */
  cells: number;
  /** Redraw a status line in place (a terminal) or only print the cells' lines. */
  tty: boolean;
  write: (s: string) => void;
  /** Terminal width (default 100): the status line is cut to fit. */
  columns?: number;
  now?: () => number;
}

/**
 * One progress display for cells run by several workers at once (`sweep --jobs N`): each
 * finished cell's line, in the order the cells finish, with the count done and running;
 * on a terminal also a status line below them, redrawn in place at most ~12 times a
 * second, with each running cell's iteration (`cells 7/24 done, 2 running: cell 8 40/100, …`).
 */
export class CellsProgress {
  private done_ = 0;
  private readonly running = new Map<number, { done: number; total: number }>();
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly now: () => number;

  constructor(private readonly o: CellsProgressOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Cell `index` (of `iterations` iterations) has started. */
  start(index: number, iterations: number): void {
    this.running.set(index, { done: 0, total: iterations });
    this.draw(false);
  }

  /** Cell `index` has done `done` iterations. */
  update(index: number, done: number): void {
    const r = this.running.get(index);
    if (!r) return;
    r.done = done;
    this.draw(false);
  }

  /** Cell `index` has finished; `line` says how (printed with the counts). */
  finish(index: number, line: string): void {
    this.running.delete(index);
    this.done_++;
    this.clear();
    this.o.write(`${line} [${this.counts()}]\n`);
    this.draw(true);
  }

  /** Remove the status line (before other output, and at the end). */
  clear(): void {
    if (this.drawn) {
      this.o.write("\r\x1b[2K");
      this.drawn = false;
    }
  }

  /** `cells 7/24 done, 2 running`. */
  counts(): string {
    return `cells ${this.done_}/${this.o.cells} done, ${this.running.size} running`;
  }

  private draw(force: boolean): void {
    if (!this.o.tty) return;
    const t = this.now();
    if (!force && t - this.lastDraw < 80) return;
    this.lastDraw = t;
    const cells = [...this.running.entries()].sort((a, b) => a[0] - b[0]).map(([i, r]) => `cell ${i} ${r.done}/${r.total}`);
    let line = this.counts() + (cells.length ? `: ${cells.join(", ")}` : "");
    const columns = this.o.columns || 100; // 0 when the terminal reports no size
    if (line.length > columns - 1) line = line.slice(0, Math.max(0, columns - 2)) + "…";
    this.o.write("\r\x1b[2K" + line);
    this.drawn = true;
  }
}
