// Tier 4 of the test plan: bad input thrown at every public entry. Each case asserts the
// error class (ShapeError is a TypeError; DomainError and MemoryLimitError are
// RangeErrors), what the message names (argument, position, value), and that nothing
// surfaces as a WebAssembly.RuntimeError.
import { beforeAll, describe, expect, test } from "vitest";
import {
  DomainError,
  init,
  MemoryLimitError,
  NumericalError,
  occupancy,
  policyEvaluation,
  sampleTrajectories,
  ShapeError,
  softValueIteration,
  solveLinear,
  TabularMDP,
  type Backend,
} from "../src/index";

type ErrorClass = typeof ShapeError | typeof DomainError | typeof MemoryLimitError | typeof NumericalError | TypeErrorConstructor;

/** Runs fn, which must throw an instance of `cls` whose message matches every pattern. */
function expectError(fn: () => unknown, cls: ErrorClass, ...patterns: (RegExp | string)[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`expected ${cls.name} but nothing was thrown`);
  expect(caught).not.toBeInstanceOf(WebAssembly.RuntimeError);
  expect(caught, `${(caught as Error).name}: ${(caught as Error).message}`).toBeInstanceOf(cls);
  const err = caught as Error;
  for (const p of patterns) {
    if (typeof p === "string") expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
}

/** Escape for use inside a RegExp. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let backend: Backend;
// a 3-state, 2-action MDP used by the compute entries
const S = 3;
const A = 2;
const P = Float64Array.from([
  0.5, 0.5, 0, /**/ 0, 1, 0, // s = 0
  0, 0, 1, /**/ 0.2, 0.3, 0.5, // s = 1
  1, 0, 0, /**/ 0.25, 0.25, 0.5, // s = 2
]);
const pi = Float64Array.from([0.5, 0.5, 1, 0, 0.3, 0.7]);
const r = Float64Array.from([1, 0, -1, 2, 0.5, 0]);
let dense: TabularMDP;
let csr: TabularMDP;
beforeAll(async () => {
  backend = await init({ simd: true });
  dense = TabularMDP.dense({ S, A, P, gamma: 0.9, backend });
  csr = TabularMDP.fromNested(
    [
      [[0.5, 0.5, 0], [0, 1, 0]],
      [[0, 0, 1], [0.2, 0.3, 0.5]],
      [[1, 0, 0], [0.25, 0.25, 0.5]],
    ],
    { gamma: 0.9, sparse: true, backend },
  );
});

const CSR = {
  S: 2,
  A: 1,
  indptr: [0, 2, 3],
  indices: [0, 1, 1],
  probs: [0.5, 0.5, 1],
  gamma: 0.9,
};

/** P with one non-finite entry at flat index i. */
const withAt = (i: number, v: number) => P.map((x, k) => (k === i ? v : x));

