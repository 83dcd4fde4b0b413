// The experiment module in Chromium: an example file parses, validates (the schema's
// validator precompiled at build time, src/experiment/generated/) and runs; the same run twice gives the same bytes, and they are the
// bytes the Node run wrote to build/experiment-node-result.json (run the node project
// first; a missing file fails this test). This holds because the kernels are wasm and the
// host-side maths uses src/util/math.ts instead of the engines' Math.exp/log, which differ
// in the last bit between Node 20's V8 and current Chromium's. Invalid values are reported
// with JSON pointers.
import { beforeAll, describe, expect, test } from "vitest";
import { commands } from "vitest/browser";
import { init } from "../../src/index";
import { parseExperiment, resultToJSON, runExperiment } from "../../src/experiment/index";

beforeAll(async () => {
  await init();
});

describe("experiment files in Chromium", () => {
  test("gridgoal-msobirl.json parses, validates and runs 20 iterations to the same bytes as in Node", async () => {
    const text = await commands.readFile("examples/experiments/gridgoal-msobirl.json");
    const v = parseExperiment(text);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const exp = { ...v.experiment, iterations: 20 };
    const a = runExperiment(exp), b = runExperiment(exp);
    expect(a.status).toBe("max-iterations");
    expect(a.history).toHaveLength(20);
    expect(resultToJSON(a)).toBe(resultToJSON(b));
    const node = await commands.readFile("build/experiment-node-result.json");
    expect(resultToJSON(a)).toBe(node);
  });

  test("invalid values are reported with their JSON pointers", () => {
    const v = parseExperiment('{"version": 1, "seed": 0, "problem": {"builtin": "e1"}, "algorithm": {"name": "mSoBiRL", "beta": -0.1}, "iterations": 1}');
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(["/algorithm/beta: expected a positive number, got -0.1"]);
  });
});
