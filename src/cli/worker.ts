// Runs experiments in a worker thread. runExperiment is synchronous, so on the main thread
// nothing else — a progress bar, a Ctrl-C handler — could run until it returned. In a
// worker, the main thread stays free: it draws the progress from the rows the worker posts,
// and on SIGINT it raises a flag in shared memory that the worker checks after every
// iteration (aborting the run's AbortSignal), so the run stops cleanly with its history.
//
// The same module is the worker's entry: from the bundle (dist/cli.js) the worker loads the
// bundle itself; from source (.ts, under tsx) a small bootstrap registers the wasm import
// hook and tsx in the worker first (Node 20 does not pass --import hooks to workers).
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { HistoryRecord } from "../bilevel/algorithms/common";
import { solveLower } from "../bilevel/lowerSolve";
import { buildExperiment, runExperiment } from "../experiment/runner";
import { ExperimentError, type Experiment, type ExperimentIssue, type ExperimentResult, type RunInfo } from "../experiment/types";
import { init } from "../wasm/module";

const WORKER_TAG = "bilevel-rl:experiment-worker";

/** What the worker adds for grid problems: the learned reward per state and the lower policy at the final x. */
export interface GridPlotData {
  /** r_x(s) averaged over the actions (length S). */
  reward: number[];
  /** Whether r_x(s, a) is the same for every action (then `reward` is exactly r_x(s)). */
  rewardPerState: boolean;
  /** π*_x (S·A), from a tight lower solve at the final x; absent when that failed. */
  pi?: number[];
  piError?: string;
}

export interface RowUpdate {
  /** Iterations done so far. */
  done: number;
  total: number;
  row: HistoryRecord;
  /** The latest φ recorded so far (rows between φ records have none). */
  phi?: number;
  /** Milliseconds since the run started (in the worker: no start-up or messaging delay). */
  elapsedMs: number;
}

export interface WorkerOutcome {
  result: ExperimentResult;
  runInfo: RunInfo;
  grid?: GridPlotData;
}

/** A failure inside the worker: 'config' when the experiment could not be set up (exit 2), 'run' otherwise (exit 1). */
export class WorkerRunError extends Error {
  constructor(
    message: string,
    readonly kind: "config" | "run",
    readonly issues: ExperimentIssue[] | undefined,
    readonly remoteStack: string | undefined,
    readonly errorName: string,
  ) {
    super(message);
    this.name = "WorkerRunError";
  }
}

type ToWorker = { type: "run"; id: number; experiment: Experiment; grid: boolean; progressMs: number };
type FromWorker =
  | { type: "row"; id: number; update: RowUpdate }
  | { type: "done"; id: number; result: ExperimentResult; runInfo: RunInfo; grid?: GridPlotData }
  | { type: "error"; id: number; kind: "config" | "run"; name: string; message: string; stack?: string; issues?: ExperimentIssue[] };

// ---------------------------------------------------------------------------------------
// host side

export class ExperimentWorker {
  private worker: Worker | undefined;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private pending = new Map<number, { resolve: (o: WorkerOutcome) => void; reject: (e: unknown) => void; onRow?: (u: RowUpdate) => void }>();

  /** Ask the running experiment (and every later one) to stop after its current iteration. */
  interrupt(): void {
    Atomics.store(this.flag, 0, 1);
  }

  get interrupted(): boolean {
    return Atomics.load(this.flag, 0) === 1;
  }

