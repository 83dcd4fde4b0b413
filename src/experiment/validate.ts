// Validation of experiment documents: the JSON schema (ajv, draft 2020-12) for types, names
// and ranges, then semantic checks of what depends on the sizes (P rows, Φ's shape, x_0's
// length, …). Every problem is reported with a JSON pointer and a message such as
//   /algorithm/beta: expected a positive number, got -0.1
// Valid documents come back normalised: every constant default filled in, keys in a fixed order.
import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { experimentSchema } from "./schema";
import { parseJson, pointerToken } from "./json";
import { ALGORITHMS, PROBLEMS, REWARDS, UPPERS, algorithmInfo, problemInfo, type Json, type ParamSpec } from "./registry";
import type { Experiment, ExperimentIssue, ValidationResult } from "./types";

/** Tolerance of "sums to 1" (the library's). */
const SUM_TOL = 1e-9;

let compiled: ValidateFunction | undefined;

/** The compiled schema validator (compiled once, on first use). */
function schemaValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false });
    compiled = ajv.compile(experimentSchema);
  }
  return compiled;
}

// ---------------------------------------------------------------------------------------
// messages

/** How a value reads in a message: numbers as JavaScript prints them, strings quoted. */
export function got(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return "an object";
}

const quote = (v: unknown) => (typeof v === "string" ? `'${v}'` : String(v));