describe("TabularMDP.dense", () => {
  test.each([0, -1, 1.5, NaN, Infinity])("rejects S = %s with a DomainError naming S and the value", (bad) => {
    expectError(() => TabularMDP.dense({ S: bad, A, P, gamma: 0.9, backend }), DomainError, /^S\b/, String(bad));
  });

  test.each([0, -1, 1.5, NaN])("rejects A = %s with a DomainError naming A and the value", (bad) => {
    expectError(() => TabularMDP.dense({ S, A: bad, P, gamma: 0.9, backend }), DomainError, /^A\b/, String(bad));
  });

  test('rejects S = "3" (a string) with a typed error naming S and echoing "3"', () => {
    const e = expectError(() => TabularMDP.dense({ S: "3" as unknown as number, A, P, gamma: 0.9, backend }), Error, /^S\b/, '"3"');
    expect(e instanceof ShapeError || e instanceof DomainError).toBe(true);
  });

  test("rejects a spec that is not an object with a ShapeError", () => {
    expectError(() => TabularMDP.dense(null as never), ShapeError, /spec/);
    expectError(() => TabularMDP.dense(undefined as never), ShapeError, /spec/);
  });

  test("rejects P of the wrong length with a ShapeError giving the expected length S·A·S and the length seen", () => {
    expectError(() => TabularMDP.dense({ S, A, P: P.subarray(1), gamma: 0.9, backend }), ShapeError, /^P\b/, "18", "17");
    expectError(() => TabularMDP.dense({ S, A, P: [...P, 0], gamma: 0.9, backend }), ShapeError, /^P\b/, "19");
  });

  test("rejects P that is not an array with a ShapeError", () => {
    expectError(() => TabularMDP.dense({ S, A, P: "abc" as never, gamma: 0.9, backend }), ShapeError, /^P\b/);
    expectError(() => TabularMDP.dense({ S, A, P: { length: 18 } as never, gamma: 0.9, backend }), ShapeError, /^P\b/);
  });

  test.each([
    [5, NaN],
    [0, Infinity],
    [17, -Infinity],
  ])("rejects a non-finite P at flat index %s with a DomainError naming that position and the value", (i, v) => {
    expectError(() => TabularMDP.dense({ S, A, P: withAt(i, v), gamma: 0.9, backend }), DomainError, new RegExp(`^P\\[${i}\\]`), String(v));
  });

  test("rejects a negative entry of P with a DomainError naming its (s, a) and the value", () => {
    const bad = Float64Array.from(P);
    bad[(2 * A + 1) * S + 0] = -0.25; // row (s=2, a=1): -0.25, 0.25, 0.5 → 0.5… + 0.5 keeps the sum away from 1
    bad[(2 * A + 1) * S + 2] = 1;
    expectError(() => TabularMDP.dense({ S, A, P: bad, gamma: 0.9, backend }), DomainError, /^P\b/, /s=2, a=1/, "-0.25");
  });

  test("rejects P whose worst row sums to 0.93 with a DomainError naming that row (s, a) and its sum", () => {
    const bad = Float64Array.from(P);
    bad[(1 * A + 0) * S + 2] = 0.99; // row (1,0) sums to 0.99
    bad[(2 * A + 1) * S + 0] = 0.18; // row (2,1): 0.18 + 0.25 + 0.5 = 0.93, the worst
    const sum = 0.18 + 0.25 + 0.5;
    const e = expectError(() => TabularMDP.dense({ S, A, P: bad, gamma: 0.9, backend }), DomainError, /^P\b/, /s=2, a=1/, String(sum));
    expect(e.message).not.toMatch(/s=1, a=0/);
    expect(sum).toBeCloseTo(0.93, 12);
  });

  test.each([1, -0.1, NaN, 1.5, Infinity])("rejects gamma = %s with a DomainError naming gamma", (g) => {
    expectError(() => TabularMDP.dense({ S, A, P, gamma: g, backend }), DomainError, /^gamma\b/, String(g));
  });

  test("rejects a rho that is not a distribution: wrong length, negative entry (named), NaN (named), sum ≠ 1 (with the sum)", () => {
    expectError(() => TabularMDP.dense({ S, A, P, gamma: 0.9, rho: [0.5, 0.5], backend }), ShapeError, /^rho\b/, "3", "2");
    expectError(() => TabularMDP.dense({ S, A, P, gamma: 0.9, rho: [0.5, -0.5, 1], backend }), DomainError, /^rho\[1\]/, "-0.5");
    expectError(() => TabularMDP.dense({ S, A, P, gamma: 0.9, rho: [0.5, NaN, 0.5], backend }), DomainError, /^rho\[1\]/, "NaN");
    expectError(() => TabularMDP.dense({ S, A, P, gamma: 0.9, rho: [0.5, 0.2, 0.2], backend }), DomainError, /^rho\b/, /sum/, String(0.5 + 0.2 + 0.2));
  });

  test("rejects a dense P too large for wasm32 memory with a MemoryLimitError (a RangeError) giving the bytes needed and advising sparse transitions, before reading P", () => {
    const S = 12000;
    const A = 4;
    const need = S * A * S * 8; // 4.608e9 bytes > 4 GiB
    let reads = 0;
    // a stand-in whose length is right; any element read is counted (and would be slow at this size)
    const stub = new Proxy({ length: S * A * S } as Record<string | symbol, unknown>, {
      get(target, key) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return target[key];
      },
    });
    const e = expectError(() => TabularMDP.dense({ S, A, P: stub as unknown as ArrayLike<number>, gamma: 0.9, backend }), MemoryLimitError, String(need), /sparse|CSR/);
    expect(e).toBeInstanceOf(RangeError);
    expect((e as MemoryLimitError).bytesNeeded).toBe(need);
    expect((e as MemoryLimitError).bytesAvailable).toBe(2 ** 32);
    expect(reads).toBe(0);
  });
});

