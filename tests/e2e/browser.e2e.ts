// End to end in real Chromium (Debian's, through playwright-core): the package is built
// with tsup, the demo page (web/) and a consumer app (tests/consumer/) with Vite; both are
// served as plain static files on 127.0.0.1 under a strict Content-Security-Policy (no
// 'unsafe-eval': experiment validation must compile no code at run time) and driven like a
// user would. Every number the page shows is compared with runExperiment in Node on the same
// built package.
//
//   node scripts/e2e.mjs            (npm test runs it as its last step)
//
// Artifacts: build/e2e/demo.png (copied to docs/demo.png for the README when that is missing
// or UPDATE_DEMO_PNG=1), the files the page downloaded (build/e2e/downloads/) and the
// consumer app's output in both runtimes (build/e2e/consumer-output.json).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser, BrowserContext, Download, Page } from "playwright-core";
import type * as Package from "../../src/index";
import { ROOT, STRICT_CSP, buildLibrary, launchChromium, serveStatic, sh, viteBuild, type StaticServer } from "./support";
import { fnv1a64Text } from "../../web/src/hash";

const OUT = join(ROOT, "build", "e2e");
const DOWNLOADS = join(OUT, "downloads");
const EXAMPLES = join(ROOT, "examples", "experiments");
const DEFAULT_EXPERIMENT = join(EXAMPLES, "gridgoal-msobirl.json");
/** The package name, imported at run time (after tsup has built dist/): the way a consumer imports it. */
const PACKAGE = "bilevel-rl";

/** What tests/consumer/solve.ts returns (see there). */
interface ConsumerOutput {
  S: number;
  invalid: string[];
  auto: Record<string, unknown> & { simd: boolean; sweeps: number };
  scalar: Record<string, unknown> & { simd: boolean; sweeps: number };
}

let lib: typeof Package;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;
let web: StaticServer | undefined;
let consumer: StaticServer | undefined;
const problems: string[] = [];
/** Violations of the pages' Content-Security-Policy, as the securitypolicyviolation events report them. */
const violations: string[] = [];

