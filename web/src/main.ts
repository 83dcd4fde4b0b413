// The demo page: an experiment editor (forms generated from the library's registry, and the
// experiment file itself), a solver worker (worker.ts) driven by Run / Pause / Reset, and
// live pictures drawn with the project's SVG plots (src/plot): the learned reward and the
// lower policy on the grid, the convergence curves, the iteration rate.
//
// The library is imported exactly as a consumer imports it: `from "bilevel-rl"`, which
// resolves through package.json "exports" to the built dist/index.js.
import {
  algorithmInfo,
  parseExperiment,
  problemInfo,
  validateExperiment,
  ALGORITHMS,
  PROBLEMS,
  type ExperimentIssue,
  type ParamSpec,
} from "bilevel-rl";
import { convergenceChart, heatmap, policyArrows, stateValuesToCells, wallsOf } from "../../src/plot/index";
import type { FromWorker, GridView, Issue, Picture, Row, ToWorker } from "./protocol";
import "./style.css";

type Doc = Record<string, any>;
type Phase = "loading" | "idle" | "running" | "paused" | "max-iterations" | "converged" | "diverged" | "interrupted" | "failed" | "invalid";

// ---------------------------------------------------------------------------------------
// presets: the repository's example experiments, one per problem

const examples = import.meta.glob("../../examples/experiments/*.json", { eager: true, import: "default" }) as Record<string, Doc>;
const PRESETS = new Map<string, Doc>();
for (const path of Object.keys(examples).sort()) {
  const doc = examples[path];
  if (doc?.version === undefined || typeof doc.problem !== "object" || doc.problem === null) continue; // e.g. a sweep file
  const key = problemKey(doc);
  if (!PRESETS.has(key)) PRESETS.set(key, doc);
}
const DEFAULT_PROBLEM = "gridGoal";
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

// ---------------------------------------------------------------------------------------
// elements

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  engine: $("engine"),
  status: $("status"),
  progress: $("progress"),
  rate: $("rate"),
  problem: $<HTMLSelectElement>("problem"),
  problemDescription: $("problem-description"),
  algorithm: $<HTMLSelectElement>("algorithm"),
  iterations: $<HTMLInputElement>("iterations"),
  seed: $<HTMLInputElement>("seed"),
  phiEvery: $<HTMLInputElement>("phiEvery"),
  build: $<HTMLSelectElement>("build"),
  problemParams: $("problem-params"),
  algorithmParams: $("algorithm-params"),
  run: $<HTMLButtonElement>("run"),
  pause: $<HTMLButtonElement>("pause"),
  reset: $<HTMLButtonElement>("reset"),
  load: $<HTMLInputElement>("load"),
  save: $<HTMLButtonElement>("save"),
  downloadResult: $<HTMLButtonElement>("download-result"),
  errors: $("errors"),
  errorsTitle: $("errors-title"),
  errorsList: $("errors-list"),
  json: $<HTMLTextAreaElement>("json"),
  applyJson: $<HTMLButtonElement>("apply-json"),
  final: $("final"),
  finalStatus: $("final-status"),
  finalIterations: $("final-iterations"),
  finalPhi: $("final-phi"),
  finalF: $("final-f"),
  finalHnorm: $("final-hnorm"),
  finalCounters: $("final-counters"),
  finalHash: $("final-hash"),
  grid: $("grid"),
  curves: $("curves"),
};

// ---------------------------------------------------------------------------------------
// state

let doc: Doc = clone(PRESETS.get(DEFAULT_PROBLEM)!);
let phase: Phase = "loading";
let worker: Worker | null = null;
let rows: Row[] = [];
let total = 0;
let done = 0;
let grid: GridView | null = null;
let picture: Picture | null = null;
let resultJson: string | null = null;
let runName = "";
/** Wall time spent running (pauses excluded), for the rate. */
let runningSince = 0;
let runningMs = 0;
let rateSamples: { t: number; done: number }[] = [];
let kernels = { simd: false, supported: false };

// ---------------------------------------------------------------------------------------
// the experiment document ⇄ the form

function problemKey(d: Doc): string {
  if (!d?.problem || typeof d.problem !== "object") return "custom";
  if ("builtin" in d.problem) return String(d.problem.builtin);
  return Array.isArray(d.problem.contexts) ? "contextual" : "custom";
}

