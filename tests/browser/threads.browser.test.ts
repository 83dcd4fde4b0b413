// Threads in Chromium (docs/math.md#threads): the test page is cross-origin isolated (COOP +
// COEP headers, vitest.config.ts), so init({ threads }) starts Web Workers on shared wasm
// memory; the page's main thread may not block, so it spins on Atomics.load while the
// workers run their parts (sweeps, sampler blocks, the LU's trailing updates, the Krylov
// products). n threads must give one thread's bits, both builds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init, type Backend } from "../../src/index";
import { setMinParallelWork } from "../../src/wasm/pool";
import { outcomeDiff, runCase, runGeneralLu, runGrowth, runSample, runSolve, sampleCases, solveCases, threadCases } from "../helpers/threads-cases";
import { firstBitDiff } from "../helpers/compare";
import { lostCases, runLost } from "../helpers/threads-lost";

const b: Record<string, Backend> = {};
beforeAll(async () => {
  for (const simd of [true, false]) for (const n of [1, 2, 3]) b[`${simd ? "simd" : "scalar"}${n}`] = await init({ simd, threads: n });
  setMinParallelWork(0);
});
afterAll(() => setMinParallelWork(undefined));

describe("threads in Chromium", () => {
  it("the page is cross-origin isolated and gets the threads it asks for", () => {
    expect(globalThis.crossOriginIsolated).toBe(true);
    expect(typeof SharedArrayBuffer).toBe("function");
    for (const build of ["simd", "scalar"]) {
      for (const n of [2, 3]) {
        expect(b[`${build}${n}`].threadsNote).toBeUndefined();
        expect(b[`${build}${n}`].threads).toBe(n);
      }
    }
  });

  for (const c of threadCases()) {
    for (const build of ["simd", "scalar"]) {
      it(`${build}: ${c.name}: 2 and 3 threads = one thread, bit for bit`, () => {
        const want = runCase(c, b[`${build}1`]);
        expect("error" in want).toBe(c.name.includes("overflow"));
        for (const n of [2, 3]) expect(outcomeDiff(runCase(c, b[`${build}${n}`]), want), `${n} threads`).toBeUndefined();
      });
    }
  }

  it("memory grown after the workers joined is seen by them (both builds)", () => {
    for (const build of ["simd", "scalar"]) {
      const want = runGrowth(b[`${build}1`]);
      for (const n of [2, 3]) expect(firstBitDiff(runGrowth(b[`${build}${n}`]), want), `${build}, ${n} threads`).toBeUndefined();
    }
  });

  for (const c of sampleCases()) {
    for (const build of ["simd", "scalar"]) {
      it(`${build}: sampling ${c.name}: 2 and 3 threads = one thread`, () => {
        const want = runSample(c, b[`${build}1`]);
        for (const n of [2, 3]) expect(firstBitDiff(runSample(c, b[`${build}${n}`]), want), `${n} threads`).toBeUndefined();
      });
    }
  }

  for (const build of ["simd", "scalar"]) {
    it(`${build}: linear solves (dense LU, Krylov, BiCGSTAB, Richardson, both orientations): 2 and 3 threads = one thread`, () => {
      for (const c of solveCases()) {
        const want = runSolve(c, b[`${build}1`]);
        expect(want[want.length - 1], c.name).toBe(1);
        for (const n of [2, 3]) expect(firstBitDiff(runSolve(c, b[`${build}${n}`]), want), `${c.name}, ${n} threads`).toBeUndefined();
      }
    });
  }
});

describe("the threaded LU on general matrices (row swaps at almost every column), in Chromium", () => {
  it("2 and 3 threads = one thread, both builds", () => {
    for (const m of [130, 257]) {
      const one = runGeneralLu(m, b.simd1);
      for (const key of ["simd2", "simd3", "scalar1", "scalar2", "scalar3"]) expect(firstBitDiff(runGeneralLu(m, b[key]), one), `n = ${m}, ${key}`).toBeUndefined();
    }
  });
});

describe("a worker lost in the middle of a job, in Chromium", () => {
  // the page's main thread spins (it may not block) until the deadline, then redoes the part
  for (const c of lostCases()) {
    it(`simd: ${c.name}, worker 1 ${c.how === "exit" ? "closes itself" : "hangs"}: one thread's bits, then one thread with a note`, async () => {
      expect(await runLost(c, true, 2, 300)).toEqual([]);
    }, 30_000);
  }
});
