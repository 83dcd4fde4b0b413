// Cross-runtime identity, Chromium side: every example experiment, including the seeded
// model-free SoBiRL run that samples trajectories (rlhf-sobirl.json), run here on the SIMD
// and on the scalar build gives exactly the result JSON that Node wrote to
// build/identity-node.json (tests/identity.test.ts; run the node project first — a missing
// file fails this test with instructions). Compared by FNV-1a 64 hash and byte for byte,
// with the first differing line shown when they differ.
import { beforeAll, describe, expect, test } from "vitest";
import { commands } from "vitest/browser";
import * as lib from "../../src/index";
import { init, parseExperiment, resultToJSON, runExperiment, simdSupported, type Backend } from "../../src/index";
import { startRun } from "../../web/src/runner";
import { fnv1a64Text } from "../../web/src/hash";
import { fnv1a64 } from "../helpers/scenarios";
import simdBytes from "../../build/bilevel-simd.wasm";
import scalarBytes from "../../build/bilevel-scalar.wasm";

const IDENTITY_PATH = "build/identity-node.json";

interface IdentityFile {
  runtime: string;
  wasm: { simd: string; scalar: string };
  experiments: { file: string; hash: string; json: string }[];
}

let simd: Backend, scalar: Backend;
let node: IdentityFile;
beforeAll(async () => {
  scalar = await init({ simd: false });
  simd = await init({ simd: true });
  let text: string;
  try {
    text = await commands.readFile(IDENTITY_PATH, "utf8");
  } catch (e) {
    throw new Error(`${IDENTITY_PATH} could not be read (${(e as Error).message}); run \`npx vitest run --project node tests/identity.test.ts\` before the browser project`);
  }
  node = JSON.parse(text) as IdentityFile;
});

/** "" when equal, else the first differing line of the two JSON texts. */
function firstDifference(a: string, b: string): string {
  if (a === b) return "";
  const la = a.split("\n"), lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: Chromium ${JSON.stringify(la[i])} vs Node ${JSON.stringify(lb[i])}`;
  }
  return "(same lines, different bytes)";
}

async function experimentOf(file: string) {
  const v = parseExperiment(await commands.readFile(`examples/experiments/${file}`, "utf8"));
  if (!v.ok) throw new Error(`${file}: ${v.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  return v.experiment;
}

describe("cross-runtime identity (Chromium side)", () => {
  test("Node's results were computed with these very wasm builds, on Chromium's side with SIMD available", () => {
    expect(node.runtime).toBe("node");
    expect(node.wasm, `${IDENTITY_PATH} was written for other wasm builds: rerun the node project after \`npm run asbuild\``).toEqual({ simd: fnv1a64(simdBytes), scalar: fnv1a64(scalarBytes) });
    expect(simdSupported()).toBe(true);
    expect(simd.simd && !scalar.simd).toBe(true);
    expect(node.experiments.map((e) => e.file)).toContain("rlhf-sobirl.json");
    expect(node.experiments.length).toBeGreaterThanOrEqual(7);
  }, 120_000);

  test("every example experiment gives Node's result JSON (same hash, same bytes) on the SIMD build", async () => {
    const differences: string[] = [];
    for (const { file, hash, json } of node.experiments) {
      const mine = resultToJSON(runExperiment(await experimentOf(file), { backend: simd }));
      if (fnv1a64Text(mine) !== hash) differences.push(`${file}: hash ${fnv1a64Text(mine)} ≠ Node's ${hash}; ${firstDifference(mine, json)}`);
    }
    expect(differences).toEqual([]);
  }, 120_000);

  test("… and on the scalar build (the two builds agree with each other in Chromium)", async () => {
    const differences: string[] = [];
    for (const { file, hash, json } of node.experiments) {
      const experiment = await experimentOf(file);
      const a = resultToJSON(runExperiment(experiment, { backend: scalar }));
      if (fnv1a64Text(a) !== hash) differences.push(`${file}: scalar hash ${fnv1a64Text(a)} ≠ Node's ${hash}; ${firstDifference(a, json)}`);
    }
    expect(differences).toEqual([]);
  }, 120_000);

  test("the seeded model-free SoBiRL run really samples, and the demo page's resumable runner reproduces it one iteration at a time", async () => {
    const entry = node.experiments.find((e) => e.file === "rlhf-sobirl.json")!;
    expect(JSON.parse(entry.json).counters.sampledSteps).toBeGreaterThan(0);
    const run = startRun(lib, await experimentOf("rlhf-sobirl.json"), { backend: scalar });
    while (!run.finished) run.advance(() => true);
    expect(firstDifference(run.resultJSON(), entry.json)).toBe("");
  }, 120_000);
});