/** A contextual problem's contexts (docs/math.md#contextual): name, weight and, once built, S. */
function contextsText(d: Doc, sizes?: { name: string; weight: number; S: number }[]): string {
  const cs = (d?.problem?.contexts ?? []) as { name?: string; weight?: number; problem?: { builtin?: string } }[];
  const items = cs.map((c, i) => {
    const name = sizes?.[i]?.name ?? c.name ?? c.problem?.builtin ?? "custom";
    return `${i}: ${name} (w = ${c.weight}${sizes?.[i] ? `, S = ${sizes[i].S}` : ""})`;
  });
  return `A contextual problem, φ(x) = Σ_c w_c φ_c(x) with one x (docs/math.md#contextual); edit it in the JSON below. Contexts: ${items.join("; ")}.`;
}

function fillSelects(): void {
  ui.problem.replaceChildren(
    ...PROBLEMS.map((p) => new Option(p.name, p.name)),
    new Option("custom (from a file)", "custom"),
    ...(PRESETS.has("contextual") ? [new Option("contextual (from a file)", "contextual")] : []),
  );
  ui.algorithm.replaceChildren(...ALGORITHMS.map((a) => new Option(a.name, a.name)));
}

/** Rebuild every field from `doc`. */
function renderForm(): void {
  const key = problemKey(doc);
  ui.problem.value = key;
  const pinfo = key === "custom" || key === "contextual" ? undefined : problemInfo(key);
  ui.problemDescription.textContent = pinfo ? pinfo.description : key === "contextual" ? contextsText(doc) : "A problem written out in the file (MDP, reward, upper objective): edit it in the JSON below.";
  for (const opt of Array.from(ui.algorithm.options)) {
    const a = algorithmInfo(opt.value)!;
    const contexts = (Array.isArray(doc?.problem?.contexts) ? doc.problem.contexts : []) as { problem?: Doc }[];
    const trajectory = pinfo
      ? pinfo.trajectory
      : key === "contextual"
        ? contexts.every((c) => (c.problem?.builtin ? !!problemInfo(String(c.problem.builtin))?.trajectory : !!c.problem?.upper?.preference))
        : !!doc?.problem?.upper?.preference;
    opt.disabled = a.needsTrajectory && !trajectory;
    opt.title = a.description + (opt.disabled ? " (needs a trajectory objective: rlhf, happyText or a custom preference upper)" : "");
  }
  ui.algorithm.value = String(doc?.algorithm?.name ?? "");
  numberInto(ui.iterations, doc.iterations, 1);
  numberInto(ui.seed, doc.seed, 0);
  numberInto(ui.phiEvery, doc.record?.phiEvery, 0);
  ui.problemParams.replaceChildren(
    ...(pinfo
      ? pinfo.params.map((spec) =>
          field(spec, `/problem/params/${spec.name}`, () => doc.problem.params?.[spec.name], (v) => {
            doc.problem.params ??= {};
            if (v === undefined) delete doc.problem.params[spec.name];
            else doc.problem.params[spec.name] = v;
          }),
        )
      : [hint(key === "contextual" ? "contextual problem: see the JSON" : "custom problem: see the JSON")]),
  );
  const ainfo = algorithmInfo(String(doc?.algorithm?.name));
  ui.algorithmParams.replaceChildren(
    ...(ainfo
      ? ainfo.params.map((spec) =>
          field(spec, `/algorithm/${spec.name}`, () => doc.algorithm[spec.name], (v) => {
            if (v === undefined) delete doc.algorithm[spec.name];
            else doc.algorithm[spec.name] = v;
          }),
        )
      : []),
  );
}

function numberInto(input: HTMLInputElement, v: unknown, fallback: number): void {
  input.value = v === undefined ? "" : String(v);
  input.placeholder = String(fallback);
}

function hint(text: string): HTMLElement {
  const p = document.createElement("p");
  p.className = "hint";
  p.textContent = text;
  return p;
}

const showDefault = (spec: ParamSpec) =>
  spec.default !== undefined ? JSON.stringify(spec.default) : spec.defaultText ?? (spec.seeded ? "the experiment's seed" : "");

