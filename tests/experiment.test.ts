// Experiment files, version 1: every example validates and runs; results are byte-identical
// across runs and kernel builds and hold no wall times; malformed documents and invalid
// values are reported with JSON pointers and readable messages; interruption keeps the
// partial history; the published schema is in sync; the registry is the algorithm modules' own
// specification, and every init honours its defaults and ranges.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import Ajv2020 from "ajv/dist/2020.js";
import { init, type Backend } from "../src/index";
import {
  ALGORITHMS,
  ExperimentError,
  PROBLEMS,
  experimentSchema,
  historyToCSV,
  hypergradientOf,
  parseExperiment,
  resultToJSON,
  runExperiment,
  solveLowerOf,
  validateExperiment,
  buildExperiment,
  type Experiment,
  type ExperimentIssue,
  type ParamSpec,
} from "../src/experiment/index";
import { ALGORITHM_LIST } from "../src/bilevel/algorithms/index";
import { DomainError } from "../src/errors";

const root = join(__dirname, "..");
const exampleDir = join(root, "examples", "experiments");
const examples = readdirSync(exampleDir).filter((f) => f.endsWith(".json")).sort();
const readExample = (f: string) => readFileSync(join(exampleDir, f), "utf8");

let simd: Backend, scalar: Backend;
beforeAll(async () => {
  scalar = await init({ simd: false });
  simd = await init();
});

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** A valid custom problem (the README's 2-state MDP) to break in the tests. */
function customDoc(): Record<string, any> {
  return {
    version: 1,
    seed: 0,
    problem: {
      mdp: { S: 2, A: 2, gamma: 0.9, P: [[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0, 1]]] },
      reward: { linear: { Phi: [1, 0, 0, 1, 1, 1, 0, 0], n: 2 } },
      upper: { policyL2: {} },
      tau: 0.5,
    },
    algorithm: { name: "exactDescent", beta: 0.5 },
    iterations: 5,
  };
}

function errorsOf(doc: unknown): ExperimentIssue[] {
  const v = validateExperiment(doc);
  expect(v.ok).toBe(false);
  return v.ok ? [] : v.errors;
}

function lines(errors: ExperimentIssue[]): string[] {
  return errors.map((e) => `${e.path}: ${e.message}`);
}

describe("example experiment files", () => {
  it("includes the four documented examples and the one printed in docs/experiment-format.md", () => {
    expect(examples).toEqual(expect.arrayContaining(["gridgoal-msobirl.json", "e1-msobirl.json", "incentive-pbrl.json", "rlhf-sobirl.json"]));
    const doc = readFileSync(join(root, "docs", "experiment-format.md"), "utf8");
    const block = /```json\n([\s\S]*?)\n```/.exec(doc)![1];
    expect(JSON.parse(block)).toEqual(JSON.parse(readExample("gridgoal-msobirl.json")));
  });

  it.each(examples)("%s validates against the published schema and our checks, and runs three iterations", (file) => {
    const text = readExample(file);
    const published = JSON.parse(readFileSync(join(root, "schema", "experiment.schema.json"), "utf8"));
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    expect(ajv.validate(published, JSON.parse(text))).toBe(true);
    const v = parseExperiment(text);
    if (!v.ok) throw new Error(lines(v.errors).join("\n"));
    const exp = { ...v.experiment, iterations: 3, record: { phiEvery: 1, x: false } };
    const result = runExperiment(exp);
    expect(result.status).toBe("max-iterations");
    expect(result.iterations).toBe(3);
    expect(result.history.map((r) => r.k)).toEqual([0, 1, 2]);
    for (const r of result.history) {
      expect(Number.isFinite(r.f)).toBe(true);
      expect(Number.isFinite(r.phi!)).toBe(true);
    }
    expect(result.final.x).toHaveLength(result.problem.n);
    expect(Number.isFinite(result.final.phi!)).toBe(true);
    expect(result.final.f).toBe(result.history[2].f);
    expect(result.experiment.iterations).toBe(3);
    expect(JSON.parse(resultToJSON(result)).history).toHaveLength(3);
  }, 60_000); // happyText: seconds per iteration on a loaded machine
});

