// Issue 12 (hardening): the linear solves are honest at every scale of the right-hand side.
// ‖b‖ from 1e-300 to 1e300: every method converges to the solution of the unscaled system
// (x scales with b), reports the true relative residual of the x it returns, and the SIMD
// and scalar builds agree bit for bit; where the solution itself does not fit in f64 the
// solve throws a NumericalError instead of returning x = 0 or NaN as "converged".
import { beforeAll, describe, expect, it } from "vitest";
import { BilevelProblem, hypergradient, init, linearReward, NumericalError, policyL2, solveLinear, type Backend } from "../src/index";
import * as ref from "../src/reference/index";
import { pow2Scale, systemResidual } from "../src/reference/krylov";
import { firstBitDiff, relErr, toTabular } from "./helpers/compare";
import { randomCsr, randomDense, randomPolicy, randomVector } from "./helpers/random-mdp";

let simd: Backend, scalar: Backend;
beforeAll(async () => {
  scalar = await init({ simd: false });
  simd = await init({ simd: true });
});

const METHODS = ["lu", "krylov", "bicgstab", "richardson"] as const;
const EXPONENTS = [-300, -250, -170, -160, -100, 0, 100, 160, 170, 250, 300];

describe("solveLinear at every scale of b", () => {
  const cases = [
    { name: "dense", m: randomDense(9, 3, 0.9, 17) },
    { name: "CSR", m: randomCsr(11, 2, 0.95, 3, 23) },
  ];
  for (const { name, m } of cases) {
    const pi = randomPolicy(m.S, m.A, 5);
    const base = randomVector(m.S, 29);
    for (const transpose of [false, true]) {
      for (const method of METHODS) {
        it(`${method} (${name}, ${transpose ? "transposed" : "plain"}) returns x(10^e·b) = 10^e·x(b) with a true residual below tol for e from −300 to 300, identical bits in both builds`, () => {
          const unit = ref.solveLinear(m, pi, base, { method: "lu", transpose }).x;
          for (const e of EXPONENTS) {
            const b = base.map((v) => v * 10 ** e);
            const tol = 1e-11;
            const one = solveLinear(toTabular(m, simd), pi, b, { method, transpose, tol });
            const two = solveLinear(toTabular(m, scalar), pi, b, { method, transpose, tol });
            expect(firstBitDiff(one.x, two.x), `e = ${e}`).toBeUndefined();
            expect(one.residual).toBe(two.residual);
            expect(one.converged, `e = ${e}: residual ${one.residual}`).toBe(true);
            // the reported residual is that of the returned x (the reference's scaled residual)
            const truth = systemResidual(m, pi, b, one.x, transpose);
            expect(Math.abs(one.residual - truth), `e = ${e}`).toBeLessThanOrEqual(1e-3 * truth + 1e-15); // residuals at rounding level differ by summation order
            expect(truth, `e = ${e}`).toBeLessThanOrEqual(method === "lu" ? 1e-10 : tol * 1.01);
            expect(relErr(one.x.map((v) => v / 10 ** e), unit), `e = ${e}`).toBeLessThan(1e-8);
          }
        });
      }
    }
  }

  it("the reference solvers scale b the same way and agree with the kernels at 1e-300 and 1e300", () => {
    const m = randomDense(8, 2, 0.9, 3);
    const pi = randomPolicy(m.S, m.A, 4);
    for (const e of [-300, 300]) {
      const b = randomVector(m.S, 8).map((v) => v * 10 ** e);
      for (const method of ["krylov", "bicgstab", "richardson"] as const) {
        const mine = solveLinear(toTabular(m, simd), pi, b, { method, tol: 1e-12 });
        const theirs = ref.solveLinear(m, pi, b, { method, tol: 1e-12 });
        expect(theirs.converged).toBe(true);
        expect(relErr(mine.x, theirs.x)).toBeLessThan(1e-9);
        expect(mine.iterations).toBe(theirs.iterations);
      }
    }
  });

  it("pow2Scale leaves ordinary right-hand sides alone and maps extreme ones into [0.5, 1) by a power of two", () => {
    expect(pow2Scale([1, -3, 1e100])).toBe(1);
    expect(pow2Scale([0, 0])).toBe(1);
    for (const v of [1e-300, 3e-170, 7e200]) {
      const s = pow2Scale([v, -v / 3]);
      expect(Math.log2(s)).toBe(Math.round(Math.log2(s)));
      expect(v * s).toBeGreaterThanOrEqual(0.5);
      expect(v * s).toBeLessThan(1);
    }
    // the exponent is clamped to ±1022 (σ stays a normal number)
    expect(pow2Scale([5e-324])).toBe(2 ** 1022);
    expect(pow2Scale([1.7e308])).toBe(2 ** -1022);
  });

  it("throws a NumericalError naming the entry when the solution overflows f64 (max|b| ≈ 1e308), for every method", () => {
    const m = randomDense(6, 2, 0.99, 41);
    const pi = randomPolicy(m.S, m.A, 2);
    const b = new Float64Array(m.S).fill(1.5e308);
    for (const method of METHODS) {
      expect(() => solveLinear(toTabular(m, simd), pi, b, { method }), method).toThrow(NumericalError);
      expect(() => solveLinear(toTabular(m, simd), pi, b, { method }), method).toThrow(/no usable accuracy: x\[\d+\]/);
    }
  });

  it("with subnormal b the reported residual is still the true one of the returned x (converged only if it meets tol)", () => {
    const m = randomDense(6, 2, 0.9, 43);
    const pi = randomPolicy(m.S, m.A, 3);
    const b = Float64Array.from([1, 2, 3, 4, 5, 6].map((k) => k * 5e-324));
    for (const method of METHODS) {
      const r = solveLinear(toTabular(m, simd), pi, b, { method, tol: 1e-12 });
      const truth = systemResidual(m, pi, b, r.x, false);
      expect(r.residual, method).toBe(truth);
      expect(r.converged, method).toBe(r.residual <= (method === "lu" ? 1e-10 : 1e-12));
    }
  });
});