/** One form field for a registry parameter. Empty = the default (the key is left out of the file). */
function field(spec: ParamSpec, path: string, get: () => unknown, set: (v: unknown) => void): HTMLElement {
  const label = document.createElement("label");
  label.dataset.path = path;
  label.title = `${spec.description}${showDefault(spec) ? ` Default: ${showDefault(spec)}.` : ""}`;
  label.append(spec.name);
  const current = get();
  let input: HTMLInputElement | HTMLSelectElement;
  if (spec.type === "boolean" || spec.enum) {
    const select = document.createElement("select");
    const values = spec.type === "boolean" ? [true, false] : spec.enum!;
    select.append(new Option(`default${showDefault(spec) ? ` (${showDefault(spec)})` : ""}`, ""));
    for (const v of values) select.append(new Option(String(v), JSON.stringify(v)));
    select.value = current === undefined ? "" : JSON.stringify(current);
    if (select.value === "" && current !== undefined) {
      // a value the form does not offer (the validator will name it): keep it visible
      select.append(new Option(`${JSON.stringify(current)} (invalid)`, JSON.stringify(current)));
      select.value = JSON.stringify(current);
    }
    select.onchange = () => {
      set(select.value === "" ? undefined : JSON.parse(select.value));
      changed();
    };
    input = select;
  } else {
    const text = document.createElement("input");
    const numeric = spec.type === "number" || spec.type === "integer";
    text.type = numeric ? "number" : "text";
    if (numeric) text.step = spec.type === "integer" ? "1" : "any";
    text.placeholder = showDefault(spec);
    text.value = current === undefined ? "" : numeric && typeof current === "number" ? String(current) : JSON.stringify(current);
    text.onchange = () => {
      const raw = text.value.trim();
      if (raw === "") set(undefined);
      else if (numeric) set(Number.isFinite(Number(raw)) ? Number(raw) : raw);
      else {
        let v: unknown;
        try {
          v = JSON.parse(raw);
        } catch {
          v = raw; // not JSON: kept as text, and the validator reports the type with the path
        }
        set(v);
      }
      changed();
    };
    input = text;
  }
  label.append(input);
  return label;
}

function topField(input: HTMLInputElement, set: (v: unknown) => void): void {
  input.onchange = () => {
    const raw = input.value.trim();
    set(raw === "" ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw);
    changed();
  };
}

/** After an edit: refresh the JSON and the error list (nothing is thrown, nothing goes to the console). */
function changed(): void {
  ui.json.value = JSON.stringify(doc, null, 2);
  const v = validateExperiment(doc);
  showErrors(v.ok ? [] : v.errors, "The experiment is not valid:");
}

function showErrors(errors: readonly (Issue | ExperimentIssue)[], title: string): void {
  for (const el of document.querySelectorAll(".invalid")) el.classList.remove("invalid");
  if (errors.length === 0) {
    ui.errors.hidden = true;
    ui.errorsList.replaceChildren();
    return;
  }
  ui.errors.hidden = false;
  ui.errorsTitle.textContent = title;
  ui.errorsList.replaceChildren(
    ...errors.map((e) => {
      const li = document.createElement("li");
      li.dataset.path = e.path;
      const code = document.createElement("code");
      code.textContent = e.path || "/";
      const where = e.line !== undefined && !e.message.includes(`line ${e.line}, column ${e.column}`) ? ` (line ${e.line}, column ${e.column})` : "";
      li.append(code, `: ${e.message}${where}`);
      return li;
    }),
  );
  for (const e of errors) {
    for (const el of document.querySelectorAll<HTMLElement>("[data-path]")) {
      if (el.tagName === "LABEL" && (e.path === el.dataset.path || e.path.startsWith(`${el.dataset.path}/`))) el.classList.add("invalid");
    }
  }
  const top = { "/iterations": ui.iterations, "/seed": ui.seed, "/record/phiEvery": ui.phiEvery } as Record<string, HTMLElement>;
  for (const e of errors) top[e.path]?.parentElement?.classList.add("invalid");
}