describe("TabularMDP#setTransitions", () => {
  test("rejects a CSR MDP, a P of the wrong length, a non-finite entry (position named) and a row summing to 0.93 (row and sum named), leaving the stored P unchanged", () => {
    const mdp = TabularMDP.dense({ S, A, P, gamma: 0.9, backend });
    expectError(() => csr.setTransitions(P), ShapeError, /dense/);
    expectError(() => mdp.setTransitions(P.subarray(2)), ShapeError, /^P\b/, "18", "16");
    expectError(() => mdp.setTransitions(withAt(7, NaN)), DomainError, /^P\[7\]/, "NaN");
    const bad = Float64Array.from(P);
    bad[(2 * A + 1) * S + 0] = 0.18; // row (2,1) sums to 0.93
    expectError(() => mdp.setTransitions(bad), DomainError, /s=2, a=1/, String(0.18 + 0.25 + 0.5));
    expect(Array.from((mdp.transitions() as { P: Float64Array }).P)).toEqual(Array.from(P));
  });
});

describe("TabularMDP.sparse", () => {
  test.each([0, -1, 1.5, NaN, "3"])("rejects S = %j, and A = the same value, with DomainErrors naming S or A", (bad) => {
    const shown = typeof bad === "string" ? JSON.stringify(bad) : String(bad);
    expectError(() => TabularMDP.sparse({ ...CSR, S: bad as number, backend }), DomainError, /^S\b/, shown);
    expectError(() => TabularMDP.sparse({ ...CSR, A: bad as number, backend }), DomainError, /^A\b/, shown);
  });

  test("rejects indptr of the wrong length with a ShapeError giving S·A + 1", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indptr: [0, 2], backend }), ShapeError, /^indptr\b/, "3", "2");
  });

  test("rejects a non-monotone indptr with a DomainError naming the position", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indptr: [0, 3, 2], indices: [0, 1], probs: [0.5, 0.5], backend }), DomainError, /^indptr\[2\]/, /non-decreasing|monoton/);
  });

  test("rejects an indptr that does not start at 0 and non-integer indptr entries", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indptr: [1, 2, 3], backend }), DomainError, /^indptr\[0\]/);
    expectError(() => TabularMDP.sparse({ ...CSR, indptr: [0, 1.5, 3], backend }), DomainError, /^indptr\[1\]/, "1.5");
  });

  test("rejects an out-of-range column index (too large or negative) with a DomainError naming its position and value", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indices: [0, 2, 1], backend }), DomainError, /^indices\[1\]/, "2", /\[0, 2\)/);
    expectError(() => TabularMDP.sparse({ ...CSR, indices: [0, 1, -1], backend }), DomainError, /^indices\[2\]/, "-1");
  });

  test("rejects a column index repeated within a row with a DomainError naming the row (s, a) and the index", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indices: [1, 1, 1], backend }), DomainError, /^indices\b/, /s=0, a=0/, /repeat|duplicate/);
  });

  test("rejects NaN or ±Infinity in probs with a DomainError naming the position", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, probs: [0.5, NaN, 1], backend }), DomainError, /^probs\[1\]/, "NaN");
    expectError(() => TabularMDP.sparse({ ...CSR, probs: [0.5, 0.5, Infinity], backend }), DomainError, /^probs\[2\]/, "Infinity");
    expectError(() => TabularMDP.sparse({ ...CSR, probs: [-Infinity, 0.5, 1], backend }), DomainError, /^probs\[0\]/, "-Infinity");
  });

  test("rejects negative probs with a DomainError naming the position", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, probs: [1.5, -0.5, 1], backend }), DomainError, /^probs\[1\]/, "-0.5");
  });

  test("rejects rows summing to 0.93 with a DomainError naming the worst row (s, a) and its sum", () => {
    const spec = { S: 2, A: 2, gamma: 0.9, indptr: [0, 2, 3, 4, 6], indices: [0, 1, 1, 0, 0, 1], probs: [0.5, 0.5, 0.97, 1, 0.43, 0.5], backend };
    const sum = 0.43 + 0.5;
    const e = expectError(() => TabularMDP.sparse(spec), DomainError, /s=1, a=1/, String(sum));
    expect(e.message).not.toMatch(/s=0, a=1/);
  });

  test("rejects an empty row (summing to 0) with a DomainError naming it", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indptr: [0, 2, 2], indices: [0, 1], probs: [0.5, 0.5], backend }), DomainError, /s=1, a=0/, /sums to 0\b/);
  });

  test("rejects indices or probs whose length differs from indptr[S·A] with a ShapeError", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indices: [0, 1], backend }), ShapeError, /^indices\b/, "3", "2");
    expectError(() => TabularMDP.sparse({ ...CSR, probs: [0.5, 0.5, 1, 0], backend }), ShapeError, /^probs\b/, "3", "4");
  });

  test("rejects indptr, indices or probs that are not arrays with a ShapeError", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, indptr: "012" as never, backend }), ShapeError, /^indptr\b/);
    expectError(() => TabularMDP.sparse({ ...CSR, indices: undefined as never, backend }), ShapeError, /^indices\b/);
    expectError(() => TabularMDP.sparse({ ...CSR, probs: null as never, backend }), ShapeError, /^probs\b/);
  });

  test.each([1, -0.1, NaN])("rejects gamma = %s with a DomainError naming gamma", (g) => {
    expectError(() => TabularMDP.sparse({ ...CSR, gamma: g, backend }), DomainError, /^gamma\b/);
  });

  test("rejects a rho that is not a distribution", () => {
    expectError(() => TabularMDP.sparse({ ...CSR, rho: [0.7, 0.7], backend }), DomainError, /^rho\b/, "1.4");
    expectError(() => TabularMDP.sparse({ ...CSR, rho: [1], backend }), ShapeError, /^rho\b/);
  });
});