  /** Run one experiment; `grid` asks for the grid plot data as well. */
  run(experiment: Experiment, options: { onRow?: (u: RowUpdate) => void; grid?: boolean; progressMs?: number } = {}): Promise<WorkerOutcome> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<WorkerOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onRow: options.onRow });
      const msg: ToWorker = { type: "run", id, experiment, grid: !!options.grid, progressMs: options.progressMs ?? 50 };
      worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const self = import.meta.url;
    const data = { tag: WORKER_TAG, flag: this.flag };
    let worker: Worker;
    if (/\.[cm]?ts$/.test(fileURLToPath(self))) {
      // from source: register the .wasm import hook and tsx inside the worker, then load this module
      const tsxApi = resolveImport("tsx/esm/api", self);
      const wasmHook = new URL("../../scripts/register-wasm.mjs", self).href;
      const boot = `(async () => {
        await import(${JSON.stringify(wasmHook)});
        const api = await import(${JSON.stringify(tsxApi)});
        (api.register ?? api.default.register)();
        await import(${JSON.stringify(self)});
      })().catch((e) => { setTimeout(() => { throw e; }); });`;
      worker = new Worker(boot, { eval: true, workerData: data, execArgv: [] });
    } else {
      worker = new Worker(new URL(self), { workerData: data, execArgv: [] });
    }
    worker.on("message", (m: FromWorker) => this.onMessage(m));
    worker.on("error", (e) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(e);
    });
    worker.on("exit", (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.pending.size > 0) this.failAll(new Error(`the experiment worker exited unexpectedly (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === "row") {
      p.onRow?.(m.update);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === "done") p.resolve({ result: m.result, runInfo: m.runInfo, grid: m.grid });
    else p.reject(new WorkerRunError(m.message, m.kind, m.issues, m.stack, m.name));
  }

  private failAll(e: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}

/** The ESM entry a bare specifier resolves to from `parent` (import conditions). */
function resolveImport(specifier: string, parent: string): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string, p?: string) => string };
  try {
    if (typeof meta.resolve === "function") return meta.resolve(specifier);
  } catch {
    // fall back to require.resolve below
  }
  // tsx's exports map: "import" → index.mjs next to the "require" index.cjs
  return pathToFileURL(createRequire(parent).resolve(specifier).replace(/\.cjs$/, ".mjs")).href;
}

// ---------------------------------------------------------------------------------------
// worker side

async function serve(): Promise<void> {
  const port = parentPort!;
  const flag = workerData.flag as Int32Array;
  await init();
  port.on("message", (m: ToWorker) => {
    if (m.type !== "run") return;
    const post = (msg: FromWorker) => port.postMessage(msg);
    let done = 0;
    let lastPost = -Infinity;
    let lastPhi: number | undefined;
    const controller = new AbortController();
    if (Atomics.load(flag, 0) === 1) controller.abort();
    const t0 = performance.now();
    try {
      const run = runExperiment(m.experiment, {
        signal: controller.signal,
        onIteration(row, _k, total) {
          done++;
          if (row.phi !== undefined) lastPhi = row.phi;
          const t = performance.now();
          if (done === 1 || done === total || t - lastPost >= m.progressMs) {
            lastPost = t;
            post({ type: "row", id: m.id, update: { done, total, row: { k: row.k, f: row.f, hnorm: row.hnorm, lowerResidual: row.lowerResidual, ...(row.phi !== undefined ? { phi: row.phi } : {}) }, phi: lastPhi, elapsedMs: t - t0 } });
          }
          if (Atomics.load(flag, 0) === 1) controller.abort();
        },
      });
      const result: ExperimentResult = { ...run };
      let grid: GridPlotData | undefined;
      if (m.grid) grid = gridData(result);
      post({ type: "done", id: m.id, result, runInfo: { ...run.runInfo }, grid });
    } catch (e) {
      const err = e as Error;
      const kind = e instanceof ExperimentError && done === 0 ? "config" : "run";
      post({
        type: "error",
        id: m.id,
        kind,
        name: err?.name ?? "Error",
        message: err?.message ?? String(e),
        stack: err?.stack,
        issues: e instanceof ExperimentError ? e.errors : undefined,
      });
    }
  });
}

/** The learned reward per state and π*_x at the final x (a fresh build: the run's counters are untouched). */
function gridData(result: ExperimentResult): GridPlotData | undefined {
  try {
    const { problem, contextual } = buildExperiment(result.experiment);
    const { A } = problem.mdp;
    // a contextual problem: the first context's block (its states come first in the union)
    const S = contextual ? contextual.contexts[0].S : problem.mdp.S;
    const x = Float64Array.from(result.final.x);
    const r = Float64Array.from(problem.rewardAt(x));
    const reward: number[] = [];
    let perState = true;
    for (let s = 0; s < S; s++) {
      let sum = 0;
      for (let a = 0; a < A; a++) {
        sum += r[s * A + a];
        if (r[s * A + a] !== r[s * A]) perState = false;
      }
      reward.push(sum / A);
    }
    const out: GridPlotData = { reward, rewardPerState: perState };
    try {
      out.pi = Array.from(solveLower(problem, x, { tol: 1e-10 }).pi.subarray(0, S * A));
    } catch (e) {
      out.piError = (e as Error).message;
    }
    return out;
  } catch {
    return undefined;
  }
}

if (!isMainThread && (workerData as { tag?: string } | null)?.tag === WORKER_TAG) {
  serve().catch((e) => {
    setTimeout(() => {
      throw e;
    });
  });
}