/** Replace the document by a file's text (load or the JSON editor): errors are listed with their JSON paths. */
function useText(text: string, source: string): boolean {
  const v = parseExperiment(text);
  if (!v.ok) {
    showErrors(v.errors, `${source} is not a valid experiment file (nothing was changed):`);
    return false;
  }
  doc = JSON.parse(text) as Doc; // the file as written (parseExperiment accepted it, so it is plain JSON)
  resetRun();
  renderForm();
  changed();
  return true;
}

// ---------------------------------------------------------------------------------------
// running

function setPhase(p: Phase): void {
  phase = p;
  ui.status.dataset.state = p;
  ui.status.textContent = p === "idle" ? "ready" : p === "max-iterations" ? "completed (max iterations)" : p;
  const active = p === "running" || p === "paused";
  ui.run.disabled = !(p === "idle" || p === "paused" || p === "max-iterations" || p === "converged" || p === "diverged" || p === "interrupted" || p === "failed" || p === "invalid");
  ui.run.textContent = p === "paused" ? "Resume" : "Run";
  ui.pause.disabled = p !== "running";
  ui.reset.disabled = p === "loading" || p === "idle";
  for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>("#controls input, #controls select, #controls textarea, #apply-json, #save"))
    el.disabled = active;
  ui.downloadResult.disabled = resultJson === null;
}

function resetRun(): void {
  worker?.terminate();
  worker = null;
  rows = [];
  total = done = 0;
  grid = null;
  picture = null;
  resultJson = null;
  runningMs = 0;
  rateSamples = [];
  ui.final.dataset.status = "none";
  for (const el of [ui.finalStatus, ui.finalIterations, ui.finalPhi, ui.finalF, ui.finalHnorm, ui.finalCounters, ui.finalHash]) el.textContent = "–";
  ui.rate.textContent = "– it/s";
  ui.progress.textContent = "–";
  ui.grid.replaceChildren(placeholder("Run the experiment to see the learned reward and the lower policy."));
  ui.curves.replaceChildren(placeholder("The convergence curves (φ or f, and ‖ĥ‖) appear here while it runs."));
  if (phase !== "loading") setPhase("idle");
}

function placeholder(text: string): HTMLElement {
  const p = document.createElement("p");
  p.className = "placeholder";
  p.textContent = text;
  return p;
}

function run(): void {
  if (phase === "paused" && worker) {
    worker.postMessage({ type: "resume" } satisfies ToWorker);
    return;
  }
  const v = validateExperiment(doc);
  if (!v.ok) {
    showErrors(v.errors, "The experiment is not valid:");
    setPhase("invalid");
    return;
  }
  resetRun();
  showErrors([], "");
  runName = v.experiment.name;
  worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "bilevel-rl solver" });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onWorker(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    fail(`the solver worker failed: ${e.message || "unknown error"}`);
  };
  worker.postMessage({ type: "start", experiment: v.experiment, build: ui.build.value as "auto" | "simd" | "scalar" } satisfies ToWorker);
  setPhase("running");
  runningSince = performance.now();
}

function fail(message: string): void {
  worker?.terminate();
  worker = null;
  showErrors([{ path: "", message }], "The run failed:");
  setPhase("failed");
}

