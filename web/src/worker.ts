// The solver worker: builds the experiment with the published package ("bilevel-rl", the
// built dist/) and runs it in time slices (web/src/runner.ts), posting the new history rows
// and, a few times a second, the learned reward and the lower policy at the current x.
// Between slices it reads its messages, which is what makes pause and resume work; the
// result is byte-identical to runExperiment's (tests/identity.test.ts, tests/e2e).
import * as lib from "bilevel-rl";
import type { Backend } from "bilevel-rl";
import { RunFailure, startRun, type Lib, type SteppedRun } from "./runner";
import { fnv1a64Text } from "./hash";
import type { FromWorker, GridView, Picture, ToWorker } from "./protocol";
import type { CellMark } from "../../src/plot/index";

const post = (m: FromWorker) => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);
const now = () => performance.now();

/** Largest S·A drawn (bigger tables are not pictured). */
const MAX_PICTURE = 20_000;
/** Minimum time between two pictures. */
const PICTURE_EVERY_MS = 150;

let run: SteppedRun | null = null;
let paused = false;
let sliceMs = 40;
let busyMs = 0;
let picture: { problem: Problem; lastAt: number; V0?: Float64Array } | null = null;
type Problem = SteppedRun["problem"];

// Schedule the next slice as a fresh task (a MessageChannel message is not clamped to 4 ms
// like a nested setTimeout), so that the page's messages are read in between.
const channel = new MessageChannel();
let scheduled = false;
channel.port1.onmessage = () => {
  scheduled = false;
  slice();
};
const schedule = () => {
  if (!scheduled) {
    scheduled = true;
    channel.port2.postMessage(0);
  }
};

const ready = lib.init().then(
  (b) => {
    post({ type: "ready", simd: b.simd, simdSupported: lib.simdSupported() });
    return b;
  },
  (e) => {
    post({ type: "failed", message: `the kernels could not be compiled: ${(e as Error).message}` });
    throw e;
  },
);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === "start") await start(m.experiment, m.build, m.sliceMs);
  else if (m.type === "pause") {
    // also before the run is built: start() then waits for "resume"
    if (!paused && !(run && run.finished)) {
      paused = true;
      if (run) post({ type: "paused", done: run.done });
    }
  } else if (m.type === "resume") {
    if (run && !run.finished && paused) {
      paused = false;
      post({ type: "resumed", done: run.done });
      schedule();
    }
  }
};

async function start(experiment: unknown, build: "auto" | "simd" | "scalar", slice?: number): Promise<void> {
  let backend: Backend;
  try {
    await ready;
    backend = await lib.init(build === "auto" ? {} : { simd: build === "simd" });
  } catch (e) {
    post({ type: "failed", message: (e as Error).message });
    return;
  }
  if (slice !== undefined) sliceMs = slice;
  run = null;
  try {
    run = startRun(lib as unknown as Lib, experiment, { backend });
  } catch (e) {
    if (e instanceof RunFailure) post({ type: "invalid", errors: e.errors });
    else post({ type: "failed", message: (e as Error).message });
    return;
  }
  busyMs = 0;
  let grid: GridView | null = null;
  picture = null;
  try {
    const built = pictureProblem(run, backend);
    grid = built.grid;
    if (run.summary.S * run.summary.A <= MAX_PICTURE) picture = { problem: built.problem, lastAt: -Infinity };
  } catch {
    // no pictures for this problem
  }
  post({ type: "started", total: run.total, summary: run.summary, grid, simd: backend.simd });
  // the picture at x_0, before the first step
  const first = draw(true);
  if (first) post({ type: "progress", rows: [], done: 0, total: run.total, picture: first, busyMs });
  if (paused) post({ type: "paused", done: 0 });
  else schedule();
}

function slice(): void {
  if (!run || paused || run.finished) return;
  const current = run;
  const t0 = now();
  let rows;
  try {
    rows = current.advance(() => now() - t0 >= sliceMs);
  } catch (e) {
    run = null;
    if (e instanceof RunFailure) post({ type: "invalid", errors: e.errors });
    else post({ type: "failed", message: `${(e as Error).name}: ${(e as Error).message}` });
    return;
  }
  busyMs += now() - t0;
  const done = current.finished;
  const pic = draw(done);
  post({ type: "progress", rows: rows.map(plainRow), done: current.done, total: current.total, ...(pic ? { picture: pic } : {}), busyMs });
  if (done) finish(current);
  else schedule();
}

