// Trajectory sampling with a seeded xoshiro128** generator whose 16-byte state lives
// in module memory at `rng`. Pure integer arithmetic and a scan of cumulative sums,
// so every runtime and both builds draw the same trajectories.

// @ts-ignore: decorator
@inline
function next(rng: usize): u32 {
  const s0 = load<u32>(rng), s1 = load<u32>(rng, 4), s2 = load<u32>(rng, 8), s3 = load<u32>(rng, 12);
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  const n2 = s2 ^ s0, n3 = s3 ^ s1;
  const n1 = s1 ^ n2, n0 = s0 ^ n3;
  store<u32>(rng, n0);
  store<u32>(rng, n1, 4);
  store<u32>(rng, n2 ^ t, 8);
  store<u32>(rng, rotl<u32>(n3, 11), 12);
  return result;
}

// Uniform double in [0, 1) with 53 random bits.
// @ts-ignore: decorator
@inline
function uniform(rng: usize): f64 {
  const a = next(rng) >>> 5, b = next(rng) >>> 6;
  return (<f64>a * 67108864.0 + <f64>b) * (1.0 / 9007199254740992.0);
}

// Seed the state of stream `stream` of the 64-bit seed (lo, hi) through splitmix64:
// z = seed ⊕ stream·0xD1B54A32D192ED03, two splitmix64 outputs fill the state.
// Stream 0 is the seed itself; episode e of a batch draws from stream e, so an episode
// depends only on (seed, e), never on how many episodes are sampled with it.
export function seedStream(rng: usize, lo: u32, hi: u32, stream: u32): void {
  let z: u64 = ((<u64>hi << 32) | <u64>lo) ^ (<u64>stream * 0xD1B54A32D192ED03);
  for (let i = 0; i < 2; i++) {
    z += 0x9E3779B97F4A7C15;
    let y = z;
    y = (y ^ (y >> 30)) * 0xBF58476D1CE4E5B9;
    y = (y ^ (y >> 27)) * 0x94D049BB133111EB;
    y = y ^ (y >> 31);
    store<u64>(rng + (<usize>i << 3), y);
  }
  // xoshiro must not start from the all-zero state
  if (load<u64>(rng) == 0 && load<u64>(rng, 8) == 0) store<u32>(rng, 1);
}

// Stream 0 of a seed.
export function seedRng(rng: usize, lo: u32, hi: u32): void {
  seedStream(rng, lo, hi, 0);
}

// Raw draws, for tests of the generator.
export function rngNext(rng: usize): u32 { return next(rng); }
export function rngUniform(rng: usize): f64 { return uniform(rng); }

// Index drawn from the n probabilities at p: the first j whose running sum exceeds u
// (entries ≤ 0 add nothing, so they are never chosen), or the last positive index when
// rounding leaves u at or above the total.
// @ts-ignore: decorator
@inline
function draw(p: usize, n: i32, u: f64): i32 {
  if (n <= 16) {
    // short rows (policies, CSR rows): count the running sums ≤ u without branching, since
    // a data-dependent early exit mispredicts about once per draw
    let acc: f64 = 0, j = 0;
    for (let k = 0; k < n; k++) {
      const pk = load<f64>(p + (<usize>k << 3));
      acc += pk > 0 ? pk : 0;
      j += select<i32>(1, 0, acc <= u);
    }
    if (j < n) return j;
    return lastPositive(p, n);
  }
  let acc: f64 = 0;
  for (let j = 0; j < n; j++) {
    const pj = load<f64>(p + (<usize>j << 3));
    if (pj > 0) {
      acc += pj;
      if (u < acc) return j;
    }
  }
  return lastPositive(p, n);
}

