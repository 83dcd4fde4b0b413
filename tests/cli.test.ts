// The `bilevel-rl` command line, run as a real process from source
// (node --import ./scripts/register-wasm.mjs --import tsx src/cli/main.ts …, the same code
// tsup bundles into dist/cli.js): every command on small experiments, byte-identical
// results, exit codes 0/1/2/130, error messages with JSON paths and line/column, a clean
// Ctrl-C, well-formed deterministic plots, and sharded sweeps merging to the unsharded table.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALGORITHMS, HYPERGRADIENT_METHODS, PROBLEMS, REWARDS, UPPERS } from "../src/experiment/registry";
import { writeFile } from "../src/cli/outputs";
import { SIGNAL_EXIT, StopDecision } from "../src/cli/signals";
import { csvField, toCSV, toMarkdown } from "../src/cli/table";
import { svgProblems } from "./helpers/svg";
import { children, cli, inProcess, type Exit } from "./helpers/cli";


let dir: string;
const file = (name: string) => join(dir, name);
const read = (path: string) => readFileSync(path, "utf8");
const write = (name: string, value: unknown) => writeFileSync(file(name), typeof value === "string" ? value : JSON.stringify(value, null, 2));

/** A 3 × 3 GridWorld goal problem with exact descent: a few milliseconds per iteration. */
const small = {
  version: 1,
  seed: 0,
  problem: { builtin: "gridGoal", params: { size: 3 } },
  algorithm: { name: "exactDescent", beta: 0.1 },
  iterations: 6,
  record: { phiEvery: 2 },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bilevel-rl-cli-"));
  write("small.json", small);
  write("msobirl.json", { ...small, algorithm: { name: "mSoBiRL", beta: 0.1, wStep: "richardson" } });
  // a missing comma after "seed": 0 — line 4, column 3 is where '"iterations"' starts
  write("malformed.json", '{\n  "version": 1,\n  "seed": 0\n  "iterations": 3\n}\n');
  write("invalid.json", { ...small, algorithm: { name: "exactDescent", beta: -0.1 } });
  // a step of 1e300 sends x to infinity: the reward becomes NaN in the second iteration
  write("diverges.json", { version: 1, seed: 0, problem: { builtin: "e1", params: { S: 3, A: 2, n: 4 } }, algorithm: { name: "exactDescent", beta: 1e300, stepRule: "fixed" }, iterations: 5 });
  write("long.json", { ...small, problem: { builtin: "gridGoal", params: { size: 6 } }, iterations: 1_000_000, record: { phiEvery: 0 } });
  write("sweep.json", { base: "small.json", seeds: [0, 1], grid: { "/algorithm/beta": [0.05, 0.1] } });
});

afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("bilevel-rl run", () => {
  let first: Exit, second: Exit;
  const FILES = ["result.json", "history.csv", "convergence.svg", "reward.svg", "policy.svg"];

  beforeAll(async () => {
    [first, second] = await Promise.all([cli(["run", file("small.json"), "--out", file("run1")]), cli(["run", file("small.json"), "--out", file("run2")])]);
  }, 60_000);

  it("exits with 0, prints plain progress lines when piped and lists every file it wrote", () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    // the concurrent second run (compared byte for byte below) must have succeeded too
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(first.stdout).toMatch(/^k=1\/6 phi=-?[\d.]+ hnorm=\S+ rate=\S+ it\/s eta=\S+$/m);
    expect(first.stdout).toMatch(/^k=6\/6 /m);
    expect(first.stdout).toContain("completed 6 iterations");
    for (const name of FILES) expect(first.stdout).toContain(join(file("run1"), name));
  });

  it("writes the result, the history and the plots, the same bytes on every run", () => {
    for (const name of FILES) {
      expect(existsSync(join(file("run1"), name)), name).toBe(true);
      expect(read(join(file("run1"), name)), name).toBe(read(join(file("run2"), name)));
    }
    const result = JSON.parse(read(join(file("run1"), "result.json")));
    expect(result.status).toBe("max-iterations");
    expect(result.iterations).toBe(6);
    expect(result.history).toHaveLength(6);
    expect(result.problem).toMatchObject({ name: "gridGoal", S: 9, A: 5, n: 9 });
    expect(typeof result.final.phi).toBe("number");
    const csv = read(join(file("run1"), "history.csv")).trimEnd().split("\n");
    expect(csv[0]).toBe("k,f,hnorm,lowerResidual,phi,penalty,measure");
    expect(csv).toHaveLength(7);
  });

  it("draws well-formed SVG plots: convergence curves, the learned reward and the policy arrows", () => {
    for (const name of ["convergence.svg", "reward.svg", "policy.svg"]) {
      expect(svgProblems(read(join(file("run1"), name))), name).toEqual([]);
    }
    expect(read(join(file("run1"), "convergence.svg"))).toContain("φ(x_k)");
    expect(read(join(file("run1"), "reward.svg"))).toContain("T = target");
    expect(read(join(file("run1"), "policy.svg"))).toContain("arrow length ∝ π(a|s)");
  });
});

