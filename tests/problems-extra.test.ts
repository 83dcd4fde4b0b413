// The reward-shaping (seed 002 §3.3) and happy-text (seed 000) built-in problems:
// construction (shapes, stochastic rows, absorbing states, ρ), their defining properties
// (a sparse true reward, potential-based shaping leaving π* unchanged; the lexicon reward
// highest for happy sentences, negation, labels drawn from it), the exact hypergradient
// against central differences, and algorithms improving their objectives.
import { beforeAll, describe, expect, it } from "vitest";
import { DomainError, ShapeError, exactDescent, hypergradient, init, softValueIteration, soBiRL } from "../src/index";
import { denseOf, relErr } from "./helpers/compare";
import { phi } from "../src/bilevel/hypergradient";
import { solveLower } from "../src/bilevel/lowerSolve";
import { shaping } from "../src/problems/shaping";
import { happyText, HAPPY_VOCABULARY } from "../src/problems/happyText";

beforeAll(async () => {
  await init();
});


function maxRowError(P: Float64Array, rows: number, S: number): number {
  let worst = 0;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < S; j++) {
      expect(P[i * S + j]).toBeGreaterThanOrEqual(0);
      sum += P[i * S + j];
    }
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  return worst;
}

/** Central differences of φ along every coordinate. */
function fdGrad(problem: Parameters<typeof phi>[0], x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const xp = Float64Array.from(x);
  for (let k = 0; k < x.length; k++) {
    xp[k] = x[k] + h;
    const fp = phi(problem, xp, { tol: 1e-13 }).value;
    xp[k] = x[k] - h;
    const fm = phi(problem, xp, { tol: 1e-13 }).value;
    xp[k] = x[k];
    g[k] = (fp - fm) / (2 * h);
  }
  return g;
}

describe("shaping: reward shaping with a sparse true reward (seed 002 §3.3)", () => {
  it("builds a 6 × 6 gridworld whose only reward is 1 per step in the absorbing goal cell, with ρ at the start", () => {
    const s = shaping();
    const { S, A } = s.problem.mdp;
    expect([S, A, s.problem.n, s.problem.tau]).toEqual([36, 5, 36, 0.5]);
    const P = denseOf(s.problem.mdp);
    expect(maxRowError(P, S * A, S)).toBeLessThan(1e-12);
    expect(s.goal).toBe(s.grid.state(5, 5));
    for (let a = 0; a < A; a++) expect(P[(s.goal * A + a) * S + s.goal]).toBe(1);
    for (let i = 0; i < S * A; i++) expect(s.rTrue[i]).toBe(Math.floor(i / A) === s.goal ? 1 : 0);
    const rho = s.problem.mdp.rho;
    expect(rho[s.start]).toBe(1);
    expect(s.start).toBe(s.grid.state(0, 0));
    // x_0 = 0 is the unshaped problem: r_x = r_true
    expect(Array.from(s.problem.rewardAt(s.x0))).toEqual(Array.from(s.rTrue));
    // φ(0) is minus the true return of the unshaped soft-optimal policy
    const p0 = phi(s.problem, s.x0);
    expect(p0.value).toBeCloseTo(-s.trueReturn(p0.low.pi), 12);
  });

  it("gives feature matrices of the documented shapes: one-hot per state, per state-action, and γP − E for potentials", () => {
    const st = shaping({ size: 3, features: "state" });
    const sa = shaping({ size: 3, features: "state-action" });
    const po = shaping({ size: 3, features: "potential", gamma: 0.8 });
    const { S, A } = st.problem.mdp;
    expect(st.problem.n).toBe(S);
    expect(sa.problem.n).toBe(S * A);
    expect(po.problem.n).toBe(S);
    const P = denseOf(po.problem.mdp);
    for (let i = 0; i < S * A; i++) {
      for (let j = 0; j < S; j++) {
        expect(st.Phi[i * S + j]).toBe(j === Math.floor(i / A) ? 1 : 0);
        expect(po.Phi[i * S + j]).toBeCloseTo(0.8 * P[i * S + j] - (j === Math.floor(i / A) ? 1 : 0), 15);
      }
    }
  });

  it("leaves the soft-optimal policy unchanged under potential-based shaping, so ∇φ(x) = μx exactly", () => {
    const p = shaping({ size: 4, features: "potential", x0Scale: 1, seed: 3 });
    const a = solveLower(p.problem, p.x0, { tol: 1e-12 });
    const b = solveLower(p.problem, new Float64Array(p.problem.n), { tol: 1e-12 });
    let diff = 0;
    for (let i = 0; i < a.pi.length; i++) diff = Math.max(diff, Math.abs(a.pi[i] - b.pi[i]));
    expect(diff).toBeLessThan(1e-10);
    const hg = hypergradient(p.problem, p.x0, { lower: { tol: 1e-12 } });
    for (let k = 0; k < p.x0.length; k++) expect(hg.grad[k]).toBeCloseTo(0.01 * p.x0[k], 9);
  });

  it("has an exact hypergradient that matches central differences of φ for state bonuses", () => {
    const s = shaping({ size: 3, x0Scale: 0.5, seed: 1 });
    const hg = hypergradient(s.problem, s.x0, { lower: { tol: 1e-13 } });
    expect(relErr(hg.grad, fdGrad(s.problem, s.x0))).toBeLessThan(1e-5);
  });

  it("learns a shaping bonus by exact hypergradient descent that raises the true return of the soft-optimal policy from about 1.9 to above 3", () => {
    const s = shaping();
    const run = exactDescent.run(s.problem, { iterations: 60, x0: s.x0, beta: 1 });
    const before = phi(s.problem, s.x0), after = phi(s.problem, run.x);
    expect(s.trueReturn(before.low.pi)).toBeLessThan(2);
    expect(s.trueReturn(after.low.pi)).toBeGreaterThan(3);
    expect(after.value).toBeLessThan(before.value - 1);
    // φ stays below its recent maximum (the default nonmonotone rule, docs/math.md#spectral-step)
    for (let k = 1; k < run.history.length; k++) expect(run.history[k].f).toBeLessThanOrEqual(Math.max(...run.history.slice(Math.max(0, k - 10), k).map((h) => h.f)) + 1e-12);
  });

  it("speeds up a truncated lower solver: ten soft Bellman sweeps with the learned shaping earn several times the unshaped true return", () => {
    const s = shaping();
    const run = exactDescent.run(s.problem, { iterations: 60, x0: s.x0, beta: 1 });
    const sweeps = (x: Float64Array) => softValueIteration(s.problem.mdp, s.problem.rewardAt(x), { tau: s.problem.tau, maxIter: 10, tol: 0 }).pi;
    const plain = s.trueReturn(sweeps(s.x0)), shaped = s.trueReturn(sweeps(run.x));
    expect(shaped).toBeGreaterThan(3 * plain);
  });

  it("rejects a goal on a wall, a goal equal to the start and maps that mark a goal themselves", () => {
    expect(() => shaping({ map: ["..#", "...", "..."], goal: [0, 2] })).toThrow(DomainError);
    expect(() => shaping({ size: 3, goal: [0, 0] })).toThrow(/start/);
    expect(() => shaping({ map: ["..G", "..."] })).toThrow(/'G'/);
    expect(() => shaping({ features: "nope" as never })).toThrow(DomainError);
  });

  it("checks the map before writing the goal into it: ragged rows, bad cells and a goal on the only 'S' are errors", () => {
    // the default goal [1, 2] would otherwise fill the short row, or overwrite the bad cell
    expect(() => shaping({ map: ["...", ".."] })).toThrow(ShapeError);
    expect(() => shaping({ map: ["...", "..."], goal: [1, 1] })).not.toThrow();
    expect(() => shaping({ map: ["..x"], goal: [0, 2] })).toThrow(/cells must be/);
    expect(() => shaping({ map: ["S..", "..."], goal: [0, 0] })).toThrow(/must differ from the start cell/);
  });
});

