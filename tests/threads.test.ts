// Opt-in threads (docs/math.md#threads): init({ threads }) validation and fallback, the
// state split, the combine of the parts' bounds, and soft value iteration on 2 and 3 threads
// (more threads than this machine's cores) against one thread, bit for bit, in both builds,
// dense and CSR (shapes in tests/helpers/threads-cases.ts).
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init, softValueIteration, DomainError, ShapeError, type Backend } from "../src/index";
import { setMinParallelWork } from "../src/wasm/pool";
import { combineParts, setSplitForTests, setWorkerStartForTests, splitEpisodes, splitRows, splitStates } from "../src/wasm/threads";
import { outcomeDiff, runCase, runGrowth, runSample, runSolve, sampleCases, solveCases, tabular, threadCases, runGeneralLu, type SolveCase } from "./helpers/threads-cases";
import { randomDense, randomVector } from "./helpers/random-mdp";
import { firstBitDiff } from "./helpers/compare";

const b: Record<string, Backend> = {};
beforeAll(async () => {
  for (const simd of [true, false]) for (const n of [1, 2, 3]) b[`${simd ? "simd" : "scalar"}${n}`] = await init({ simd, threads: n });
  setMinParallelWork(0); // thread even the smallest sweeps
});
afterAll(() => {
  setMinParallelWork(undefined);
  setSplitForTests(undefined);
});

describe("init({ threads })", () => {
  it("gives n threads in Node", () => {
    for (const build of ["simd", "scalar"]) {
      expect(b[`${build}1`].threads).toBe(1);
      for (const n of [2, 3]) {
        expect(b[`${build}${n}`].threads).toBe(n);
        expect(b[`${build}${n}`].threadsNote).toBeUndefined();
      }
    }
    expect(b.simd2.simd).toBe(true);
    expect(b.scalar2.simd).toBe(false);
  });

  it("rejects bad thread counts with typed errors naming the value", async () => {
    for (const bad of [1.5, 0, -2, 257, 1e9, NaN, Infinity]) {
      await expect(init({ threads: bad })).rejects.toThrow(DomainError);
      await expect(init({ threads: bad })).rejects.toThrow(`got ${bad}`);
    }
    await expect(init({ threads: "2" as unknown as number })).rejects.toThrow(ShapeError);
    await expect(init({ threads: "2" as unknown as number })).rejects.toThrow('got "2"');
  });

  it("falls back to one thread with a note when SharedArrayBuffer is missing", async () => {
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    g.SharedArrayBuffer = undefined;
    let one: Backend;
    try {
      one = await init({ simd: true, threads: 4 });
    } finally {
      g.SharedArrayBuffer = saved;
    }
    expect(one.threads).toBe(1);
    expect(one.threadsNote).toMatch(/threads: 4.*one thread.*SharedArrayBuffer.*Cross-Origin-Opener-Policy/);
    // the fallback is not cached: with SharedArrayBuffer back, 4 threads
    expect((await init({ simd: true, threads: 4 })).threads).toBe(4);
    // and it still computes, on one thread
    const m = randomDense(9, 2, 0.9, 3);
    const r = randomVector(18, 4);
    const a = softValueIteration(tabular(m, one), r, { tau: 0.2 });
    const c = softValueIteration(tabular(m, b.simd1), r, { tau: 0.2 });
    expect(firstBitDiff(a.V, c.V)).toBeUndefined();
  });

  it("falls back to one thread with a note on a page that is not cross-origin isolated", async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    let one: Backend;
    try {
      one = await init({ simd: false, threads: 5 }); // a count not asked for before (a pool, once made, is kept)
    } finally {
      delete g.crossOriginIsolated;
    }
    expect(one.threads).toBe(1);
    expect(one.simd).toBe(false);
    expect(one.threadsNote).toMatch(/not cross-origin isolated.*Cross-Origin-Embedder-Policy: require-corp/);
  });
});

describe("workers that never start", () => {
  it("init falls back to one thread with a note instead of hanging (e.g. an engine whose workers cannot run the pool)", async () => {
    setWorkerStartForTests({ source: "setInterval(() => {}, 1000);", timeoutMs: 500 });
    let one: Backend;
    try {
      one = await init({ simd: true, threads: 6 }); // a count not asked for before (a pool, once made, is kept)
    } finally {
      setWorkerStartForTests(undefined);
    }
    expect(one.threads).toBe(1);
    expect(one.threadsNote).toMatch(/threads: 6.*one thread.*no answer from the workers within 0.5 s/);
    // the next init starts real workers
    expect((await init({ simd: true, threads: 6 })).threads).toBe(6);
  });
});

describe("Node can exit", () => {
  it("a process that used threads exits by itself (idle workers do not keep it alive)", async () => {
    const args = ["--import", "./scripts/register-wasm.mjs", "--import", "tsx", "tests/fixtures/threads-exit.ts"];
    const t0 = performance.now();
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = execFile(process.execPath, args, { timeout: 60_000 }, (err, stdout, stderr) => done({ code: err ? (err as { code?: number }).code ?? -1 : 0, stdout, stderr }));
      child.on("error", () => {});
    });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe("threads 2, 400 steps");
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 70_000);
});

