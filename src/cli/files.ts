// Reading input files for the command line: a missing or unreadable file is a UsageError
// (exit 2) naming the file. (JSON syntax errors, with line and column, come from
// src/experiment/json.ts's parser.)
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
