// Issue 12 (hardening): a resumed state is checked against its algorithm's schema. Every
// algorithm × { missing key, wrong length, null, NaN, wrong type, huge k, another
// algorithm's state } fails with a typed error naming state.<key>, the rule and the value,
// through run({ state }) and through step(problem, state) alike, before any arithmetic.
import { beforeAll, describe, expect, it } from "vitest";
import {
  actorCritic,
  alternating,
  DomainError,
  exactDescent,
  init,
  mSoBiRL,
  parl,
  pbrl,
  phiSigma,
  rlhf,
  ShapeError,
  soBiRL,
  STATE_VERSION,
  type BilevelProblem,
} from "../src/index";
import { checkState, STATE_SCHEMA_ALGORITHMS } from "../src/bilevel/algorithms/stateSchema";

type AnyAlg = {
  name: string;
  init(problem: BilevelProblem, options?: object): Record<string, unknown>;
  step(problem: BilevelProblem, state: object): Record<string, unknown>;
  run(problem: BilevelProblem, options: object): { state: Record<string, unknown> };
};

/** Each algorithm with cheap options and one of its own vector keys (besides x). */
const CASES: { alg: AnyAlg; options: object; vectorKey: string; lengthOf: (S: number, A: number) => number }[] = [
  { alg: exactDescent as unknown as AnyAlg, options: {}, vectorKey: "V", lengthOf: (S) => S },
  { alg: mSoBiRL as unknown as AnyAlg, options: {}, vectorKey: "Q", lengthOf: (S, A) => S * A },
  { alg: soBiRL as unknown as AnyAlg, options: { groups: 2, Md: 2 }, vectorKey: "pi", lengthOf: (S, A) => S * A },
  { alg: pbrl as unknown as AnyAlg, options: {}, vectorKey: "policy", lengthOf: (S, A) => S * A },
  { alg: parl as unknown as AnyAlg, options: { cgMaxIter: 5 }, vectorKey: "theta", lengthOf: (S, A) => S * (A - 1) },
  { alg: actorCritic as unknown as AnyAlg, options: {}, vectorKey: "thetaT", lengthOf: (S, A) => S * A },
  { alg: phiSigma as unknown as AnyAlg, options: { n: 2 }, vectorKey: "thetaStar", lengthOf: (S, A) => S * A },
  { alg: alternating as unknown as AnyAlg, options: { groups: 2, bufferSize: 4 }, vectorKey: "V", lengthOf: (S) => S },
];

let problem: BilevelProblem;
let x0: Float64Array;
/** A JSON round trip of each algorithm's state after one iteration. */
const states = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  await init();
  const inst = rlhf({ seed: 4 });
  problem = inst.problem;
  x0 = inst.x0;
  for (const { alg, options } of CASES) states.set(alg.name, JSON.parse(JSON.stringify(alg.run(problem, { ...options, x0, iterations: 1 }).state)));
});

/** A fresh copy of alg's state with `edit` applied. */
function edited(name: string, edit: (st: Record<string, unknown>) => void): Record<string, unknown> {
  const st = JSON.parse(JSON.stringify(states.get(name)));
  edit(st);
  return st;
}

/** run({ state }) and step(problem, state) both throw cls with a message matching every pattern. */
function rejects(alg: AnyAlg, state: object, cls: typeof ShapeError | typeof DomainError, ...patterns: RegExp[]): void {
  for (const call of [() => alg.run(problem, { iterations: 3, state }), () => alg.step(problem, state)]) {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    expect(caught, "nothing was thrown").toBeDefined();
    expect(caught, String(caught)).toBeInstanceOf(cls);
    for (const p of patterns) expect((caught as Error).message).toMatch(p);
  }
}

it("covers every algorithm that has a state schema", () => {
  expect(CASES.map((c) => c.alg.name).sort()).toEqual([...STATE_SCHEMA_ALGORITHMS].sort());
});

