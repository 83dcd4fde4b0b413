// The one table writer of the command line: CSV (compare.csv, merge's summary.csv) and
// Markdown tables (compare.md, summary.md). Each command formats its own values; this
// module only quotes and lays out.
//
// CSV follows RFC 4180's quoting: a field holding a comma, a double quote, CR or LF is
// enclosed in double quotes, with each inner double quote doubled; other fields are
// written as they are. Records end with LF (not the RFC's CRLF), as they always have here.

/** One CSV field: null and undefined are empty, strings and numbers as they are, anything else as JSON. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "number" ? String(v) : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header line and one line per row, each line ending in "\n". */
export function toCSV(head: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [head.map(csvField).join(",")];
  for (const r of rows) lines.push(r.map(csvField).join(","));
  return lines.join("\n") + "\n";
}

export type Align = "left" | "right";

/** One Markdown table cell: a `|` inside it is escaped so that it cannot end the cell. */
export function markdownCell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

/** A GitHub-flavoured Markdown table of already formatted cells, ending in "\n". */
export function toMarkdown(head: readonly string[], align: readonly Align[], rows: Iterable<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const lines = [line(head.map(markdownCell)), line(align.map((a) => (a === "right" ? "---:" : "---")))];
  for (const r of rows) lines.push(line(r.map(markdownCell)));
  return lines.join("\n") + "\n";
}