function list(items: readonly unknown[], last = "or"): string {
  const q = items.map(quote);
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} ${last} ${q[q.length - 1]}`;
}

type S = Record<string, unknown>;

function numberWords(s: S): string {
  const kind = s.type === "integer" ? "integer" : "number";
  const lo = s.minimum as number | undefined, xlo = s.exclusiveMinimum as number | undefined;
  const hi = s.maximum as number | undefined, xhi = s.exclusiveMaximum as number | undefined;
  const hasLo = lo !== undefined || xlo !== undefined, hasHi = (hi !== undefined && hi !== Number.MAX_SAFE_INTEGER) || xhi !== undefined;
  if (!hasHi) {
    if (xlo === 0 || (kind === "integer" && lo === 1)) return `a positive ${kind}`;
    if (lo === 0) return `a non-negative ${kind}`;
    if (lo !== undefined) return `${kind === "integer" ? "an" : "a"} ${kind} ≥ ${lo}`;
    if (xlo !== undefined) return `a ${kind} > ${xlo}`;
    return kind === "integer" ? "an integer" : "a number";
  }
  const left = xlo !== undefined ? `(${xlo}` : lo !== undefined ? `[${lo}` : "(−∞";
  const right = xhi !== undefined ? `${xhi})` : `${hi}]`;
  if (hasLo) return `${kind === "integer" ? "an" : "a"} ${kind} in ${left}, ${right}`;
  return `${kind === "integer" ? "an" : "a"} ${kind} ${xhi !== undefined ? "<" : "≤"} ${xhi ?? hi}`;
}

function itemsWord(items: unknown): string {
  const t = (items as S | undefined)?.type;
  return t === "number" ? "numbers" : t === "integer" ? "integers" : t === "string" ? "strings" : "values";
}

/** What a schema expects, in words: "a positive number", "one of 'value' or 'bellman'", … */
export function describe(schema: unknown): string {
  if (typeof schema !== "object" || schema === null) return "a valid value";
  const s = schema as S;
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.length <= 2 ? list(s.enum) : `one of ${list(s.enum)}`;
  if (Array.isArray(s.anyOf)) return s.anyOf.map(describe).join(" or ");
  const t = s.type;
  if (Array.isArray(t)) return t.map((x) => (x === "array" || x === "object" || x === "integer" ? `an ${x}` : `a ${x}`)).join(" or ");
  switch (t) {
    case "number":
    case "integer":
      return numberWords(s);
    case "boolean":
      return "true or false";
    case "string":
      return "a string";
    case "array":
      if (s.minItems === 2 && s.maxItems === 2) return "a cell [row, col] of two non-negative integers";
      return s.items ? `an array of ${itemsWord(s.items)}` : "an array";
    case "object": {
      const props = s.properties as S | undefined;
      if (s.minProperties === 1 && s.maxProperties === 1 && props) return `an object with exactly one of ${list(Object.keys(props))}`;
      if (typeof s.additionalProperties === "object") return "an object of numbers";
      return "an object";
    }
  }
  if (typeof s.$ref === "string") return "an object";
  return "a valid value";
}

/** Levenshtein distance (for "did you mean" hints). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** "; did you mean 'x'?" for the allowed name nearest to `name` (case-insensitive first), or "". */
export function suggestion(name: string, allowed: readonly string[]): string {
  let best: string | undefined, bd = Infinity;
  for (const a of allowed) {
    const d = a.toLowerCase() === name.toLowerCase() ? 0 : distance(a, name);
    if (d < bd) { bd = d; best = a; }
  }
  return best !== undefined && bd <= Math.max(1, Math.floor(name.length / 3)) ? `; did you mean '${best}'?` : "";
}

function schemaErrors(errors: ErrorObject[], doc: unknown): ExperimentIssue[] {
  // anyOf: keep the branch whose type fits the data, else one message for the whole anyOf
  const drop = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== "anyOf") continue;
    const branches = ((e.parentSchema as S)?.anyOf ?? []) as S[];
    // a const branch of the right type says less than the whole anyOf ("problem" or numbers)
    const fits = branches.map((b, i) => ({ i, ok: typeFits(b, e.data) && !("const" in b) })).filter((b) => b.ok);
    for (const other of errors) {
      if (other === e || !other.schemaPath.startsWith(e.schemaPath + "/")) continue;
      const idx = Number(other.schemaPath.slice(e.schemaPath.length + 1).split("/")[0]);
      if (fits.length !== 1 || idx !== fits[0].i) drop.add(other);
    }
    if (fits.length === 1) drop.add(e);
  }
  const out: ExperimentIssue[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string) => {
    const key = `${path}\u0000${message}`;
    if (!seen.has(key)) { seen.add(key); out.push({ path, message }); }
  };
  for (const e of errors) {
    if (drop.has(e) || e.keyword === "if") continue;
    const parent = e.parentSchema as S;
    switch (e.keyword) {
      case "required": {
        const prop = (e.params as { missingProperty: string }).missingProperty;
        const propSchema = (parent?.properties as S | undefined)?.[prop];
        const what = propSchema && !(propSchema as S).$ref ? `; expected ${describe(propSchema)}` : "";
        push(`${e.instancePath}/${pointerToken(prop)}`, `missing (required)${what}`);
        break;
      }
      case "additionalProperties": {
        const prop = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = Object.keys((parent?.properties as S | undefined) ?? {}).filter((k) => k !== "name" || e.instancePath !== "/algorithm");
        let where = "";
        if (e.instancePath === "/algorithm") where = ` of ${quote((e.data as S).name)}`;
        else if (e.instancePath === "/problem/params") where = ` of ${quote((((doc as S).problem as S) ?? {}).builtin)}`;
        const takes = allowed.length === 0 ? " (it takes none)" : ` (allowed: ${allowed.join(", ")})`;
        const noun = where ? "parameter" : "property";
        push(`${e.instancePath}/${pointerToken(prop)}`, `unknown ${noun} ${JSON.stringify(prop)}${where}${suggestion(prop, allowed)}${takes}`);
        break;
      }
      case "minProperties":
      case "maxProperties": {
        const keys = Object.keys((parent?.properties as S | undefined) ?? {});
        const have = Object.keys((e.data as S) ?? {});
        push(e.instancePath, `expected exactly one of ${list(keys)}, got ${have.length ? list(have, "and") : "none"}`);
        break;
      }
      case "const":
        if (e.instancePath === "/version") push(e.instancePath, `unsupported version ${got(e.data)}: this library reads version 1`);
        else push(e.instancePath, `expected ${describe(parent)}, got ${got(e.data)}`);
        break;
      case "enum": {
        // a misspelt name ('msobirl', 'gridGaol'): point at the nearest allowed one
        const allowed = (parent?.enum as unknown[] | undefined)?.filter((v): v is string => typeof v === "string") ?? [];
        const hint = typeof e.data === "string" ? suggestion(e.data, allowed) : "";
        push(e.instancePath, `expected ${describe(parent)}, got ${got(e.data)}${hint}`);
        break;
      }
      default:
        push(e.instancePath, `expected ${describe(parent)}, got ${got(e.data)}`);
    }
  }
  return out;
}

function typeFits(schema: S, data: unknown): boolean {
  if ("const" in schema) return typeof data === typeof schema.const;
  const t = schema.type;
  const types = Array.isArray(t) ? t : [t];
  return types.some((x) =>
    x === "array" ? Array.isArray(data)
    : x === "object" ? typeof data === "object" && data !== null && !Array.isArray(data)
    : x === "integer" || x === "number" ? typeof data === "number"
    : typeof data === x);
}

// ---------------------------------------------------------------------------------------
// semantic checks

class Issues {
  readonly list: ExperimentIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

const isObj = (v: unknown): v is S => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** An array of `len` finite numbers at `path`; reports the first bad entry. */
function numbers(v: unknown, path: string, len: number, shape: string, out: Issues, nonNegative = false): v is number[] {
  const what = `${len} number${len === 1 ? "" : "s"} (${shape})`;
  if (!Array.isArray(v)) { out.add(path, `expected an array of ${what}, got ${got(v)}`); return false; }
  if (v.length !== len) { out.add(path, `expected ${what}, got an array of length ${v.length}`); return false; }
  for (let i = 0; i < len; i++) {
    if (!isNum(v[i])) { out.add(`${path}/${i}`, `expected a number, got ${got(v[i])}`); return false; }
    if (nonNegative && v[i] < 0) { out.add(`${path}/${i}`, `expected a non-negative number (a probability), got ${v[i]}`); return false; }
  }
  return true;
}

function distribution(v: unknown, path: string, S: number, out: Issues): void {
  if (!numbers(v, path, S, "S", out, true)) return;
  let sum = 0;
  for (const x of v) sum += x;
  if (Math.abs(sum - 1) > SUM_TOL) out.add(path, `expected a distribution summing to 1 (within ${SUM_TOL}), got entries summing to ${sum}`);
}

function policyTable(v: unknown, path: string, S: number, A: number, out: Issues): void {
  if (!numbers(v, path, S * A, "S·A, index s·A + a", out, true)) return;
  for (let s = 0; s < S; s++) {
    let sum = 0;
    for (let a = 0; a < A; a++) sum += v[s * A + a];
    if (Math.abs(sum - 1) > SUM_TOL) { out.add(`${path}/${s * A}`, `expected the row of state ${s} (entries ${s * A}..${s * A + A - 1}) to sum to 1 within ${SUM_TOL}, got ${sum}`); return; }
  }
}

function rowSum(row: number[], path: string, label: string, out: Issues): boolean {
  let sum = 0;
  for (const x of row) sum += x;
  if (Math.abs(sum - 1) > SUM_TOL) {
    out.add(path, `expected a probability row${label} summing to 1 (within ${SUM_TOL}), got a row summing to ${sum}`);
    return false;
  }
  return true;
}

function checkMdp(mdp: S, path: string, out: Issues): void {
  const S = mdp.S as number, A = mdp.A as number;
  if (mdp.rho !== undefined) distribution(mdp.rho, `${path}/rho`, S, out);
  const hasP = mdp.P !== undefined, hasCsr = mdp.csr !== undefined;
  if (hasP === hasCsr) { out.add(path, `expected exactly one of 'P' (dense) or 'csr' (sparse) transitions, got ${hasP ? "both" : "neither"}`); return; }
  if (hasP) {
    const P = mdp.P as unknown[];
    const p = `${path}/P`;
    if (P.length > 0 && Array.isArray(P[0])) {
      if (P.length !== S) { out.add(p, `expected S = ${S} arrays P[s] (nested P[s][a][s']), got an array of length ${P.length}`); return; }
      for (let s = 0; s < S; s++) {
        const Ps = P[s];
        if (!Array.isArray(Ps) || Ps.length !== A) { out.add(`${p}/${s}`, `expected A = ${A} rows P[s][a], got ${got(Ps)}`); return; }
        for (let a = 0; a < A; a++) {
          if (!numbers(Ps[a], `${p}/${s}/${a}`, S, `S, the distribution P(·|s=${s}, a=${a})`, out, true)) return;
          if (!rowSum(Ps[a] as number[], `${p}/${s}/${a}`, "", out)) return;
        }
      }
      return;
    }
    if (!Array.isArray(P) || P.length !== S * A * S) {
      out.add(p, `expected S·A·S = ${S * A * S} numbers (flat) or ${S} × ${A} × ${S} nested arrays, got ${got(P)}`);
      return;
    }
    if (!numbers(P, p, S * A * S, "S·A·S", out, true)) return;
    for (let i = 0; i < S * A; i++) {
      if (!rowSum(P.slice(i * S, i * S + S) as number[], `${p}/${i * S}`, ` (s=${Math.floor(i / A)}, a=${i % A}; entries ${i * S}..${i * S + S - 1})`, out)) return;
    }
    return;
  }
  const csr = mdp.csr as { indptr: number[]; indices: number[]; probs: number[] };
  const p = `${path}/csr`;
  const { indptr, indices, probs } = csr;
  if (indptr.length !== S * A + 1) { out.add(`${p}/indptr`, `expected S·A + 1 = ${S * A + 1} entries, got an array of length ${indptr.length}`); return; }
  if (indptr[0] !== 0) { out.add(`${p}/indptr/0`, `expected 0, got ${indptr[0]}`); return; }
  for (let i = 0; i < S * A; i++) if (indptr[i + 1] < indptr[i]) { out.add(`${p}/indptr/${i + 1}`, `expected a non-decreasing sequence, got ${indptr[i + 1]} after ${indptr[i]}`); return; }
  const nnz = indptr[S * A];
  if (indices.length !== nnz) { out.add(`${p}/indices`, `expected indptr[S·A] = ${nnz} entries, got an array of length ${indices.length}`); return; }
  if (probs.length !== nnz) { out.add(`${p}/probs`, `expected indptr[S·A] = ${nnz} entries, got an array of length ${probs.length}`); return; }
  for (let i = 0; i < S * A; i++) {
    const seen = new Set<number>();
    let sum = 0;
    for (let k = indptr[i]; k < indptr[i + 1]; k++) {
      if (indices[k] < 0 || indices[k] >= S) { out.add(`${p}/indices/${k}`, `expected a state in [0, ${S}), got ${indices[k]}`); return; }
      if (seen.has(indices[k])) { out.add(`${p}/indices/${k}`, `expected distinct next states within row (s=${Math.floor(i / A)}, a=${i % A}), got ${indices[k]} twice`); return; }
      seen.add(indices[k]);
      if (probs[k] < 0) { out.add(`${p}/probs/${k}`, `expected a non-negative number (a probability), got ${probs[k]}`); return; }
      sum += probs[k];
    }
    if (Math.abs(sum - 1) > SUM_TOL) {
      out.add(`${p}/probs/${indptr[i]}`, `expected the probabilities of row (s=${Math.floor(i / A)}, a=${i % A}) (entries ${indptr[i]}..${indptr[i + 1] - 1}) to sum to 1 within ${SUM_TOL}, got ${sum}`);
      return;
    }
  }
}