for (const { alg, vectorKey, lengthOf } of CASES) {
  describe(`${alg.name}: a resumed state`, () => {
    it("carries the algorithm's name and the format version in front, and a JSON round trip of it resumes", () => {
      const st = states.get(alg.name)!;
      expect(Object.keys(st).slice(0, 2)).toEqual(["algorithm", "version"]);
      expect(st.algorithm).toBe(alg.name);
      expect(st.version).toBe(STATE_VERSION);
      expect(alg.run(problem, { iterations: 1, state: st }).state.k).toBe(2);
    });

    it("missing a key: ShapeError naming state.<key> as missing", () => {
      rejects(alg, edited(alg.name, (s) => delete s.x), ShapeError, /^state\.x: is missing/);
      rejects(alg, edited(alg.name, (s) => delete s[vectorKey]), ShapeError, new RegExp(`^state\\.${vectorKey}: is missing`));
      rejects(alg, edited(alg.name, (s) => delete s.algorithm), ShapeError, /^state\.algorithm: is missing/);
    });

    it("an array of the wrong length: ShapeError with the expected length", () => {
      const { S, A } = problem.mdp;
      rejects(alg, edited(alg.name, (s) => (s.x as number[]).pop()), ShapeError, new RegExp(`^state\\.x: must have length ${problem.n} \\(n\\); got ${problem.n - 1}`));
      rejects(alg, edited(alg.name, (s) => (s[vectorKey] as number[]).push(0)), ShapeError, new RegExp(`^state\\.${vectorKey}: must have length ${lengthOf(S, A)}`));
    });

    it("a null entry (what JSON makes of NaN): DomainError naming the position", () => {
      rejects(alg, edited(alg.name, (s) => ((s.x as unknown[])[1] = null)), DomainError, /^state\.x\[1\]: entries must be finite numbers; got null/);
      rejects(alg, edited(alg.name, (s) => ((s[vectorKey] as unknown[])[0] = null)), DomainError, new RegExp(`^state\\.${vectorKey}\\[0\\]`), /got null/);
    });

    it("NaN: DomainError naming the position", () => {
      rejects(alg, edited(alg.name, (s) => ((s.x as number[])[0] = NaN)), DomainError, /^state\.x\[0\]: entries must be finite numbers; got NaN/);
      rejects(alg, edited(alg.name, (s) => ((s[vectorKey] as number[])[0] = NaN)), DomainError, new RegExp(`^state\\.${vectorKey}\\[0\\]`), /got NaN/);
    });

    it("a value of the wrong type: ShapeError", () => {
      rejects(alg, edited(alg.name, (s) => (s.x = "0,0")), ShapeError, /^state\.x: must be a Float64Array or an array of numbers; got "0,0"/);
      rejects(alg, edited(alg.name, (s) => (s.k = "3")), ShapeError, /^state\.k: must be a number; got "3"/);
      rejects(alg, edited(alg.name, (s) => (s[vectorKey] = { 0: 1 })), ShapeError, new RegExp(`^state\\.${vectorKey}: must be`));
    });

    it("a huge or fractional k: DomainError (it used to make run({ iterations: 3 }) loop forever)", () => {
      rejects(alg, edited(alg.name, (s) => (s.k = 1e300)), DomainError, /^state\.k: must be a non-negative safe integer/, /got 1e\+300/);
      rejects(alg, edited(alg.name, (s) => (s.k = 2.5)), DomainError, /^state\.k: must be a non-negative safe integer/);
      rejects(alg, edited(alg.name, (s) => (s.k = -1)), DomainError, /^state\.k/);
      const nearMax = edited(alg.name, (s) => (s.k = Number.MAX_SAFE_INTEGER - 1));
      expect(() => alg.run(problem, { iterations: 3, state: nearMax })).toThrow(/^iterations: must keep k \+ iterations a safe integer/);
    });

    it("another algorithm's state: DomainError naming both algorithms", () => {
      const other = CASES[(CASES.findIndex((c) => c.alg === alg) + 1) % CASES.length].alg.name;
      rejects(alg, states.get(other)!, DomainError, new RegExp(`^state\\.algorithm: must be '${alg.name}' \\(this is a state of ${other}: resume it with ${other}\\.run\\); got "${other}"`));
    });

    it("another format version or an unknown key: typed errors", () => {
      rejects(alg, edited(alg.name, (s) => (s.version = 3)), DomainError, /^state\.version: must be 2/, /got 3/);
      rejects(alg, edited(alg.name, (s) => (s.version = 1)), DomainError, /^state\.version: must be 2 .*predates the adaptive step rules/, /got 1/);
      rejects(alg, edited(alg.name, (s) => (s.extra = 1)), ShapeError, /^state: has a key that/, /got "extra"/);
    });

    it("the state of the same algorithm on another problem (other S, A, n): ShapeError", () => {
      const small = rlhf({ seed: 4, S: 2 });
      const st = JSON.parse(JSON.stringify(alg.init(small.problem, { x0: small.x0 })));
      expect(() => alg.run(problem, { iterations: 1, state: st })).toThrow(ShapeError);
    });
  });
}

describe("the schemas accept every state init writes", () => {
  const variants: [AnyAlg, object][] = [
    [pbrl as unknown as AnyAlg, { penalty: "bellman" }],
    [pbrl as unknown as AnyAlg, { param: "simplex", inner: "exact", linear: "krylov" }],
    [parl as unknown as AnyAlg, { inner: "exact", derivatives: "finite-difference" }],
    [actorCritic as unknown as AnyAlg, { critic: "td", explore: 0 }],
    [phiSigma as unknown as AnyAlg, { gradient: "sampled" }],
    [mSoBiRL as unknown as AnyAlg, { wStep: "richardson", project: "nonnegative" }],
    [soBiRL as unknown as AnyAlg, { evaluation: "monte-carlo", baseline: "split" }],
    [exactDescent as unknown as AnyAlg, { solver: "policy-iteration", linear: "lu" }],
  ];
  it.each(variants.map(([a, o]) => [a.name, JSON.stringify(o), a, o] as const))("%s %s", (_n, _o, alg, options) => {
    const st = alg.init(problem, options);
    expect(() => checkState(alg.name, problem, st)).not.toThrow();
    expect(() => checkState(alg.name, problem, JSON.parse(JSON.stringify(st)))).not.toThrow();
  });
});
