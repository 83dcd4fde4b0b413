import { beforeAll, describe, expect, it } from "vitest";
import { init, solveLinear, TabularMDP } from "../src/index";
import * as ref from "../src/reference/index";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";
import { relErr, toTabular } from "./helpers/compare";
import type { Backend } from "../src/index";

let backend: Backend;
beforeAll(async () => {
  backend = await init();
});
const toMdp = (m: ref.RefMDP) => toTabular(m, backend);

const uniform = (S: number) => new Float64Array(S).fill(1 / S);

describe("the Krylov solvers on their hard cases", () => {
  // deterministic transitions (one non-zero per row) at γ = 0.95 with a uniform right-hand
  // side: the all-ones vector is a left eigenvector of the transposed system, the case where
  // BiCGSTAB's inner products vanish and the unguarded method divided noise by noise
  const hard = [471477, 471478, 471479].map((seed, i) => randomCsr(37, i + 1, 0.95, 1, seed));

  it.each(hard.map((m, i) => [i, m] as const))("the reference BiCGSTAB restarts on breakdown and converges on deterministic case %i", (_i, m) => {
    const pi = randomPolicy(m.S, m.A, 5);
    const exact = ref.solveLinear(m, pi, uniform(m.S), { method: "lu", transpose: true }).x;
    const res = ref.solveLinear(m, pi, uniform(m.S), { method: "bicgstab", transpose: true, tol: 1e-13, maxIter: 5000 });
    expect(Array.from(res.x).every(Number.isFinite)).toBe(true);
    expect(res.converged).toBe(true);
    expect(relErr(res.x, exact)).toBeLessThan(1e-10);
  });

  it.each(hard.map((m, i) => [i, m] as const))("every library method reaches the LU answer on deterministic case %i", (_i, m) => {
    const pi = randomPolicy(m.S, m.A, 5);
    const mdp = toMdp(m);
    const exact = ref.solveLinear(m, pi, uniform(m.S), { method: "lu", transpose: true }).x;
    for (const method of ["lu", "krylov", "bicgstab", "richardson"] as const) {
      const res = solveLinear(mdp, pi, uniform(m.S), { method, transpose: true, tol: 1e-13 });
      expect(res.converged, method).toBe(true);
      expect(relErr(res.x, exact), method).toBeLessThan(1e-10);
    }
  });

  it.each([["dense", 1], ["dense", 2], ["csr", 3], ["csr", 4]] as const)("the GMRES kernel follows the reference GMRES to 1e-12 with the same number of products (%s, seed %i)", (kind, seed) => {
    const m = kind === "dense" ? randomDense(40, 3, 0.9, seed) : randomCsr(40, 3, 0.9, 4, seed);
    const pi = randomPolicy(40, 3, seed + 100);
    const b = randomVector(40, seed + 200);
    for (const transpose of [false, true]) {
      const mine = solveLinear(toMdp(m), pi, b, { method: "krylov", transpose, tol: 1e-12, restart: 7 });
      const theirs = ref.gmres(m, pi, b, { transpose, tol: 1e-12, restart: 7 });
      expect(mine.iterations).toBe(theirs.iterations);
      expect(relErr(mine.x, theirs.x)).toBeLessThan(1e-12);
      expect(mine.converged && theirs.converged).toBe(true);
    }
  });

  it("GMRES with a short restart on a near-deterministic policy still converges, finished by Richardson if a cycle stagnates", () => {
    const m = randomCsr(60, 2, 0.99, 1, 9);
    const pi = new Float64Array(120);
    for (let s = 0; s < 60; s++) { pi[2 * s] = 0.999; pi[2 * s + 1] = 0.001; }
    const b = randomVector(60, 10);
    const res = solveLinear(toMdp(m), pi, b, { method: "krylov", restart: 2, tol: 1e-12 });
    expect(res.converged).toBe(true);
    expect(relErr(res.x, ref.solveLinear(m, pi, b, { method: "lu" }).x)).toBeLessThan(1e-9);
  });

  it("the banded LU agrees with the dense LU on a grid-structured MDP and is chosen by default there", () => {
    // a 30×30 ring-of-rows walk: every transition moves at most one row (±30 states)
    const W = 30, S = W * W, A = 2;
    const indptr = [0], indices: number[] = [], probs: number[] = [];
    for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) {
      const t = a === 0 ? Math.min(S - 1, s + W) : Math.max(0, s - 1);
      const row = new Map([[s, 0.2], [t, 0.8]]);
      if (t === s) row.set(s, 1);
      for (const [j, p] of [...row].sort((u, v) => u[0] - v[0])) { indices.push(j); probs.push(p); }
      indptr.push(indices.length);
    }
    const mdp = TabularMDP.sparse({ S, A, indptr, indices, probs, gamma: 0.99 });
    expect(mdp.bandwidth()).toEqual({ kl: 1, ku: W });
    const pi = randomPolicy(S, A, 3), b = randomVector(S, 4);
    for (const transpose of [false, true]) {
      const band = solveLinear(mdp, pi, b, { transpose }); // default → banded LU
      const gm = solveLinear(mdp, pi, b, { transpose, method: "krylov", tol: 1e-14, maxIter: 20000 });
      expect(band.iterations).toBe(1);
      expect(band.residual).toBeLessThan(1e-13);
      expect(relErr(band.x, gm.x)).toBeLessThan(1e-10);
    }
  });
});