/** n of a reward model on an S × A MDP, after checking its arrays; undefined when broken. */
function checkReward(reward: S, path: string, S: number, A: number, out: Issues): number | undefined {
  const SA = S * A;
  const [kind, spec] = Object.entries(reward)[0] as [string, S];
  const p = `${path}/${kind}`;
  if (spec.offset !== undefined) numbers(spec.offset, `${p}/offset`, SA, "S·A", out);
  if (kind === "table") return SA;
  if (kind === "state") return S;
  const n = spec.n as number;
  const Phi = spec.Phi;
  const pp = `${p}/Phi`;
  if (Array.isArray(Phi)) {
    if (Phi.length > 0 && Array.isArray(Phi[0])) {
      if (Phi.length !== SA) { out.add(pp, `expected S·A = ${SA} rows of n = ${n} numbers, got an array of length ${Phi.length}`); return undefined; }
      for (let i = 0; i < SA; i++) if (!numbers(Phi[i], `${pp}/${i}`, n, `n, row s·A + a = ${i}`, out)) return undefined;
      return n;
    }
    if (Phi.length !== SA * n) { out.add(pp, `expected S·A·n = ${SA}·${n} = ${SA * n} numbers (row-major) or ${SA} rows of ${n}, got an array of length ${Phi.length}`); return undefined; }
    return numbers(Phi, pp, SA * n, "S·A·n", out) ? n : undefined;
  }
  if (!isObj(Phi) || !Array.isArray(Phi.indptr) || !Array.isArray(Phi.indices) || !Array.isArray(Phi.values)) {
    out.add(pp, `expected an array (dense Φ) or a CSR object { indptr, indices, values }, got ${got(Phi)}`);
    return undefined;
  }
  const { indptr, indices, values } = Phi as { indptr: unknown[]; indices: unknown[]; values: unknown[] };
  if (indptr.length !== SA + 1) { out.add(`${pp}/indptr`, `expected S·A + 1 = ${SA + 1} entries, got an array of length ${indptr.length}`); return undefined; }
  for (let i = 0; i <= SA; i++) {
    const v = indptr[i];
    if (!Number.isInteger(v) || (v as number) < 0 || (i > 0 && (v as number) < (indptr[i - 1] as number)) || (i === 0 && v !== 0)) {
      out.add(`${pp}/indptr/${i}`, `expected a non-decreasing sequence of integers from 0, got ${got(v)}`);
      return undefined;
    }
  }
  const nnz = indptr[SA] as number;
  if (indices.length !== nnz) { out.add(`${pp}/indices`, `expected indptr[S·A] = ${nnz} entries, got an array of length ${indices.length}`); return undefined; }
  for (let k = 0; k < nnz; k++) if (!Number.isInteger(indices[k]) || (indices[k] as number) < 0 || (indices[k] as number) >= n) { out.add(`${pp}/indices/${k}`, `expected a column in [0, n) = [0, ${n}), got ${got(indices[k])}`); return undefined; }
  return numbers(values, `${pp}/values`, nnz, "nnz", out) ? n : undefined;
}

