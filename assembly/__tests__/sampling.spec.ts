// Specs for assembly/sampling.ts: seedRng, rngNext, rngUniform, sampleTrajectories.
import { seedRng, rngNext, rngUniform, sampleTrajectories, cumulativeRows, SAMPLE_WORK_BYTES } from "../sampling";
import { f64s, Lcg, randomStochastic, denseToCsr } from "./helpers";

/** 16 bytes of generator state. */
// Scratch of the sampler (SAMPLE_WORK_BYTES): eight generator states transposed into lanes,
// s_t, (s_t, a_t), the block's uniforms and a seeding scratch.
function sampleWork(): Uint32Array {
  return new Uint32Array(SAMPLE_WORK_BYTES >> 2);
}

function rngState(lo: u32, hi: u32): Uint32Array {
  const st = new Uint32Array(4);
  seedRng(st.dataStart, lo, hi);
  return st;
}

describe("seedRng and rngNext", () => {
  it("seeds the state from splitmix64: seed 0 gives the published first outputs 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4", () => {
    const st = rngState(0, 0);
    // little-endian u64 words
    expect(st[0]).toBe(0x7b1dcdaf);
    expect(st[1]).toBe(0xe220a839);
    expect(st[2]).toBe(0xa1b965f4);
    expect(st[3]).toBe(0x6e789e6a);
  });

  it("draws the xoshiro128** sequence of a reference implementation for seed (42, 0)", () => {
    // independent JS (BigInt splitmix64 + xoshiro128**) gave these for seed lo = 42, hi = 0
    const st = rngState(42, 0);
    const want: u32[] = [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222];
    for (let i = 0; i < want.length; i++) expect(rngNext(st.dataStart)).toBe(want[i], "draw " + i.toString());
  });

  it("is deterministic: the same seed gives the same sequence", () => {
    const a = rngState(123456789, 987654321), b = rngState(123456789, 987654321);
    for (let i = 0; i < 100; i++) expect(rngNext(a.dataStart)).toBe(rngNext(b.dataStart));
  });

  it("gives different sequences for different seeds, including seeds that differ only in the high word", () => {
    const a = rngState(42, 0), b = rngState(43, 0), c = rngState(42, 1);
    let sameAB = 0, sameAC = 0;
    for (let i = 0; i < 32; i++) {
      const x = rngNext(a.dataStart), y = rngNext(b.dataStart), z = rngNext(c.dataStart);
      if (x == y) sameAB++;
      if (x == z) sameAC++;
    }
    expect(sameAB).toBe(0);
    expect(sameAC).toBe(0);
  });

  it("reseeding restarts the sequence", () => {
    const st = rngState(7, 7);
    const first = rngNext(st.dataStart), second = rngNext(st.dataStart);
    seedRng(st.dataStart, 7, 7);
    expect(rngNext(st.dataStart)).toBe(first);
    expect(rngNext(st.dataStart)).toBe(second);
  });

  it("never leaves the state all zero", () => {
    const seeds: u32[] = [0, 1, 0xffffffff, 0x9e3779b9];
    for (let i = 0; i < seeds.length; i++) {
      const st = rngState(seeds[i], seeds[(i + 1) % seeds.length]);
      expect(st[0] | st[1] | st[2] | st[3]).not.toBe(0);
    }
  });
});

describe("rngUniform", () => {
  it("builds a 53-bit double from two draws: ((d₁ >>> 5)·2²⁶ + (d₂ >>> 6)) / 2⁵³", () => {
    const a = rngState(42, 0), b = rngState(42, 0);
    for (let i = 0; i < 50; i++) {
      const d1 = rngNext(a.dataStart) >>> 5, d2 = rngNext(a.dataStart) >>> 6;
      const want = (<f64>d1 * 67108864.0 + <f64>d2) / 9007199254740992.0;
      expect(rngUniform(b.dataStart)).toBe(want);
    }
  });

  it("matches the reference values 0.4137016681565887, 0.003983993377814743, 0.6500837027638867 for seed (42, 0)", () => {
    const st = rngState(42, 0);
    expect(rngUniform(st.dataStart)).toBe(0.4137016681565887);
    expect(rngUniform(st.dataStart)).toBe(0.003983993377814743);
    expect(rngUniform(st.dataStart)).toBe(0.6500837027638867);
  });

  it("stays in [0, 1) over 20000 draws, with a mean near 1/2 and both halves populated", () => {
    const st = rngState(2718, 28);
    let sum: f64 = 0, low = 0, outside = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = rngUniform(st.dataStart);
      if (!(u >= 0.0 && u < 1.0)) outside++;
      sum += u;
      if (u < 0.5) low++;
    }
    expect(outside).toBe(0);
    expect(abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(abs(<f64>low / n - 0.5)).toBeLessThan(0.02);
  });
});

