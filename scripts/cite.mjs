#!/usr/bin/env node
// Rewrites citations of the retired maths notes ("ALGORITHMS.md §3.1", or a bare "§3.1"
// that meant the same notes) into anchors of docs/math.md ("docs/math.md#m-sobirl").
// Idempotent: a rewritten file has nothing left to rewrite, so it is safe to re-run after
// merging branches that still carry old citations. Only the citation substring changes.
//
//   node scripts/cite.mjs           rewrite in place, list the files changed
//   node scripts/cite.mjs --check   change nothing; exit 1 listing files with old citations
//
// tests/citations.test.ts imports `rewrite` and `citationFiles` to check the same thing.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The old notes' file name (spelled in two pieces so this file does not cite it). */
export const OLD = "ALGORITHMS" + ".md";

/** Old section number → anchor of docs/math.md (context rules in `anchorFor` refine some). */
export const SECTIONS = {
  "0": "provenance",
  "1": "conventions",
  "1.1": "soft-values",
  "1.2": "soft-bellman",
  "2": "derivatives",
  "2.1": "fixed-point-derivative",
  "2.2": "policy-derivative",
  "2.3": "hypergradient",
  "2.4": "model-free",
  "2.5": "soft-policy-gradient",
  "2.6": "x-dependent-transitions",
  "2.7": "policy-mirror-descent",
  "3": "algorithms",
  "3.0": "exact-descent",
  "3.1": "m-sobirl",
  "3.2": "sobirl",
  "3.3": "amd",
  "3.4": "pbrl",
  "3.5": "parl",
  "3.6": "actor-critic",
  "3.7": "phi-sigma",
  "3.8": "primitives",
  "3.9": "defaults",
  "4": "problems",
  "4.1": "e1",
  "4.3": "grid-goal", // the slippery-gridworld generator: "gridworld" (see anchorFor)
  "4.4": "pbrl-problems", // refined to stackelberg / incentive / rlhf by context
  "4.5": "consistency-checks",
  "4.6": "large-scale", // refined to alternating / happy-text by context
  "5": "checks",
  "6": "open-questions",
};

/** Phrases rewritten as a whole, before the general rules (old → new). */
export const PHRASES = [
  [`${OLD} section or seed the problem stands in for`, "docs/math.md anchor or seed the problem stands in for"],
  [`method (${OLD})`, "method (docs/math.md)"],
  [`${OLD} §5's check set`, "the check set of docs/math.md#checks"],
  ["§5's check set", "the check set of docs/math.md#checks"],
  [`${OLD} check C`, "docs/math.md#checks, check C"],
  ["With the §3.9 schedules", "With the default schedules of docs/math.md#defaults"],
];

/** Where citations are looked for (relative to the root; directories are walked). */
export const SCAN = ["src", "assembly", "bench", "tests", "web", "examples", "scripts", "docs", "schema", "README.md"];
const SKIP_DIRS = new Set(["node_modules", "dist", "build", ".git", "coverage"]);
const EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs|json|md|html|css|py)$/;
/** Files whose "§n" are their own sections, and the two files that must spell the old patterns. */
export const OWN_SECTIONS = new Set(["bench/ANALYSIS.md", "docs/math.md"]);
export const SELF = new Set(["scripts/cite.mjs", "tests/citations.test.ts"]);
/** Hand-written markdown: citations become links ([anchor](path#anchor)). */
export const MARKDOWN_LINKS = new Set(["README.md", "docs/experiment-format.md"]);

/** Every file under SCAN, as a root-relative path with forward slashes. */
export function citationFiles() {
  const out = [];
  const walk = (rel) => {
    const abs = join(root, rel);
    let st;
    try {
      st = statSync(abs);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) if (!SKIP_DIRS.has(name)) walk(rel ? `${rel}/${name}` : name);
    } else if (EXTENSIONS.test(rel)) {
      out.push(rel.split(sep).join("/"));
    }
  };
  for (const p of SCAN) walk(p);
  return out;
}