function checkUpper(upper: S, path: string, S: number, A: number, out: Issues, rOptional: boolean): void {
  const SA = S * A;
  const [kind, spec] = Object.entries(upper)[0] as [string, S];
  const p = `${path}/${kind}`;
  if (kind === "policyLinear") numbers(spec.c, `${p}/c`, SA, "S·A", out);
  if (kind === "upperReturn") {
    if (spec.r !== undefined) numbers(spec.r, `${p}/r`, SA, "S·A", out);
    else if (!rOptional) out.add(`${p}/r`, `missing (required); expected S·A = ${SA} numbers (only the 'gridworld' and 'garnet' generators supply a default)`);
    if (spec.rho !== undefined) distribution(spec.rho, `${p}/rho`, S, out);
  }
  if (kind === "preference") numbers(spec.rTrue, `${p}/rTrue`, SA, "S·A", out);
}

/** Rows of the grid a grid-based built-in will use, when they follow from the parameters. */
function gridRows(builtin: string, params: S): string[] | undefined {
  if (Array.isArray(params.map)) return params.map as string[];
  if (builtin === "gridworld") return Array.from({ length: (params.height as number) ?? 5 }, () => ".".repeat((params.width as number) ?? 5));
  const size = (params.size as number) ?? (builtin === "shaping" ? 6 : 5);
  return Array.from({ length: size }, () => ".".repeat(size));
}

