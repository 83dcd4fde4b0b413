// A worker lost mid-job (it exits, or never finishes): the caller redoes the part, keeps one
// thread's bits, and runs one thread afterwards with a note (docs/math.md#threads).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setMinParallelWork } from "../src/wasm/pool";
import { lostCases, runLost } from "./helpers/threads-lost";

beforeAll(() => setMinParallelWork(0));
afterAll(() => setMinParallelWork(undefined));

describe("a worker lost in the middle of a job", () => {
  for (const c of lostCases()) {
    for (const simd of [true, false]) {
      it(`${simd ? "simd" : "scalar"}: ${c.name}, worker 1 ${c.how === "exit" ? "exits" : "hangs"}: one thread's bits, then one thread with a note`, async () => {
        expect(await runLost(c, simd, c.how === "exit" ? 2 : 3, 300)).toEqual([]);
      }, 30_000);
    }
  }
});