describe("TabularMDP.fromNested", () => {
  const good = [
    [[0.5, 0.5], [1, 0]],
    [[0, 1], [0.3, 0.7]],
  ];

  test("rejects an empty P, a state without actions, and a P that is not nested arrays", () => {
    expectError(() => TabularMDP.fromNested([], { gamma: 0.9, backend }), DomainError, /^P\b/, /state/);
    expectError(() => TabularMDP.fromNested([[]], { gamma: 0.9, backend }), DomainError, /^P\b/, /action/);
    expectError(() => TabularMDP.fromNested("abc" as never, { gamma: 0.9, backend }), ShapeError, /^P\b/);
  });

  test("rejects ragged nesting with a ShapeError naming the state (and action) at fault", () => {
    expectError(() => TabularMDP.fromNested([good[0], [good[1][0]]], { gamma: 0.9, backend }), ShapeError, /^P\b/, /s=1/);
    expectError(() => TabularMDP.fromNested([good[0], [[0, 1], [1]]], { gamma: 0.9, backend }), ShapeError, /^P\b/, /s=1, a=1/);
  });

  test.each([
    [false, NaN],
    [false, Infinity],
    [true, NaN],
    [true, -Infinity],
  ])("with sparse: %s, rejects %s at P[1][0][1] with a DomainError naming that position of P", (sparse, v) => {
    const bad = [good[0], [[0, v], [0.3, 0.7]]];
    // the position as (s, a, s') or as the documented flat index (s·A + a)·S + s' = (1·2 + 0)·2 + 1 = 5;
    // not as an index into CSR arrays the caller never passed
    expectError(() => TabularMDP.fromNested(bad, { gamma: 0.9, sparse, backend }), DomainError, /^P\b/, /\[5\]|s=1, a=0/, String(v));
  });

  test("rejects a row summing to 0.93 with a DomainError naming the row (s, a) and its sum, dense and sparse", () => {
    const bad = [good[0], [[0, 1], [0.43, 0.5]]];
    for (const sparse of [false, true]) {
      expectError(() => TabularMDP.fromNested(bad, { gamma: 0.9, sparse, backend }), DomainError, /s=1, a=1/, String(0.43 + 0.5));
    }
  });

  test("rejects negative entries, with the row named", () => {
    const bad = [good[0], [[-0.5, 1.5], [0.3, 0.7]]];
    expectError(() => TabularMDP.fromNested(bad, { gamma: 0.9, backend }), DomainError, /s=1, a=0/, "-0.5");
  });

  test.each([1, -0.1, NaN])("rejects gamma = %s with a DomainError naming gamma", (g) => {
    expectError(() => TabularMDP.fromNested(good, { gamma: g, backend }), DomainError, /^gamma\b/);
  });

  test("rejects a rho that is not a distribution", () => {
    expectError(() => TabularMDP.fromNested(good, { gamma: 0.9, rho: [0.2, 0.2], backend }), DomainError, /^rho\b/);
  });

  test("rejects a missing options object with a typed error naming options or gamma, not a bare property-access TypeError", () => {
    expectError(() => TabularMDP.fromNested(good, undefined as never), Error, /options|gamma/);
    expectError(() => TabularMDP.fromNested(good, undefined as never), Error, /^(options|gamma)\b/);
  });
});