function checkBuiltinParams(builtin: string, params: S, out: Issues): void {
  const p = "/problem/params";
  if (builtin === "gridworld" || builtin === "gridGoal" || builtin === "shaping") {
    const allowed = builtin === "shaping" ? "#.S" : "#.GS";
    if (Array.isArray(params.map)) {
      const m = params.map as string[];
      if (m.length === 0) { out.add(`${p}/map`, "expected at least one row, got an empty array"); return; }
      for (let r = 0; r < m.length; r++) {
        if (m[r].length === 0 || m[r].length !== m[0].length) { out.add(`${p}/map/${r}`, `expected a row of ${m[0].length || "≥ 1"} characters (the first row's length), got ${got(m[r])}`); return; }
        for (const ch of m[r]) if (!allowed.includes(ch)) { out.add(`${p}/map/${r}`, `expected only ${list(allowed.split(""))} cells${builtin === "shaping" ? " (the goal is the 'goal' parameter)" : ""}, got ${JSON.stringify(ch)} in ${got(m[r])}`); return; }
      }
      if (!m.some((row) => /[.GS]/.test(row))) { out.add(`${p}/map`, "expected at least one non-wall cell, got only walls"); return; }
    }
    const rows = gridRows(builtin, params)!;
    for (const name of ["start", "target", "goal"]) {
      const c = params[name];
      if (!Array.isArray(c)) continue;
      const [r, col] = c as number[];
      if (r >= rows.length || col >= rows[0].length) out.add(`${p}/${name}`, `expected a cell on the ${rows.length} × ${rows[0].length} grid, got [${r}, ${col}]`);
      else if (rows[r][col] === "#") out.add(`${p}/${name}`, `expected a free cell, got the wall [${r}, ${col}]`);
    }
    if (builtin === "shaping" && Array.isArray(params.start) && Array.isArray(params.goal) && params.start[0] === params.goal[0] && params.start[1] === params.goal[1]) {
      out.add(`${p}/goal`, `expected a cell other than the start, got [${params.goal.join(", ")}]`);
    }
  }
  if (builtin === "happyText") {
    const vocab = params.vocabulary as string[] | undefined;
    const words = vocab ?? (problemInfo("happyText")!.params.find((q) => q.name === "vocabulary")!.default as string[]);
    if (vocab) {
      if (vocab.length < 2) out.add(`${p}/vocabulary`, `expected at least 2 tokens (words and the end token, last), got an array of length ${vocab.length}`);
      const seen = new Set<string>();
      vocab.forEach((w, i) => {
        if (w.length === 0) out.add(`${p}/vocabulary/${i}`, `expected a non-empty token, got ""`);
        if (seen.has(w)) out.add(`${p}/vocabulary/${i}`, `expected distinct tokens, got ${JSON.stringify(w)} twice`);
        seen.add(w);
      });
    }
    const usable = words.slice(0, -1);
    if (isObj(params.lexicon)) for (const w of Object.keys(params.lexicon)) if (!usable.includes(w)) out.add(`${p}/lexicon/${pointerToken(w)}`, `expected a word of the vocabulary (not the end token), got ${JSON.stringify(w)}`);
    if (Array.isArray(params.negators)) (params.negators as string[]).forEach((w, i) => { if (!usable.includes(w)) out.add(`${p}/negators/${i}`, `expected a word of the vocabulary (not the end token), got ${JSON.stringify(w)}`); });
  }
  if (builtin === "garnet" && isNum(params.branching) && params.branching > ((params.S as number) ?? 10)) {
    out.add(`${p}/branching`, `expected an integer ≤ S = ${(params.S as number) ?? 10}, got ${params.branching}`);
  }
}