// Deterministic MDP, S = 3, A = 2, one-hot transitions and policy:
//   next state: (0,0)→1, (0,1)→2, (1,0)→0, (1,1)→2, (2,0)→2, (2,1)→0
//   π: state 0 → action 1, state 1 → action 0, state 2 → action 1;  ρ: start in state 1
//   r(s,a) = 10·s + a
// Path: s=1 (a=0) → 0 (a=1) → 2 (a=1) → 0 (a=1) → 2 (a=1) → 0 (a=1)
//   states  1, 0, 2, 0, 2, 0
//   actions 0, 1, 1, 1, 1, 1
//   rewards 10, 1, 21, 1, 21, 1
const DS = 3, DA = 2, EPISODES = 2, HORIZON = 6;
const NEXT: i32[] = [1, 2, 0, 2, 2, 0];
const PATH_S: i32[] = [1, 0, 2, 0, 2, 0];
const PATH_A: i32[] = [0, 1, 1, 1, 1, 1];
const PATH_R: f64[] = [10, 1, 21, 1, 21, 1];

function detP(): Float64Array {
  const P = new Float64Array(DS * DA * DS);
  for (let i = 0; i < DS * DA; i++) P[i * DS + NEXT[i]] = 1.0;
  return P;
}
function detPi(): Float64Array { return f64s([0, 1, 1, 0, 0, 1]); }
function detRho(): Float64Array { return f64s([0, 1, 0]); }
function detR(): Float64Array { return f64s([0, 1, 10, 11, 20, 21]); }

function expectDeterministicPath(states: Int32Array, actions: Int32Array, rewards: Float64Array): void {
  for (let e = 0; e < EPISODES; e++) {
    for (let t = 0; t < HORIZON; t++) {
      const o = e * HORIZON + t;
      const where = "episode " + e.toString() + ", t = " + t.toString();
      expect(states[o]).toBe(PATH_S[t], where);
      expect(actions[o]).toBe(PATH_A[t], where);
      expect(rewards[o]).toBe(PATH_R[t], where);
    }
  }
}

