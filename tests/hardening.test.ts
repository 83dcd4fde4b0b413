// Issue 12 (hardening): counts that cross into the kernels' i32, kernel instances that the
// engine cannot create, and CSR feature matrices with indptr[0] ≠ 0.
import { beforeAll, describe, expect, it } from "vitest";
import { DomainError, init, linearReward, MemoryLimitError, sampleTrajectories, solveLinear, TabularMDP, type Backend } from "../src/index";
import { instantiateKernels } from "../src/wasm/routines/index";
import { toTabular } from "./helpers/compare";
import { randomDense, randomPolicy } from "./helpers/random-mdp";

let backend: Backend;
beforeAll(async () => {
  backend = await init();
});

describe("counts passed to the kernels as i32", () => {
  const m = randomDense(4, 2, 0.9, 7);
  const pi = randomPolicy(4, 2, 1);
  const b = [1, 2, 3, 4];

  it("accepts maxIter = 2³¹ − 1 and rejects 2³¹ and 2³² + 3 (which used to wrap to 3 iterations) with a DomainError naming the bound", () => {
    const mdp = toTabular(m, backend);
    for (const method of ["krylov", "bicgstab", "richardson"] as const) {
      expect(solveLinear(mdp, pi, b, { method, maxIter: 2 ** 31 - 1 }).converged).toBe(true);
      for (const bad of [2 ** 31, 2 ** 32, 2 ** 32 + 3]) {
        expect(() => solveLinear(mdp, pi, b, { method, maxIter: bad })).toThrow(DomainError);
        expect(() => solveLinear(mdp, pi, b, { method, maxIter: bad })).toThrow(/^maxIter: must be at most 2³¹ − 1 = 2147483647.*got \d+/);
      }
    }
  });

  it("bounds GMRES's restart length and the sampler's episodes and horizon the same way", () => {
    const mdp = toTabular(m, backend);
    expect(solveLinear(mdp, pi, b, { method: "krylov", restart: 2 ** 31 - 1 }).converged).toBe(true);
    expect(() => solveLinear(mdp, pi, b, { method: "krylov", restart: 2 ** 31 })).toThrow(/^restart: must be at most 2³¹ − 1/);
    expect(() => sampleTrajectories(mdp, pi, { episodes: 2 ** 32 + 3, horizon: 1, seed: 0 })).toThrow(/^episodes: must be at most 2³¹ − 1/);
    expect(() => sampleTrajectories(mdp, pi, { episodes: 1, horizon: 2 ** 31, seed: 0 })).toThrow(/^horizon: must be at most 2³¹ − 1/);
  });
});

describe("kernel instances the engine cannot create", () => {
  it("an instantiation RangeError (V8's 'Out of memory' after ~12 800 live instances) becomes a MemoryLimitError with advice", () => {
    const failing = () => {
      throw new RangeError("WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance");
    };
    let caught: unknown;
    try {
      instantiateKernels(backend, failing);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MemoryLimitError);
    expect((caught as Error).message).toMatch(/could not create another kernel instance/);
    expect((caught as Error).message).toMatch(/Out of memory/);
    expect((caught as Error).message).toMatch(/drop references to MDPs/);
  });

  it("other instantiation failures pass through unchanged", () => {
    const err = new TypeError("imports");
    expect(() => instantiateKernels(backend, () => { throw err; })).toThrow(err);
  });

  it("the real path still instantiates (an MDP works after the hook exists)", () => {
    const { exports, memory } = instantiateKernels(backend);
    expect(memory.buffer.byteLength).toBeGreaterThan(0);
    expect(typeof exports.gmres).toBe("function");
  });
});

describe("CSR feature matrices", () => {
  it("reject an indptr that does not start at 0 (its leading entries would be dropped) with a DomainError naming Phi.indptr[0]", () => {
    const Phi = { indptr: [1, 2, 3], indices: [0, 1, 0], values: [1, 2, 3] };
    expect(() => linearReward(Phi, 2)).toThrow(DomainError);
    expect(() => linearReward(Phi, 2)).toThrow(/^Phi\.indptr\[0\]: must start at 0; got 1/);
    expect(linearReward({ indptr: [0, 1, 2], indices: [0, 1], values: [1, 2] }, 2).rows).toBe(2);
  });

  it("TabularMDP.sparse already rejects indptr[0] ≠ 0", () => {
    expect(() => TabularMDP.sparse({ S: 2, A: 1, indptr: [1, 2, 3], indices: [0, 1], probs: [1, 1], gamma: 0.9, backend })).toThrow(/^indptr\[0\]: must start at 0/);
  });
});