describe("softValueIteration", () => {
  test("rejects r of the wrong length and non-finite r entries (position named)", () => {
    expectError(() => softValueIteration(dense, r.subarray(1), { tau: 1 }), ShapeError, /^r\b/, "6", "5");
    expectError(() => softValueIteration(dense, r.map((x, i) => (i === 4 ? NaN : x)), { tau: 1 }), DomainError, /^r\[4\]/, "NaN");
    expectError(() => softValueIteration(csr, r.map((x, i) => (i === 0 ? -Infinity : x)), { tau: 1 }), DomainError, /^r\[0\]/, "-Infinity");
  });

  test.each([-1, NaN, Infinity, undefined])("rejects tau = %s with a DomainError naming tau", (tau) => {
    expectError(() => softValueIteration(dense, r, { tau: tau as number }), DomainError, /^tau\b/);
  });

  test("rejects missing options (no tau) with a DomainError naming tau", () => {
    expectError(() => softValueIteration(dense, r, undefined as never), DomainError, /^tau\b/);
  });

  test("rejects a negative or NaN tol and a maxIter that is not a positive integer", () => {
    expectError(() => softValueIteration(dense, r, { tau: 1, tol: -1 }), DomainError, /^tol\b/);
    expectError(() => softValueIteration(dense, r, { tau: 1, tol: NaN }), DomainError, /^tol\b/);
    for (const m of [0, -1, 1.5, NaN]) expectError(() => softValueIteration(dense, r, { tau: 1, maxIter: m }), DomainError, /^maxIter\b/);
  });

  test("rejects an extrapolate that is not a boolean", () => {
    for (const v of [1, "yes", null]) expectError(() => softValueIteration(dense, r, { tau: 1, extrapolate: v as never }), DomainError, /^extrapolate\b/);
  });

  test("rejects a V0 of the wrong length or with NaN (position named)", () => {
    expectError(() => softValueIteration(dense, r, { tau: 1, V0: [0, 0] }), ShapeError, /^V0\b/, "3");
    expectError(() => softValueIteration(dense, r, { tau: 1, V0: [0, NaN, 0] }), DomainError, /^V0\[1\]/);
  });

  test("reports rewards that overflow the log-sum-exp as a NumericalError instead of returning NaN", () => {
    const huge = new Float64Array(6).fill(1e308); // V* = 1e308/(1 − γ) overflows
    expectError(() => softValueIteration(dense, huge, { tau: 1e-300 }), NumericalError, /softValueIteration/);
    // τ = 0 too (the hard max skips NaN, so the overflow must be caught as soon as V stops being finite)
    for (const m of [dense, csr]) expectError(() => softValueIteration(m, huge, { tau: 0, extrapolate: true }), NumericalError, /became (Infinity|NaN) at sweep [12];/);
  });
});