describe("the state split", () => {
  it("covers 0..S−1 once, in order, in parts that differ by at most one state", () => {
    for (const S of [0, 1, 2, 3, 7, 100, 1501]) {
      for (const n of [1, 2, 3, 4, 8]) {
        const s = splitStates(S, n);
        expect(s.length).toBe(2 * n);
        expect(s[0]).toBe(0);
        expect(s[2 * n - 1]).toBe(S);
        let lo = Infinity, hi = -Infinity;
        for (let p = 0; p < n; p++) {
          if (p > 0) expect(s[2 * p]).toBe(s[2 * p - 1]);
          const size = s[2 * p + 1] - s[2 * p];
          lo = Math.min(lo, size);
          hi = Math.max(hi, size);
        }
        expect(hi - lo).toBeLessThanOrEqual(1);
      }
    }
  });

  it("a split that misses a state is caught by the identity check", () => {
    const c = threadCases().find((x) => x.name === "dense S=7 A=3")!;
    const want = runCase(c, b.simd1);
    expect(outcomeDiff(runCase(c, b.simd2), want)).toBeUndefined();
    setSplitForTests((S, n) => {
      const s = splitStates(S, n);
      s[1] -= 1; // part 0 stops one state early: that state's V is never written
      return s;
    });
    try {
      expect(outcomeDiff(runCase(c, b.simd2), want)).toBeDefined();
    } finally {
      setSplitForTests(undefined);
    }
  });
});

describe("combineParts", () => {
  it("folds the parts' bounds in state order, like one pass", () => {
    const r = combineParts(new Float64Array([0, 0, -0, 2, -1, -0]));
    expect(r.deltaMin).toBe(-1);
    expect(r.deltaMax).toBe(2);
    expect(r.residual).toBe(2);
    // ±0 ties keep the earlier state's zero, as the kernel's pseudo-min/max do
    expect(Object.is(combineParts(new Float64Array([0, 0, -0, -0])).deltaMin, 0)).toBe(true);
    expect(Object.is(combineParts(new Float64Array([-0, -0, 0, 0])).deltaMax, -0)).toBe(true);
    // empty parts (Infinity, −Infinity) change nothing; NaN in any part makes everything NaN
    expect(combineParts(new Float64Array([Infinity, -Infinity, -3, 1])).residual).toBe(3);
    const n = combineParts(new Float64Array([1, 2, NaN, NaN, 3, 4]));
    expect([n.residual, n.deltaMin, n.deltaMax].every(Number.isNaN)).toBe(true);
  });
});

describe("soft value iteration: n threads = one thread, bit for bit", () => {
  for (const c of threadCases()) {
    for (const build of ["simd", "scalar"]) {
      it(`${build}: ${c.name}`, () => {
        const want = runCase(c, b[`${build}1`]);
        if (c.name.includes("overflow")) expect("error" in want).toBe(true);
        else expect("error" in want).toBe(false);
        for (const n of [2, 3]) expect(outcomeDiff(runCase(c, b[`${build}${n}`]), want), `${n} threads`).toBeUndefined();
      });
    }
  }

  it("the two builds agree on threads too", () => {
    for (const c of threadCases()) expect(outcomeDiff(runCase(c, b.scalar3), runCase(c, b.simd2)), c.name).toBeUndefined();
  });

  it("several MDPs on one pool keep apart (each worker instance knows its memory)", () => {
    const cs = threadCases().filter((c) => !c.name.includes("overflow"));
    const mdps = cs.map((c) => tabular(c.m, b.simd3, c.terminal));
    for (let round = 0; round < 2; round++) {
      cs.forEach((c, i) => {
        const got = softValueIteration(mdps[i], c.r, { tau: c.tau, maxIter: c.maxIter, extrapolate: c.extrapolate });
        const want = runCase(c, b.simd1);
        expect(outcomeDiff({ V: got.V, Q: got.Q, pi: got.pi, residual: got.residual, iterations: got.iterations }, want), c.name).toBeUndefined();
      });
    }
  });
});

describe("sampling: n threads = one thread, bit for bit", () => {
  it("episodes split in whole blocks of 16, in order, covering every episode once", () => {
    for (const episodes of [1, 16, 17, 50, 100, 1000]) {
      for (const n of [1, 2, 3, 8]) {
        const b = splitEpisodes(episodes, n);
        expect(b[0]).toBe(0);
        expect(b[2 * n - 1]).toBe(episodes);
        for (let p = 1; p < n; p++) expect(b[2 * p]).toBe(b[2 * p - 1]);
        for (let p = 0; p < n; p++) if (b[2 * p + 1] < episodes) expect(b[2 * p + 1] % 16).toBe(0);
      }
    }
  });

  it("memory grown after the workers joined is seen by them (both builds)", () => {
    for (const build of ["simd", "scalar"]) {
      const want = runGrowth(b[`${build}1`]);
      for (const n of [2, 3]) expect(firstBitDiff(runGrowth(b[`${build}${n}`]), want), `${build}, ${n} threads`).toBeUndefined();
    }
  });

  for (const c of sampleCases()) {
    for (const build of ["simd", "scalar"]) {
      it(`${build}: ${c.name}`, () => {
        const want = runSample(c, b[`${build}1`]);
        for (const n of [2, 3]) expect(firstBitDiff(runSample(c, b[`${build}${n}`]), want), `${n} threads`).toBeUndefined();
      });
    }
  }
});