describe("normalisation", () => {
  it("fills every constant default, the experiment seed into seed parameters, and is a fixed point of validation", () => {
    const v = validateExperiment({ version: 1, seed: 7, problem: { builtin: "rlhf", params: { H: 2 } }, algorithm: { name: "soBiRL" }, iterations: 2 });
    if (!v.ok) throw new Error(lines(v.errors).join("\n"));
    const e = v.experiment;
    expect(e.name).toBe("rlhf-soBiRL");
    expect(e.x0).toBe("problem");
    expect(e.record).toEqual({ phiEvery: 0, x: false });
    expect(e.problem).toEqual({ builtin: "rlhf", params: { S: 3, A: 2, H: 2, gamma: 0.9, tau: 1, pairs: 1, labels: "soft", gammaU: 1, x0Scale: 0.5, seed: 7 } });
    expect(e.algorithm).toMatchObject({ name: "soBiRL", beta: 0.05, update: "adam", T: 5, groups: 128, seed: 7, baseline: "running" });
    expect(e.algorithm).not.toHaveProperty("eta"); // computed default (1/τ) stays out
    const again = validateExperiment(e);
    expect(again.ok && JSON.stringify(again.experiment)).toBe(JSON.stringify(e));
  });

  it("completes the 'gridworld' and 'garnet' generators with their documented default reward, upper objective and τ", () => {
    const g = validateExperiment({ version: 1, seed: 0, problem: { builtin: "garnet" }, algorithm: { name: "exactDescent" }, iterations: 1 });
    expect(g.ok && g.experiment.problem).toMatchObject({ reward: { table: {} }, upper: { upperReturn: { lambda: 0.01 } }, tau: 0.1 });
    const w = validateExperiment({ version: 1, seed: 0, problem: { builtin: "gridworld", params: { map: ["S..", ".#.", "..G"] } }, algorithm: { name: "exactDescent", beta: 1 }, iterations: 20 });
    if (!w.ok) throw new Error(lines(w.errors).join("\n"));
    expect(w.experiment.problem).toMatchObject({ reward: { state: {} }, upper: { upperReturn: { lambda: 0.001 } }, tau: 0.1 });
    const r = runExperiment(w.experiment, { signal: undefined });
    expect(r.final.phi!).toBeLessThan(r.history[0].f); // learning a state bonus raises the return of reaching 'G'
  });

  it("improves the default objective of a garnet random MDP with exact hypergradient descent", () => {
    const v = validateExperiment({ version: 1, seed: 3, problem: { builtin: "garnet", params: { S: 12, A: 3, branching: 3 } }, algorithm: { name: "exactDescent", beta: 1 }, iterations: 30, record: { phiEvery: 1 } });
    if (!v.ok) throw new Error(lines(v.errors).join("\n"));
    const r = runExperiment(v.experiment);
    expect(r.status).toBe("max-iterations");
    expect(r.final.phi!).toBeLessThan(r.history[0].phi! - 1e-3);
  });

  /** A problem each algorithm applies to, built from a document. */
  const builtFor = (info: { name: string; needsTrajectory: boolean }) => {
    const problemDoc = info.needsTrajectory ? { builtin: "rlhf" } : { builtin: "incentive", params: { S: 3, A: 2 } };
    const v = validateExperiment({ version: 1, seed: 0, problem: problemDoc, algorithm: { name: info.name }, iterations: 1 });
    if (!v.ok) throw new Error(lines(v.errors).join("\n"));
    return buildExperiment(v.experiment);
  };

  it("lists exactly the algorithm modules, each with the specification its own init reads", () => {
    expect(ALGORITHMS.map((a) => a.name)).toEqual(ALGORITHM_LIST.map((a) => a.name));
    ALGORITHM_LIST.forEach((alg, i) => {
      expect(ALGORITHMS[i], alg.name).toBe(alg.info);
      expect(alg.info.name).toBe(alg.name);
    });
  });

  it("initialises every algorithm alike with the specification's constant defaults filled in or with nothing", () => {
    for (const alg of ALGORITHM_LIST) {
      const { experiment, problem, x0 } = builtFor(alg.info);
      const { name: _name, ...filled } = experiment.algorithm;
      for (const p of alg.info.params) if (p.default !== undefined) expect(filled[p.name], `${alg.name}.${p.name}`).toEqual(p.default);
      expect(JSON.stringify(alg.init(problem, { ...filled, x0 } as never)), alg.name).toBe(JSON.stringify(alg.init(problem, { x0 } as never)));
    }
  });

  it("has every init reject a value outside its specification's range or enum with a DomainError naming the parameter", () => {
    const outside = (p: ParamSpec): unknown[] => {
      const bad: unknown[] = [];
      if (p.type === "string" && p.enum) bad.push("no-such-value");
      if (p.type === "number" || p.type === "integer") {
        if (p.exclusiveMinimum !== undefined) bad.push(p.exclusiveMinimum);
        if (p.minimum !== undefined) bad.push(p.minimum - 1);
        if (p.exclusiveMaximum !== undefined) bad.push(p.exclusiveMaximum);
        if (p.maximum !== undefined) bad.push(p.maximum + 1);
        if (p.type === "integer") bad.push(1.5);
        bad.push(Number.NaN);
      }
      return bad;
    };
    // checked when used, not by init: exactDescent passes solver and linear on to the lower solve and the linear solver
    const laterChecked = new Set(["exactDescent.solver", "exactDescent.linear", "pbrl.linear", "parl.linear"]);
    let checked = 0;
    for (const alg of ALGORITHM_LIST) {
      const { problem, x0 } = builtFor(alg.info);
      for (const p of alg.info.params) {
        if (laterChecked.has(`${alg.name}.${p.name}`)) continue;
        for (const value of outside(p)) {
          const call = () => alg.init(problem, { x0, [p.name]: value } as never);
          expect(call, `${alg.name}.${p.name} = ${value}`).toThrow(DomainError);
          try {
            call();
          } catch (e) {
            expect((e as DomainError).argument, `${alg.name}.${p.name} = ${value}`).toBe(p.name);
            if (p.enum) expect((e as Error).message).toContain(`must be '${p.enum[0]}'`);
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
  });

  it("uses defaults in the registry that are the problems' own: building with them or with nothing gives the same instance", () => {
    for (const info of PROBLEMS) {
      const bare = buildExperiment({ version: 1, seed: 0, problem: { builtin: info.name }, algorithm: { name: "pbrl" }, iterations: 1 });
      const filled = buildExperiment(bare.experiment);
      expect(filled.summary, info.name).toEqual(bare.summary);
      expect(Array.from(filled.x0), info.name).toEqual(Array.from(bare.x0));
      expect(Array.from(filled.problem.mdp.rho), info.name).toEqual(Array.from(bare.problem.mdp.rho));
      expect(JSON.stringify(filled.problem.mdp.transitions()), info.name).toBe(JSON.stringify(bare.problem.mdp.transitions()));
      expect(filled.problem.value(filled.x0, new Float64Array(bare.summary.S * bare.summary.A).fill(1 / bare.summary.A))).toBe(
        bare.problem.value(bare.x0, new Float64Array(bare.summary.S * bare.summary.A).fill(1 / bare.summary.A)),
      );
    }
  });
});

describe("results", () => {
  it("are byte-identical when the same experiment runs twice, also with a seeded model-free algorithm", () => {
    for (const file of ["gridgoal-msobirl.json", "rlhf-sobirl.json"]) {
      const v = parseExperiment(readExample(file));
      if (!v.ok) throw new Error(lines(v.errors).join("\n"));
      const exp = { ...v.experiment, iterations: 20 };
      const a = resultToJSON(runExperiment(exp)), b = resultToJSON(runExperiment(clone(exp)));
      expect(a).toBe(b);
      expect(a.length).toBeGreaterThan(1000);
    }
  });

  it("writes the 20-iteration result of gridgoal-msobirl.json to build/experiment-node-result.json for the browser run to compare byte for byte", () => {
    const v = parseExperiment(readExample("gridgoal-msobirl.json"));
    if (!v.ok) throw new Error("invalid");
    const json = resultToJSON(runExperiment({ ...v.experiment, iterations: 20 }));
    mkdirSync(join(root, "build"), { recursive: true });
    writeFileSync(join(root, "build", "experiment-node-result.json"), json);
    expect(JSON.parse(json).iterations).toBe(20);
  });

  it("are byte-identical on the SIMD and the scalar kernel builds", () => {
    const v = parseExperiment(readExample("gridgoal-msobirl.json"));
    if (!v.ok) throw new Error("invalid");
    const exp = { ...v.experiment, iterations: 30 };
    const a = runExperiment(exp, { backend: simd }), b = runExperiment(exp, { backend: scalar });
    expect(a.runInfo.simd).toBe(true);
    expect(b.runInfo.simd).toBe(false);
    expect(resultToJSON(a)).toBe(resultToJSON(b));
  });

  it("hold no wall times or dates: the timing lives in the non-enumerable runInfo", () => {
    const r = runExperiment(customDoc());
    expect(r.runInfo.timeMs).toBeGreaterThanOrEqual(0);
    expect(r.runInfo.totalMs).toBeGreaterThanOrEqual(r.runInfo.timeMs);
    expect(Object.keys(r)).not.toContain("runInfo");
    const json = resultToJSON(r);
    // (\bdate: the algorithms' `update` rule is not a date)
    expect(json).not.toMatch(/time|\bdate|Ms"/i);
    expect(JSON.stringify(r)).toBe(JSON.stringify(JSON.parse(json)));
    expect(Object.keys(JSON.parse(json))).toEqual(["version", "experiment", "problem", "algorithm", "seed", "status", "iterations", "history", "final", "counters"]);
    expect(json.split("\n")[1]).toBe('  "version": 1,');
    expect(r.problem).toEqual({ name: "custom", S: 2, A: 2, n: 2, tau: 0.5, gamma: 0.9 });
    expect(r.counters.solves).toBe(5);
  });

  it("convert to CSV with one line per iteration, empty cells for values not recorded, and x columns when x was recorded", () => {
    const doc = { ...customDoc(), record: { phiEvery: 2, x: true } };
    const r = runExperiment(doc);
    const csv = historyToCSV(r).split("\n");
    expect(csv[0]).toBe("k,f,hnorm,lowerResidual,phi,penalty,measure,x0,x1");
    expect(csv).toHaveLength(1 + 5 + 1);
    expect(csv[6]).toBe("");
    const row1 = csv[2].split(",");
    expect(row1[0]).toBe("1");
    expect(row1[4]).toBe(""); // φ recorded at k = 0, 2, 4
    expect(csv[3].split(",")[4]).toBe(String(r.history[2].phi));
    expect(Number(row1[7])).toBe(r.history[1].x![0]);
    expect(historyToCSV(runExperiment(customDoc())).split("\n")[0]).toBe("k,f,hnorm,lowerResidual,phi,penalty,measure");
  });
});

describe("interruption", () => {
  it("keeps the partial history and reports status 'interrupted' when the signal is aborted after k iterations", () => {
    const controller = new AbortController();
    const seen: [number, number][] = [];
    const r = runExperiment(customDoc(), {
      signal: controller.signal,
      onIteration: (row, k, total) => {
        seen.push([k, total]);
        if (k === 2) controller.abort();
      },
    });
    expect(r.status).toBe("interrupted");
    expect(r.iterations).toBe(3);
    expect(r.history.map((h) => h.k)).toEqual([0, 1, 2]);
    expect(seen).toEqual([[0, 5], [1, 5], [2, 5]]);
    expect(r.final.f).toBe(r.history[2].f);
    // the partial run is the prefix of the full one
    const full = runExperiment(customDoc());
    expect(full.status).toBe("max-iterations");
    expect(full.history.slice(0, 3)).toEqual(r.history);
  });

  it("stops when onIteration returns false, and returns no rows and null f for a signal aborted before the start", () => {
    const r = runExperiment(customDoc(), { onIteration: (_row, k) => k < 1 });
    expect([r.status, r.iterations]).toEqual(["interrupted", 2]);
    const controller = new AbortController();
    controller.abort();
    const none = runExperiment(customDoc(), { signal: controller.signal });
    expect(none.status).toBe("interrupted");
    expect(none.history).toEqual([]);
    expect(none.final.f).toBeNull();
    expect(none.final.x).toEqual([0, 0]);
  });
});

describe("invalid documents are reported with JSON pointers", () => {
  it("reports a wrong type, a negative step and an unknown parameter together", () => {
    const doc = { ...customDoc(), iterations: "10", algorithm: { name: "exactDescent", beta: -0.1, betta: 1 } };
    expect(lines(errorsOf(doc))).toEqual(expect.arrayContaining([
      '/iterations: expected a positive integer, got "10"',
      "/algorithm/beta: expected a positive number, got -0.1",
      "/algorithm/betta: unknown parameter \"betta\" of 'exactDescent'; did you mean 'beta'? (allowed: preset, beta, stepRule, tol, solver, linear, project, update, clipNorm, adamBeta1, adamBeta2, adamEps)",
    ]));
  });

  it("reports an unknown algorithm and an unknown built-in problem by name, with a did-you-mean when one is close", () => {
    const errs = lines(errorsOf({ version: 1, seed: 0, problem: { builtin: "gridGaol" }, algorithm: { name: "sgd" }, iterations: 1 }));
    expect(errs).toContain("/problem/builtin: expected one of 'e1', 'gridGoal', 'incentive', 'gridIncentive', 'stackelberg', 'rlhf', 'shaping', 'happyText', 'gridworld' or 'garnet', got \"gridGaol\"; did you mean 'gridGoal'?");
    expect(errs).toContain("/algorithm/name: expected one of 'exactDescent', 'mSoBiRL', 'soBiRL', 'pbrl', 'parl', 'actorCritic', 'phiSigma' or 'alternating', got \"sgd\"");
  });

  it("points into nested P at the row that does not sum to 1, and at the first entry of the row in flat P", () => {
    const nested = customDoc();
    nested.problem.mdp.P[1][0] = [0.5, 0.43];
    expect(lines(errorsOf(nested))).toEqual(["/problem/mdp/P/1/0: expected a probability row summing to 1 (within 1e-9), got a row summing to 0.9299999999999999"]);
    const flat = customDoc();
    flat.problem.mdp.P = [0.9, 0.1, 0.2, 0.8, 0.5, 0.5, 0.1, 1];
    expect(lines(errorsOf(flat))).toEqual(["/problem/mdp/P/6: expected a probability row (s=1, a=1; entries 6..7) summing to 1 (within 1e-9), got a row summing to 1.1"]);
    const negative = customDoc();
    negative.problem.mdp.P[0][1] = [1.2, -0.2];
    expect(lines(errorsOf(negative))).toEqual(["/problem/mdp/P/0/1/1: expected a non-negative number (a probability), got -0.2"]);
    const shape = customDoc();
    shape.problem.mdp.P = [[[1, 0], [1, 0]]];
    expect(lines(errorsOf(shape))).toEqual(["/problem/mdp/P: expected S = 2 arrays P[s] (nested P[s][a][s']), got an array of length 1"]);
  });

  it("checks CSR transitions entry by entry and wants exactly one of P and csr", () => {
    const csr = customDoc();
    delete csr.problem.mdp.P;
    csr.problem.mdp.csr = { indptr: [0, 1, 2, 3, 4], indices: [0, 1, 0, 2], probs: [1, 1, 1, 1] };
    expect(lines(errorsOf(csr))).toEqual(["/problem/mdp/csr/indices/3: expected a state in [0, 2), got 2"]);
    csr.problem.mdp.csr = { indptr: [0, 1, 2, 3, 4], indices: [0, 1, 0, 1], probs: [1, 1, 0.5, 1] };
    expect(lines(errorsOf(csr))[0]).toMatch(/^\/problem\/mdp\/csr\/probs\/2: expected the probabilities of row \(s=1, a=0\)/);
    const both = customDoc();
    both.problem.mdp.csr = { indptr: [0, 1, 2, 3, 4], indices: [0, 1, 0, 1], probs: [1, 1, 1, 1] };
    expect(lines(errorsOf(both))).toEqual(["/problem/mdp: expected exactly one of 'P' (dense) or 'csr' (sparse) transitions, got both"]);
  });

  it("reports Φ of the wrong shape, flat, nested or CSR", () => {
    const flat = customDoc();
    flat.problem.reward.linear.Phi = [1, 0, 0, 1, 1, 1, 0];
    expect(lines(errorsOf(flat))).toEqual(["/problem/reward/linear/Phi: expected S·A·n = 4·2 = 8 numbers (row-major) or 4 rows of 2, got an array of length 7"]);
    const nested = customDoc();
    nested.problem.reward.linear.Phi = [[1, 0], [0, 1, 2], [1, 1], [0, 0]];
    expect(lines(errorsOf(nested))).toEqual(["/problem/reward/linear/Phi/1: expected 2 numbers (n, row s·A + a = 1), got an array of length 3"]);
    const csr = customDoc();
    csr.problem.reward.linear.Phi = { indptr: [0, 1, 2, 3, 4], indices: [0, 1, 2, 0], values: [1, 1, 1, 1] };
    expect(lines(errorsOf(csr))).toEqual(["/problem/reward/linear/Phi/indices/2: expected a column in [0, n) = [0, 2), got 2"]);
    csr.problem.reward.linear.Phi = { indptr: [0, 1, 2, 3, 4], indices: [0, 1, 1, 0], values: [1, 1, 1, 1] };
    expect(validateExperiment(csr).ok).toBe(true);
  });

  it("reports missing properties, a wrong version, two reward kinds at once and a bad x0 element", () => {
    const doc = customDoc();
    delete doc.problem.mdp.gamma;
    doc.version = 2;
    doc.problem.reward = { table: {}, state: {} };
    doc.x0 = [0, "a"];
    expect(lines(errorsOf(doc))).toEqual(expect.arrayContaining([
      "/version: unsupported version 2: this library reads version 1",
      "/problem/mdp/gamma: missing (required); expected a number in [0, 1)",
      "/problem/reward: expected exactly one of 'linear', 'table' or 'state', got 'table' and 'state'",
      '/x0/1: expected a number, got "a"',
    ]));
  });

  it("reports built-in parameters out of range or on a wall, and options a built-in problem does not take", () => {
    const errs = lines(errorsOf({
      version: 1,
      seed: 0,
      problem: { builtin: "gridGoal", params: { map: ["..#", "..."], target: [0, 2], slip: 1.5, gamma: 1 }, reward: { table: {} } },
      algorithm: { name: "mSoBiRL" },
      iterations: 1,
    }));
    expect(errs).toEqual(expect.arrayContaining([
      "/problem/params/slip: expected a number in [0, 1], got 1.5",
      "/problem/params/gamma: expected a number in [0, 1), got 1",
    ]));
    const semantic = lines(errorsOf({
      version: 1,
      seed: 0,
      problem: { builtin: "gridGoal", params: { map: ["..#", "..."], target: [0, 2] }, reward: { table: {} } },
      algorithm: { name: "mSoBiRL" },
      iterations: 1,
    }));
    expect(semantic).toEqual([
      "/problem/params/target: expected a free cell, got the wall [0, 2]",
      "/problem/reward: not used by 'gridGoal', which defines its own reward; only the 'gridworld' and 'garnet' generators take 'reward', 'upper' and 'tau'",
    ]);
  });

  it("refuses a model-free algorithm on a problem without a trajectory objective and τ = 0 for a method that needs τ > 0", () => {
    expect(lines(errorsOf({ version: 1, seed: 0, problem: { builtin: "gridGoal" }, algorithm: { name: "soBiRL" }, iterations: 1 }))).toEqual([
      "/algorithm/name: soBiRL needs a trajectory (preference) objective: use upper 'preference' or the 'rlhf' or 'happyText' problems; the 'gridGoal' problem has none",
    ]);
    const doc = customDoc();
    doc.problem.tau = 0;
    expect(lines(errorsOf(doc))).toEqual(["/problem/tau: expected a positive number: exactDescent needs an entropy temperature τ > 0, got 0"]);
  });

  it("checks x0 and the algorithm's array options against the sizes, statically for custom problems and when building for built-ins", () => {
    const doc = customDoc();
    doc.x0 = [1, 2, 3];
    doc.algorithm = { name: "soBiRL", pi0: [0.5, 0.5, 0.7, 0.3] };
    doc.problem.upper = { preference: { rTrue: [1, 0, 0, 1], horizon: 2 } };
    expect(lines(errorsOf(doc))).toEqual(["/x0: expected 2 numbers (n), got an array of length 3"]);
    doc.x0 = [1, 2];
    doc.algorithm = { name: "soBiRL", pi0: [0.5, 0.5, 0.6, 0.3] };
    expect(lines(errorsOf(doc))).toEqual(["/algorithm/pi0/2: expected the row of state 1 (entries 2..3) to sum to 1 within 1e-9, got 0.8999999999999999"]);
    const builtin = { version: 1, seed: 0, problem: { builtin: "gridGoal", params: { size: 3 } }, algorithm: { name: "mSoBiRL", w0: [1, 2] }, iterations: 1, x0: [1, 2, 3] };
    expect(validateExperiment(builtin).ok).toBe(true);
    expect(() => runExperiment(builtin)).toThrow(ExperimentError);
    try {
      runExperiment(builtin);
    } catch (e) {
      expect((e as ExperimentError).errors).toEqual([{ path: "/x0", message: "expected n = 9 numbers (the dimension of x for this problem), got an array of length 3" }]);
    }
    try {
      runExperiment({ ...builtin, x0: "problem" });
    } catch (e) {
      expect((e as ExperimentError).errors).toEqual([{ path: "/algorithm/w0", message: "w0: must have length 9 (S); got 2" }]);
    }
  });
});

describe("parseExperiment", () => {
  it("reports JSON syntax errors with their line and column", () => {
    const v = parseExperiment('{\n  "version": 1,\n  "seed": 0,\n  "iterations": 10,,\n}');
    expect(v).toEqual({ ok: false, errors: [{ path: "", message: "JSON syntax error at line 4, column 20: expected a property name in double quotes, got \",\"", line: 4, column: 20 }] });
    const w = parseExperiment('{ "version": 1, "seed": 0x10 }');
    expect(!w.ok && w.errors[0].message).toBe("JSON syntax error at line 1, column 26: expected ',' or '}' after a property value, got \"x\"");
    const t = parseExperiment("[1, 2");
    expect(!t.ok && t.errors[0].message).toBe("JSON syntax error at line 1, column 6: expected ',' or ']' after an array element, got the end of the input");
  });

  it("reports duplicate keys, and gives validation errors the line and column of the value they point to", () => {
    const dup = parseExperiment('{"version": 1,\n "version": 1}');
    expect(dup).toEqual({ ok: false, errors: [{ path: "/version", message: "duplicate key: JSON objects must not repeat a property name", line: 2, column: 2 }] });
    const text = JSON.stringify({ ...customDoc(), algorithm: { name: "exactDescent", beta: -0.1 } }, null, 2);
    const v = parseExperiment(text);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const e = v.errors[0];
    expect(e.path).toBe("/algorithm/beta");
    const lineText = text.split("\n")[e.line! - 1];
    expect(lineText.slice(e.column! - 1)).toBe("-0.1");
  });
});

describe("the published schema", () => {
  it("schema/experiment.schema.json equals the exported experimentSchema (run scripts/write-schema.mjs after changing the registry)", () => {
    const file = readFileSync(join(root, "schema", "experiment.schema.json"), "utf8");
    expect(file).toBe(JSON.stringify(experimentSchema, null, 2) + "\n");
  });

  it("is valid draft 2020-12 under strict ajv and names every registered problem and algorithm", () => {
    const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false });
    expect(() => ajv.compile(experimentSchema)).not.toThrow();
    const defs = experimentSchema.$defs as Record<string, any>;
    expect(defs.builtinProblem.properties.builtin.enum).toEqual(PROBLEMS.map((p) => p.name));
    expect(defs.algorithm.properties.name.enum).toEqual(ALGORITHMS.map((a) => a.name));
  });

  it("gives each algorithm exactly its module's parameters, with their constant defaults", () => {
    const branches = (experimentSchema.$defs as Record<string, any>).algorithm.allOf as { if: any; then: any }[];
    for (const alg of ALGORITHM_LIST) {
      const branch = branches.find((b) => b.if.properties.name.const === alg.name);
      expect(branch, alg.name).toBeDefined();
      const props = branch!.then.properties as Record<string, { default?: unknown }>;
      expect(Object.keys(props).filter((k) => k !== "name").sort(), alg.name).toEqual(alg.info.params.map((p) => p.name).sort());
      for (const p of alg.info.params) if (p.default !== undefined) expect(props[p.name].default, `${alg.name}.${p.name}`).toEqual(p.default);
    }
  });
});

describe("single evaluations at x0", () => {
  it("hypergradientOf returns plain JSON data and the exact, finite-difference and PARL hypergradients agree", () => {
    const exact = hypergradientOf(customDoc(), "exact");
    const fd = hypergradientOf(customDoc(), "finite-difference");
    const parlHg = hypergradientOf(customDoc(), "parl");
    expect(JSON.parse(JSON.stringify(exact))).toEqual(exact);
    expect(exact.x).toEqual([0, 0]);
    for (let k = 0; k < 2; k++) {
      expect(fd.grad[k]).toBeCloseTo(exact.grad[k], 7);
      expect(parlHg.grad[k]).toBeCloseTo(exact.grad[k], 7);
    }
    expect(exact.norm).toBeCloseTo(Math.hypot(...exact.grad), 15);
    expect(exact.diagnostics.method).toBe("exact");
    const mf = hypergradientOf(readExampleDoc("rlhf-sobirl.json"), "model-free", { groups: 16 });
    expect(mf.stdError).toHaveLength(mf.grad.length);
    expect(() => hypergradientOf(customDoc(), "nope" as never)).toThrow(ExperimentError);
  });

  it("solveLowerOf returns the lower solution as plain arrays with stochastic policy rows", () => {
    const low = solveLowerOf(readExampleDoc("gridgoal-msobirl.json"), { solver: "policy-iteration" });
    expect(low.converged).toBe(true);
    expect(low.residual).toBeLessThan(1e-10);
    expect(low.V).toHaveLength(25);
    expect(Array.isArray(low.pi)).toBe(true);
    for (let s = 0; s < 25; s++) expect(low.pi.slice(s * 5, s * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Number.isFinite(low.phi!)).toBe(true);
  });
});

function readExampleDoc(file: string): Experiment {
  const v = parseExperiment(readExample(file));
  if (!v.ok) throw new Error(lines(v.errors).join("\n"));
  return v.experiment;
}