/** The sizes S, A, n when they follow from the document without building anything. */
function knownSizes(doc: S): { S: number; A: number; n?: number } | undefined {
  const prob = doc.problem as S;
  if (isObj(prob.mdp)) {
    const { S, A } = prob.mdp as { S: number; A: number };
    const [kind, spec] = Object.entries(prob.reward as S)[0] as [string, S];
    return { S, A, n: kind === "table" ? S * A : kind === "state" ? S : (spec.n as number) };
  }
  return undefined;
}

function semantic(doc: S): ExperimentIssue[] {
  const out = new Issues();
  const prob = doc.problem as S;
  const alg = doc.algorithm as S;
  const ainfo = algorithmInfo(alg.name as string)!;
  let trajectory = false;
  let tau: number | undefined;
  if (typeof prob.builtin === "string") {
    const info = problemInfo(prob.builtin)!;
    const params = (prob.params ?? {}) as S;
    checkBuiltinParams(info.name, params, out);
    if (info.kind === "bilevel") {
      for (const k of ["reward", "upper", "tau"]) {
        if (prob[k] !== undefined) out.add(`/problem/${k}`, `not used by '${info.name}', which defines its own ${k === "tau" ? "τ (set params.tau)" : k}; only the 'gridworld' and 'garnet' generators take ${list(["reward", "upper", "tau"], "and")}`);
      }
      trajectory = info.trajectory;
      tau = (params.tau as number | undefined) ?? (info.params.find((q) => q.name === "tau")?.default as number);
    } else {
      // their reward and upper arrays need S and A: checked when the problem is built
      trajectory = isObj(prob.upper) && Object.keys(prob.upper)[0] === "preference";
      tau = (prob.tau as number | undefined) ?? 0.1;
    }
  } else {
    const mdp = prob.mdp as S;
    checkMdp(mdp, "/problem/mdp", out);
    const S = mdp.S as number, A = mdp.A as number;
    checkReward(prob.reward as S, "/problem/reward", S, A, out);
    checkUpper(prob.upper as S, "/problem/upper", S, A, out, false);
    trajectory = Object.keys(prob.upper as S)[0] === "preference";
    tau = prob.tau as number;
  }
  if (ainfo.needsSoft && tau === 0) out.add("/problem/tau", `expected a positive number: ${ainfo.name} needs an entropy temperature τ > 0, got 0`);
  if (ainfo.needsTrajectory && !trajectory) {
    const what = typeof prob.builtin === "string" ? `the '${prob.builtin}' problem has none` : "this problem's upper objective is not 'preference'";
    out.add("/algorithm/name", `${ainfo.name} needs a trajectory (preference) objective: use upper 'preference' or the 'rlhf' or 'happyText' problems; ${what}`);
  }
  // sizes known without building: x0 and the algorithm's array parameters
  const sizes = knownSizes(doc);
  if (sizes) {
    const { S, A, n } = sizes;
    if (Array.isArray(doc.x0) && n !== undefined) numbers(doc.x0, "/x0", n, "n", out);
    for (const spec of ainfo.params) {
      const v = alg[spec.name];
      if (v === undefined || !spec.length) continue;
      const len = spec.length === "S" ? S : spec.length === "S·A" ? S * A : spec.length === "S·(A−1)" ? S * (A - 1) : n;
      if (len === undefined) continue;
      if (spec.policy) policyTable(v, `/algorithm/${spec.name}`, S, A, out);
      else numbers(v, `/algorithm/${spec.name}`, len, spec.length, out);
    }
  }
  return out.list;
}