describe("bilevel-rl hypergrad and solve", () => {
  it("hypergrad prints the exact hypergradient at x0 as JSON, agreeing with finite differences", async () => {
    const [exact, fd] = await Promise.all([cli(["hypergrad", file("small.json")]), cli(["hypergrad", file("small.json"), "--method", "finite-difference"])]);
    expect(exact.code).toBe(0);
    expect(fd.code).toBe(0);
    const a = JSON.parse(exact.stdout), b = JSON.parse(fd.stdout);
    expect(a.method).toBe("exact");
    expect(b.method).toBe("finite-difference");
    expect(a.grad).toHaveLength(9);
    // φ(x0) from lower solves to tol 1e-12 (exact) and 1e-13 (finite differences): V within
    // tol of V*, so π and φ agree to about tol/τ (τ = 0.1)
    expect(a.value).toBeCloseTo(b.value, 11);
    const scale = Math.max(...a.grad.map(Math.abs));
    for (let i = 0; i < 9; i++) expect(Math.abs(a.grad[i] - b.grad[i])).toBeLessThan(1e-5 * scale);
  }, 30_000);

  it("solve --no-extrapolate runs plain value iteration: more sweeps, the same values to tolerance", async () => {
    const [bounded, plain] = await Promise.all([cli(["solve", file("small.json")]), cli(["solve", file("small.json"), "--no-extrapolate"])]);
    expect(bounded.code).toBe(0);
    expect(plain.code).toBe(0);
    const a = JSON.parse(bounded.stdout), b = JSON.parse(plain.stdout);
    expect(a.converged && b.converged).toBe(true);
    expect(b.iterations).toBeGreaterThan(a.iterations);
    // both within γ/(1−γ)·tol = 9e-10 of V*
    for (let s = 0; s < a.V.length; s++) expect(Math.abs(a.V[s] - b.V[s])).toBeLessThan(2e-9);
  }, 30_000);

  it("solve prints the lower level's values, policy, iterations and residual as JSON", async () => {
    const r = await cli(["solve", file("small.json")]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.V).toHaveLength(9);
    expect(s.pi).toHaveLength(45);
    expect(s.converged).toBe(true);
    expect(s.residual).toBeLessThan(1e-9);
    expect(s.iterations).toBeGreaterThan(0);
    for (let st = 0; st < 9; st++) expect(s.pi.slice(st * 5, st * 5 + 5).reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 12);
  }, 30_000);
});