describe("policyEvaluation", () => {
  test("rejects r and pi of the wrong length", () => {
    expectError(() => policyEvaluation(dense, [1, 2], pi, { tau: 0 }), ShapeError, /^r\b/);
    expectError(() => policyEvaluation(dense, r, pi.subarray(0, 5), { tau: 0 }), ShapeError, /^pi\b/, "6", "5");
  });

  test("rejects a pi row not summing to 1 with a DomainError naming the state and the sum", () => {
    const bad = Float64Array.from(pi);
    bad[3] = 0.2; // row s = 1: 1 + 0.2
    expectError(() => policyEvaluation(dense, r, bad, { tau: 0 }), DomainError, /^pi\b/, /s=1/, "1.2");
  });

  test("rejects negative and non-finite pi entries with the position named", () => {
    expectError(() => policyEvaluation(csr, r, [0.5, 0.5, 1.5, -0.5, 0.3, 0.7], { tau: 0 }), DomainError, /^pi\b/, /s=1, a=1/, "-0.5");
    expectError(() => policyEvaluation(csr, r, [0.5, 0.5, NaN, 0, 0.3, 0.7], { tau: 0 }), DomainError, /^pi\[2\]/, "NaN");
  });

  test.each([-1, NaN, undefined])("rejects tau = %s with a DomainError naming tau", (tau) => {
    expectError(() => policyEvaluation(dense, r, pi, { tau: tau as number }), DomainError, /^tau\b/);
  });

  test("rejects a V0 of the wrong length or with NaN with an error naming V0", () => {
    expectError(() => policyEvaluation(dense, r, pi, { tau: 0, method: "krylov", V0: [0, 0] }), ShapeError, /^V0\b/, "3", "2");
    expectError(() => policyEvaluation(dense, r, pi, { tau: 0, method: "krylov", V0: [0, NaN, 0] }), DomainError, /^V0\[1\]/);
  });

  test("rejects an unknown method and a bad maxIter or tol", () => {
    expectError(() => policyEvaluation(dense, r, pi, { tau: 0, method: "qr" as never }), DomainError, /^method\b/, '"qr"');
    expectError(() => policyEvaluation(dense, r, pi, { tau: 0, method: "krylov", maxIter: 0 }), DomainError, /^maxIter\b/);
    expectError(() => policyEvaluation(dense, r, pi, { tau: 0, tol: -1e-3 }), DomainError, /^tol\b/);
  });
});

describe("solveLinear", () => {
  const b = [1, 2, 3];

  test("rejects b of the wrong length and non-finite b (position named)", () => {
    expectError(() => solveLinear(dense, pi, [1, 2]), ShapeError, /^b\b/, "3", "2");
    expectError(() => solveLinear(dense, pi, [1, Infinity, 3]), DomainError, /^b\[1\]/, "Infinity");
  });

  test("rejects a pi row not summing to 1 with a DomainError naming the state", () => {
    expectError(() => solveLinear(csr, [0.5, 0.5, 1, 0, 0.3, 0.6], b), DomainError, /^pi\b/, /s=2/);
  });

  test.each(["qr", "LU", "", 1])("rejects the unknown method %j with a DomainError listing the methods", (method) => {
    expectError(() => solveLinear(dense, pi, b, { method: method as never }), DomainError, /^method\b/, /lu/, /krylov/, /richardson/);
  });

  test("with method 'lu' on an S whose S × S matrix exceeds wasm32 memory, gives a MemoryLimitError with the bytes needed advising 'krylov'", () => {
    const n = 25000; // S² doubles = 5e9 bytes
    const big = TabularMDP.sparse({
      S: n,
      A: 1,
      gamma: 0.5,
      indptr: Int32Array.from({ length: n + 1 }, (_, i) => i),
      indices: Int32Array.from({ length: n }, (_, i) => (i + 1) % n),
      probs: new Float64Array(n).fill(1),
      backend,
    });
    const ones = new Float64Array(n).fill(1);
    const e = expectError(() => solveLinear(big, ones, ones, { method: "lu" }), MemoryLimitError, /\d{10}/, /krylov/);
    expect((e as MemoryLimitError).bytesNeeded).toBeGreaterThanOrEqual(n * n * 8);
    // the Krylov solve of the same system works (x = 2 for P_π a cyclic shift, b = 1, γ = 1/2)
    const x = solveLinear(big, ones, ones, { method: "krylov" });
    expect(x.converged).toBe(true);
    expect(Math.max(...x.x.map((v) => Math.abs(v - 2)))).toBeLessThan(1e-9);
  });

  test("rejects a non-boolean transpose, a negative tol, a bad maxIter, a bad x0 and a GMRES restart length that is not a positive integer", () => {
    expectError(() => solveLinear(dense, pi, b, { transpose: "yes" as never }), DomainError, /^transpose\b/);
    expectError(() => solveLinear(dense, pi, b, { tol: -1 }), DomainError, /^tol\b/);
    expectError(() => solveLinear(dense, pi, b, { method: "richardson", maxIter: 2.5 }), DomainError, /^maxIter\b/);
    expectError(() => solveLinear(dense, pi, b, { method: "krylov", x0: [0, 0] }), ShapeError, /^x0\b/);
    expectError(() => solveLinear(dense, pi, b, { method: "krylov", x0: [0, NaN, 0] }), DomainError, /^x0\[1\]/);
    for (const restart of [0, -2, 1.5, NaN]) expectError(() => solveLinear(dense, pi, b, { method: "krylov", restart }), DomainError, /^restart\b/);
  });
});