// ---------------------------------------------------------------------------------------
// normalisation

function fill(params: readonly ParamSpec[], given: S, seed: number): S {
  const out: S = {};
  for (const p of params) {
    if (given[p.name] !== undefined) out[p.name] = clone(given[p.name]);
    else if (p.seeded) out[p.name] = seed;
    else if (p.default !== undefined) out[p.name] = clone(p.default);
  }
  return out;
}

function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isObj(v)) {
    const o: S = {};
    for (const k of Object.keys(v)) o[k] = clone(v[k]);
    return o as T;
  }
  return v;
}

function oneOfSpec(defs: typeof REWARDS | typeof UPPERS, given: S, seed: number): S {
  const [kind, spec] = Object.entries(given)[0] as [string, S];
  const info = defs.find((d) => d.name === kind)!;
  return { [kind]: fill(info.params, spec, seed) };
}

/** Defaults of the 'gridworld' and 'garnet' generators' reward, upper and τ. */
export const GENERATOR_DEFAULTS: Readonly<Record<"gridworld" | "garnet", { reward: Json; upper: Json; tau: number }>> = {
  gridworld: { reward: { state: {} }, upper: { upperReturn: { lambda: 0.001 } }, tau: 0.1 },
  garnet: { reward: { table: {} }, upper: { upperReturn: { lambda: 0.01 } }, tau: 0.1 },
};

