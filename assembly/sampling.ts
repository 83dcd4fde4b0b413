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

// Seed the state from a 64-bit seed (lo, hi) through splitmix64.
export function seedRng(rng: usize, lo: u32, hi: u32): void {
  let z: u64 = (<u64>hi << 32) | <u64>lo;
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

// Raw draws, for tests of the generator.
export function rngNext(rng: usize): u32 { return next(rng); }
export function rngUniform(rng: usize): f64 { return uniform(rng); }

// Index drawn from the n probabilities at p (the last positive one if rounding runs out).
// @ts-ignore: decorator
@inline
function draw(p: usize, n: i32, u: f64): i32 {
  let acc: f64 = 0, last = 0;
  for (let j = 0; j < n; j++) {
    const pj = load<f64>(p + (<usize>j << 3));
    if (pj > 0) {
      last = j;
      acc += pj;
      if (u < acc) return j;
    }
  }
  return last;
}

// episodes × horizon steps: s_0 ~ ρ, a_t ~ π(·|s_t), s_{t+1} ~ P(·|s_t,a_t).
// Dense P when indptr == 0, CSR otherwise (then P holds the probs). Rewards are
// written only when r != 0. Outputs are row-major (episode, t).
export function sampleTrajectories(P: usize, indptr: usize, indices: usize, pi: usize, rho: usize, r: usize, S: i32, A: i32, episodes: i32, horizon: i32, rng: usize, states: usize, actions: usize, rewards: usize): void {
  const row = <usize>S << 3;
  for (let e = 0; e < episodes; e++) {
    let s = draw(rho, S, uniform(rng));
    for (let t = 0; t < horizon; t++) {
      const o = <usize>(e * horizon + t);
      const a = draw(pi + (<usize>(s * A) << 3), A, uniform(rng));
      const i = s * A + a;
      store<i32>(states + (o << 2), s);
      store<i32>(actions + (o << 2), a);
      if (r != 0) store<f64>(rewards + (o << 3), load<f64>(r + (<usize>i << 3)));
      if (t + 1 < horizon) {
        const u = uniform(rng);
        if (indptr == 0) s = draw(P + <usize>i * row, S, u);
        else {
          const k0 = load<i32>(indptr + (<usize>i << 2)), k1 = load<i32>(indptr + (<usize>i << 2), 4);
          s = load<i32>(indices + (<usize>(k0 + draw(P + (<usize>k0 << 3), k1 - k0, u)) << 2));
        }
      }
    }
  }
}