describe("bilevel-rl compare and list", () => {
  it("compare runs each algorithm on the problem, prints a table and writes one overlay plot", async () => {
    const r = await cli(["compare", file("msobirl.json"), "--algorithms", "mSoBiRL,exactDescent", "--out", file("cmp")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\| algorithm \| status \| final φ .*\| iterations \| time \(ms\) \| sweeps \| solves \| sampled steps \|$/m);
    expect(r.stdout).toMatch(/^\| mSoBiRL \| max-iterations \| /m);
    expect(r.stdout).toMatch(/^\| exactDescent \| max-iterations \| /m);
    const svg = read(file("cmp/compare.svg"));
    expect(svgProblems(svg)).toEqual([]);
    expect(svg).toContain(">mSoBiRL<");
    expect(svg).toContain(">exactDescent<");
    // the file's block for M-SoBiRL, the defaults for exact descent
    expect(JSON.parse(read(file("cmp/mSoBiRL/result.json"))).experiment.algorithm).toMatchObject({ name: "mSoBiRL", beta: 0.1, wStep: "richardson" });
    expect(JSON.parse(read(file("cmp/exactDescent/result.json"))).experiment.algorithm).toMatchObject({ name: "exactDescent", beta: 1, stepRule: "spectral" });
    expect(read(file("cmp/compare.csv")).split("\n")[0]).toBe("algorithm,status,phi,f,hnorm,iterations,timeMs,sweeps,solves,sampledSteps,error");
  }, 30_000);

  it("list prints every built-in problem, algorithm and objective with its parameters", async () => {
    const [text, json] = await Promise.all([cli(["list"]), cli(["list", "--json"])]);
    expect(text.code).toBe(0);
    for (const p of PROBLEMS) expect(text.stdout).toContain(`  ${p.name}  —  `);
    for (const a of ALGORITHMS) for (const param of a.params) expect(text.stdout).toMatch(new RegExp(`^ {6}${param.name} `, "m"));
    for (const o of [...REWARDS, ...UPPERS, ...HYPERGRADIENT_METHODS]) expect(text.stdout).toContain(`  ${o.name}  `);
    const doc = JSON.parse(json.stdout);
    expect(doc.problems.map((p: { name: string }) => p.name)).toEqual(PROBLEMS.map((p) => p.name));
    expect(doc.algorithms.map((a: { name: string }) => a.name)).toEqual(ALGORITHMS.map((a) => a.name));
  }, 30_000);
});

describe("usage and errors", () => {
  it("every command answers --help with its usage and exit code 0", async () => {
    const commands = ["run", "hypergrad", "solve", "compare", "list", "sweep", "merge"];
    const results = await Promise.all([cli(["--help"]), ...commands.map((c) => cli([c, "--help"]))]);
    expect(results[0].code).toBe(0);
    for (const c of commands) expect(results[0].stdout).toContain(`  ${c} `);
    commands.forEach((c, i) => {
      const r = results[i + 1];
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`Usage: bilevel-rl ${c} `);
    });
  }, 30_000);

  it("a malformed experiment file is reported with its line and column and exit code 2", async () => {
    const r = await cli(["run", file("malformed.json"), "--out", file("never")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("malformed.json: JSON syntax error at line 4, column 3");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(file("never"))).toBe(false);
  }, 30_000);

  it("an invalid value is reported with its JSON path, one error per line, and exit code 2", async () => {
    const [run, hypergrad] = await Promise.all([cli(["run", file("invalid.json")]), cli(["hypergrad", file("invalid.json")])]);
    for (const r of [run, hypergrad]) {
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")).toContain("/algorithm/beta: expected a positive number, got -0.1");
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  }, 30_000);

  it("bad usage (an unknown option, an unknown command, an unknown algorithm, a bad shard, a missing file) exits with 2", async () => {
    const results = await Promise.all([
      cli(["run", file("small.json"), "--no-such-option"]),
      cli(["frobnicate"]),
      cli(["compare", file("small.json"), "--algorithms", "mSoBiRL,nope"]),
      cli(["sweep", file("sweep.json"), "--shard", "2/2"]),
      cli(["run", file("does-not-exist.json")]),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^bilevel-rl: /);
    }
    expect(results[2].stderr).toContain('unknown algorithm "nope"');
    expect(results[3].stderr).toContain("--shard");
    expect(results[4].stderr).toContain("no such file");
  }, 30_000);

  it("a run that diverges exits with 1 and one line naming the iteration and the step, with the stack only under --verbose", async () => {
    const [plain, verbose] = await Promise.all([cli(["run", file("diverges.json"), "--out", file("div1")]), cli(["run", file("diverges.json"), "--out", file("div2"), "--verbose"])]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^bilevel-rl: diverged at iteration k = 0: .*the step 'beta' \(= 1e\+300\) is the likely cause/m);
    expect(plain.stderr.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(read(file("div1/result.json"))).status).toBe("diverged");
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^\s+at /m);
  }, 30_000);
});

describe("Ctrl-C", () => {
  it("stops a run cleanly after the first progress line, keeps its partial history and exits with 130", async () => {
    let sent = false;
    const r = await cli(["run", file("long.json"), "--out", file("long")], (out, child) => {
      if (!sent && /^k=1\/1000000 /m.test(out)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("interrupted");
    const result = JSON.parse(read(file("long/result.json")));
    expect(result.status).toBe("interrupted");
    expect(result.iterations).toBeGreaterThanOrEqual(1);
    expect(result.iterations).toBeLessThan(1_000_000);
    expect(result.history).toHaveLength(result.iterations);
    expect(read(file("long/history.csv")).trimEnd().split("\n")).toHaveLength(result.iterations + 1);
    expect(svgProblems(read(file("long/convergence.svg")))).toEqual([]);
  }, 60_000);
});

describe("SIGTERM, SIGHUP and a signal delivered twice", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)("%s to the process and then to its group (as `timeout` does) is one clean stop: history kept, status interrupted, exit %i", async (signal, code) => {
    const out = file(`sig-${signal}`);
    let sent = false;
    const r = await cli(
      ["run", file("long.json"), "--out", out],
      (text, child) => {
        if (!sent && /^k=1\/1000000 /m.test(text)) {
          sent = true;
          child.kill(signal);
          process.kill(-child.pid!, signal);
        }
      },
      { detached: true },
    );
    expect(sent).toBe(true);
    expect(r.signal).toBe(null);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).not.toContain("exiting without writing");
    const result = JSON.parse(read(join(out, "result.json")));
    expect(result.status).toBe("interrupted");
    expect(result.history).toHaveLength(result.iterations);
    expect(read(join(out, "history.csv")).trimEnd().split("\n")).toHaveLength(result.iterations + 1);
  }, 120_000);

  it("counts signals within 1 s of the first as the same stop and a later one as a request to quit at once", () => {
    const d = new StopDecision(1000);
    expect(d.exitCode).toBeUndefined();
    expect(d.receive("SIGTERM", 5000)).toBe("stop");
    expect(d.receive("SIGTERM", 5001)).toBe("repeat");
    expect(d.receive("SIGINT", 5999)).toBe("repeat");
    expect(d.receive("SIGINT", 6000)).toBe("abort");
    expect(d.exitCode).toBe(143);
    expect(SIGNAL_EXIT).toEqual({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 });
  });
});

describe("bilevel-rl sweep and merge", () => {
  it("a sweep run in two shards and merged gives the same table as the unsharded sweep", async () => {
    const [all, s0, s1] = await Promise.all([
      cli(["sweep", file("sweep.json"), "--out", file("sw-all")]),
      cli(["sweep", file("sweep.json"), "--shard", "0/2", "--out", file("sw-shards")]),
      cli(["sweep", file("sweep.json"), "--shard", "1/2", "--out", file("sw-shard1")]),
    ]);
    for (const r of [all, s0, s1]) expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(file("sw-all/cells")).sort()).toEqual(["cell-0000.json", "cell-0001.json", "cell-0002.json", "cell-0003.json"]);
    expect(readdirSync(file("sw-shards/cells")).sort()).toEqual(["cell-0000.json", "cell-0002.json"]);
    expect(readdirSync(file("sw-shard1/cells")).sort()).toEqual(["cell-0001.json", "cell-0003.json"]);

    const [m1, m2, partial] = await Promise.all([
      cli(["merge", file("sw-all"), "--out", file("all.csv")]),
      cli(["merge", file("sw-shards"), file("sw-shard1"), "--out", file("sharded.csv")]),
      cli(["merge", file("sw-shard1"), "--out", file("partial.csv")]),
    ]);
    expect(m1.code).toBe(0);
    expect(m2.code).toBe(0);
    expect(read(file("sharded.csv"))).toBe(read(file("all.csv")));
    expect(read(file("sharded.md"))).toBe(read(file("all.md")));
    const rows = read(file("all.csv")).trimEnd().split("\n");
    expect(rows[0]).toBe("cell,seed,/algorithm/beta,algorithm,status,iterations,phi,f,hnorm,sweeps,solves,sampledSteps");
    expect(rows.slice(1).map((l) => l.split(",").slice(0, 3).join(","))).toEqual(["0,0,0.05", "1,1,0.05", "2,0,0.1", "3,1,0.1"]);
    // a cell's result equals the same experiment run on its own
    const cell = JSON.parse(read(file("sw-shard1/cells/cell-0003.json")));
    expect(cell.result.experiment.algorithm.beta).toBe(0.1);
    expect(cell.result.seed).toBe(1);
    // one shard alone is incomplete: the table is written, the exit code says so
    expect(partial.code).toBe(1);
    expect(partial.stderr).toContain("2 of 4 cells are missing: 0, 2");
  }, 60_000);
});