function finish(current: SteppedRun): void {
  const result = current.result();
  const json = lib.resultToJSON(result as never);
  post({
    type: "finished",
    status: result.status,
    ...(result.message !== undefined ? { message: result.message } : {}),
    done: current.done,
    json,
    hash: fnv1a64Text(json),
    final: { ...(result.final.phi !== undefined ? { phi: result.final.phi } : {}), f: result.final.f, hnorm: result.final.hnorm },
    counters: result.counters,
    busyMs,
  });
}

const plainRow = (r: { k: number; f: number; hnorm: number; lowerResidual: number; phi?: number; penalty?: number }) => {
  const o: { k: number; f: number; hnorm: number; lowerResidual: number; phi?: number; penalty?: number } = { k: r.k, f: r.f, hnorm: r.hnorm, lowerResidual: r.lowerResidual };
  if (r.phi !== undefined) o.phi = r.phi;
  if (r.penalty !== undefined) o.penalty = r.penalty;
  return o;
};

/** The lower level at the current x on a separate problem instance (the run's own is never touched). */
function draw(force: boolean): Picture | undefined {
  if (!run || !picture) return undefined;
  const t = now();
  if (!force && t - picture.lastAt < PICTURE_EVERY_MS) return undefined;
  picture.lastAt = t;
  try {
    const low = lib.solveLower(picture.problem as never, run.x(), { tol: 1e-9, maxIter: 20_000, V0: picture.V0 });
    picture.V0 = low.V;
    const { S, A } = run.summary;
    return { k: run.done, S, A, r: Array.from(low.r), pi: Array.from(low.pi) };
  } catch {
    return undefined;
  }
}

/** A second instance of the problem for the pictures, and the grid when it is a gridworld. */
function pictureProblem(current: SteppedRun, backend: Backend): { problem: Problem; grid: GridView | null } {
  const p = current.experiment.problem;
  const own = () => lib.buildExperiment(current.experiment, { backend }).problem as unknown as Problem;
  if (!("builtin" in p)) return { problem: own(), grid: null };
  const params = { ...(p.params as Record<string, unknown>), backend };
  if (p.builtin === "gridGoal") {
    const g = lib.gridGoal(params);
    const t = g.grid.cell(g.target), s = g.grid.cell(g.start);
    return { problem: g.problem as unknown as Problem, grid: view(g.grid, [mark(s, "S", "start"), mark(t, "T", "target", "#ff7f0e")], []) };
  }
  if (p.builtin === "shaping") {
    const g = lib.shaping(params);
    const goal = g.grid.cell(g.goal);
    const starts = Array.from(g.grid.starts.length ? g.grid.starts : [g.start]).map((s, i) => mark(g.grid.cell(s), "S", i === 0 ? "start" : undefined));
    return { problem: g.problem as unknown as Problem, grid: view(g.grid, [...starts, mark(goal, "G", "goal (absorbing)", "#ff7f0e")], [g.goal]) };
  }
  if (p.builtin === "gridworld") {
    const g = lib.gridworld(params);
    const marks = [
      ...Array.from(g.starts).map((s, i) => mark(g.cell(s), "S", i === 0 ? "start" : undefined)),
      ...Array.from(g.goals).map((s, i) => mark(g.cell(s), "G", i === 0 ? "goal (absorbing)" : undefined, "#ff7f0e")),
    ];
    return { problem: own(), grid: view(g, marks, Array.from(g.goals)) };
  }
  return { problem: own(), grid: null };
}

function mark(cell: { row: number; col: number }, label: string, name?: string, color?: string): CellMark {
  return { row: cell.row, col: cell.col, label, ...(name ? { name } : {}), ...(color ? { color } : {}) };
}

function view(g: { width: number; height: number; cellToState: Int32Array; actions: readonly string[] }, marks: CellMark[], skip: number[]): GridView {
  return { width: g.width, height: g.height, cellToState: Array.from(g.cellToState), actions: [...g.actions], marks, skip };
}