describe("happyText: happy-text generation by RLHF (seed 000 stand-in)", () => {
  it("builds start + (L−1)·W position-token states + an absorbing END with deterministic moves and ρ at the start", () => {
    const h = happyText();
    const { S, A } = h.problem.mdp;
    const W = HAPPY_VOCABULARY.length - 1;
    expect([S, A, h.problem.n]).toEqual([1 + 2 * W + 1, W + 1, (W + 1) * (W + 1)]);
    const P = denseOf(h.problem.mdp);
    expect(maxRowError(P, S * A, S)).toBe(0);
    for (let i = 0; i < S * A; i++) expect(Array.from(P.subarray(i * S, i * S + S)).filter((p) => p === 1)).toHaveLength(1);
    // END is absorbing with zero sentiment; the end token leads there from everywhere
    for (let a = 0; a < A; a++) {
      expect(P[(h.end * A + a) * S + h.end]).toBe(1);
      expect(h.rTrue[h.end * A + a]).toBe(0);
    }
    for (let s = 0; s < S; s++) expect(P[(s * A + W) * S + h.end]).toBe(1);
    // a word at the last position ends the sentence; elsewhere it moves to (t + 1, word)
    const lastPos = 1 + (h.length - 2) * W; // first state of position L − 1
    for (let a = 0; a < W; a++) {
      expect(P[(lastPos * A + a) * S + h.end]).toBe(1);
      expect(h.decode(Array.from(P.subarray(a * S, a * S + S)).indexOf(1))).toEqual({ t: 1, last: a, end: false });
    }
    expect(h.problem.mdp.rho[h.start]).toBe(1);
    expect(h.decode(h.start)).toEqual({ t: 0, last: -1, end: false });
    expect(h.decode(h.end).end).toBe(true);
  });

  it("scores happy sentences highest and sad ones lowest under the lexicon reward, with 'not' flipping the next word", () => {
    const h = happyText();
    const words = h.vocabulary.slice(0, -1);
    const all: string[][] = [];
    const walk = (prefix: string[]) => {
      all.push(prefix);
      if (prefix.length < h.length) for (const w of words) walk([...prefix, w]);
    };
    walk([]);
    const scored = all.map((s) => ({ s, v: h.sentiment(s) }));
    const best = Math.max(...scored.map((x) => x.v)), worst = Math.min(...scored.map((x) => x.v));
    expect(best).toBe(h.length);
    expect(worst).toBe(-h.length);
    for (const { s, v } of scored) {
      if (v === best) expect(s.every((w) => w === "happy" || w === "great") && s.length === h.length).toBe(true);
      if (v === worst) expect(s).toEqual(["sad", "sad", "sad"]);
    }
    expect(h.sentiment(["not", "sad"])).toBe(1);
    expect(h.sentiment(["not", "happy"])).toBe(-1);
    expect(h.sentiment(["happy", "<end>", "sad"])).toBe(1); // nothing after the end token counts
    expect(h.sentiment(["day", "day", "day"])).toBe(0);
  });

  it("has a true reward whose expected sentence sentiment under a deterministic writer equals that sentence's score", () => {
    const h = happyText();
    const { S, A } = h.problem.mdp;
    const pi = new Float64Array(S * A);
    const pick = ["not", "sad", "great"];
    for (let s = 0; s < S; s++) {
      const { t, end } = h.decode(s);
      pi[s * A + (end ? 0 : h.vocabulary.indexOf(pick[t]))] = 1;
    }
    expect(h.greedy(pi)).toEqual(pick);
    expect(h.expectedSentiment(pi)).toBe(h.sentiment(pick));
    expect(h.sentiment(pick)).toBe(2);
  });

  it("draws preference labels from Bradley–Terry on the lexicon: the lexicon itself, as a bigram reward, is a stationary point of the loss for any writer", () => {
    const h = happyText({ lambda: 0 });
    const { S, A } = h.problem.mdp;
    expect(Array.from(h.objective.rTrue)).toEqual(Array.from(h.rTrue).map((v) => 2 * v));
    // x* = bt·r_true in bigram coordinates (context = last token + 1, or 0 at the start)
    const V = A, xStar = new Float64Array(h.problem.n);
    for (let s = 0; s < S; s++) {
      const { last, end } = h.decode(s);
      if (!end) for (let a = 0; a < A; a++) xStar[(last + 1) * V + a] = 2 * h.rTrue[s * A + a];
    }
    expect(Array.from(h.problem.rewardAt(xStar))).toEqual(Array.from(h.objective.rTrue));
    const pi = solveLower(h.problem, new Float64Array(h.problem.n)).pi;
    const g = h.problem.gradX(xStar, pi);
    expect(Math.max(...Array.from(g, Math.abs))).toBeLessThan(1e-12);
  });

  it("has an exact hypergradient that matches central differences of φ on a 4-word, 2-token instance", () => {
    const h = happyText({ vocabulary: ["good", "bad", "not", "."], lexicon: { good: 1, bad: -1 }, negators: ["not"], length: 2, x0Scale: 0.3, seed: 2 });
    const hg = hypergradient(h.problem, h.x0, { lower: { tol: 1e-13 } });
    expect(relErr(hg.grad, fdGrad(h.problem, h.x0))).toBeLessThan(1e-5);
  });

  it("is improved by exact hypergradient descent: the loss falls and the writer's expected sentiment rises", () => {
    const h = happyText();
    const run = exactDescent.run(h.problem, { iterations: 5, x0: h.x0, beta: 1 });
    const before = phi(h.problem, h.x0), after = phi(h.problem, run.x);
    expect(after.value).toBeLessThan(before.value - 0.05);
    expect(h.expectedSentiment(after.low.pi)).toBeGreaterThan(h.expectedSentiment(before.low.pi) + 0.5);
  });

  it("is improved by model-free SoBiRL: after 60 iterations the writer is clearly happier and the loss lower", () => {
    const h = happyText();
    // β = 1 overshoots the reward scale on some seeds (happier writer, worse fit to the labels)
    const run = soBiRL.run(h.problem, { iterations: 60, x0: h.x0, beta: 0.1, update: "plain", groups: 64, seed: 0 });
    const before = phi(h.problem, h.x0), after = phi(h.problem, run.x);
    expect(after.value).toBeLessThan(before.value);
    expect(h.expectedSentiment(after.low.pi)).toBeGreaterThan(h.expectedSentiment(before.low.pi) + 0.5);
  });

  it("turns exact enumeration off for large vocabularies and rejects lexicon words outside the vocabulary", () => {
    const big = happyText({ vocabulary: ["a", "b", "c", "d", "e", "f", "g", "<e>"], lexicon: { a: 1 }, negators: [], length: 4 });
    expect(() => phi(big.problem, big.x0)).toThrow(/exact: false/);
    expect(() => happyText({ lexicon: { joy: 1 } })).toThrow(DomainError);
    expect(() => happyText({ negators: ["<end>"] })).toThrow(DomainError);
    expect(() => happyText({ vocabulary: ["a", "a", "."] })).toThrow(DomainError);
  });
});
