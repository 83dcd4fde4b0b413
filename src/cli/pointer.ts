// JSON pointers (RFC 6901): "/algorithm/beta" → ["algorithm", "beta"]; "~1" is "/", "~0" is "~".

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`expected a JSON pointer such as /algorithm/beta, got ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function formatPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => "/" + String(t).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** The value at `pointer` (undefined when a step is missing). */
export function getPointer(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[Array.isArray(cur) ? Number(t) : t];
  }
  return cur;
}

/**
 * A deep copy of `doc` with `value` at `pointer`; missing objects on the way are created.
 * Throws when the path runs through a non-object (e.g. a number).
 */
export function setPointer(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return structuredClone(value);
  const root = structuredClone(doc) as Record<string, unknown>;
  if (root === null || typeof root !== "object") throw new Error(`cannot set ${pointer}: the document is not an object`);
  let cur: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const last = i === tokens.length - 1;
    if (Array.isArray(cur)) {
      const idx = t === "-" ? cur.length : Number(t);
      if (!Number.isInteger(idx) || idx < 0 || idx > cur.length) throw new Error(`cannot set ${pointer}: ${formatPointer(tokens.slice(0, i))} has no index ${t}`);
      if (last) cur[idx] = structuredClone(value);
      else {
        if (cur[idx] === undefined) cur[idx] = {};
        const next: unknown = cur[idx];
        if (next === null || typeof next !== "object") throw new Error(`cannot set ${pointer}: ${formatPointer(tokens.slice(0, i + 1))} is not an object`);
        cur = next as Record<string, unknown>;
      }
    } else {
      if (last) cur[t] = structuredClone(value);
      else {
        if (cur[t] === undefined) cur[t] = {};
        const next = cur[t];
        if (next === null || typeof next !== "object") throw new Error(`cannot set ${pointer}: ${formatPointer(tokens.slice(0, i + 1))} is not an object`);
        cur = next as Record<string, unknown>;
      }
    }
  }
  return root;
}
