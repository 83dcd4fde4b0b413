// Typed errors. Every message names the rule, where it was broken and the value seen,
// e.g. `P: row (s=3, a=1) sums to 0.93; each row must sum to 1 within 1e-9`.

/** Position of a bad entry: a flat index, or a labelled tuple such as `{ s: 3, a: 1 }`. */
export type Where = number | Record<string, number> | undefined;

function describeWhere(where: Where): string {
  if (where === undefined) return "";
  if (typeof where === "number") return `[${where}]`;
  return ` (${Object.entries(where).map(([k, v]) => `${k}=${v}`).join(", ")})`;
}

/** Wrong type or shape (length, dimension) of an argument. */
export class ShapeError extends TypeError {
  override name = "ShapeError";
  /** `argument` broke `rule` with `value`; `where` locates the bad entry (see `Where`). */
  constructor(readonly argument: string, readonly rule: string, readonly value: unknown, readonly where?: Where) {
    super(`${argument}${describeWhere(where)}: ${rule}; got ${show(value)}`);
  }
}

/** A value outside its domain: NaN, a negative count, a row that is not a distribution… */
export class DomainError extends RangeError {
  override name = "DomainError";
  /** `argument` broke `rule` with `value`; `where` locates the bad entry (see `Where`). */
  constructor(readonly argument: string, readonly rule: string, readonly value: unknown, readonly where?: Where) {
    super(`${argument}${describeWhere(where)}: ${rule}; got ${show(value)}`);
  }
}

/** The problem does not fit into wasm32 linear memory (4 GiB). */
export class MemoryLimitError extends RangeError {
  override name = "MemoryLimitError";
  /** Needed and available bytes, and what to do instead (e.g. use CSR transitions). */
  constructor(readonly bytesNeeded: number, readonly bytesAvailable: number, advice: string) {
    super(`needs ${bytesNeeded} bytes of wasm memory but at most ${bytesAvailable} are available; ${advice}`);
  }
}

/** The library was used before `await init()`, or the engine lacks WebAssembly. */
export class InitError extends Error {
  override name = "InitError";
}

/** A numerical failure that input checks cannot rule out (e.g. a singular system). */
export class NumericalError extends Error {
  override name = "NumericalError";
}

export function show(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(length ${(value as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(value)) return `Array(length ${value.length})`;
  return typeof value;
}
