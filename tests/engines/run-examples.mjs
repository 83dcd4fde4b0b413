// Shared by every engine of scripts/engines.mjs (Deno, Bun, Firefox): run each example
// experiment on the SIMD and on the scalar build with the bundled package and return the
// result JSON texts, which the driver compares byte for byte with Node's
// (build/identity-node.json). Plain ES2022, no runtime-specific API.

/**
 * @param {typeof import("../../src/index")} lib  the package (the bundle build/engines/bilevel-rl.js)
 * @param {{ file: string, text: string }[]} examples  experiment documents
 * @returns {Promise<{ simd: boolean, scalar: boolean, results: { file: string, build: "simd" | "scalar", json?: string, error?: string }[] }>}
 */
export async function runExamples(lib, examples) {
  const scalar = await lib.init({ simd: false });
  const simd = await lib.init({ simd: true });
  const results = [];
  for (const { file, text } of examples) {
    for (const [build, backend] of /** @type {const} */ ([["simd", simd], ["scalar", scalar]])) {
      try {
        const v = lib.parseExperiment(text);
        if (!v.ok) throw new Error(v.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
        results.push({ file, build, json: lib.resultToJSON(lib.runExperiment(v.experiment, { backend })) });
      } catch (e) {
        results.push({ file, build, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
    }
  }
  return { simd: simd.simd, scalar: scalar.simd, results };
}

/**
 * Threads in this engine (docs/math.md#threads): `init({ simd: true, threads: 2 })`, then work
 * above the size thresholds (a dense S = 520 soft sweep, dense LU and GMRES solves of order
 * 520 in both orientations, 1024 × 64 sampled steps), each compared bit for bit with the
 * one-thread backend. Where the engine cannot run threads, init falls back to one thread and
 * its note says why; the driver reports that.
 *
 * @param {typeof import("../../src/index")} lib
 * @returns {Promise<{ threads: number, note?: string, checks: { name: string, diff?: string, error?: string }[] }>}
 */
export async function runThreads(lib) {
  const one = await lib.init({ simd: true });
  const two = await lib.init({ simd: true, threads: 2 });
  const checks = [];
  if (two.threads < 2) return { threads: two.threads, note: two.threadsNote, checks };
  // a fixed pseudo-random dense MDP (an LCG: no engine-dependent Math calls)
  const S = 520, A = 4;
  let state = 12345;
  const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) {
    let t = 0;
    for (let j = 0; j < S; j++) t += P[i * S + j] = rand() < 0.1 ? rand() : 0;
    P[i * S + (i % S)] += 1;
    t += 1;
    for (let j = 0; j < S; j++) P[i * S + j] /= t;
  }
  const r = Float64Array.from({ length: S * A }, () => rand() - 0.5);
  const b = Float64Array.from({ length: S }, () => rand() - 0.5);
  const mdps = [one, two].map((backend) => lib.TabularMDP.dense({ S, A, gamma: 0.95, P, backend }));
  const same = (name, f) => {
    try {
      const [x, y] = mdps.map(f);
      let diff;
      if (x.length !== y.length) diff = `lengths ${x.length} vs ${y.length}`;
      else for (let i = 0; i < x.length && !diff; i++) if (!Object.is(x[i], y[i])) diff = `element ${i}: ${x[i]} (1 thread) vs ${y[i]} (2 threads)`;
      checks.push({ name, diff });
    } catch (e) {
      checks.push({ name, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  };
  const pi = lib.softValueIteration(mdps[0], r, { tau: 0.3, maxIter: 30 }).pi;
  same("soft value iteration (20 sweeps)", (m) => lib.softValueIteration(m, r, { tau: 0.3, tol: 0, maxIter: 20 }).V);
  for (const transpose of [false, true]) {
    const t = transpose ? ", transposed" : "";
    same(`solveLinear 'lu'${t}`, (m) => lib.solveLinear(m, pi, b, { method: "lu", transpose }).x);
    same(`solveLinear 'krylov'${t}`, (m) => lib.solveLinear(m, pi, b, { method: "krylov", transpose, tol: 1e-12 }).x);
  }
  same("sampleTrajectories (1024 × 64)", (m) => Float64Array.from(lib.sampleTrajectories(m, pi, { episodes: 1024, horizon: 64, seed: 9 }).states));
  return { threads: two.threads, note: two.threadsNote, checks };
}
