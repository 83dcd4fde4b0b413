// A test oracle for the model-free hypergradient (moved out of src/bilevel/modelFree.ts:
// nothing in the library calls it). It is the exact expectation of the estimator (13) + (14)
// with exact ∂Q*, ∂V*, by enumerating every group of trajectories (tiny problems;
// docs/math.md#checks, check C24):
//   ∇φ = E[∇_x l] + Σ_{s,a} ∂f/∂π(a|s) · π*(a|s) ∇_x log π*(a|s).
// Independent of eq. (9)'s transposed solve: a cross-check for both.
import { solveLower, type LowerOptions } from "../../src/bilevel/lowerSolve";
import { occupancyRows, requireModelFree, scoreVectors } from "../../src/bilevel/modelFree";
import type { BilevelProblem } from "../../src/bilevel/problem";
import { checkObjective, expectation, objectiveOf, type TrajectoryObjective } from "../../src/bilevel/trajectory";

export function enumeratedHypergradient(problem: BilevelProblem, x: ArrayLike<number>, options: { objective?: TrajectoryObjective; lower?: LowerOptions } = {}): { value: number; grad: Float64Array; pi: Float64Array; V: Float64Array } {
  const xx = problem.checkX(x);
  requireModelFree(problem, "enumeratedHypergradient");
  const obj = objectiveOf(problem, options.objective);
  const mdpU = checkObjective(obj, problem.mdp);
  const low = solveLower(problem, xx, options.lower);
  const pi = low.pi;
  const { S, A } = problem.mdp;
  const ex = expectation(obj, { reward: problem.reward, mdp: mdpU }, xx, pi, { gradX: true, gradPi: true });
  const rows = Array.from({ length: S * A }, (_, i) => i);
  const occ = occupancyRows(problem, pi, rows, "exact", 1, 1, 0, false);
  const all = new Uint8Array(S * A).fill(1);
  const dlog = scoreVectors(problem, xx, pi, occ.mean, all);
  const grad = ex.gradX!;
  for (let i = 0; i < S * A; i++) {
    const w = ex.gradPi![i] * pi[i];
    if (w === 0) continue;
    const d = dlog.get(i)!;
    for (let k = 0; k < grad.length; k++) grad[k] += w * d[k];
  }
  return { value: ex.value, grad, pi, V: low.V };
}