describe("exact hypergradient precision diagnostics", () => {
  // rewards ≫ τ saturate the policy: the implicit term is rounding noise times the reward
  // scale, which finite differences contradict (they see a flat φ)
  const m = randomDense(5, 3, 0.9, 11);
  const x = Float64Array.from([0.3, -0.2]);
  const build = (scale: number) =>
    new BilevelProblem({ mdp: toTabular(m, simd), tau: 0.5, reward: linearReward(randomVector(30, 3).map((v) => v * scale), 2), upper: policyL2() });

  it("flag precisionLost with a gradientError as large as the gradient at reward scale 1e16, where finite differences give 0", () => {
    const p = build(1e16);
    const ex = hypergradient(p, x);
    const fd = hypergradient(p, x, { method: "finite-difference" });
    // f = ½‖x‖² + ½Σπ²: FD sees only ∇_x f = x (φ is flat in the policy part)
    expect(relErr(fd.grad, x)).toBeLessThan(1e-6);
    const gap = Math.hypot(ex.grad[0] - fd.grad[0], ex.grad[1] - fd.grad[1]);
    expect(gap).toBeGreaterThan(1); // the exact method's implicit term is noise of size ≥ 1
    expect(ex.diagnostics.lowerConverged && ex.diagnostics.linearConverged).toBe(true); // residuals cannot see it
    expect(ex.diagnostics.precisionLost).toBe(true);
    expect(ex.diagnostics.gradientError!).toBeGreaterThan(0.1 * gap);
  });

  it("stay quiet at reward scale 1, where the exact gradient matches finite differences", () => {
    const p = build(1);
    const ex = hypergradient(p, x);
    const fd = hypergradient(p, x, { method: "finite-difference" });
    expect(relErr(ex.grad, fd.grad)).toBeLessThan(1e-6);
    expect(ex.diagnostics.precisionLost).toBe(false);
    expect(ex.diagnostics.gradientError!).toBeLessThan(1e-12 * Math.hypot(...ex.grad));
    expect(ex.diagnostics.conditionBound).toBeCloseTo(19, 12);
  });
});
