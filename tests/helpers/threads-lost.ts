// A worker lost in the middle of a job (docs/math.md#threads): worker 1 exits, or spins
// forever, on its first job of one kind. The caller must give the workers up after the join
// deadline, redo the lost part itself (the LU: rebuild and factor on one thread), return one
// thread's bits, and run one thread from then on with a note on the backend. Shared by the
// Node and Chromium tests.
import { init, type Backend } from "../../src/index";
import { setWorkerStartForTests } from "../../src/wasm/threads";
import { outcomeDiff, runCase, runSample, runSolve, sampleCases, solveCases, threadCases } from "./threads-cases";
import { firstBitDiff } from "./compare";

/** The job kinds of src/wasm/threads.ts's control protocol. */
const KIND = { dense: 1, csr: 2, sample: 3, lu: 4, product: 5 } as const;

/** The default worker source, with worker 1 dying (exit) or hanging (spin) on its first job of `kind`. */
function breakWorker(kind: number, how: "exit" | "hang"): (source: string) => string {
  return (source) => {
    const at = "    run(kind);\n";
    if (!source.includes(at)) throw new Error("the worker source changed: update tests/helpers/threads-lost.ts");
    const die = how === "exit" ? "if (isNode) process.exit(3); else { self.close(); return; }" : "for (;;) {}";
    return source.replace(at, `    if (kind === ${kind} && index === 1) { ${die} }\n${at}`);
  };
}

export interface LostCase {
  name: string;
  how: "exit" | "hang";
  /** What the note names. */
  what: string;
  /** One run's numbers (the same shape on any backend), or a description of how the two runs differ. */
  diff(lost: Backend, one: Backend): string | undefined;
}

const bits = (a: Float64Array, b: Float64Array) => {
  const d = firstBitDiff(a, b);
  return d === undefined ? undefined : `first difference at ${JSON.stringify(d)}`;
};

export function lostCases(): LostCase[] {
  const dense = threadCases().find((c) => c.m.kind === "dense" && !c.terminal && !c.name.includes("overflow"))!;
  const csr = threadCases().find((c) => c.m.kind === "csr" && !c.terminal)!;
  const lu = solveCases().find((c) => c.method === "lu" && c.m.S > 128)!;
  const luT = solveCases().find((c) => c.method === "lu" && c.transpose && c.m.S > 128)!;
  const krylov = solveCases().find((c) => c.method === "krylov" && c.m.S > 128)!;
  const sample = sampleCases()[0];
  const cases: LostCase[] = [];
  for (const how of ["exit", "hang"] as const) {
    cases.push(
      { name: `dense sweep (${dense.name})`, how, what: "a sweep", diff: (x, y) => outcomeDiff(runCase(dense, x), runCase(dense, y)) },
      { name: `CSR sweep (${csr.name})`, how, what: "a sweep", diff: (x, y) => outcomeDiff(runCase(csr, x), runCase(csr, y)) },
      { name: `sampler (${sample.name})`, how, what: "sampling", diff: (x, y) => bits(runSample(sample, x), runSample(sample, y)) },
      { name: `LU (${lu.name}${lu.transpose ? ", transposed" : ""})`, how, what: "an LU update", diff: (x, y) => bits(runSolve(lu, x), runSolve(lu, y)) },
      { name: `LU (${luT.name}, transposed)`, how, what: "an LU update", diff: (x, y) => bits(runSolve(luT, x), runSolve(luT, y)) },
      { name: `GMRES products (${krylov.name})`, how, what: "a P_π product", diff: (x, y) => bits(runSolve(krylov, x), runSolve(krylov, y)) },
    );
  }
  return cases;
}

const kindOf = (c: LostCase) =>
  c.what === "sampling" ? KIND.sample : c.what === "an LU update" ? KIND.lu : c.what === "a P_π product" ? KIND.product : c.name.startsWith("dense") ? KIND.dense : KIND.csr;

/**
 * Runs a case on n threads whose worker 1 breaks, twice (the second time on the one thread
 * left), against one thread; returns what went wrong, or an empty list.
 */
export async function runLost(c: LostCase, simd: boolean, n: number, joinMs: number): Promise<string[]> {
  const problems: string[] = [];
  const one = await init({ simd, threads: 1 });
  setWorkerStartForTests({ edit: breakWorker(kindOf(c), c.how), joinMs });
  try {
    const lost = await init({ simd, threads: n });
    if (lost.threads !== n) problems.push(`started with ${lost.threads} threads, not ${n}`);
    const first = c.diff(lost, one);
    if (first) problems.push(`the run that lost a worker differs from one thread: ${first}`);
    if (lost.threads !== 1) problems.push(`backend.threads is ${lost.threads} after the loss, not 1`);
    // the deadline: joinMs, or 200 × the caller's own part when that is longer
    const re = new RegExp(`worker 1 did not finish ${c.what} within (\\d+\\.\\d) s \\(the caller's own part took (\\d+\\.\\d) ms\\).*one thread from now on`);
    const m = re.exec(lost.threadsNote ?? "");
    if (!m) problems.push(`threadsNote ${JSON.stringify(lost.threadsNote)} does not match ${re}`);
    else if (Math.abs(Number(m[1]) - Math.max(joinMs, 200 * Number(m[2])) / 1000) > 0.051) problems.push(`the deadline ${m[1]} s is not max(${joinMs} ms, 200 × ${m[2]} ms)`);
    const again = c.diff(lost, one);
    if (again) problems.push(`the next run, on the thread left, differs from one thread: ${again}`);
  } finally {
    setWorkerStartForTests(undefined);
  }
  // the next init({ threads: n }) starts new, working workers
  const fresh = await init({ simd, threads: n });
  if (fresh.threads !== n || fresh.threadsNote) problems.push(`a new init gave ${fresh.threads} threads (${fresh.threadsNote})`);
  const d = c.diff(fresh, one);
  if (d) problems.push(`the new workers differ from one thread: ${d}`);
  return problems;
}
