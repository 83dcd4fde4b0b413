// Plain-TypeScript reference for assembly/sampling.ts. Must reproduce it bit for bit:
// same seeding, same generator, same uniform(), same CDF scan, same order of draws.
import { checkLength, type RefMDP } from './types.js';

const MASK64 = 0xffffffffffffffffn;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** xoshiro128** (Blackman & Vigna), state of four uint32 words, seeded through splitmix64. */
export class Xoshiro128 {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /**
   * Seed as assembly/sampling.ts `seedRng`: the seed splits into lo = seed mod 2^32 and
   * hi = floor(seed / 2^32) (each taken mod 2^32, as a wasm u32 parameter would), z = hi·2^32 + lo,
   * two splitmix64 outputs fill the state words little-endian (word 0 = low half of the
   * first output), and an all-zero state gets word 0 = 1.
   */
  constructor(seed: number, stream = 0) {
    const lo = (seed % 4294967296) >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    // stream s of the seed (assembly/sampling.ts seedStream): z = seed ⊕ s·0xD1B54A32D192ED03
    let z = ((BigInt(hi) << 32n) | BigInt(lo)) ^ ((BigInt(stream >>> 0) * 0xd1b54a32d192ed03n) & MASK64);
    const w: number[] = [];
    for (let i = 0; i < 2; i++) {
      z = (z + 0x9e3779b97f4a7c15n) & MASK64;
      let y = z;
      y = ((y ^ (y >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
      y = ((y ^ (y >> 27n)) * 0x94d049bb133111ebn) & MASK64;
      y = y ^ (y >> 31n);
      w.push(Number(y & 0xffffffffn), Number(y >> 32n));
    }
    if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0) w[0] = 1;
    [this.s0, this.s1, this.s2, this.s3] = w;
  }

  /** A generator with the given state words (for tests against published sequences). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128 {
    const g = new Xoshiro128(0);
    g.s0 = s0 >>> 0;
    g.s1 = s1 >>> 0;
    g.s2 = s2 >>> 0;
    g.s3 = s3 >>> 0;
    return g;
  }

  /** The four state words, as a copy. */
  state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** Next uint32 output. */
  next(): number {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    this.s1 = (s1 ^ n2) >>> 0;
    this.s0 = (s0 ^ n3) >>> 0;
    this.s2 = (n2 ^ t) >>> 0;
    this.s3 = rotl(n3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits: ((a >>> 5)·2^26 + (b >>> 6)) / 2^53. */
  uniform(): number {
    const a = this.next() >>> 5;
    const b = this.next() >>> 6;
    return (a * 67108864 + b) * (1 / 9007199254740992);
  }
}

/**
 * Index drawn from p[off .. off+n) by a cumulative scan that skips entries ≤ 0; when rounding
 * runs out, the last positive index (0 if none is positive).
 */
function draw(p: Float64Array, off: number, n: number, u: number): number {
  let acc = 0;
  let last = 0;
  for (let j = 0; j < n; j++) {
    const pj = p[off + j];
    if (pj > 0) {
      last = j;
      acc += pj;
      if (u < acc) return j;
    }
  }
  return last;
}

/**
 * episodes × horizon steps, row-major (episode, t): s_0 ~ ρ, then per step a_t ~ π(·|s_t) and,
 * when t + 1 < horizon, s_{t+1} ~ P(·|s_t, a_t). One uniform() per draw, in that order, from
 * episode e's own Xoshiro128(seed, e). rewards[e, t] = r(s_t, a_t) when r is given.
 * With `terminal` (S flags), an episode ends after its step at a terminal state: later steps
 * hold −1 (reward 0) and the generator advances as if the episode went on; lengths[e] is the
 * number of steps taken (docs/math.md#terminal-states).
 */
export function sampleTrajectories(
  m: RefMDP,
  pi: Float64Array,
  opts: { episodes: number; horizon: number; seed: number; rho: Float64Array; r?: Float64Array; terminal?: Uint8Array },
): { states: Int32Array; actions: Int32Array; rewards?: Float64Array; lengths: Int32Array } {
  const { S, A } = m;
  const { episodes, horizon, rho, r } = opts;
  checkLength('pi', pi, S * A);
  checkLength('rho', rho, S);
  if (r !== undefined) checkLength('r', r, S * A);
  const states = new Int32Array(episodes * horizon);
  const actions = new Int32Array(episodes * horizon);
  const rewards = r !== undefined ? new Float64Array(episodes * horizon) : undefined;
  const lengths = new Int32Array(episodes).fill(horizon);
  const term = opts.terminal;
  if (term !== undefined) checkLength('terminal', term, S);
  for (let e = 0; e < episodes; e++) {
    const rng = new Xoshiro128(opts.seed, e);
    let s = draw(rho, 0, S, rng.uniform());
    let done = false;
    for (let t = 0; t < horizon; t++) {
      const o = e * horizon + t;
      if (done) {
        // after a terminal state: padding, and the draws the episode would have made
        states[o] = -1;
        actions[o] = -1;
        rng.uniform();
        if (t + 1 < horizon) rng.uniform();
        continue;
      }
      const a = draw(pi, s * A, A, rng.uniform());
      const i = s * A + a;
      states[o] = s;
      actions[o] = a;
      if (rewards !== undefined && r !== undefined) rewards[o] = r[i];
      if (term !== undefined && term[s]) {
        done = true;
        lengths[e] = t + 1;
        if (t + 1 < horizon) rng.uniform();
        continue;
      }
      if (t + 1 < horizon) {
        const u = rng.uniform();
        if (m.kind === 'dense') s = draw(m.P, i * S, S, u);
        else {
          const k0 = m.indptr[i];
          s = m.indices[k0 + draw(m.probs, k0, m.indptr[i + 1] - k0, u)];
        }
      }
    }
  }
  return rewards !== undefined ? { states, actions, rewards, lengths } : { states, actions, lengths };
}
