// What the consumer app computes, with nothing but the public API of the built package. The
// page prints it; tests/e2e/browser.e2e.ts computes the same in Node and compares.
import {
  init,
  gridworld,
  parseExperiment,
  resultToJSON,
  runExperiment,
  sampleTrajectories,
  softValueIteration,
  type Backend,
} from "bilevel-rl";

const FOUR_ROOMS = [
  "#############",
  "#S....#.....#",
  "#.....#.....#",
  "#...........#",
  "#.....#.....#",
  "#.....#.....#",
  "###.#####.###",
  "#.....#.....#",
  "#.....#.....#",
  "#...........#",
  "#.....#....G#",
  "#############",
];

const EXPERIMENT = `{
  "version": 1, "seed": 3,
  "problem": { "builtin": "rlhf", "params": { "S": 3, "A": 2, "H": 2, "tau": 1 } },
  "algorithm": { "name": "soBiRL", "beta": 0.5, "T": 3, "groups": 16, "derivative": "rollout" },
  "iterations": 12, "record": { "phiEvery": 4 }
}`;

/** An experiment with two mistakes: parseExperiment must name both by JSON path (the page runs under a strict CSP in tests/e2e). */
const BAD_EXPERIMENT = `{
  "version": 1, "seed": 0,
  "problem": { "builtin": "e1" },
  "algorithm": { "name": "mSoBiRL", "beta": -0.1, "zetta": 0.5 },
  "iterations": 10
}`;

export interface BuildOutput {
  simd: boolean;
  /** Soft value iteration on the four-rooms gridworld. */
  sweeps: number;
  V0: number;
  hashV: string;
  hashPi: string;
  /** 50 seeded trajectories of 40 steps under the soft-optimal policy. */
  hashStates: string;
  /** A seeded model-free SoBiRL experiment. */
  hashResult: string;
}

export interface ConsumerOutput {
  S: number;
  /** parseExperiment's messages for BAD_EXPERIMENT, as `path: message (line l, column c)`. */
  invalid: string[];
  auto: BuildOutput;
  scalar: BuildOutput;
}

function fnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < bytes.length; i++) h = ((h ^ BigInt(bytes[i])) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}
const bytesOf = (a: Float64Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function solveOn(backend: Backend): { S: number; out: BuildOutput } {
  const g = gridworld({ map: FOUR_ROOMS, slip: 0.1, gamma: 0.95, backend });
  const r = new Float64Array(g.S * g.A);
  for (const s of g.goals) for (let a = 0; a < g.A; a++) r[s * g.A + a] = 1;
  const { V, pi, iterations } = softValueIteration(g.mdp, r, { tau: 0.1 });
  const { states } = sampleTrajectories(g.mdp, pi, { episodes: 50, horizon: 40, seed: 7 });
  const parsed = parseExperiment(EXPERIMENT);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  const json = resultToJSON(runExperiment(parsed.experiment, { backend }));
  return {
    S: g.S,
    out: {
      simd: backend.simd,
      sweeps: iterations,
      V0: V[0],
      hashV: fnv1a64(bytesOf(V)),
      hashPi: fnv1a64(bytesOf(pi)),
      hashStates: fnv1a64(bytesOf(states)),
      hashResult: fnv1a64(new TextEncoder().encode(json)),
    },
  };
}

export async function solveAll(): Promise<ConsumerOutput> {
  const auto = await init(); // SIMD where the engine validates v128, else scalar
  const scalar = await init({ simd: false });
  const a = solveOn(auto), s = solveOn(scalar);
  const bad = parseExperiment(BAD_EXPERIMENT);
  const invalid = bad.ok ? [] : bad.errors.map((e) => `${e.path}: ${e.message} (line ${e.line}, column ${e.column})`);
  return { S: a.S, invalid, auto: a.out, scalar: s.out };
}