// Index drawn with a row's precomputed running sums c (cumulativeRows): the number of
// sums ≤ u by branchless bisection, the same index as draw's scan gives for the same row.
// @ts-ignore: decorator
@inline
function drawCdf(p: usize, c: usize, n: i32, u: f64): i32 {
  let base = 0, len = n;
  while (len > 1) {
    const half = len >> 1;
    base = select<i32>(base + half, base, load<f64>(c + (<usize>(base + half - 1) << 3)) <= u);
    len -= half;
  }
  const j = base + select<i32>(1, 0, load<f64>(c + (<usize>base << 3)) <= u);
  if (j < n) return j;
  return lastPositive(p, n);
}

// Running sums of every row of P (dense rows of length S, or the CSR rows of probs), with
// the same additions draw makes, so bisection over them picks the same index. out has
// the layout of P (S·A·S doubles, or nnz). Called once per MDP, for sampling long rows.
export function cumulativeRows(P: usize, indptr: usize, S: i32, A: i32, out: usize): void {
  for (let i = 0; i < S * A; i++) {
    let k0: i32, k1: i32;
    if (indptr == 0) { k0 = i * S; k1 = k0 + S; }
    else { k0 = load<i32>(indptr + (<usize>i << 2)); k1 = load<i32>(indptr + (<usize>i << 2), 4); }
    let acc: f64 = 0;
    for (let k = k0; k < k1; k++) {
      const pk = load<f64>(P + (<usize>k << 3));
      acc += pk > 0 ? pk : 0;
      store<f64>(out + (<usize>k << 3), acc);
    }
  }
}

// The fallback of draw (0 when no entry is positive).
function lastPositive(p: usize, n: i32): i32 {
  for (let j = n - 1; j > 0; j--) if (load<f64>(p + (<usize>j << 3)) > 0) return j;
  return 0;
}

// Episodes sampled together in lockstep: their dependent loads (the next state's row of
// P) are independent of each other, so the CPU overlaps their cache misses. 16 beat 8 by
// ≈ 3 % on CSR S = 1e4; 32 gained nothing more. A multiple of 4 (the generator groups).
const BLOCK = 16;

// Layout of the sampler's work area (bytes): the block's generator states transposed
// into BLOCK/4 groups × 4 words × 4 lanes of u32 (lane j of group g = stream 4g + j), then
// s_t and (s_t, a_t) per episode, the block's uniforms, and a seeding scratch.
const W_CUR = BLOCK * 16, W_SA = W_CUR + BLOCK * 4, W_U = W_SA + BLOCK * 4, W_TMP = W_U + BLOCK * 8;
export const SAMPLE_WORK_BYTES: i32 = W_TMP + 16;

// Seed lane j of the block from stream `stream`.
// @ts-ignore: decorator
@inline
function seedLane(work: usize, j: i32, lo: u32, hi: u32, stream: u32): void {
  seedStream(work + W_TMP, lo, hi, stream);
  const g = <usize>(j >> 2), l = <usize>(j & 3);
  for (let w = 0; w < 4; w++) store<u32>(work + ((g * 4 + <usize>w) << 4) + (l << 2), load<u32>(work + W_TMP + (<usize>w << 2)));
}

