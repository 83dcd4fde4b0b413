// The golden plot: one convergence chart drawn from fixed numbers, whose bytes are
// committed in tests/golden/convergence.svg. The node and the browser tests both compare
// against that file, so the SVG writer's output is pinned across runs, Node and Chromium.
// After a deliberate change to the plots: UPDATE_GOLDEN=1 npx vitest run --project node tests/plot.test.ts
import { convergenceChart } from "../../src/plot/index";

export const GOLDEN_SVG = "tests/golden/convergence.svg";

/** Two runs with φ recorded sparsely, values across many decades, a NaN and a zero ‖ĥ‖. */
export function goldenChart(): string {
  const a = Array.from({ length: 40 }, (_, k) => ({
    k,
    f: -1 + Math.exp(-k / 7) + 1e-3 * Math.sin(k),
    hnorm: k === 39 ? 0 : Math.exp(-k / 3),
    ...(k % 8 === 0 ? { phi: -1 + Math.exp(-k / 7) } : {}),
  }));
  const b = Array.from({ length: 25 }, (_, k) => ({ k, f: k === 12 ? NaN : 0.5 / (k + 1), hnorm: 10 ** (2 - k / 4) }));
  return convergenceChart([{ name: "mSoBiRL", history: a }, { name: "exact <descent> & \"more\"", history: b }], { title: "golden · γ = 0.9" });
}