describe("linear solves: n threads = one thread, bit for bit", () => {
  it("row groups cover [r0, r1) once, in order, in whole groups", () => {
    for (const [r0, r1, n, g] of [[64, 203, 2, 4], [0, 9, 3, 2], [128, 131, 2, 4], [0, 1, 3, 2]]) {
      const parts = splitRows(r0, r1, n, g);
      expect(parts[0]).toBe(r0);
      expect(parts[2 * n - 1]).toBe(r1);
      for (let p = 0; p < n; p++) {
        expect(parts[2 * p + 1]).toBeGreaterThanOrEqual(parts[2 * p]);
        if (p > 0) expect(parts[2 * p]).toBe(parts[2 * p - 1]);
        if (parts[2 * p + 1] < r1) expect((parts[2 * p + 1] - r0) % g).toBe(0);
      }
    }
  });
  for (const build of ["simd", "scalar"]) {
    for (const c of solveCases()) {
      it(`${build}: ${c.name}`, () => {
        const one = runSolve(c, b[`${build}1`]);
        expect(one[one.length - 1]).toBe(1); // converged: the case means something
        for (const n of [2, 3]) expect(firstBitDiff(runSolve(c, b[`${build}${n}`]), one), `${n} threads`).toBeUndefined();
      });
    }
  }
  // the LU's look-ahead at sizes with several threaded panels, ragged last panels and groups
  for (const S of [131, 257, 333, 517]) {
    const m = randomDense(S, 2, 0.97, 900 + S);
    for (const transpose of [false, true]) {
      const c: SolveCase = { name: `dense S=${S} A=2 lu${transpose ? " transposed" : ""}`, m, method: "lu", transpose };
      it(`simd and scalar: ${c.name} (several look-ahead steps)`, () => {
        const one = runSolve(c, b.simd1);
        expect(one[one.length - 1]).toBe(1);
        for (const n of [2, 3]) expect(firstBitDiff(runSolve(c, b[`simd${n}`]), one), `simd ${n} threads`).toBeUndefined();
        for (const n of [1, 2, 3]) expect(firstBitDiff(runSolve(c, b[`scalar${n}`]), one), `scalar ${n} threads`).toBeUndefined();
      });
    }
  }
  // I − γP_π rarely needs a row swap (its diagonal dominates): general matrices, through the
  // routine that factors φ-Σ's Newton systems, make the threaded LU pivot on every panel
  it("general matrices (a row swap at almost every column): n threads = one thread, both builds", () => {
    for (const m of [97, 130, 257, 400]) {
      const one = runGeneralLu(m, b.simd1);
      expect(one.every(Number.isFinite)).toBe(true);
      for (const key of ["simd2", "simd3", "scalar1", "scalar2", "scalar3"]) expect(firstBitDiff(runGeneralLu(m, b[key]), one), `n = ${m}, ${key}`).toBeUndefined();
    }
  });
  it("the two builds agree on threaded solves too", () => {
    for (const c of solveCases().filter((_, i) => i % 3 === 0)) expect(firstBitDiff(runSolve(c, b.simd2), runSolve(c, b.scalar2)), c.name).toBeUndefined();
  });
  it("a wrong row split is caught by the identity check (the test can fail)", () => {
    const c = solveCases().find((x) => x.name === "dense S=203 A=3 lu")!;
    // n = 400: each part of the LU's first update is wider than the panel the caller factors meanwhile
    const lu: SolveCase = { name: "dense S=400 A=2 lu", m: randomDense(400, 2, 0.95, 74), method: "lu", transpose: false };
    const one = runSolve(c, b.simd1), luOne = runSolve(lu, b.simd1);
    // drop the last row of every part but the last: those rows miss their update
    setSplitForTests((S, n) => {
      const p = splitStates(S, n);
      for (let i = 1; i < 2 * n - 1; i += 2) p[i] = Math.max(p[i - 1], p[i] - 1);
      return p;
    });
    try {
      // x itself differs (not only the residual): the LU's trailing update and the Krylov products are split
      const x = (v: Float64Array): Float64Array => v.subarray(0, c.m.S);
      expect(firstBitDiff(runSolve(lu, b.simd2).subarray(0, 400), luOne.subarray(0, 400))).toBeDefined();
      expect(firstBitDiff(x(runSolve({ ...c, method: "krylov" }, b.simd2)), x(runSolve({ ...c, method: "krylov" }, b.simd1)))).toBeDefined();
    } finally {
      setSplitForTests(undefined);
    }
    expect(firstBitDiff(runSolve(c, b.simd2), one)).toBeUndefined();
    expect(firstBitDiff(runSolve(lu, b.simd2), luOne)).toBeUndefined();
  });
});