// One uniform per lane for all BLOCK lanes of the block into W_U: the same two xoshiro128**
// outputs and the same formula as uniform(), four streams per instruction in the SIMD
// build (integer arithmetic, so both builds give identical bits).
// @ts-ignore: decorator
@inline
function blockUniforms(work: usize): void {
  for (let g = 0; g < BLOCK / 4; g++) {
    const base = work + (<usize>g << 6);
    if (ASC_FEATURE_SIMD) {
      let s0 = v128.load(base), s1 = v128.load(base, 16), s2 = v128.load(base, 32), s3 = v128.load(base, 48);
      // first output, then step
      let x = i32x4.mul(s1, i32x4.splat(5));
      const r1 = i32x4.mul(v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25)), i32x4.splat(9));
      let t = i32x4.shl(s1, 9);
      s2 = v128.xor(s2, s0); s3 = v128.xor(s3, s1); s1 = v128.xor(s1, s2); s0 = v128.xor(s0, s3);
      s2 = v128.xor(s2, t); s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
      // second output, then step
      x = i32x4.mul(s1, i32x4.splat(5));
      const r2 = i32x4.mul(v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25)), i32x4.splat(9));
      t = i32x4.shl(s1, 9);
      s2 = v128.xor(s2, s0); s3 = v128.xor(s3, s1); s1 = v128.xor(s1, s2); s0 = v128.xor(s0, s3);
      s2 = v128.xor(s2, t); s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
      v128.store(base, s0); v128.store(base, s1, 16); v128.store(base, s2, 32); v128.store(base, s3, 48);
      const a = i32x4.shr_u(r1, 5), b = i32x4.shr_u(r2, 6);
      const ah = i8x16.shuffle(a, a, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
      const bh = i8x16.shuffle(b, b, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
      const c26 = f64x2.splat(67108864.0), c53 = f64x2.splat(1.0 / 9007199254740992.0);
      const u0 = f64x2.mul(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_u(a), c26), f64x2.convert_low_i32x4_u(b)), c53);
      const u1 = f64x2.mul(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_u(ah), c26), f64x2.convert_low_i32x4_u(bh)), c53);
      v128.store(work + W_U + (<usize>g << 5), u0);
      v128.store(work + W_U + (<usize>g << 5), u1, 16);
    } else {
      for (let l = 0; l < 4; l++) {
        const p = base + (<usize>l << 2);
        let s0 = load<u32>(p), s1 = load<u32>(p, 16), s2 = load<u32>(p, 32), s3 = load<u32>(p, 48);
        const r1 = rotl<u32>(s1 * 5, 7) * 9;
        let t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
        const r2 = rotl<u32>(s1 * 5, 7) * 9;
        t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
        store<u32>(p, s0); store<u32>(p, s1, 16); store<u32>(p, s2, 32); store<u32>(p, s3, 48);
        const u = (<f64>(r1 >>> 5) * 67108864.0 + <f64>(r2 >>> 6)) * (1.0 / 9007199254740992.0);
        store<f64>(work + W_U + (<usize>(g * 4 + l) << 3), u);
      }
    }
  }
}

// episodes × horizon steps: s_0 ~ ρ, a_t ~ π(·|s_t), s_{t+1} ~ P(·|s_t,a_t); episode e
// draws from stream e of the seed (lo, hi), in that order. Dense P when indptr == 0,
// CSR otherwise (then P holds the probs). Rewards are written only when r != 0.
// Outputs are row-major (episode, t). work: SAMPLE_WORK_BYTES bytes.
// cdf: cumulativeRows of P, or 0; with it, rows longer than 16 entries are drawn by
// bisection instead of a scan (same draws, O(log n) instead of O(n)).
// term: S i32 flags (nonzero = terminal state, docs/math.md#terminal-states), or 0. An
// episode ends after its step at a terminal state: the later steps hold state and action
// −1 and reward 0, and lengths[e] (when lengths != 0) is the number of steps taken. The
// generator advances as if the episode went on, so episode e's draws never depend on where
// another one ends, and without terminal states the output is the same as before.
export function sampleTrajectories(P: usize, indptr: usize, indices: usize, pi: usize, rho: usize, r: usize, S: i32, A: i32, episodes: i32, horizon: i32, lo: u32, hi: u32, work: usize, states: usize, actions: usize, rewards: usize, cdf: usize, term: usize, lengths: usize): void {
  sampleEpisodes(P, indptr, indices, pi, rho, r, S, A, 0, episodes, horizon, lo, hi, work, states, actions, rewards, cdf, term, lengths);
}

// The threaded sampler's share (docs/math.md#threads): episodes e1..e2−1 only (e1 a multiple
// of the block size), written where sampleTrajectories writes them, with their own streams:
// the union of the shares is sampleTrajectories' output. work is this share's own scratch.
// Only the shared-memory builds have a body.
export function sampleTrajectoriesRange(P: usize, indptr: usize, indices: usize, pi: usize, rho: usize, r: usize, S: i32, A: i32, e1: i32, e2: i32, horizon: i32, lo: u32, hi: u32, work: usize, states: usize, actions: usize, rewards: usize, cdf: usize, term: usize, lengths: usize): void {
  if (!ASC_FEATURE_THREADS) unreachable();
  sampleEpisodes(P, indptr, indices, pi, rho, r, S, A, e1, e2, horizon, lo, hi, work, states, actions, rewards, cdf, term, lengths);
}