describe("sampleTrajectories", () => {
  it("follows exactly the predictable path of a deterministic MDP with dense P", () => {
    const P = detP(), pi = detPi(), rho = detRho(), r = detR();
    const st = sampleWork();
    const states = new Int32Array(EPISODES * HORIZON), actions = new Int32Array(EPISODES * HORIZON);
    const rewards = new Float64Array(EPISODES * HORIZON);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, r.dataStart, DS, DA, EPISODES, HORIZON,
      1, 2, st.dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, 0, 0);
    expectDeterministicPath(states, actions, rewards);
  });

  it("follows the same path with CSR P, skipping explicit zero-probability entries", () => {
    // each row stores a zero-probability entry first, then the certain successor
    const indptr = new Int32Array(DS * DA + 1), indices = new Int32Array(2 * DS * DA), probs = new Float64Array(2 * DS * DA);
    for (let i = 0; i < DS * DA; i++) {
      indptr[i] = 2 * i;
      indices[2 * i] = (NEXT[i] + 1) % DS;
      probs[2 * i] = 0.0;
      indices[2 * i + 1] = NEXT[i];
      probs[2 * i + 1] = 1.0;
    }
    indptr[DS * DA] = 2 * DS * DA;
    const pi = detPi(), rho = detRho(), r = detR();
    const st = sampleWork();
    const states = new Int32Array(EPISODES * HORIZON), actions = new Int32Array(EPISODES * HORIZON);
    const rewards = new Float64Array(EPISODES * HORIZON);
    sampleTrajectories(probs.dataStart, indptr.dataStart, indices.dataStart, pi.dataStart, rho.dataStart, r.dataStart,
      DS, DA, EPISODES, HORIZON, 3, 4, st.dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, 0, 0);
    expectDeterministicPath(states, actions, rewards);
  });

  it("writes no rewards when r == 0 and still writes states and actions", () => {
    const P = detP(), pi = detPi(), rho = detRho();
    const st = sampleWork();
    const n = EPISODES * HORIZON;
    const states = new Int32Array(n), actions = new Int32Array(n), rewards = new Float64Array(n);
    states.fill(-1);
    actions.fill(-1);
    rewards.fill(-7.5);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, DS, DA, EPISODES, HORIZON,
      5, 6, st.dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, 0, 0);
    for (let o = 0; o < n; o++) {
      expect(rewards[o]).toBe(-7.5);
      expect(states[o]).toBe(PATH_S[o % HORIZON]);
      expect(actions[o]).toBe(PATH_A[o % HORIZON]);
    }
  });

  it("keeps states and actions in range and only takes actions and transitions of positive probability (random MDP, dense and CSR)", () => {
    const S = 5, A = 3, E = 20, H = 40;
    const rng = new Lcg(555);
    const P = randomStochastic(S * A, S, rng, true);
    const csr = denseToCsr(P, S * A, S);
    const pi = randomStochastic(S, A, rng, true);
    const rho = f64s([0.2, 0, 0.3, 0.5, 0]);
    const r = new Float64Array(S * A);
    for (let i = 0; i < S * A; i++) r[i] = <f64>i + 0.5;
    for (let sparse = 0; sparse < 2; sparse++) {
      const st = sampleWork();
      const states = new Int32Array(E * H), actions = new Int32Array(E * H), rewards = new Float64Array(E * H);
      if (sparse) {
        sampleTrajectories(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, rho.dataStart,
          r.dataStart, S, A, E, H, 99, <u32>sparse, st.dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, 0, 0);
      } else {
        sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, r.dataStart, S, A, E, H,
          99, <u32>sparse, st.dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, 0, 0);
      }
      const visited = new Int32Array(S);
      let badStart = 0, badState = 0, badAction = 0, badReward = 0, badTransition = 0;
      for (let e = 0; e < E; e++) {
        if (!(rho[states[e * H]] > 0)) badStart++;
        for (let t = 0; t < H; t++) {
          const o = e * H + t;
          const s = states[o], a = actions[o];
          if (s < 0 || s >= S) { badState++; continue; }
          if (a < 0 || a >= A || !(pi[s * A + a] > 0)) { badAction++; continue; }
          if (rewards[o] != r[s * A + a]) badReward++;
          visited[s]++;
          if (t + 1 < H) {
            const next = states[o + 1];
            if (next >= 0 && next < S && !(P[(s * A + a) * S + next] > 0)) badTransition++;
          }
        }
      }
      const what = sparse ? "CSR" : "dense";
      expect(badStart).toBe(0, what + ": start states with ρ = 0");
      expect(badState).toBe(0, what + ": states out of range");
      expect(badAction).toBe(0, what + ": actions out of range or with π = 0");
      expect(badReward).toBe(0, what + ": rewards different from r(s, a)");
      expect(badTransition).toBe(0, what + ": transitions with P = 0");
      let distinct = 0;
      for (let s = 0; s < S; s++) if (visited[s] > 0) distinct++;
      expect(distinct).toBeGreaterThan(1, what + ": the walk should not be stuck in one state");
    }
  });

  it("draws identical trajectories from identical seeds and different ones from different seeds", () => {
    const S = 5, A = 3, E = 4, H = 25;
    const rng = new Lcg(556);
    const P = randomStochastic(S * A, S, rng, false);
    const pi = randomStochastic(S, A, rng, false);
    const rho = f64s([0.2, 0.2, 0.2, 0.2, 0.2]);
    const s1 = new Int32Array(E * H), a1 = new Int32Array(E * H);
    const s2 = new Int32Array(E * H), a2 = new Int32Array(E * H);
    const s3 = new Int32Array(E * H), a3 = new Int32Array(E * H);
    const st1 = sampleWork(), st2 = sampleWork(), st3 = sampleWork();
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 10, 0, st1.dataStart, s1.dataStart, a1.dataStart, 0, 0, 0, 0);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 10, 0, st2.dataStart, s2.dataStart, a2.dataStart, 0, 0, 0, 0);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 11, 0, st3.dataStart, s3.dataStart, a3.dataStart, 0, 0, 0, 0);
    let same = 0, differ = 0;
    for (let o = 0; o < E * H; o++) {
      if (s1[o] == s2[o] && a1[o] == a2[o]) same++;
      if (s1[o] != s3[o] || a1[o] != a3[o]) differ++;
    }
    expect(same).toBe(E * H);
    expect(differ).toBeGreaterThan(0);
  });

  it("consumes exactly 2H uniforms per episode of horizon H: one for s₀, one per action, one per transition", () => {
    // one episode of horizon H consumes 1 (start) + H (actions) + (H − 1) (transitions) uniforms
    const H = 4;
    const P = detP(), pi = detPi(), rho = detRho();
    const st = sampleWork(), ref = rngState(21, 0);
    const states = new Int32Array(H), actions = new Int32Array(H);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, DS, DA, 1, H, 21, 0, st.dataStart, states.dataStart, actions.dataStart, 0, 0, 0, 0);
    for (let i = 0; i < 2 * H; i++) rngUniform(ref.dataStart);
    // episode 0 is lane 0 of group 0: word w at u32 index 4·w
    for (let i = 0; i < 4; i++) expect(st[4 * i]).toBe(ref[i]);
  });

  it("falls back to the last positive entry when a probability row sums to less than 1", () => {
    // π(·|s) = [0, 0.5, 0] in every state: draws u ≥ 0.5 run past the sum and must pick
    // action 1 (the last positive one), never the zero-probability action 2.
    // A = 3 and P keeps the state: next state = s for every action.
    const A = 3;
    const P = new Float64Array(DS * A * DS);
    for (let s = 0; s < DS; s++) for (let a = 0; a < A; a++) P[(s * A + a) * DS + s] = 1.0;
    const pi = f64s([0, 0.5, 0, 0, 0.5, 0, 0, 0.5, 0]);
    const rho = detRho();
    const st = sampleWork();
    const H = 64;
    const states = new Int32Array(H), actions = new Int32Array(H);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, DS, A, 1, H, 8, 8, st.dataStart, states.dataStart, actions.dataStart, 0, 0, 0, 0);
    for (let t = 0; t < H; t++) {
      expect(actions[t]).toBe(1);
      expect(states[t]).toBe(1);
    }
  });

  it("draws the same trajectories with the precomputed running sums as with the scan (dense rows of 40, CSR rows of 20)", () => {
    const S = 40, A = 2, E = 12, H = 30;
    const rng = new Lcg(777);
    const P = randomStochastic(S * A, S, rng, true);
    const pi = randomStochastic(S, A, rng, true);
    const rho = new Float64Array(S);
    rho.fill(1.0 / <f64>S);
    const cdf = new Float64Array(S * A * S);
    cumulativeRows(P.dataStart, 0, S, A, cdf.dataStart);
    const s1 = new Int32Array(E * H), a1 = new Int32Array(E * H), s2 = new Int32Array(E * H), a2 = new Int32Array(E * H);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 5, 0, sampleWork().dataStart, s1.dataStart, a1.dataStart, 0, 0, 0, 0);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 5, 0, sampleWork().dataStart, s2.dataStart, a2.dataStart, 0, cdf.dataStart, 0, 0);
    for (let o = 0; o < E * H; o++) {
      expect(s2[o]).toBe(s1[o]);
      expect(a2[o]).toBe(a1[o]);
    }
    const csr = denseToCsr(P, S * A, S);
    const ccdf = new Float64Array(csr.probs.length);
    cumulativeRows(csr.probs.dataStart, csr.indptr.dataStart, S, A, ccdf.dataStart);
    sampleTrajectories(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, rho.dataStart, 0, S, A, E, H, 5, 0, sampleWork().dataStart, s2.dataStart, a2.dataStart, 0, ccdf.dataStart, 0, 0);
    for (let o = 0; o < E * H; o++) {
      expect(s2[o]).toBe(s1[o]);
      expect(a2[o]).toBe(a1[o]);
    }
  });

  it("ends an episode after its step at a terminal state: padding −1, reward 0, and its length (dense and CSR)", () => {
    // state 2 terminal: the deterministic path 1 → 0 → 2 stops after its step at 2
    const P = detP(), pi = detPi(), rho = detRho(), r = detR();
    const csr = denseToCsr(P, DS * DA, DS);
    const term = new Int32Array(DS);
    term[2] = 1;
    for (let sparse = 0; sparse < 2; sparse++) {
      const n = EPISODES * HORIZON;
      const states = new Int32Array(n), actions = new Int32Array(n), rewards = new Float64Array(n);
      const lengths = new Int32Array(EPISODES);
      if (sparse) {
        sampleTrajectories(csr.probs.dataStart, csr.indptr.dataStart, csr.indices.dataStart, pi.dataStart, rho.dataStart, r.dataStart,
          DS, DA, EPISODES, HORIZON, 1, 2, sampleWork().dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, term.dataStart, lengths.dataStart);
      } else {
        sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, r.dataStart, DS, DA, EPISODES, HORIZON,
          1, 2, sampleWork().dataStart, states.dataStart, actions.dataStart, rewards.dataStart, 0, term.dataStart, lengths.dataStart);
      }
      for (let e = 0; e < EPISODES; e++) {
        expect(lengths[e]).toBe(3);
        for (let t = 0; t < HORIZON; t++) {
          const o = e * HORIZON + t;
          expect(states[o]).toBe(t < 3 ? PATH_S[t] : -1);
          expect(actions[o]).toBe(t < 3 ? PATH_A[t] : -1);
          expect(rewards[o]).toBe(t < 3 ? PATH_R[t] : 0.0);
        }
      }
    }
  });

  it("reports the full horizon as the length when no terminal state is reached, and draws the same steps as without the mask", () => {
    const S = 5, A = 3, E = 20, H = 15;
    const rng = new Lcg(901);
    const P = randomStochastic(S * A, S, rng, true);
    const pi = randomStochastic(S, A, rng, true);
    const rho = f64s([0.2, 0.2, 0.2, 0.2, 0.2]);
    const term = new Int32Array(S);
    term[4] = 1;
    const s1 = new Int32Array(E * H), a1 = new Int32Array(E * H), s2 = new Int32Array(E * H), a2 = new Int32Array(E * H);
    const lengths = new Int32Array(E);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 7, 0, sampleWork().dataStart, s1.dataStart, a1.dataStart, 0, 0, 0, 0);
    sampleTrajectories(P.dataStart, 0, 0, pi.dataStart, rho.dataStart, 0, S, A, E, H, 7, 0, sampleWork().dataStart, s2.dataStart, a2.dataStart, 0, 0, term.dataStart, lengths.dataStart);
    let ended = 0;
    for (let e = 0; e < E; e++) {
      // the masked run agrees with the plain one up to and including the first visit of state 4
      let L = H;
      for (let t = 0; t < H; t++) if (s1[e * H + t] == 4) { L = t + 1; break; }
      expect(lengths[e]).toBe(L);
      if (L < H) ended++;
      for (let t = 0; t < H; t++) {
        const o = e * H + t;
        expect(s2[o]).toBe(t < L ? s1[o] : -1);
        expect(a2[o]).toBe(t < L ? a1[o] : -1);
      }
    }
    expect(ended).toBeGreaterThan(0);
  });
});
