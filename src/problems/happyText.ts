// Happy-text generation by RLHF [CONSTRUCTED tabular stand-in for seed 000's happy-tweet
// task; docs/math.md#happy-text "Seed 000": no details known]. A policy writes a sentence of at
// most L tokens from a small vocabulary; a hidden sentiment lexicon scores it; preference
// labels between pairs of sentences come from Bradley–Terry on the lexicon scores; the
// upper level fits a reward model r_x to those labels (BCE, SoBiRL eq. 12) on sentences the
// lower policy writes, and the lower level writes with r_x (soft-optimal, temperature τ).
//
// The MDP (deterministic transitions):
//   states   0            start (no token yet, position 0)
//            1 + (t−1)·W + w   position t ∈ [1, L), last token w ∈ [0, W)  (W = words, the
//                              vocabulary without the end token)
//            S − 1        END, absorbing (every action self-loops, reward 0)
//            S = 1 + (L−1)·W + 1
//   actions  the vocabulary: a = token index; the last one is the end token.
//   moves    emitting a word at position t goes to (t+1, word), or to END when t + 1 = L
//            (length cap); emitting the end token goes to END.
// Sentiment (the hidden "true" reward, per emitted token):
//   r_true(s, a) = sign(s)·lexicon(a), sign = −1 when the last token of s is a negator
//   ("not": "not sad" is happy), else +1; the end token and END score 0.
// Reward model r_x (learned): 'bigram' (default) r_x(s, a) = x[c(s)·V + a], one weight per
// (previous token or start, token) pair shared over positions, n = (W + 1)·V, END rows 0;
// or 'table' r_x = x (n = S·A).
// Upper level: trajectoryUpper(preferenceBCE({ rTrue: bt·r_true, horizon: L, … })): H = L-step
// sentences from the start state, pairs labelled σ(bt·(R_true(τ1) − R_true(τ2))) ('soft'),
// exact by enumeration of the V^L sentences when that is small (default V = 6, L = 3).
import { DomainError, ShapeError } from "../errors";
import { TabularMDP } from "../mdp";
import { BilevelProblem } from "../bilevel/problem";
import { linearReward } from "../bilevel/models";
import { preferenceBCE, trajectoryUpper, type PreferenceBCE } from "../bilevel/trajectory";
import type { Backend } from "../wasm/module";
import { Rng } from "../util/random";
import * as check from "../validate";
import { positive } from "./gridworld";

/** The default vocabulary: two happy words, a neutral one, a negator, a sad one and the end token. */
export const HAPPY_VOCABULARY: readonly string[] = Object.freeze(["happy", "great", "day", "not", "sad", "<end>"]);
/** The default sentiment lexicon (words not listed score 0). */
export const HAPPY_LEXICON: Readonly<Record<string, number>> = Object.freeze({ happy: 1, great: 1, sad: -1 });
/** The default negators: they flip the score of the next token. */
export const HAPPY_NEGATORS: readonly string[] = Object.freeze(["not"]);

/** Reward model of `happyText`: bigram features or a full table. */
export type HappyRewardFeatures = "bigram" | "table";

/** Options of `happyText`. */
export interface HappyTextOptions {
  /** Tokens, the end token last (default HAPPY_VOCABULARY: happy, great, day, not, sad, <end>). */
  vocabulary?: readonly string[];
  /** Sentiment score per word (default HAPPY_LEXICON: happy +1, great +1, sad −1; others 0). */
  lexicon?: Readonly<Record<string, number>>;
  /** Words that flip the next token's score (default ["not"]). */
  negators?: readonly string[];
  /** Maximum sentence length L in tokens, the trajectory horizon (default 3). */
  length?: number;
  /** Discount of the lower MDP (default 0.9). */
  gamma?: number;
  /** Lower entropy temperature τ (default 0.3). */
  tau?: number;
  /** Reward model features (default 'bigram'). */
  features?: HappyRewardFeatures;
  /** Bradley–Terry scale β of the labels σ(β·ΔR_true) (default 2). */
  bt?: number;
  /** Label model: 'soft' (default, p = σ(βΔR)) or 'hard' (1{ΔR > 0}). */
  labels?: "soft" | "hard";
  /** Sentence pairs per group (default 1). */
  pairs?: number;
  /** Weight λ of (λ/2)‖x‖² added to the loss (default 1e-3). */
  lambda?: number;
  /**
   * Exact f and ∇f by enumerating every pair of L-token sentences (default: when
   * V^L ≤ 1000). Without it only the model-free methods (soBiRL, alternating) apply.
   */
  exact?: boolean;
  /** Scale of a random x_0 = x0Scale·N(0, I_n) (default 0: x_0 = 0, the uniform writer). */
  x0Scale?: number;
  /** Seed of the random x_0 (default 0; the instance itself is deterministic). */
  seed?: number;
  backend?: Backend;
}

