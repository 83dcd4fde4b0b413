// The demo's resumable run: the library's own `startExperiment` (src/experiment/runner.ts),
// which stops between any two iterations and continues later with exactly the result
// `runExperiment` gives for the same document (same result JSON, byte for byte). The page's
// worker drives it in time slices so that pause/resume works and the page stays live;
// tests/identity.test.ts checks the equality with runExperiment in Node, stopping after
// every single iteration. What is added here: `advance(stop)` asks `stop()` after each
// iteration, and document errors arrive as `RunFailure` (the worker posts their JSON
// pointers as 'invalid').
//
// The library is passed in (`lib`): the page hands it the built package ("bilevel-rl",
// dist/), the Node test the sources. Only types are imported here.
import type * as Bilevel from "../../src/index";
import type { ExperimentIssue, ExperimentResult, ExperimentSession, HistoryRecord } from "../../src/index";

/** What the runner needs from the library. */
export type Lib = Pick<typeof Bilevel, "startExperiment">;

export interface SteppedRun extends Omit<ExperimentSession, "advance" | "result"> {
  /**
   * Run iterations until `stop()` (asked after each iteration) returns true or the run is
   * complete; returns the new history rows. Throws a `RunFailure` when the algorithm
   * rejects an option.
   */
  advance(stop: () => boolean): HistoryRecord[];
  /** The result so far, with the session's status ('max-iterations', 'converged', 'diverged', or 'interrupted' while unfinished). */
  result(): ExperimentResult;
}

/** An error of the document, found while building or running it (JSON pointers, as runExperiment reports them). */
export class RunFailure extends Error {
  override name = "RunFailure";
  constructor(readonly errors: ExperimentIssue[]) {
    super(errors.map((e) => `${e.path || "/"}: ${e.message}`).join("\n"));
  }
}

/** An ExperimentError (it carries `errors`) as a RunFailure; anything else unchanged. */
function failure(e: unknown): unknown {
  const errors = (e as { errors?: ExperimentIssue[] } | null)?.errors;
  return Array.isArray(errors) ? new RunFailure(errors) : e;
}

/** Build the experiment (throws RunFailure with JSON pointers for invalid documents). */
export function startRun(lib: Lib, document: unknown, options: { backend?: unknown } = {}): SteppedRun {
  let session: ExperimentSession;
  try {
    session = lib.startExperiment(document, { backend: options.backend as Bilevel.Backend | undefined });
  } catch (e) {
    throw failure(e);
  }
  return {
    get experiment() {
      return session.experiment;
    },
    get summary() {
      return session.summary;
    },
    get problem() {
      return session.problem;
    },
    get total() {
      return session.total;
    },
    get done() {
      return session.done;
    },
    get finished() {
      return session.finished;
    },
    get stopped() {
      return session.stopped;
    },
    get status() {
      return session.status;
    },
    get history() {
      return session.history;
    },
    x: () => session.x(),
    advance(stop) {
      try {
        return session.advance({ onIteration: () => (stop() ? false : undefined) });
      } catch (e) {
        throw failure(e);
      }
    },
    result: () => session.result(),
    resultJSON: () => session.resultJSON(),
  };
}
