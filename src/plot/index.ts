// Self-written SVG plots (no chart library, no DOM, no node: imports): every function
// returns a standalone `<svg>` document as a string, and the same input gives the same bytes.
export { lineChart, convergenceChart, type Series, type LineChartOptions, type ConvergenceRun, type ConvergenceChartOptions } from "./lineChart";
export {
  heatmap,
  policyArrows,
  stateValuesToCells,
  wallsOf,
  type CellMark,
  type HeatmapOptions,
  type GridShape,
  type PolicyArrowsOptions,
} from "./grid";
export { viridis, niceTicks, logTicks, PALETTE } from "./svg";