/** What `happyText` returns. */
export interface HappyTextInstance {
  problem: BilevelProblem;
  objective: PreferenceBCE;
  x0: Float64Array;
  vocabulary: readonly string[];
  /** Score of each token of the vocabulary (the end token 0). */
  scores: Float64Array;
  /** The sentiment reward r_true (S·A): what the labels are drawn from. */
  rTrue: Float64Array;
  /** Maximum length L. */
  length: number;
  /** State index of the start state (0) and of the absorbing END state (S − 1). */
  start: number;
  end: number;
  features: HappyRewardFeatures;
  /** The position and last token of a state (last = −1 for the start and END). */
  decode(s: number): { t: number; last: number; end: boolean };
  /** Sentiment of a sentence (tokens as words or indices; the end token stops it). */
  sentiment(tokens: readonly (string | number)[]): number;
  /** E_π[sentiment of the sentence π writes] (exact, by forward propagation over positions). */
  expectedSentiment(pi: ArrayLike<number>): number;
  /** The most likely token at each step under π (greedy decoding) as words, without the end token. */
  greedy(pi: ArrayLike<number>): string[];
}

/**
 * Happy-text generation by RLHF: sentences of at most L tokens are trajectories, Bradley–Terry
 * labels come from a sentiment lexicon, and a reward model is fitted to them.
 */
