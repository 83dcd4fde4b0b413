// The words of experiment validation: how values and schemas read in a message, and the
// precompiled schema validator's errors turned into issues at JSON pointers, e.g.
//   /algorithm/beta: expected a positive number, got -0.1
import { pointerToken } from "./json";
import type { SchemaError } from "./generated/validateSchema.js";
import type { ExperimentIssue } from "./types";

/** How a value reads in a message: numbers as JavaScript prints them, strings quoted. */
export function got(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return "an object";
}

export const quote = (v: unknown) => (typeof v === "string" ? `'${v}'` : String(v));

export function list(items: readonly unknown[], last = "or"): string {
  const q = items.map(quote);
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} ${last} ${q[q.length - 1]}`;
}

export type S = Record<string, unknown>;

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

export function suggestion(name: string, allowed: readonly string[]): string {
  let best: string | undefined, bd = Infinity;
  for (const a of allowed) {
    const d = a.toLowerCase() === name.toLowerCase() ? 0 : distance(a, name);
    if (d < bd) { bd = d; best = a; }
  }
  return best !== undefined && bd <= Math.max(1, Math.floor(name.length / 3)) ? `; did you mean '${best}'?` : "";
}

/**
 * The schema validator's errors as issues: one message per problem, in words, at its JSON
 * pointer. Of an anyOf, only the branch whose type fits the data speaks.
 */
export function schemaErrors(errors: readonly SchemaError[], doc: unknown): ExperimentIssue[] {
  // anyOf: keep the branch whose type fits the data, else one message for the whole anyOf
  const drop = new Set<SchemaError>();
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
