// Cross-runtime identity, Node side. Every example experiment (examples/experiments/*.json,
// including the seeded model-free SoBiRL run that samples trajectories, rlhf-sobirl.json) is
// run here with runExperiment on both kernel builds; the result JSON and its FNV-1a 64 hash
// go to build/identity-node.json, which tests/browser/identity.browser.test.ts reads to
// check that Chromium produces the same bytes (run the node project first).
//
// Also checked here: the demo page's resumable runner (web/src/runner.ts over the library's
// startExperiment, which the page's worker drives in time slices so that pause/resume
// works) gives byte-identical results to runExperiment, stopped after every iteration or in
// uneven slices, completed or interrupted.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import * as lib from "../src/index";
import { init, parseExperiment, resultToJSON, runExperiment, type Backend, type Experiment } from "../src/index";
import { startRun } from "../web/src/runner";
import { fnv1a64Text, fnv1a64TextBigInt } from "../web/src/hash";
import { fnv1a64 } from "./helpers/scenarios";
import simdBytes from "../build/bilevel-simd.wasm";
import scalarBytes from "../build/bilevel-scalar.wasm";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLES = join(root, "examples", "experiments");
/** Written here, read by tests/browser/identity.browser.test.ts. */
const IDENTITY_PATH = "build/identity-node.json";

interface IdentityFile {
  runtime: string;
  /** FNV-1a 64 of the wasm builds the results were computed with. */
  wasm: { simd: string; scalar: string };
  experiments: { file: string; hash: string; json: string }[];
}

let simd: Backend, scalar: Backend;
const experiments: { file: string; experiment: Experiment }[] = [];
beforeAll(async () => {
  scalar = await init({ simd: false });
  simd = await init({ simd: true }); // last: the default for what follows
  for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith(".json")).sort()) {
    const text = readFileSync(join(EXAMPLES, file), "utf8");
    if (!("version" in JSON.parse(text))) continue; // not an experiment (e.g. a sweep file: { base, seeds, grid })
    const v = parseExperiment(text);
    if (!v.ok) throw new Error(`${file}: ${v.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
    experiments.push({ file, experiment: v.experiment });
  }
});

/** Drive the resumable runner to the end, stopping whenever `stopAfter(n)` says so (n = iterations in this slice). */
function stepped(experiment: Experiment, stopAfter: (n: number, slice: number) => boolean, limit = Infinity): string {
  const run = startRun(lib, experiment);
  for (let slice = 0; !run.finished && run.done < limit; slice++) {
    let n = 0;
    const before = run.done;
    run.advance(() => ++n >= 1 && (stopAfter(n, slice) || before + n >= limit));
  }
  return run.resultJSON();
}

describe("cross-runtime identity (Node side)", () => {
  test("the examples include a seeded model-free SoBiRL run that samples trajectories", () => {
    const rlhf = experiments.find((e) => e.file === "rlhf-sobirl.json");
    expect(rlhf?.experiment.algorithm.name).toBe("soBiRL");
    const r = runExperiment(rlhf!.experiment);
    expect(r.counters.sampledSteps).toBeGreaterThan(0);
  }, 120_000);

  test("every example gives the same result JSON on the SIMD and the scalar build", () => {
    for (const { file, experiment } of experiments) {
      const a = resultToJSON(runExperiment(experiment, { backend: simd }));
      const b = resultToJSON(runExperiment(experiment, { backend: scalar }));
      expect(a === b, `${file}: SIMD and scalar results differ`).toBe(true);
    }
  }, 120_000);

  test(`writes every example's result JSON and hash to ${IDENTITY_PATH}`, () => {
    const out: IdentityFile = { runtime: "node", wasm: { simd: fnv1a64(simdBytes), scalar: fnv1a64(scalarBytes) }, experiments: [] };
    for (const { file, experiment } of experiments) {
      const json = resultToJSON(runExperiment(experiment));
      expect(JSON.parse(json).status).toBe("max-iterations");
      out.experiments.push({ file, hash: fnv1a64Text(json), json });
    }
    expect(out.experiments.length).toBeGreaterThanOrEqual(7);
    mkdirSync(join(root, "build"), { recursive: true });
    writeFileSync(join(root, IDENTITY_PATH), JSON.stringify(out, null, 1) + "\n");
  }, 120_000);

  test("the page's string hash is FNV-1a 64 of the UTF-8 bytes", () => {
    for (const s of ["", "a", "φ(x) = −4.56 ‖ĥ‖", JSON.stringify({ a: [1, 2.5e-300, -0] }), "x".repeat(1000)]) {
      expect(fnv1a64Text(s)).toBe(fnv1a64TextBigInt(s));
      expect(fnv1a64Text(s)).toBe(fnv1a64(new TextEncoder().encode(s)));
    }
    expect(fnv1a64Text("")).toBe("cbf29ce484222325");
  }, 120_000);
});

describe("the demo's resumable runner (web/src/runner.ts) equals runExperiment", () => {
  test("stopped after every iteration, every example gives runExperiment's bytes", () => {
    for (const { file, experiment } of experiments) {
      const expected = resultToJSON(runExperiment(experiment));
      expect(stepped(experiment, () => true) === expected, `${file}: stepped one iteration at a time`).toBe(true);
    }
  }, 120_000);

  test("in uneven slices (1, 2, 3, 5, 8, … iterations) and in one slice, the bytes are the same", () => {
    const fib = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144];
    for (const { file, experiment } of experiments) {
      const expected = resultToJSON(runExperiment(experiment));
      expect(stepped(experiment, (n, slice) => n >= fib[slice % fib.length]) === expected, `${file}: uneven slices`).toBe(true);
      expect(stepped(experiment, () => false) === expected, `${file}: one slice`).toBe(true);
    }
  }, 120_000);

  test("stopped early, it equals runExperiment interrupted at the same iteration (status 'interrupted')", () => {
    for (const { file, experiment } of experiments) {
      const stopAt = Math.min(7, experiment.iterations - 1);
      if (stopAt < 1) continue;
      const expected = resultToJSON(runExperiment(experiment, { onIteration: (_row, k) => (k + 1 >= stopAt ? false : undefined) }));
      const got = stepped(experiment, () => true, stopAt);
      expect(JSON.parse(got).status).toBe("interrupted");
      expect(got === expected, `${file}: interrupted after ${stopAt}`).toBe(true);
    }
  }, 120_000);

  test("a document error is reported with its JSON pointer, as runExperiment reports it", () => {
    const doc = { version: 1, seed: 0, problem: { builtin: "e1", params: { S: 4, A: 2, n: 3 } }, algorithm: { name: "mSoBiRL" }, iterations: 3, x0: [1, 2] };
    let runErrors: unknown, stepErrors: unknown;
    try { runExperiment(doc); } catch (e) { runErrors = (e as { errors: unknown }).errors; }
    try { startRun(lib, doc); } catch (e) { stepErrors = (e as { errors: unknown }).errors; }
    expect(runErrors).toEqual([{ path: "/x0", message: expect.stringContaining("n = 3") }]);
    expect(stepErrors).toEqual(runErrors);
  }, 120_000);
});