describe("the CLI's one table writer (compare.csv, compare.md, merge's summary.csv and .md)", () => {
  it("quotes a CSV field as RFC 4180 says: only when it holds a comma, a double quote, CR or LF, doubling inner quotes", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField(" spaced ")).toBe(" spaced ");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    // a lone CR: compare.csv wrote it unquoted before the writers were merged
    expect(csvField("carriage\rreturn")).toBe('"carriage\rreturn"');
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
    expect(csvField(-0.125)).toBe("-0.125");
    expect(csvField(NaN)).toBe("NaN");
    expect(csvField(["lu", 2])).toBe('"[""lu"",2]"');
    expect(csvField(true)).toBe("true");
  });

  it("writes a header and one LF-terminated record per row, and a Markdown table whose cells cannot end early", () => {
    expect(toCSV(["name", "value"], [["a,b", 1], ['"q"', null]])).toBe('name,value\n"a,b",1\n"""q""",\n');
    expect(toMarkdown(["name", "φ"], ["left", "right"], [["a|b", "1.5"]])).toBe("| name | φ |\n| --- | ---: |\n| a\\|b | 1.5 |\n");
  });
});


describe("files: atomic writes and merge --allow-partial", () => {
  it("writes by rename: the old file is replaced whole (a new inode), no temporary file stays, a failure names the target", () => {
    const d = file("atomic");
    mkdirSync(d, { recursive: true });
    const target = join(d, "result.json");
    writeFile(target, "first\n");
    const before = statSync(target).ino;
    writeFile(target, "second\n");
    expect(read(target)).toBe("second\n");
    expect(statSync(target).ino).not.toBe(before);
    mkdirSync(join(d, "taken"));
    expect(() => writeFile(join(d, "taken"), "x")).toThrow(`cannot write ${join(d, "taken")}`);
    expect(readdirSync(d).sort()).toEqual(["result.json", "taken"]);
  });

  /** A cell file as `sweep` writes it, with a made-up result. */
  const cell = (index: number, total = 4, id = "feedc0ffee00") => ({
    sweep: { id, index, total, seed: index, params: { "/algorithm/beta": 0.1 } },
    status: "max-iterations",
    result: { algorithm: "exactDescent", iterations: 3, final: { phi: -1 - index, f: -1, hnorm: 0.5, x: [0] }, counters: { sweeps: 1, solves: 2, sampledSteps: 0 } },
  });
  const cells = (name: string, entries: [string, string][]) => {
    const d = file(name);
    mkdirSync(join(d, "cells"), { recursive: true });
    for (const [f, text] of entries) writeFileSync(join(d, "cells", f), text);
    return d;
  };
  const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

  it("with --allow-partial skips a truncated cell and one claiming index 7 of 4, naming each, and tables only the sweep's cells", async () => {
    const whole = json(cell(1));
    const d = cells("partial-bad", [
      ["cell-0000.json", json(cell(0))],
      ["cell-0001.json", whole.slice(0, whole.length / 2)],
      ["cell-0002.json", json(cell(2))],
      ["cell-0003.json", json(cell(3))],
      ["cell-0007.json", json(cell(7))],
    ]);
    const r = await inProcess(["merge", d, "--allow-partial", "--out", join(d, "summary.csv")]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.trim().split("\n");
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^bilevel-rl: warning: skipped .*cell-0001\.json: JSON syntax error at line \d+/);
    expect(warnings[1]).toMatch(/^bilevel-rl: warning: skipped .*cell-0007\.json: claims cell 7, outside the sweep's cells 0 to 3$/);
    expect(r.stdout).toContain("merged 3 of 4 cells (sweep feedc0ffee00)");
    expect(r.stdout).toContain("skipped 2 unreadable or inconsistent cell files");
    const rows = read(join(d, "summary.csv")).trimEnd().split("\n").slice(1);
    expect(rows.map((l) => l.split(",")[0])).toEqual(["0", "2", "3"]);
    expect(read(join(d, "summary.md"))).toContain("Missing cells (1 of 4): 1");
  });

  it("without --allow-partial stops at a truncated cell or an index outside the sweep with exit 2 naming the file", async () => {
    const whole = json(cell(1));
    const truncated = cells("strict-truncated", [["cell-0000.json", json(cell(0))], ["cell-0001.json", whole.slice(0, 40)]]);
    const outside = cells("strict-outside", [["cell-0000.json", json(cell(0))], ["cell-0007.json", json(cell(7))]]);
    const [a, b] = [await inProcess(["merge", truncated]), await inProcess(["merge", outside])];
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/cell-0001\.json: JSON syntax error at line \d+, column \d+/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/cell-0007\.json claims cell 7, outside the sweep's cells 0 to 3/);
    expect(existsSync(join(outside, "summary.csv"))).toBe(false);
  });

  it("with --allow-partial keeps the sweep most cells belong to and skips a stray cell of another sweep", async () => {
    const d = cells("partial-stray", [
      ["cell-0000.json", json(cell(0, 2, "0ther5weep00"))],
      ["cell-0001.json", json(cell(1, 2))],
      ["cell-0002.json", json(cell(0, 2))],
    ]);
    const r = await inProcess(["merge", d, "--allow-partial"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped .*cell-0000\.json: belongs to another sweep \(id 0ther5weep00, not feedc0ffee00\)/);
    expect(r.stdout).toContain("merged 2 of 2 cells (sweep feedc0ffee00)");
  });
});

describe("smaller usage errors: deep JSON, misspelt names, non-positive steps", () => {
  it("a JSON document nested thousands deep is a bad file (exit 2, line and column), not a stack overflow (exit 1)", async () => {
    const deep = (d: number) => `{"version": 1, "description": ${"[".repeat(d)}${"]".repeat(d)}}`;
    write("deep.json", deep(5000));
    write("deep-sweep.json", `{"base": ${deep(5000)}}`);
    const [run, sweep] = [await inProcess(["run", file("deep.json"), "--out", file("never-deep")]), await inProcess(["sweep", file("deep-sweep.json")])];
    for (const r of [run, sweep]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/JSON syntax error.*nested deeper than 512 levels/);
      expect(r.stderr).not.toContain("call stack");
    }
    // level 513 is the 512th '[' (the object is level 1): column = the prefix's length + 512
    expect(run.stderr).toContain(`deep.json: JSON syntax error at line 1, column ${'{"version": 1, "description": '.length + 512}: nested deeper than 512 levels`);
  });

  it("a misspelt algorithm or problem name gets a did-you-mean, in a file and in --algorithms", async () => {
    write("misspelt-algorithm.json", { ...small, algorithm: { name: "msobirl" } });
    write("misspelt-problem.json", { ...small, problem: { builtin: "gridGaol", params: { size: 3 } } });
    const algorithm = await inProcess(["run", file("misspelt-algorithm.json")]);
    const problem = await inProcess(["run", file("misspelt-problem.json")]);
    const option = await inProcess(["compare", file("small.json"), "--algorithms", "exactDescent,msobirl"]);
    for (const r of [algorithm, problem, option]) expect(r.code, r.stderr).toBe(2);
    expect(algorithm.stderr.split("\n")).toContainEqual(expect.stringMatching(/^\/algorithm\/name: expected one of .*, got "msobirl"; did you mean 'mSoBiRL'\?$/));
    expect(problem.stderr.split("\n")).toContainEqual(expect.stringMatching(/^\/problem\/builtin: expected one of .*, got "gridGaol"; did you mean 'gridGoal'\?$/));
    expect(option.stderr).toContain(`--algorithms: unknown algorithm "msobirl"; did you mean 'mSoBiRL'?`);
    // a name far from every algorithm gets no guess
    const far = await inProcess(["compare", file("small.json"), "--algorithms", "frobnicate"]);
    expect(far.stderr).toContain('unknown algorithm "frobnicate"; expected some of');
  });

  it.each([
    ["hypergrad --method finite-difference --h -1"],
    ["hypergrad --method phi-sigma --sigma 0"],
    ["solve --tol -1"],
  ])("%s: a non-positive step or tolerance exits with 2 and names the option", async (line) => {
    const [command, ...opts] = line.split(" ");
    const r = await inProcess([command, file("small.json"), ...opts]);
    const [name, value] = opts.slice(-2);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`bilevel-rl: ${name}: expected a positive number, got "${value}"\n`);
  });
});
