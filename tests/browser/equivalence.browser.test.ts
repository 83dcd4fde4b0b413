// The shared deterministic scenarios (tests/helpers/scenarios.ts) re-run in Chromium:
// (a) SIMD vs scalar bit for bit and both vs the plain-TS reference to 1e-12, as in
// tests/kernels.test.ts, and (b) the FNV-1a hash of every result array equal to the one
// the Node run wrote to build/node-hashes.json (run the node project first; a missing
// file fails this test).
import { beforeAll, describe, expect, test } from "vitest";
import { commands } from "vitest/browser";
import { init, simdSupported, type Backend } from "../../src/index";
import simdBytes from "../../build/bilevel-simd.wasm";
import scalarBytes from "../../build/bilevel-scalar.wasm";
import {
  NODE_HASHES_PATH,
  SCENARIOS,
  disagreements,
  fnv1a64,
  hashDifferences,
  hashOutcomes,
  runScenarios,
  type HashFile,
  type ScenarioOutcome,
} from "../helpers/scenarios";

let simd: Backend;
let scalar: Backend;
let outcomes: ScenarioOutcome[];
const WASM = { simd: fnv1a64(simdBytes), scalar: fnv1a64(scalarBytes) };
beforeAll(async () => {
  simd = await init({ simd: true });
  scalar = await init({ simd: false });
  outcomes = runScenarios(simd, scalar);
});

/** The Node hashes; fails with instructions when the node project has not written them. */
async function nodeHashes(): Promise<HashFile> {
  let text: string;
  try {
    // commands.readFile resolves paths against the project root
    text = await commands.readFile(NODE_HASHES_PATH, "utf8");
  } catch (e) {
    throw new Error(
      `${NODE_HASHES_PATH} could not be read (${(e as Error).message}); run \`npx vitest run --project node tests/kernels.test.ts\` before the browser project`,
    );
  }
  return JSON.parse(text) as HashFile;
}

describe("shared scenarios in Chromium", () => {
  test("Chromium supports wasm SIMD, so the SIMD build really is the f64x2 one", () => {
    expect(simdSupported()).toBe(true);
    expect(simd.simd).toBe(true);
    expect(scalar.simd).toBe(false);
  });

  test("every shared scenario agrees bit for bit between the SIMD and scalar builds and with the reference to 1e-12 (bit for bit for sampling)", () => {
    expect(outcomes.map((o) => o.name)).toEqual(SCENARIOS.map((s) => s.name));
    expect(disagreements(outcomes)).toEqual([]);
  });

  test("the FNV-1a hash of every result array, on both builds, equals the Node run's hash in build/node-hashes.json", async () => {
    const node = await nodeHashes();
    expect(node.runtime).toBe("node");
    expect(node.scenarios).toBe(SCENARIOS.length);
    expect(node.wasm, `${NODE_HASHES_PATH} was written for other wasm builds: rerun the node project after \`npm run asbuild\``).toEqual(WASM);
    const mine = hashOutcomes(outcomes, "chromium", WASM);
    expect(hashDifferences(mine, node)).toEqual([]);
  });

  test("a second run in Chromium hashes to the same values as the first", () => {
    const again = hashOutcomes(runScenarios(simd, scalar), "chromium", WASM);
    expect(hashDifferences(again, hashOutcomes(outcomes, "chromium", WASM))).toEqual([]);
  });
});
