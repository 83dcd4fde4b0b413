// A core-only consumer: `bilevel-rl/core` (kernels, MDPs, lower-level solvers, sampling) and
// nothing else. scripts/bundle-size.mjs builds it with Vite to measure what such an app ships;
// tests/e2e checks that its bundle holds no schema validator, experiment runner or plots.
import { init, TabularMDP, softValueIteration, sampleTrajectories, DomainError } from "bilevel-rl/core";

/** A ring of S states: action 0 stays, action 1 moves on (slipping back with 0.1); reward at state 0. */
export async function solveRing(S = 12): Promise<{ simd: boolean; V0: number; sweeps: number; steps: number; checked: boolean }> {
  const backend = await init();
  const A = 2;
  const P = new Float64Array(S * A * S);
  for (let s = 0; s < S; s++) {
    P[(s * A + 0) * S + s] = 1;
    P[(s * A + 1) * S + ((s + 1) % S)] = 0.9;
    P[(s * A + 1) * S + s] += 0.1;
  }
  const mdp = TabularMDP.dense({ S, A, gamma: 0.9, P, backend });
  const r = new Float64Array(S * A);
  r[0] = r[1] = 1;
  const { V, pi, iterations } = softValueIteration(mdp, r, { tau: 0.1 });
  const { states } = sampleTrajectories(mdp, pi, { episodes: 4, horizon: 8, seed: 1 });
  let checked = false;
  try {
    softValueIteration(mdp, r, { tau: -1 });
  } catch (e) {
    checked = e instanceof DomainError;
  }
  return { simd: backend.simd, V0: V[0], sweeps: iterations, steps: states.length, checked };
}
