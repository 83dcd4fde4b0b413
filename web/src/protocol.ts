// Messages between the page (main.ts) and the solver worker (worker.ts).
import type { CellMark } from "../../src/plot/index";

export interface Issue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface Row {
  k: number;
  f: number;
  hnorm: number;
  lowerResidual: number;
  phi?: number;
  penalty?: number;
}

/** What the page needs to draw a gridworld. */
export interface GridView {
  width: number;
  height: number;
  /** Cell index → state index, −1 for walls. */
  cellToState: number[];
  actions: string[];
  marks: CellMark[];
  /** States drawn without arrows (absorbing goals). */
  skip: number[];
}

/** The lower level at the current x: the learned reward and the lower policy. */
export interface Picture {
  k: number;
  S: number;
  A: number;
  /** r_x(s, a), S·A. */
  r: number[];
  /** π*(a | s) at the current x (a tight soft value iteration), S·A. */
  pi: number[];
}

export type ToWorker =
  | { type: "start"; experiment: unknown; build: "auto" | "simd" | "scalar"; sliceMs?: number }
  | { type: "pause" }
  | { type: "resume" };

export type FromWorker =
  | { type: "ready"; simd: boolean; simdSupported: boolean }
  | { type: "started"; total: number; summary: { name: string; S: number; A: number; n: number; tau: number; gamma: number; contexts?: { name: string; weight: number; S: number; offset: number }[] }; grid: GridView | null; simd: boolean }
  | { type: "progress"; rows: Row[]; done: number; total: number; picture?: Picture; busyMs: number }
  | { type: "paused"; done: number }
  | { type: "resumed"; done: number }
  | {
      type: "finished";
      status: "max-iterations" | "converged" | "diverged" | "interrupted";
      /** Why a run converged or diverged (the iteration; for 'diverged' the step most likely at fault). */
      message?: string;
      done: number;
      json: string;
      hash: string;
      final: { phi?: number; f: number | null; hnorm: number | null };
      counters: { sweeps: number; solves: number; sampledSteps: number };
      busyMs: number;
    }
  | { type: "invalid"; errors: Issue[] }
  | { type: "failed"; message: string };