// @ts-ignore: decorator
@inline
function sampleEpisodes(P: usize, indptr: usize, indices: usize, pi: usize, rho: usize, r: usize, S: i32, A: i32, e1: i32, episodes: i32, horizon: i32, lo: u32, hi: u32, work: usize, states: usize, actions: usize, rewards: usize, cdf: usize, term: usize, lengths: usize): void {
  const row = <usize>S << 3;
  const cur = work + W_CUR, sa = work + W_SA, ub = work + W_U;
  for (let e0 = e1; e0 < episodes; e0 += BLOCK) {
    const nb = min(BLOCK, episodes - e0);
    // every lane is seeded (lanes past the last episode draw unused numbers)
    for (let j = 0; j < BLOCK; j++) seedLane(work, j, lo, hi, <u32>(e0 + j));
    blockUniforms(work);
    for (let j = 0; j < nb; j++) store<i32>(cur + (<usize>j << 2), draw(rho, S, load<f64>(ub + (<usize>j << 3))));
    if (lengths != 0) for (let j = 0; j < nb; j++) store<i32>(lengths + (<usize>(e0 + j) << 2), horizon);
    for (let t = 0; t < horizon; t++) {
      // phase 1, every episode of the block: a_t ~ π(·|s_t) (independent loads, overlapped)
      blockUniforms(work);
      for (let j = 0; j < nb; j++) {
        const s = load<i32>(cur + (<usize>j << 2));
        const o = <usize>((e0 + j) * horizon + t);
        if (s < 0) {
          // the episode has ended
          store<i32>(states + (o << 2), -1);
          store<i32>(actions + (o << 2), -1);
          store<i32>(sa + (<usize>j << 2), -1);
          if (r != 0) store<f64>(rewards + (o << 3), 0);
          continue;
        }
        const a = draw(pi + (<usize>(s * A) << 3), A, load<f64>(ub + (<usize>j << 3)));
        const i = s * A + a;
        store<i32>(states + (o << 2), s);
        store<i32>(actions + (o << 2), a);
        store<i32>(sa + (<usize>j << 2), i);
        if (r != 0) store<f64>(rewards + (o << 3), load<f64>(r + (<usize>i << 3)));
        if (term != 0 && load<i32>(term + (<usize>s << 2)) != 0) {
          store<i32>(sa + (<usize>j << 2), -1);
          if (lengths != 0) store<i32>(lengths + (<usize>(e0 + j) << 2), t + 1);
        }
      }
      if (t + 1 == horizon) break;
      // phase 2: s_{t+1} ~ P(·|s_t, a_t)
      blockUniforms(work);
      for (let j = 0; j < nb; j++) {
        const i = load<i32>(sa + (<usize>j << 2));
        const u = load<f64>(ub + (<usize>j << 3));
        let next: i32;
        if (i < 0) {
          next = -1;
        } else if (indptr == 0) {
          next = cdf != 0 && S > 16 ? drawCdf(P + <usize>i * row, cdf + <usize>i * row, S, u) : draw(P + <usize>i * row, S, u);
        } else {
          const k0 = load<i32>(indptr + (<usize>i << 2)), k1 = load<i32>(indptr + (<usize>i << 2), 4);
          const n = k1 - k0, o = <usize>k0 << 3;
          const k = cdf != 0 && n > 16 ? drawCdf(P + o, cdf + o, n, u) : draw(P + o, n, u);
          next = load<i32>(indices + (<usize>(k0 + k) << 2));
        }
        store<i32>(cur + (<usize>j << 2), next);
      }
    }
  }
}
