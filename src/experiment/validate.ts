// Validation of experiment documents: the JSON schema (draft 2020-12, precompiled at build
// time by scripts/write-schema.mjs, so nothing is compiled at run time) for types, names and
// ranges, then the semantic checks of what depends on the sizes (./semantic). Every problem is
// reported with a JSON pointer and a message such as (./messages)
//   /algorithm/beta: expected a positive number, got -0.1
// Valid documents come back normalised (./normalize): every constant default filled in, keys
// in a fixed order.
import validateSchema from "./generated/validateSchema.js";
import { parseJson } from "./json";
import { got, schemaErrors, type S } from "./messages";
import { normalize } from "./normalize";
import { ALGORITHMS, PROBLEMS } from "./registry";
import { semantic } from "./semantic";
import type { ExperimentIssue, ValidationResult } from "./types";

export { GENERATOR_DEFAULTS } from "./normalize";
export { got, describe } from "./messages";

/**
 * Validate an experiment document (already parsed JSON). On success the experiment comes
 * back normalised (defaults filled, keys in a fixed order); on failure every problem found
 * is listed with a JSON pointer. Pure: builds nothing and needs no `init()`.
 */
export function validateExperiment(doc: unknown): ValidationResult {
  if (!validateSchema(doc)) return { ok: false, errors: schemaErrors(validateSchema.errors ?? [], doc) };
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