describe("occupancy", () => {
  test("rejects a rho that is not a distribution: sum ≠ 1 (with the sum), a negative entry (named), the wrong length", () => {
    expectError(() => occupancy(dense, pi, [0.2, 0.2, 0.2]), DomainError, /^rho\b/, /sum/, String(0.2 + 0.2 + 0.2));
    expectError(() => occupancy(dense, pi, [1.2, -0.2, 0]), DomainError, /^rho\[1\]/, "-0.2");
    expectError(() => occupancy(csr, pi, [0.5, 0.5]), ShapeError, /^rho\b/);
  });

  test("rejects a pi row not summing to 1 with a DomainError naming the state", () => {
    expectError(() => occupancy(dense, [0.5, 0.6, 1, 0, 0.3, 0.7]), DomainError, /^pi\b/, /s=0/, "1.1");
  });

  test("rejects an unknown method with a DomainError", () => {
    expectError(() => occupancy(dense, pi, undefined, { method: "cholesky" as never }), DomainError, /^method\b/);
  });
});

describe("sampleTrajectories", () => {
  const ok = { episodes: 2, horizon: 3, seed: 1 };

  test("rejects a pi row not summing to 1 with a DomainError naming the state", () => {
    expectError(() => sampleTrajectories(dense, [0.5, 0.5, 1, 0, 0.3, 0.8], ok), DomainError, /^pi\b/, /s=2/);
  });

  test.each([0, -1, 1.5, NaN, "3"])("rejects episodes = %j and horizon = %j with DomainErrors naming them", (bad) => {
    expectError(() => sampleTrajectories(dense, pi, { ...ok, episodes: bad as number }), DomainError, /^episodes\b/);
    expectError(() => sampleTrajectories(csr, pi, { ...ok, horizon: bad as number }), DomainError, /^horizon\b/);
  });

  test.each([1.5, -1, 2 ** 53, NaN, Infinity, "7"])("rejects the seed %j with a DomainError naming seed", (seed) => {
    expectError(() => sampleTrajectories(dense, pi, { ...ok, seed: seed as number }), DomainError, /^seed\b/);
  });

  test("rejects missing options with a DomainError", () => {
    expectError(() => sampleTrajectories(dense, pi, undefined as never), DomainError, /^(episodes|horizon|seed)\b/);
  });

  test("rejects a rho that is not a distribution and an r of the wrong length or with NaN", () => {
    expectError(() => sampleTrajectories(dense, pi, { ...ok, rho: [0.5, 0.5, 0.5] }), DomainError, /^rho\b/);
    expectError(() => sampleTrajectories(dense, pi, { ...ok, r: [1, 2, 3] }), ShapeError, /^r\b/);
    expectError(() => sampleTrajectories(dense, pi, { ...ok, r: [1, 2, 3, 4, 5, NaN] }), DomainError, /^r\[5\]/);
  });

  test("rejects episodes × horizon too large for wasm memory with a MemoryLimitError giving the bytes and advising fewer steps per call", () => {
    const e = expectError(() => sampleTrajectories(dense, pi, { episodes: 1e6, horizon: 1e4, seed: 1 }), MemoryLimitError, /\d{10,}/, /fewer/);
    expect(e).toBeInstanceOf(RangeError);
    // the failed call leaves the MDP usable
    expect(sampleTrajectories(dense, pi, ok).states.length).toBe(6);
  });
});