function onWorker(m: FromWorker): void {
  switch (m.type) {
    case "ready":
      kernels = { simd: m.simd, supported: m.simdSupported };
      break;
    case "started":
      total = m.total;
      grid = m.grid;
      if (m.summary.contexts) ui.problemDescription.textContent = contextsText(doc, m.summary.contexts);
      ui.engine.textContent = engineText(m.simd);
      ui.engine.dataset.simd = String(m.simd);
      rateSamples = [{ t: performance.now(), done: 0 }];
      scheduleRender();
      break;
    case "progress": {
      rows.push(...m.rows);
      done = m.done;
      total = m.total;
      if (m.picture) picture = m.picture;
      const t = performance.now();
      rateSamples.push({ t, done });
      while (rateSamples.length > 2 && t - rateSamples[0].t > 1500) rateSamples.shift();
      scheduleRender();
      break;
    }
    case "paused":
      runningMs += performance.now() - runningSince;
      setPhase("paused");
      rateSamples = [];
      render();
      break;
    case "resumed":
      runningSince = performance.now();
      rateSamples = [{ t: runningSince, done: m.done }];
      setPhase("running");
      break;
    case "finished": {
      runningMs += performance.now() - runningSince;
      done = m.done;
      resultJson = m.json;
      worker?.terminate();
      worker = null;
      ui.finalStatus.textContent = m.message === undefined ? m.status : `${m.status}: ${m.message}`;
      ui.finalIterations.textContent = String(m.done);
      ui.finalPhi.textContent = m.final.phi === undefined ? "(not evaluable)" : String(m.final.phi);
      ui.finalF.textContent = String(m.final.f);
      ui.finalHnorm.textContent = String(m.final.hnorm);
      ui.finalCounters.textContent = `${m.counters.sweeps} sweeps, ${m.counters.solves} solves, ${m.counters.sampledSteps} sampled steps`;
      ui.finalHash.textContent = m.hash;
      render();
      const rate = runningMs > 0 ? (1000 * m.done) / runningMs : NaN;
      ui.rate.textContent = `${formatRate(rate)} it/s (mean, ${(runningMs / 1000).toFixed(2)} s; solver busy ${(m.busyMs / 1000).toFixed(2)} s)`;
      ui.final.dataset.status = m.status;
      setPhase(m.status);
      break;
    }
    case "invalid":
      worker?.terminate();
      worker = null;
      showErrors(m.errors, "The experiment cannot be run:");
      setPhase("invalid");
      break;
    case "failed":
      fail(m.message);
      break;
  }
}

/** The browser and its version (the user agent string is frozen at "N.0.0.0": ask for the full version where it is offered). */
let browserName = (() => {
  const chrome = /Chrom(?:e|ium)\/([\d.]+)/.exec(navigator.userAgent);
  return chrome ? `Chromium ${chrome[1]}` : navigator.userAgent.split(" ").slice(-1)[0];
})();
type UAData = { getHighEntropyValues(hints: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }> };
(navigator as unknown as { userAgentData?: UAData }).userAgentData
  ?.getHighEntropyValues(["fullVersionList"])
  .then((v) => {
    const brand = v.fullVersionList?.find((b) => b.brand === "Chromium") ?? v.fullVersionList?.find((b) => /Chrome|Edge|Opera/.test(b.brand));
    if (brand) browserName = `${brand.brand} ${brand.version}`;
    if (ui.engine.dataset.simd !== undefined) ui.engine.textContent = engineText(ui.engine.dataset.simd === "true");
  })
  .catch(() => {});

function engineText(simd: boolean): string {
  const engine = browserName;
  return `${engine} · WebAssembly ${simd ? "SIMD (f64x2)" : "scalar"} kernels${!simd && kernels.supported ? " (SIMD available)" : ""}`;
}

const formatRate = (r: number) => (!Number.isFinite(r) ? "–" : r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toPrecision(2));

// ---------------------------------------------------------------------------------------
// pictures

let renderPending = false;
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function render(): void {
  ui.progress.textContent = `k = ${done} / ${total}`;
  if (phase === "running" && rateSamples.length >= 2) {
    const a = rateSamples[0], b = rateSamples[rateSamples.length - 1];
    if (b.t > a.t) ui.rate.textContent = `${formatRate((1000 * (b.done - a.done)) / (b.t - a.t))} it/s`;
  }
  if (rows.length > 0) ui.curves.innerHTML = convergenceChart([{ name: runName, history: rows }], { width: 1000, height: 360, title: "convergence" });
  if (picture) drawPicture(picture);
}

function drawPicture(p: Picture): void {
  const { S, A, r, pi } = p;
  try {
    if (grid) {
      const rState = new Float64Array(S);
      for (let s = 0; s < S; s++) {
        let sum = 0;
        for (let a = 0; a < A; a++) sum += r[s * A + a];
        rState[s] = sum / A;
      }
      const shape = { width: grid.width, height: grid.height, cellToState: grid.cellToState, actions: grid.actions };
      // two pictures side by side: about 300 px of grid each (cells between 4 and 52 px)
      const cellSize = Math.max(4, Math.min(52, Math.floor(300 / Math.max(grid.width, grid.height))));
      ui.grid.innerHTML =
        heatmap(stateValuesToCells(rState, shape), grid.width, grid.height, { title: `learned reward r_x (k = ${p.k})`, walls: wallsOf(shape), marks: grid.marks, label: "r_x(s)", cellSize }) +
        policyArrows(pi, shape, { title: `lower policy π*(x_k)`, background: rState, backgroundLabel: "r_x(s)", marks: grid.marks, skip: grid.skip, cellSize });
    } else {
      ui.grid.innerHTML =
        heatmap(r, A, S, { title: `learned reward r_x(s, a) (k = ${p.k})`, label: "r_x", annotate: S * A <= 60 }) +
        heatmap(pi, A, S, { title: "lower policy π*(a | s)", label: "π", min: 0, max: 1, annotate: S * A <= 60 });
    }
  } catch (e) {
    ui.grid.replaceChildren(placeholder(`(no picture: ${(e as Error).message})`));
  }
}