function normalize(doc: S): Experiment {
  const seed = doc.seed as number;
  const prob = doc.problem as S;
  const alg = doc.algorithm as S;
  let problem: S;
  if (typeof prob.builtin === "string") {
    const info = problemInfo(prob.builtin)!;
    problem = { builtin: info.name, params: fill(info.params, (prob.params ?? {}) as S, seed) };
    if (info.kind === "mdp") {
      const d = GENERATOR_DEFAULTS[info.name as "gridworld" | "garnet"];
      problem.reward = oneOfSpec(REWARDS, (prob.reward ?? d.reward) as S, seed);
      problem.upper = oneOfSpec(UPPERS, (prob.upper ?? d.upper) as S, seed);
      problem.tau = prob.tau ?? d.tau;
    }
  } else {
    const mdp = prob.mdp as S;
    const m: S = { S: mdp.S, A: mdp.A, gamma: mdp.gamma };
    if (mdp.rho !== undefined) m.rho = clone(mdp.rho);
    if (mdp.P !== undefined) m.P = clone(mdp.P);
    if (mdp.csr !== undefined) {
      const c = mdp.csr as S;
      m.csr = { indptr: clone(c.indptr), indices: clone(c.indices), probs: clone(c.probs) };
    }
    problem = { mdp: m, reward: oneOfSpec(REWARDS, prob.reward as S, seed), upper: oneOfSpec(UPPERS, prob.upper as S, seed), tau: prob.tau };
  }
  const ainfo = algorithmInfo(alg.name as string)!;
  const algorithm = { name: ainfo.name, ...fill(ainfo.params, alg, seed) };
  const record = (doc.record ?? {}) as S;
  const experiment: S = {
    version: 1,
    name: (doc.name as string | undefined) ?? `${typeof prob.builtin === "string" ? prob.builtin : "custom"}-${ainfo.name}`,
  };
  if (doc.description !== undefined) experiment.description = doc.description;
  Object.assign(experiment, {
    seed,
    problem,
    algorithm,
    iterations: doc.iterations,
    x0: doc.x0 === undefined ? "problem" : clone(doc.x0),
    record: { phiEvery: (record.phiEvery as number | undefined) ?? 0, x: (record.x as boolean | undefined) ?? false },
  });
  return experiment as unknown as Experiment;
}

// ---------------------------------------------------------------------------------------
// entry points

/**
 * Validate an experiment document (already parsed JSON). On success the experiment comes
 * back normalised (defaults filled, keys in a fixed order); on failure every problem found
 * is listed with a JSON pointer. Pure: builds nothing and needs no `init()`.
 */
export function validateExperiment(doc: unknown): ValidationResult {
  const validate = schemaValidator();
  if (!validate(doc)) return { ok: false, errors: schemaErrors(validate.errors ?? [], doc) };
  const errors = semantic(doc as S);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, experiment: normalize(doc as S) };
}

/**
 * Parse and validate the text of an experiment file. A JSON syntax error is reported at
 * path "" with its line and column; validation errors carry the line and column of the
 * value they point to (or of its nearest existing parent). Duplicate keys are errors.
 */
export function parseExperiment(text: string): ValidationResult {
  if (typeof text !== "string") return { ok: false, errors: [{ path: "", message: `expected the text of a JSON document, got ${got(text)}` }] };
  const parsed = parseJson(text);
  if (!parsed.ok) {
    const { line, column, message } = parsed.error;
    return { ok: false, errors: [{ path: "", message: `JSON syntax error at line ${line}, column ${column}: ${message}`, line, column }] };
  }
  const at = (pointer: string) => {
    let p = pointer;
    for (;;) {
      const off = parsed.positions.get(p);
      if (off !== undefined) return off;
      if (p === "") return 0;
      p = p.slice(0, p.lastIndexOf("/"));
    }
  };
  const withPos = (e: ExperimentIssue, offset?: number): ExperimentIssue => {
    const off = offset ?? at(e.path);
    let line = 1, start = 0;
    for (let i = 0; i < off; i++) if (text.charCodeAt(i) === 10) { line++; start = i + 1; }
    return { ...e, line, column: off - start + 1 };
  };
  if (parsed.duplicates.length > 0) {
    return { ok: false, errors: parsed.duplicates.map((d) => withPos({ path: d.pointer, message: "duplicate key: JSON objects must not repeat a property name" }, d.offset)) };
  }
  const result = validateExperiment(parsed.value);
  if (result.ok) return result;
  return { ok: false, errors: result.errors.map((e) => withPos(e)) };
}

/** Names of everything an experiment can refer to (for messages and completion). */
export const NAMES = { problems: PROBLEMS.map((p) => p.name), algorithms: ALGORITHMS.map((a) => a.name) };