export function happyText(options: HappyTextOptions = {}): HappyTextInstance {
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const vocabulary = options.vocabulary ?? HAPPY_VOCABULARY;
  if (!Array.isArray(vocabulary) || vocabulary.length < 2 || vocabulary.some((w) => typeof w !== "string" || w.length === 0)) {
    throw new ShapeError("vocabulary", "must be an array of at least 2 non-empty strings (the end token last)", vocabulary);
  }
  if (new Set(vocabulary).size !== vocabulary.length) throw new DomainError("vocabulary", "must not repeat a token", vocabulary.join(" "));
  const lexicon = options.lexicon ?? HAPPY_LEXICON;
  if (typeof lexicon !== "object" || lexicon === null || Array.isArray(lexicon)) throw new ShapeError("lexicon", "must be an object { word: score }", lexicon);
  const negators = options.negators ?? HAPPY_NEGATORS;
  if (!Array.isArray(negators) || negators.some((w) => typeof w !== "string")) throw new ShapeError("negators", "must be an array of words", negators);
  const V = vocabulary.length, W = V - 1;
  for (const [word, score] of Object.entries(lexicon)) {
    const i = vocabulary.indexOf(word);
    if (i < 0 || i === W) throw new DomainError("lexicon", `words must be in the vocabulary (not the end token '${vocabulary[W]}')`, word);
    check.finiteNumber(`lexicon.${word}`, score);
  }
  for (const w of negators) {
    const i = vocabulary.indexOf(w);
    if (i < 0 || i === W) throw new DomainError("negators", "must be words of the vocabulary (not the end token)", w);
  }
  const L = options.length === undefined ? 3 : check.positiveInt("length", options.length);
  const gamma = check.discount(options.gamma ?? 0.9);
  const tau = positive("tau", options.tau ?? 0.3);
  const features = options.features ?? "bigram";
  if (features !== "bigram" && features !== "table") throw new DomainError("features", "must be 'bigram' or 'table'", features);
  const bt = positive("bt", options.bt ?? 2);
  const lambda = check.nonNegative("lambda", options.lambda ?? 1e-3);
  const x0Scale = options.x0Scale === undefined ? 0 : check.nonNegative("x0Scale", options.x0Scale);
  const seed = options.seed === undefined ? 0 : check.seed(options.seed);
  let sentences = 1; // V^L by exact products: pow(10, 3) is 1000.0000000000007
  for (let t = 0; t < L && sentences <= 1000; t++) sentences *= V;
  const exact = options.exact ?? sentences <= 1000;
  if (typeof exact !== "boolean") throw new DomainError("exact", "must be a boolean", exact);

  const scores = new Float64Array(V);
  for (let a = 0; a < W; a++) scores[a] = lexicon[vocabulary[a]] ?? 0;
  const negator = new Uint8Array(V);
  for (const w of negators) negator[vocabulary.indexOf(w)] = 1;

  const S = 1 + (L - 1) * W + 1, A = V;
  const START = 0, END = S - 1;
  const stateOf = (t: number, w: number) => 1 + (t - 1) * W + w;
  const decode = (s: number) => {
    if (!Number.isInteger(s) || s < 0 || s >= S) throw new DomainError("s", `must be a state index in [0, ${S})`, s);
    if (s === START) return { t: 0, last: -1, end: false };
    if (s === END) return { t: L, last: -1, end: true };
    return { t: 1 + Math.floor((s - 1) / W), last: (s - 1) % W, end: false };
  };
  // deterministic transitions, stored sparse (one next state per row)
  const indptr = new Int32Array(S * A + 1), indices = new Int32Array(S * A), probs = new Float64Array(S * A).fill(1);
  const rTrue = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    const { t, last, end } = decode(s);
    for (let a = 0; a < A; a++) {
      const i = s * A + a;
      indptr[i + 1] = i + 1;
      if (end) { indices[i] = END; continue; }
      indices[i] = a === W || t + 1 >= L ? END : stateOf(t + 1, a);
      rTrue[i] = last >= 0 && negator[last] ? 0 - scores[a] : scores[a]; // 0 − 0 = +0, never −0
    }
  }
  const rho = new Float64Array(S);
  rho[START] = 1;
  const mdp = TabularMDP.sparse({ S, A, gamma, rho, indptr, indices, probs, backend: options.backend });

  let reward;
  let n: number;
  if (features === "bigram") {
    // context c(s) = last token + 1 (0 for the start state); END rows are zero
    n = (W + 1) * V;
    const ip = new Int32Array(S * A + 1), ix: number[] = [];
    for (let s = 0; s < S; s++) {
      const { last, end } = decode(s);
      for (let a = 0; a < A; a++) {
        if (!end) ix.push((last + 1) * V + a);
        ip[s * A + a + 1] = ix.length;
      }
    }
    reward = linearReward({ indptr: ip, indices: Int32Array.from(ix), values: new Float64Array(ix.length).fill(1) }, n);
  } else {
    n = S * A;
    const ip = new Int32Array(n + 1), ix = new Int32Array(n);
    for (let i = 0; i < n; i++) { ip[i + 1] = i + 1; ix[i] = i; }
    reward = linearReward({ indptr: ip, indices: ix, values: new Float64Array(n).fill(1) }, n);
  }
  const objective = preferenceBCE({ rTrue: rTrue.map((v) => bt * v), horizon: L, pairs: options.pairs, labels: options.labels, gammaU: 1, lambda });
  const problem = new BilevelProblem({ mdp, tau, reward, upper: trajectoryUpper(objective, reward, { exact }) });
  const x0 = x0Scale === 0 ? new Float64Array(n) : new Rng(seed).normals(n).map((v) => v * x0Scale);

  const tokenIndex = (tok: string | number): number => {
    const i = typeof tok === "number" ? tok : vocabulary.indexOf(tok);
    if (!Number.isInteger(i) || i < 0 || i >= V) throw new DomainError("tokens", "must be words of the vocabulary or token indices", tok);
    return i;
  };
  return {
    problem,
    objective,
    x0,
    vocabulary: vocabulary.slice(),
    scores,
    rTrue,
    length: L,
    start: START,
    end: END,
    features,
    decode,
    sentiment(tokens) {
      if (!Array.isArray(tokens)) throw new ShapeError("tokens", "must be an array of words or token indices", tokens);
      let s = START, total = 0;
      for (const tok of tokens) {
        if (s === END) break;
        const a = tokenIndex(tok);
        total += rTrue[s * A + a];
        s = indices[s * A + a];
      }
      return total;
    },
    expectedSentiment(pi) {
      const p = check.policy("pi", pi, S, A);
      let d = new Float64Array(S);
      d[START] = 1;
      let total = 0;
      for (let t = 0; t < L; t++) {
        const next = new Float64Array(S);
        for (let s = 0; s < S; s++) {
          if (d[s] === 0) continue;
          for (let a = 0; a < A; a++) {
            const w = d[s] * p[s * A + a];
            total += w * rTrue[s * A + a];
            next[indices[s * A + a]] += w;
          }
        }
        d = next;
      }
      return total;
    },
    greedy(pi) {
      const p = check.policy("pi", pi, S, A);
      const words: string[] = [];
      let s = START;
      while (s !== END) {
        let best = 0;
        for (let a = 1; a < A; a++) if (p[s * A + a] > p[s * A + best]) best = a;
        if (best === W) break;
        words.push(vocabulary[best]);
        s = indices[s * A + best];
      }
      return words;
    },
  };
}