/** Code that a bundle would compile from strings at run time (forbidden by a CSP without 'unsafe-eval'). */
const COMPILES_CODE = /new Function|\beval\(/;
/** Text only the schema validator, the experiment files, the bilevel algorithms or the plots hold. */
const NOT_CORE = ["urn:bilevel-rl:experiment", "mSoBiRL", "parseExperiment", "viewBox", "ajv"];

/** Record CSP violations of every page of `ctx` (read back with `cspViolations`). */
async function watchCsp(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(() => {
    const seen: string[] = ((globalThis as unknown as { __csp: string[] }).__csp = []);
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`));
  });
}
const cspViolations = (p: Page) => p.evaluate(() => (globalThis as unknown as { __csp: string[] }).__csp);

/** The JavaScript files of a folder (recursively), with their text. */
function scripts(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /\.(c|m)?js$/.test(f))
    .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") }));
}

/** dist/<entry>.js and every chunk it imports, transitively. */
function importGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(join(ROOT, "dist", file), "utf8").matchAll(/(?:from|import)\s*["']\.\/([\w.-]+)["']/g)) visit(m[1]);
  };
  visit(entry);
  return [...seen];
}
/** The page's result JSON of the default experiment (test 'runs the default experiment'). */
let defaultResult: string | undefined;

/** Node's result JSON of an experiment document (the built package, like the page). */
function nodeResult(doc: unknown): string {
  const v = lib.validateExperiment(doc);
  if (!v.ok) throw new Error(v.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  return lib.resultToJSON(lib.runExperiment(v.experiment));
}

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;

async function saveDownload(click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [download] = (await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), click()])) as [Download, void];
  mkdirSync(DOWNLOADS, { recursive: true });
  const file = join(DOWNLOADS, download.suggestedFilename());
  await download.saveAs(file);
  return { name: download.suggestedFilename(), text: readFileSync(file, "utf8") };
}

/** Click Run and wait for the result panel to say `status`. */
async function runToEnd(status = "max-iterations", timeout = 90_000): Promise<void> {
  await page.click("#run");
  await page.waitForSelector(`#final[data-status="${status}"]`, { timeout });
}

const text = async (selector: string) => ((await page.textContent(selector)) ?? "").trim();

beforeAll(async () => {
  rmSync(DOWNLOADS, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await web?.close();
  await consumer?.close();
});

describe("builds", () => {
  test("tsup builds the package (dist/index.js, index.cjs, index.d.ts), and Node loads it by its name", async () => {
    await buildLibrary();
    for (const f of ["dist/index.js", "dist/index.cjs", "dist/index.d.ts"]) expect(existsSync(join(ROOT, f)), f).toBe(true);
    lib = (await import(/* @vite-ignore */ PACKAGE)) as typeof Package;
    expect(typeof lib.runExperiment).toBe("function");
    await lib.init();
  }, 360_000); // 5 entries in 2 formats with their .d.ts: minutes on a busy machine

  test("no bundle in dist/ compiles code from strings (new Function, eval): the experiment schema's validator is precompiled", () => {
    const files = scripts(join(ROOT, "dist"));
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(["index.js", "index.cjs", "core.js", "experiment.js", "cli.js"]));
    expect(files.filter((f) => COMPILES_CODE.test(f.text)).map((f) => f.file)).toEqual([]);
  });

  test("the subpath entries load by name in Node, as ES modules and CommonJS, and share one kernel state: init() from bilevel-rl/core serves bilevel-rl/experiment", async () => {
    const script = `
      const core = require("bilevel-rl/core"), exp = require("bilevel-rl/experiment"), all = require("bilevel-rl");
      if (core.DomainError !== all.DomainError || core.init !== all.init) throw new Error("two copies of the core");
      core.init().then(async () => {
        const v = exp.validateExperiment({ version: 1, seed: 0, problem: { builtin: "e1" }, algorithm: { name: "mSoBiRL" }, iterations: 2 });
        const cjs = exp.resultToJSON(exp.runExperiment(v.experiment));
        const [ecore, eexp, eplot, ebil] = await Promise.all(["core", "experiment", "plot", "bilevel"].map((n) => import("bilevel-rl/" + n)));
        await ecore.init(); // the ES modules are their own copy (the dual-package rule): one init for them too
        const esm = eexp.resultToJSON(eexp.runExperiment(v.experiment));
        console.log(JSON.stringify({ same: cjs === esm, core: Object.keys(ecore).length, plot: typeof eplot.lineChart, bilevel: typeof ebil.BilevelProblem }));
      });`;
    const out = JSON.parse((await sh(process.execPath, ["-e", script])).trim().split("\n").at(-1)!);
    expect(out).toEqual({ same: true, core: expect.any(Number), plot: "function", bilevel: "function" });
    expect(out.core).toBeGreaterThan(10);
  });

  test("bilevel-rl/core holds no schema validator, experiment code, bilevel algorithms or plots (dist/core.js and the chunks it imports)", () => {
    const graph = importGraph("core.js");
    expect(graph.length).toBeGreaterThan(1);
    const text = graph.map((f) => readFileSync(join(ROOT, "dist", f), "utf8")).join("\n");
    expect(text).toMatch(/softValueIteration/);
    for (const marker of NOT_CORE) expect(text.includes(marker), marker).toBe(false);
    // the root entry does hold them (the markers are real)
    const all = importGraph("index.js").map((f) => readFileSync(join(ROOT, "dist", f), "utf8")).join("\n");
    for (const marker of NOT_CORE.filter((m) => m !== "ajv")) expect(all.includes(marker), marker).toBe(true);
  });

  test("Vite builds the demo page into web/dist: static files only (index.html, assets), and it type-checks against the published .d.ts", async () => {
    await viteBuild(join(ROOT, "web"));
    const html = readFileSync(join(ROOT, "web/dist/index.html"), "utf8");
    expect(html).toMatch(/<script type="module"[^>]* src="\.\/assets\/index-[\w-]+\.js"/);
    await sh(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "web/tsconfig.json"]);
  });

  test("a consumer app builds with Vite without any configuration, and type-checks against the published .d.ts", async () => {
    await viteBuild(join(ROOT, "tests/consumer"), join(OUT, "consumer"));
    expect(existsSync(join(OUT, "consumer/index.html"))).toBe(true);
    await sh(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tests/consumer/tsconfig.json"]);
  });

  test("a core-only consumer page (bilevel-rl/core) builds with Vite into a bundle without the schema validator, experiment code or plots", async () => {
    await viteBuild(join(ROOT, "tests/consumer"), join(OUT, "consumer-core"), "core.html");
    const files = scripts(join(OUT, "consumer-core"));
    expect(files.length).toBeGreaterThan(0);
    const text = files.map((f) => f.text).join("\n");
    for (const marker of NOT_CORE) expect(text.includes(marker), marker).toBe(false);
    // the full consumer app's bundle does hold the validator (so the markers would be seen)
    expect(scripts(join(OUT, "consumer")).some((f) => f.text.includes("urn:bilevel-rl:experiment"))).toBe(true);
  });
});

describe("the demo page in Chromium", () => {
  beforeAll(async () => {
    if (!lib) throw new Error("the package was not built (see the first test)");
    web = await serveStatic(join(ROOT, "web/dist"), {}, { "content-security-policy": STRICT_CSP });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    await watchCsp(context);
    page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
    });
    await page.goto(web.url);
  });

  test("loads from plain static files, compiles the SIMD kernels in its worker and says so", async () => {
    await page.waitForSelector('#status[data-state="idle"]', { timeout: 60_000 });
    expect(await page.getAttribute("#engine", "data-simd")).toBe("true");
    expect(await text("#engine")).toMatch(/Chromium [\d.]+ · WebAssembly SIMD/);
    await page.waitForFunction((v) => document.getElementById("engine")?.textContent?.includes(`Chromium ${v}`), browser!.version(), { timeout: 5_000 });
    expect(await page.inputValue("#problem")).toBe("gridGoal");
    expect(await page.isVisible("#errors")).toBe(false);
    const names = await page.$$eval("#problem option", (os) => os.map((o) => (o as HTMLOptionElement).value));
    for (const p of ["gridGoal", "e1", "incentive", "rlhf", "shaping"]) expect(names).toContain(p);
  });

  test("runs the default experiment (gridgoal-msobirl.json) in its worker to exactly the numbers and bytes of runExperiment in Node", async () => {
    const node = nodeResult(readJson(DEFAULT_EXPERIMENT));
    const n = JSON.parse(node);
    await runToEnd();
    expect(await text("#final-status")).toBe("max-iterations");
    expect(await text("#final-iterations")).toBe(String(n.iterations));
    expect(await text("#final-phi")).toBe(String(n.final.phi));
    expect(await text("#final-f")).toBe(String(n.final.f));
    expect(await text("#final-hnorm")).toBe(String(n.final.hnorm));
    expect(await text("#final-hash")).toBe(fnv1a64Text(node));
    expect(await text("#progress")).toBe(`k = ${n.iterations} / ${n.iterations}`);
    expect(await text("#rate")).toMatch(/^\d[\d.]* it\/s/);
    await page.screenshot({ path: join(OUT, "demo.png"), fullPage: true });
    // the README's picture: written when missing or on request (its rate and times change on every run)
    if (!existsSync(join(ROOT, "docs/demo.png")) || process.env.UPDATE_DEMO_PNG === "1") {
      mkdirSync(join(ROOT, "docs"), { recursive: true });
      copyFileSync(join(OUT, "demo.png"), join(ROOT, "docs/demo.png"));
    }
    const downloaded = await saveDownload(() => page.click("#download-result"));
    expect(downloaded.name).toBe("gridgoal-msobirl.result.json");
    expect(downloaded.text === node, "the page's result JSON equals Node's byte for byte").toBe(true);
    defaultResult = downloaded.text;

    // what was drawn: the convergence curves (one point per iteration) and the 5 × 5 grid twice
    const drawn = await page.evaluate(() => {
      const segments = (d: string | null) => (d ?? "").split(/[ML]/).length - 1;
      const curves = Array.from(document.querySelectorAll("#curves svg path")).map((p) => segments(p.getAttribute("d")));
      const svgs = Array.from(document.querySelectorAll("#grid svg"));
      return {
        curveSvgs: document.querySelectorAll("#curves svg").length,
        longestCurve: Math.max(0, ...curves),
        gridSvgs: svgs.length,
        titles: svgs.map((s) => s.querySelector("text")?.textContent ?? ""),
        rects: svgs.map((s) => s.querySelectorAll("rect").length),
        arrowSegments: Math.max(0, ...Array.from(document.querySelectorAll("#grid svg:nth-of-type(2) path")).map((p) => segments(p.getAttribute("d")))),
      };
    });
    expect(drawn.curveSvgs).toBe(1);
    expect(drawn.longestCurve).toBeGreaterThanOrEqual(n.iterations); // ‖ĥ‖ for every row
    expect(drawn.gridSvgs).toBe(2);
    expect(drawn.titles[0]).toContain("learned reward");
    expect(drawn.titles[1]).toContain("lower policy");
    for (const r of drawn.rects) expect(r).toBeGreaterThanOrEqual(25);
    expect(drawn.arrowSegments).toBeGreaterThanOrEqual(24); // an arrow in (almost) every cell

  });

  test("Save experiment downloads a file that validates and runs in Node (runExperiment and the command line) to the page's result", async () => {
    expect(defaultResult, "needs the previous test's run").toBeDefined();
    const saved = await saveDownload(() => page.click("#save"));
    expect(saved.name).toBe("gridgoal-msobirl.json");
    const parsed = lib.parseExperiment(saved.text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    // the normalised document, as the command line writes it
    const normalised = lib.validateExperiment(readJson(DEFAULT_EXPERIMENT));
    expect(normalised.ok && parsed.experiment).toEqual(normalised.ok && normalised.experiment);
    expect(lib.resultToJSON(lib.runExperiment(parsed.experiment)) === defaultResult).toBe(true);
    // and the command line (dist/cli.js, built by tsup above) runs it to the same result (compared as data: its file layout is its own)
    const file = join(DOWNLOADS, saved.name);
    await sh(process.execPath, [join(ROOT, "dist/cli.js"), "run", file, "--out", join(OUT, "cli-run"), "--no-progress"]);
    expect(JSON.parse(readFileSync(join(OUT, "cli-run/result.json"), "utf8"))).toEqual(JSON.parse(defaultResult!));
  });

  test("loads a command-line experiment file (rlhf-sobirl.json: seeded model-free SoBiRL sampling trajectories) and runs it to Node's bytes", async () => {
    const file = join(EXAMPLES, "rlhf-sobirl.json");
    await page.setInputFiles("#load", file);
    await page.waitForFunction(() => (document.getElementById("problem") as HTMLSelectElement).value === "rlhf");
    expect(await page.inputValue("#algorithm")).toBe("soBiRL");
    expect(await page.isVisible("#errors")).toBe(false);
    const node = nodeResult(readJson(file));
    expect(JSON.parse(node).counters.sampledSteps).toBeGreaterThan(0);
    await runToEnd();
    expect(await text("#final-hash")).toBe(fnv1a64Text(node));
    expect(await text("#final-phi")).toBe(String(JSON.parse(node).final.phi));
    const downloaded = await saveDownload(() => page.click("#download-result"));
    expect(downloaded.text === node).toBe(true);
    // not a grid: the reward and policy tables are drawn instead
    expect(await page.$$eval("#grid svg", (s) => s.length)).toBe(2);
  });

  test("loads a contextual experiment file (contextual-incentive.json), lists its contexts with their weights and sizes, and runs it to Node's bytes", async () => {
    const file = join(EXAMPLES, "contextual-incentive.json");
    await page.setInputFiles("#load", file);
    await page.waitForFunction(() => (document.getElementById("problem") as HTMLSelectElement).value === "contextual");
    expect(await page.isVisible("#errors")).toBe(false);
    const listed = await text("#problem-description");
    expect(listed).toContain("0: goal top-right (w = 0.5");
    expect(listed).toContain("1: goal bottom-left (w = 0.5");
    const node = nodeResult(readJson(file));
    await runToEnd("max-iterations", 180_000);
    expect(await text("#problem-description")).toContain("S = 25"); // the built contexts' sizes
    expect(await text("#final-hash")).toBe(fnv1a64Text(node));
  }, 240_000);

  test("pause and resume: the run stops between iterations, the page stays responsive, and the resumed result equals Node's uninterrupted run", async () => {
    await page.selectOption("#problem", "e1");
    await page.waitForFunction(() => (document.getElementById("algorithm") as HTMLSelectElement).value === "mSoBiRL");
    // long enough (≈ 4 s in Node) that the click lands before the end even on a loaded machine
    await page.fill("#iterations", "100000");
    await page.dispatchEvent("#iterations", "change");
    const doc = { ...readJson(join(EXAMPLES, "e1-msobirl.json")), iterations: 100000 };
    expect(JSON.parse(await page.inputValue("#json"))).toEqual(doc);
    await page.click("#run");
    const k = (s: string) => Number(/k = (\d+)/.exec(s)?.[1]);
    await page.waitForFunction(() => Number(/k = (\d+)/.exec(document.getElementById("progress")?.textContent ?? "")?.[1]) > 0, undefined, { timeout: 30_000 });
    await page.click("#pause");
    await page.waitForSelector('#status[data-state="paused"]', { timeout: 30_000 });
    const at = k(await text("#progress"));
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(100000);
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(0)))); // the page still renders
    expect(Date.now() - t0).toBeLessThan(5_000);
    await page.waitForTimeout(400);
    expect(k(await text("#progress"))).toBe(at); // nothing ran while paused
    expect(await text("#run")).toBe("Resume");
    const node = nodeResult(doc);
    await runToEnd("max-iterations", 240_000);
    expect(await text("#final-iterations")).toBe("100000");
    expect(await text("#final-hash")).toBe(fnv1a64Text(node));
  }, 300_000);

  test("errors in a loaded file are listed on the page with their JSON paths (and lines), nothing is thrown", async () => {
    await page.setInputFiles("#load", {
      name: "bad.json",
      mimeType: "application/json",
      buffer: Buffer.from('{\n  "version": 1, "seed": 0,\n  "problem": { "builtin": "e1" },\n  "algorithm": { "name": "mSoBiRL", "beta": -0.1, "zetta": 0.5 },\n  "iterations": 10\n}\n'),
    });
    await page.waitForSelector("#errors:not([hidden])");
    expect(await text("#errors-title")).toContain("bad.json");
    const items = await page.$$eval("#errors-list li", (lis) => lis.map((li) => ({ path: (li as HTMLElement).dataset.path, text: li.textContent })));
    expect(items).toContainEqual({ path: "/algorithm/beta", text: "/algorithm/beta: expected a positive number, got -0.1 (line 4, column 45)" });
    expect(items.some((i) => i.path === "/algorithm/zetta" && /did you mean 'zeta'/.test(i.text ?? ""))).toBe(true);
    expect(await page.inputValue("#problem")).toBe("e1"); // the document was not replaced
    expect(await page.inputValue("#json")).toContain('"zetta"'); // the file is shown for fixing

    await page.setInputFiles("#load", { name: "broken.json", mimeType: "application/json", buffer: Buffer.from('{\n  "version": 1,,\n}') });
    await page.waitForFunction(() => document.getElementById("errors-title")?.textContent?.includes("broken.json"));
    expect(await text("#errors-list")).toBe('/: JSON syntax error at line 2, column 16: expected a property name in double quotes, got ","');

    // an error only building reveals (x0's length for a built-in problem) comes back from the worker, also with its path
    const x0 = { ...readJson(join(EXAMPLES, "e1-msobirl.json")), iterations: 5, x0: [1, 2, 3] };
    await page.setInputFiles("#load", { name: "x0.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(x0)) });
    await page.waitForSelector("#errors", { state: "hidden" });
    await page.click("#run");
    await page.waitForSelector('#status[data-state="invalid"]', { timeout: 30_000 });
    expect(await page.$$eval("#errors-list li", (lis) => lis.map((li) => (li as HTMLElement).dataset.path))).toEqual(["/x0"]);
  });

  test("the page ran under its strict Content-Security-Policy without a single violation", async () => {
    expect(await cspViolations(page)).toEqual([]);
  });

  test("nothing was written to the console and no exception escaped", () => {
    expect(problems).toEqual([]);
  });
});

describe("a consumer app in Chromium", () => {
  test("the consumer bundle solves a gridworld, samples trajectories and runs an experiment to Node's bytes, on both kernel builds", async () => {
    if (!lib) throw new Error("the package was not built (see the first test)");
    consumer = await serveStatic(join(OUT, "consumer"), {}, { "content-security-policy": STRICT_CSP });
    browser ??= await launchChromium();
    const ctx = await browser.newContext();
    await watchCsp(ctx);
    const p = await ctx.newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    await p.goto(consumer.url);
    await p.waitForSelector('#out:not([data-state="running"])', { timeout: 60_000 });
    expect(await p.getAttribute("#out", "data-state"), await p.textContent("#out") ?? "").toBe("done");
    const inChromium = JSON.parse((await p.textContent("#out")) ?? "") as ConsumerOutput;
    violations.push(...(await cspViolations(p)));
    await ctx.close();
    // imported by path: tests/consumer/ imports "bilevel-rl" (dist/), so the repository's own type check can leave it out
    const { solveAll } = (await import(/* @vite-ignore */ join(ROOT, "tests/consumer/solve.ts"))) as { solveAll(): Promise<ConsumerOutput> };
    const inNode = await solveAll();
    writeFileSync(join(OUT, "consumer-output.json"), JSON.stringify({ chromium: inChromium, node: inNode }, null, 2) + "\n");
    expect(inChromium.auto.simd).toBe(true);
    expect(inChromium.scalar.simd).toBe(false);
    expect({ ...inChromium.scalar, simd: true }).toEqual(inChromium.auto); // the two builds agree bit for bit
    expect(inChromium).toEqual(inNode);
    expect(inChromium.auto.sweeps).toBeGreaterThan(10);
    // parseExperiment under script-src 'self': both mistakes named by JSON path, line and column
    expect(inChromium.invalid).toContain("/algorithm/beta: expected a positive number, got -0.1 (line 4, column 45)");
    expect(inChromium.invalid.some((m) => m.startsWith("/algorithm/zetta: unknown parameter") && m.includes("did you mean 'zeta'"))).toBe(true);
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
  });

  test("the core-only page runs under the strict CSP, and the policy is in force there (eval throws and is reported)", async () => {
    // a same-origin script that tries what a CSP without 'unsafe-eval' forbids (the control)
    const probe = `try { new Function("return 1")(); document.documentElement.dataset.probe = "allowed"; } catch (e) { document.documentElement.dataset.probe = e.name; }`;
    const server = await serveStatic(join(OUT, "consumer-core"), { "/csp-probe.js": probe }, { "content-security-policy": STRICT_CSP });
    try {
      browser ??= await launchChromium();
      const ctx = await browser.newContext();
      await watchCsp(ctx);
      const p = await ctx.newPage();
      await p.goto(`${server.url}core.html`);
      await p.waitForSelector('#out:not([data-state="running"])', { timeout: 60_000 });
      expect(await p.getAttribute("#out", "data-state"), (await p.textContent("#out")) ?? "").toBe("done");
      const out = JSON.parse((await p.textContent("#out")) ?? "");
      expect(out).toMatchObject({ simd: true, checked: true });
      expect(out.V0).toBeGreaterThan(0);
      expect(await cspViolations(p)).toEqual([]);
      // the control: what the library must not do is blocked on this page, and the listener sees it
      await p.addScriptTag({ url: `${server.url}csp-probe.js` });
      expect(await p.getAttribute("html", "data-probe")).toBe("EvalError");
      await p.waitForFunction(() => (globalThis as unknown as { __csp: string[] }).__csp.length > 0, undefined, { timeout: 5_000 });
      expect((await cspViolations(p)).join("\n")).toMatch(/script-src.*blocked eval/);
      await ctx.close();
    } finally {
      await server.close();
    }
  });
});
