// Public API. What is not exported here is private. Subpaths for smaller bundles (package.json
// "exports"): bilevel-rl/core, bilevel-rl/bilevel, bilevel-rl/experiment, bilevel-rl/plot.

// Lower level: kernels, MDPs, solvers, sampling, errors
export * from "./core";

// Bilevel layer, algorithms and built-in problems
export * from "./bilevel/index";

// Experiment files (format version 1): validation with JSON-pointer errors, a runner with
// byte-identical results, and the registry of built-ins
export * from "./experiment/index";

// SVG plots (browser-safe, deterministic)
export * from "./plot/index";
