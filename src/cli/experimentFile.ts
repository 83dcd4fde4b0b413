// Experiment files as the commands read them: syntax and validation errors are UsageErrors
// (exit 2) naming the file, the JSON path and, for syntax errors, the line and column.
import { basename, extname } from "node:path";
import { parseJson } from "../experiment/json";
import type { Experiment, ExperimentIssue } from "../experiment/types";
import { parseExperiment } from "../experiment/validate";
import { UsageError } from "./errors";
import { readText } from "./files";

export function issueLines(issues: readonly ExperimentIssue[]): string[] {
  return issues.map((e) => `${e.path || "/"}: ${e.message}`);
}

/** Read, parse and validate an experiment file: syntax and validation errors are UsageErrors (exit 2). */
export function loadExperiment(file: string): Experiment {
  const text = readText(file, "experiment file");
  const v = parseExperiment(text);
  if (v.ok) return v.experiment;
  const syntax = v.errors.length === 1 && v.errors[0].path === "" && /^JSON syntax error/.test(v.errors[0].message);
  if (syntax) throw new UsageError(`${file}: ${v.errors[0].message}`);
  const n = v.errors.length;
  throw new UsageError(`${file}: invalid experiment (${n} error${n === 1 ? "" : "s"}):`, issueLines(v.errors));
}

/** The raw JSON document of a file that loadExperiment already accepted. */
export function rawDocument(file: string): Record<string, unknown> {
  const p = parseJson(readText(file, "experiment file"));
  if (!p.ok) throw new UsageError(`${file}: JSON syntax error at line ${p.error.line}, column ${p.error.column}: ${p.error.message}`);
  return p.value as Record<string, unknown>;
}

/** The file name without its directory and extension: the default output directory's name. */
export function stem(file: string): string {
  const b = basename(file);
  const e = extname(b);
  return e ? b.slice(0, -e.length) : b;
}