// ---------------------------------------------------------------------------------------
// files

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const fileName = (name: string) => name.replace(/[^\w.-]+/g, "_") || "experiment";

function save(): void {
  const v = validateExperiment(doc);
  if (!v.ok) {
    showErrors(v.errors, "Not saved: the experiment is not valid:");
    return;
  }
  // the normalised experiment: every default written out, so the file means the same thing later
  download(JSON.stringify(v.experiment, null, 2) + "\n", `${fileName(v.experiment.name)}.json`);
}

// ---------------------------------------------------------------------------------------
// wiring

function wire(): void {
  ui.problem.onchange = () => {
    const key = ui.problem.value;
    const preset = PRESETS.get(key);
    if (preset) doc = clone(preset);
    else {
      const info = problemInfo(key)!;
      const alg = ALGORITHMS.find((a) => !a.needsTrajectory || info.trajectory)!.name;
      doc = { version: 1, name: `${key}-${alg}`.toLowerCase(), seed: 0, problem: { builtin: key, params: {} }, algorithm: { name: alg }, iterations: 100, record: { phiEvery: 10 } };
    }
    resetRun();
    renderForm();
    changed();
  };
  ui.algorithm.onchange = () => {
    const name = ui.algorithm.value;
    const preset = PRESETS.get(problemKey(doc));
    doc.algorithm = preset && preset.algorithm.name === name ? clone(preset.algorithm) : { name };
    doc.name = `${problemKey(doc)}-${name}`.toLowerCase();
    delete doc.description;
    renderForm();
    changed();
  };
  topField(ui.iterations, (v) => (v === undefined ? delete doc.iterations : (doc.iterations = v)));
  topField(ui.seed, (v) => (v === undefined ? delete doc.seed : (doc.seed = v)));
  topField(ui.phiEvery, (v) => {
    doc.record ??= {};
    if (v === undefined) delete doc.record.phiEvery;
    else doc.record.phiEvery = v;
  });
  ui.run.onclick = run;
  ui.pause.onclick = () => worker?.postMessage({ type: "pause" } satisfies ToWorker);
  ui.reset.onclick = () => resetRun();
  ui.save.onclick = save;
  ui.downloadResult.onclick = () => resultJson !== null && download(resultJson, `${fileName(runName)}.result.json`);
  ui.applyJson.onclick = () => useText(ui.json.value, "The JSON");
  ui.load.onchange = async () => {
    const file = ui.load.files?.[0];
    ui.load.value = "";
    if (!file) return;
    const text = await file.text();
    if (!useText(text, file.name)) {
      ui.json.value = text;
      ($("json-panel") as HTMLDetailsElement).open = true;
    }
  };
}

fillSelects();
wire();
renderForm();
changed();
resetRun();
// Probe the kernels once (a worker compiles them) so the header names the engine before any run.
{
  const probe = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "bilevel-rl probe" });
  probe.onmessage = (e: MessageEvent<FromWorker>) => {
    if (e.data.type === "ready") {
      kernels = { simd: e.data.simd, supported: e.data.simdSupported };
      ui.engine.textContent = engineText(e.data.simd);
      ui.engine.dataset.simd = String(e.data.simd);
      probe.terminate();
      setPhase("idle");
    } else if (e.data.type === "failed") {
      probe.terminate();
      fail(e.data.message);
    }
  };
  probe.onerror = (e) => {
    e.preventDefault();
    probe.terminate();
    fail(`the solver worker could not start: ${e.message || "unknown error"}`);
  };
}