/** The last of the keywords (regexes) that occurs in text, or undefined. */
function lastKeyword(text, table) {
  let best, at = -1;
  for (const [re, anchor] of table) {
    for (const m of text.matchAll(new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g"))) {
      if (m.index >= at) { at = m.index; best = anchor; }
    }
  }
  return best;
}

const PBRL_PROBLEMS = [[/incentive/i, "incentive"], [/stackelberg/i, "stackelberg"], [/rlhf/i, "rlhf"]];

/**
 * The anchor for old section `sec`, cited in `file` at a line whose text before the
 * citation is `before` and after it `after` (the whole line `line`, the two lines above `above`).
 */
export function anchorFor(sec, { file, before, after, line, above }) {
  if (sec === "1.2" && /error bounds/i.test(before)) return "error-bounds";
  if (sec === "4.3" && (/gridworld\.ts$/.test(file) || /^[^(]*\(MDP generator/.test(after) || /slippery gridworlds \($/i.test(before))) return "gridworld";
  if (sec === "4.4") {
    if (/\bC24\b/.test(line)) return "rlhf"; // the pair loss checked by enumeration
    return lastKeyword(before, PBRL_PROBLEMS) ?? lastKeyword(above, PBRL_PROBLEMS) ??
      lastKeyword(file.split("/").pop(), PBRL_PROBLEMS) ?? SECTIONS[sec];
  }
  if (sec === "4.6") {
    if (/happyText/i.test(file) || /seed 000|happy/i.test(line)) return "happy-text";
    if (/alternating/i.test(file) || /baseline|DRLHF|alternating/i.test(line)) return "alternating";
  }
  return SECTIONS[sec];
}

/** A bare "§n" right after one of these is a paper's own section, not ours. */
const FOREIGN = /(seed \d+|paper)\s*$/i;
const SECTION = /§(\d+(?:\.\d+)?)(?:[–-](\d+(?:\.\d+)?))?/g;

/**
 * The text with every old citation rewritten, and the section numbers it could not map.
 * Pure: the same input gives the same output, and rewrite(rewrite(t)) = rewrite(t).
 */
export function rewrite(text, file) {
  if (SELF.has(file)) return { text, unmapped: [] };
  let t = text;
  for (const [from, to] of PHRASES) t = t.split(from).join(to);
  // "(…; ALGORITHMS.md\n// §3.2)": the name ends one comment line, the section starts the next
  t = t.replace(new RegExp(` ${OLD.replace(".", "\\.")}(\\r?\\n[ \\t]*(?:\\/\\/|\\*)[ \\t]*)(?=§)`, "g"), "$1");
  t = t.split(`${OLD} §`).join("§");
  t = t.split(OLD).join("docs/math.md");
  const unmapped = [];
  if (OWN_SECTIONS.has(file)) return { text: t, unmapped };
  const link = MARKDOWN_LINKS.has(file);
  // links in docs/ are relative to docs/; plain citations (also in generated docs) keep the root path
  const prefix = link && file.startsWith("docs/") ? "math.md" : "docs/math.md";
  const lines = t.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes("§")) continue;
    const above = lines.slice(Math.max(0, i - 2), i).join("\n");
    lines[i] = line.replace(SECTION, (whole, a, b, at) => {
      const before = line.slice(0, at), after = line.slice(at + whole.length);
      if (FOREIGN.test(before)) return whole;
      const secs = b === undefined ? [a] : [a, b];
      const anchors = secs.map((sec) => anchorFor(sec, { file, before, after, line, above }));
      if (anchors.some((x) => x === undefined)) {
        unmapped.push(`${file}:${i + 1}: ${whole}`);
        return whole;
      }
      return anchors.map((x) => (link ? `[${x}](${prefix}#${x})` : `${prefix}#${x}`)).join(", ");
    });
  }
  return { text: lines.join("\n"), unmapped };
}

function main() {
  const check = process.argv.includes("--check");
  const changed = [], unmapped = [];
  for (const file of citationFiles()) {
    const abs = join(root, file);
    const before = readFileSync(abs, "utf8");
    const res = rewrite(before, file);
    unmapped.push(...res.unmapped);
    if (res.text === before) continue;
    changed.push(file);
    if (!check) writeFileSync(abs, res.text);
  }
  for (const u of unmapped) console.error(`no anchor for ${u} (add it to SECTIONS in scripts/cite.mjs)`);
  if (check) {
    for (const f of changed) console.log(`old citations in ${f}`);
    process.exit(changed.length || unmapped.length ? 1 : 0);
  }
  for (const f of changed) console.log(`rewrote ${relative(root, join(root, f))}`);
  console.log(`${changed.length} files rewritten`);
  if (unmapped.length) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
