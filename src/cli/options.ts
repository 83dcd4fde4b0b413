// Parsers of command-line option values: a bad value is a UsageError (exit 2) naming the option.
import { ALGORITHM_NAMES } from "../experiment/registry";
import { suggestion } from "../experiment/validate";
import { UsageError } from "./errors";

export function parseNumberOption(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) throw new UsageError(`${name}: expected a number, got ${JSON.stringify(v)}`);
    return x;
  };
}

/** A finite number > 0 (a step, a tolerance, a width): 0 and negatives are usage errors, not failed runs. */
export function parsePositiveNumberOption(name: string) {
  const parse = parseNumberOption(name);
  return (v: string): number => {
    const x = parse(v);
    if (!(x > 0)) throw new UsageError(`${name}: expected a positive number, got ${JSON.stringify(v)}`);
    return x;
  };
}

export function parseIntOption(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(x) || x < 1) throw new UsageError(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

export function parseAlgorithms(v: string): string[] {
  const names = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--algorithms: expected a comma-separated list of algorithms, got ${JSON.stringify(v)}`);
  for (const n of names) {
    if (!ALGORITHM_NAMES.includes(n)) throw new UsageError(`--algorithms: unknown algorithm ${JSON.stringify(n)}${suggestion(n, ALGORITHM_NAMES)}; expected some of ${ALGORITHM_NAMES.join(", ")}`);
  }
  if (new Set(names).size !== names.length) throw new UsageError(`--algorithms: each algorithm may appear once, got ${JSON.stringify(v)}`);
  return names;
}
