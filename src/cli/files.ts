// Reading input files for the command line: a missing file or a JSON syntax error is a
// UsageError (exit 2) naming the file, and for syntax errors the line and column.
import { readFileSync } from "node:fs";
import { UsageError } from "./errors";

export function readText(file: string, what = "file"): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new UsageError(`cannot read ${what} ${file}: ${why}`);
  }
}

/** Line and column (both 1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1, start = 0;
  const end = Math.min(Math.max(0, offset), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

/**
 * JSON.parse with an error that says where: `file:3:9: JSON syntax error: unexpected number`.
 * Works with the messages of every Node version (position N, line/column, or end of input).
 */
export function parseJson(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const msg = err.message;
    let offset: number;
    const lc = /\(line (\d+) column (\d+)\)/.exec(msg);
    const pos = /at position (\d+)/.exec(msg);
    let where: { line: number; column: number };
    if (lc) where = { line: Number(lc[1]), column: Number(lc[2]) };
    else {
      offset = pos ? Number(pos[1]) : /end of (JSON )?input|Unterminated|end of data/i.test(msg) ? body.length : 0;
      where = lineColumn(body, offset);
    }
    let reason = msg
      .replace(/\s*\(line \d+ column \d+\)/, "")
      .replace(/\s*in JSON at position \d+/, "")
      .replace(/\s*after JSON at position \d+/, " after the JSON value")
      .replace(/^JSON\.parse: /, "")
      .replace(/, "[^"]*"\.\.\. is not valid JSON$/, "")
      .replace(/^Unexpected end of JSON input$/, "unexpected end of input");
    if (/^Unexpected token/.test(reason) && body.length > 0) {
      const off = where.line === 1 ? where.column - 1 : undefined;
      if (off !== undefined && body[off] !== undefined) reason = `Unexpected token ${JSON.stringify(body[off])}`;
    }
    reason = reason.charAt(0).toLowerCase() + reason.slice(1);
    throw new UsageError(`${file}:${where.line}:${where.column}: JSON syntax error: ${reason}`);
  }
}

export function readJson(file: string, what = "file"): unknown {
  return parseJson(readText(file, what), file);
}
