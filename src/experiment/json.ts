// A strict JSON parser (RFC 8259) that reports the first syntax error with its line and
// column — the same words in every JavaScript engine, unlike JSON.parse's messages — and
// records where each value starts, by JSON pointer, so that validation errors can point
// into the file. Duplicate keys are reported too (JSON.parse silently keeps the last).

/** A JSON syntax error and where it is. */
export interface JsonSyntaxError {
  /** 0-based character offset. */
  offset: number;
  /** 1-based line and column (columns count UTF-16 code units). */
  line: number;
  column: number;
  message: string;
}

/** What `parseJson` returns. */
export type JsonParseResult =
  | { ok: true; value: unknown; positions: Map<string, number>; duplicates: { pointer: string; offset: number }[] }
  | { ok: false; error: JsonSyntaxError };

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1, start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) { line++; start = i + 1; }
  }
  return { line, column: offset - start + 1 };
}

/** Escape a key for a JSON pointer (RFC 6901). */
export function pointerToken(key: string | number): string {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

class Fail {
  constructor(readonly offset: number, readonly message: string) {}
}

/**
 * JSON.parse that also reports where each value sits (JSON pointer → offset) and every
 * duplicate key, with a line and column on a syntax error.
 */
export function parseJson(text: string): JsonParseResult {
  const positions = new Map<string, number>();
  const duplicates: { pointer: string; offset: number }[] = [];
  let i = 0;
  const n = text.length;
  const describe = (at: number): string => (at >= n ? "the end of the input" : JSON.stringify(text[at]));
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const value = (pointer: string): unknown => {
    ws();
    positions.set(pointer, i);
    if (i >= n) throw new Fail(i, "expected a value, got the end of the input");
    const c = text[i];
    if (c === "{") return object(pointer);
    if (c === "[") return array(pointer);
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    if (c === "'") throw new Fail(i, "strings must use double quotes");
    if (c === "}" || c === "]") throw new Fail(i, `expected a value, got ${describe(i)}`);
    if (text.startsWith("NaN", i) || text.startsWith("Infinity", i)) throw new Fail(i, "NaN and Infinity are not JSON numbers");
    throw new Fail(i, `expected a value, got ${describe(i)}`);
  };
  const object = (pointer: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    i++; // {
    ws();
    if (text[i] === "}") { i++; return out; }
    for (;;) {
      ws();
      if (text[i] !== '"') {
        if (text[i] === "}") throw new Fail(i, "trailing comma before '}'");
        throw new Fail(i, `expected a property name in double quotes, got ${describe(i)}`);
      }
      const keyAt = i;
      const key = string();
      ws();
      if (text[i] !== ":") throw new Fail(i, `expected ':' after the property name ${JSON.stringify(key)}, got ${describe(i)}`);
      i++;
      const p = `${pointer}/${pointerToken(key)}`;
      if (seen.has(key)) duplicates.push({ pointer: p, offset: keyAt });
      seen.add(key);
      const v = value(p);
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      ws();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === "}") { i++; return out; }
      throw new Fail(i, `expected ',' or '}' after a property value, got ${describe(i)}`);
    }
  };
  const array = (pointer: string): unknown[] => {
    const out: unknown[] = [];
    i++; // [
    ws();
    if (text[i] === "]") { i++; return out; }
    for (;;) {
      ws();
      if (text[i] === "]") throw new Fail(i, "trailing comma before ']'");
      out.push(value(`${pointer}/${out.length}`));
      ws();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === "]") { i++; return out; }
      throw new Fail(i, `expected ',' or ']' after an array element, got ${describe(i)}`);
    }
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    for (;;) {
      if (i >= n) throw new Fail(start, "unterminated string");
      const c = text.charCodeAt(i);
      if (c === 34) { i++; return out; }
      if (c < 32) throw new Fail(i, "control characters must be escaped inside strings");
      if (c === 92) {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && e in simple) { out += simple[e]; i += 2; continue; }
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16)); i += 6; continue; }
        throw new Fail(i, "invalid escape sequence in a string");
      }
      out += text[i];
      i++;
    }
  };
  const number = (): number => {
    const start = i;
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (text[i] >= "1" && text[i] <= "9") while (text[i] >= "0" && text[i] <= "9") i++;
    else throw new Fail(i, `expected a digit, got ${describe(i)}`);
    if (text[i] === ".") {
      i++;
      if (!(text[i] >= "0" && text[i] <= "9")) throw new Fail(i, `expected a digit after the decimal point, got ${describe(i)}`);
      while (text[i] >= "0" && text[i] <= "9") i++;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!(text[i] >= "0" && text[i] <= "9")) throw new Fail(i, `expected a digit in the exponent, got ${describe(i)}`);
      while (text[i] >= "0" && text[i] <= "9") i++;
    }
    if (text[i] >= "0" && text[i] <= "9") throw new Fail(start, "numbers must not have leading zeros");
    return Number(text.slice(start, i));
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
    const v = value("");
    ws();
    if (i < n) throw new Fail(i, `unexpected ${describe(i)} after the end of the document`);
    return { ok: true, value: v, positions, duplicates };
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    const { line, column } = lineColumn(text, e.offset);
    return { ok: false, error: { offset: e.offset, line, column, message: e.message } };
  }
}