describe("every compute entry", () => {
  test("softValueIteration, policyEvaluation, solveLinear, occupancy and sampleTrajectories reject an mdp that is not a TabularMDP with a typed error naming mdp", () => {
    const calls: [string, (m: never) => unknown][] = [
      ["softValueIteration", (m) => softValueIteration(m, r, { tau: 1 })],
      ["policyEvaluation", (m) => policyEvaluation(m, r, pi, { tau: 1 })],
      ["solveLinear", (m) => solveLinear(m, pi, [1, 2, 3])],
      ["occupancy", (m) => occupancy(m, pi)],
      ["sampleTrajectories", (m) => sampleTrajectories(m, pi, { episodes: 1, horizon: 1, seed: 1 })],
    ];
    const wrong: string[] = [];
    for (const [name, call] of calls)
      for (const m of [null, undefined, { S: 3, A: 2, gamma: 0.9 }]) {
        try {
          call(m as never);
          wrong.push(`${name}(${JSON.stringify(m)}): did not throw`);
        } catch (e) {
          const err = e as Error;
          const typed = err instanceof ShapeError || err instanceof DomainError;
          if (!typed || !/^mdp\b/.test(err.message)) wrong.push(`${name}(${JSON.stringify(m)}): ${err.name}: ${err.message}`);
        }
      }
    expect(wrong).toEqual([]);
  });
});

describe("init", () => {
  test.each([
    ["yes", '"yes"'],
    [1, "1"],
    [null, "null"],
  ])("rejects simd = %j: the promise rejects with a ShapeError naming simd and the value (init never throws synchronously)", async (simd, shown) => {
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = init({ simd: simd as never });
    }).not.toThrow();
    await expect(p).rejects.toBeInstanceOf(ShapeError);
    await expect(p).rejects.toThrow(`init(options): simd: must be true, false or left out; got ${shown}`);
  });

  test.each([
    [null, "null"],
    [5, "5"],
    ["simd", '"simd"'],
    [[true], "Array(length 1)"],
  ])("rejects options = %j with a ShapeError naming the options and the value, not the engine's property-read TypeError", async (options, shown) => {
    const p = init(options as never);
    await expect(p).rejects.toBeInstanceOf(ShapeError);
    await expect(p).rejects.toThrow(`init(options): options must be an object such as { simd: true } or left out; got ${shown}`);
  });

  test("a rejected init leaves the library usable: a later init() still resolves to a backend", async () => {
    await expect(init({ simd: "no" as never })).rejects.toBeInstanceOf(TypeError);
    const b = await init({ simd: false });
    expect(b.simd).toBe(false);
    expect(TabularMDP.dense({ S, A, P, gamma: 0.5 }).simd).toBe(false);
  });
});

describe("the error classes", () => {
  test("ShapeError is a TypeError, DomainError and MemoryLimitError are RangeErrors, each with its own name", () => {
    const shape = new ShapeError("x", "rule", 1);
    const domain = new DomainError("x", "rule", 1);
    const memory = new MemoryLimitError(10, 5, "advice");
    expect(shape).toBeInstanceOf(TypeError);
    expect(domain).toBeInstanceOf(RangeError);
    expect(memory).toBeInstanceOf(RangeError);
    expect([shape.name, domain.name, memory.name]).toEqual(["ShapeError", "DomainError", "MemoryLimitError"]);
    expect(memory.message).toMatch(new RegExp(`${esc("10")}.*${esc("5")}.*advice`));
  });
});
