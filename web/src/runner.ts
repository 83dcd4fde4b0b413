// An experiment run that can stop between any two iterations and continue later, giving
// exactly the result `runExperiment` gives for the same document (same result JSON, byte
// for byte). The demo's worker drives it in time slices so that pause/resume works and
// the page stays live; tests/identity.test.ts checks the equality with runExperiment in
// Node, stopping after every single iteration.
//
// How: the algorithm's own `run(problem, { state, iterations })` resumes a trajectory from
// its plain-data state. Every slice asks for all the remaining iterations (so the driver's
// "record φ at the last iteration" rule sees the true end) and is cut short by returning
// `false` from onIteration; the history rows and work counters of the slices are
// concatenated, and the result is assembled as runExperiment assembles it.
//
// The library is passed in (`lib`): the page hands it the built package ("bilevel-rl",
// dist/), the Node test the sources. Only types are imported here.
import type * as Bilevel from "../../src/index";
import type { Experiment, ExperimentIssue, ExperimentResult, HistoryRecord, ProblemSummary } from "../../src/index";

/** What the runner needs from the library. */
export type Lib = Pick<
  typeof Bilevel,
  | "buildExperiment"
  | "resultToJSON"
  | "phi"
  | "algorithmInfo"
  | "ShapeError"
  | "DomainError"
  | "exactDescent"
  | "mSoBiRL"
  | "soBiRL"
  | "pbrl"
  | "parl"
  | "actorCritic"
  | "phiSigma"
  | "alternating"
>;

type Problem = ReturnType<Lib["buildExperiment"]>["problem"];
type AnyState = { k: number; x: number[] };
interface AnyAlgorithm {
  run(problem: Problem, options: Record<string, unknown>): {
    state: AnyState;
    x: Float64Array;
    history: HistoryRecord[];
    counters: { sweeps: number; solves: number; sampledSteps: number };
  };
}

export interface SteppedRun {
  readonly experiment: Experiment;
  readonly summary: ProblemSummary;
  /** The problem being optimised (do not call anything on it between slices: use another instance for pictures). */
  readonly problem: Problem;
  /** Iterations K of the experiment. */
  readonly total: number;
  /** Iterations done so far. */
  readonly done: number;
  readonly finished: boolean;
  /** Every history row so far. */
  readonly history: readonly HistoryRecord[];
  /** The current x_k (a copy). */
  x(): Float64Array;
  /**
   * Run iterations until `stop()` (asked after each iteration) returns true or the run is
   * complete; returns the new history rows. Throws an ExperimentIssue list (as
   * `RunFailure`) when the algorithm rejects an option.
   */
  advance(stop: () => boolean): HistoryRecord[];
  /** The result so far: status 'completed' once all iterations are done, else 'interrupted'. */
  result(): ExperimentResult;
  /** `lib.resultToJSON(result())`. */
  resultJSON(): string;
}

/** An error of the document, found while building or running it (JSON pointers, as runExperiment reports them). */
export class RunFailure extends Error {
  override name = "RunFailure";
  constructor(readonly errors: ExperimentIssue[]) {
    super(errors.map((e) => `${e.path || "/"}: ${e.message}`).join("\n"));
  }
}

const top = (argument: string) => argument.split(/[.[ ]/)[0];

/** Build the experiment (throws RunFailure with JSON pointers for invalid documents). */
export function startRun(lib: Lib, document: unknown, options: { backend?: unknown } = {}): SteppedRun {
  let built: ReturnType<Lib["buildExperiment"]>;
  try {
    built = lib.buildExperiment(document, { backend: options.backend as Bilevel.Backend | undefined });
  } catch (e) {
    const errors = (e as { errors?: ExperimentIssue[] }).errors;
    if (Array.isArray(errors)) throw new RunFailure(errors);
    throw e;
  }
  const { experiment, problem, summary, x0 } = built;
  const { name, ...hyper } = experiment.algorithm;
  const algorithms: Record<string, AnyAlgorithm> = {
    exactDescent: lib.exactDescent as unknown as AnyAlgorithm,
    mSoBiRL: lib.mSoBiRL as unknown as AnyAlgorithm,
    soBiRL: lib.soBiRL as unknown as AnyAlgorithm,
    pbrl: lib.pbrl as unknown as AnyAlgorithm,
    parl: lib.parl as unknown as AnyAlgorithm,
    actorCritic: lib.actorCritic as unknown as AnyAlgorithm,
    phiSigma: lib.phiSigma as unknown as AnyAlgorithm,
    alternating: lib.alternating as unknown as AnyAlgorithm,
  };
  const alg = algorithms[name];
  if (!alg) throw new RunFailure([{ path: "/algorithm/name", message: `unknown algorithm ${JSON.stringify(name)}` }]);
  const info = lib.algorithmInfo(name)!;
  const total = experiment.iterations;
  const history: HistoryRecord[] = [];
  const counters = { sweeps: 0, solves: 0, sampledSteps: 0 };
  let state: AnyState | undefined;

  /** The same JSON pointers runExperiment gives a library error thrown by the algorithm. */
  const failure = (e: unknown): unknown => {
    if (e instanceof lib.ShapeError || e instanceof lib.DomainError) {
      const t = top(e.argument);
      const path = info.params.some((p) => p.name === t) ? `/algorithm/${t}` : t === "tau" ? "/problem/tau" : t === "x" ? "/x0" : undefined;
      if (path !== undefined) {
        const m = e.message;
        const rule = m.startsWith(`${e.argument}`) ? m.slice(m.indexOf(": ") + 2) : m;
        return new RunFailure([{ path, message: `${e.argument}: ${rule}` }]);
      }
    }
    return e;
  };

  const run: SteppedRun = {
    experiment,
    summary,
    problem,
    total,
    get done() {
      return history.length;
    },
    get finished() {
      return history.length >= total;
    },
    history,
    x() {
      return state ? Float64Array.from(state.x) : Float64Array.from(x0);
    },
    advance(stop) {
      if (history.length >= total) return [];
      let out;
      try {
        out = alg.run(problem, {
          ...hyper,
          x0,
          iterations: total - history.length,
          record: { phiEvery: experiment.record.phiEvery, x: experiment.record.x },
          ...(state ? { state } : {}),
          onIteration: () => (stop() ? false : undefined),
        });
      } catch (e) {
        throw failure(e);
      }
      state = out.state;
      history.push(...out.history);
      counters.sweeps += out.counters.sweeps;
      counters.solves += out.counters.solves;
      counters.sampledSteps += out.counters.sampledSteps;
      return out.history;
    },
    result() {
      const xK = run.x();
      const x = Array.from(xK);
      let phiFinal: number | undefined;
      try {
        phiFinal = lib.phi(problem, xK, { tol: 1e-10 }).value; // after the slices: not in their counters
      } catch {
        phiFinal = undefined; // as runExperiment: e.g. a trajectory objective without exact enumeration
      }
      const last = history[history.length - 1];
      const final: ExperimentResult["final"] = phiFinal !== undefined ? { x, phi: phiFinal, f: null, hnorm: null } : { x, f: null, hnorm: null };
      final.f = last ? last.f : null;
      final.hnorm = last ? last.hnorm : null;
      return {
        version: 1,
        experiment,
        problem: summary,
        algorithm: name,
        seed: experiment.seed,
        status: history.length >= total ? "completed" : "interrupted",
        iterations: history.length,
        history: history.slice(),
        final,
        counters: { ...counters },
      };
    },
    resultJSON() {
      return lib.resultToJSON(run.result());
    },
  };
  return run;
}
