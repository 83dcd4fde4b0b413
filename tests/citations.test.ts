// Citations of the maths: every `docs/math.md#<anchor>` in the source trees names an anchor
// that docs/math.md defines, and no citation of the retired notes (by file name or by a bare
// section number) is left for scripts/cite.mjs to rewrite.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OLD, SECTIONS, SELF, citationFiles, rewrite, root } from "../scripts/cite.mjs";

const MATH = "docs/math.md";

/** The explicit anchors (`<a id="…"></a>`) of a markdown text, in order. */
function anchorsOf(markdown: string): string[] {
  return [...markdown.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]);
}

/** Every anchor cited in a text as `docs/math.md#<anchor>` (or `math.md#<anchor>` from inside docs/). */
function citationsOf(text: string): string[] {
  return [...text.matchAll(/(?<![\w/.-])(?:docs\/)?math\.md#([A-Za-z0-9_-]+)/g)].map((m) => m[1]);
}

/** The citations in `files` whose anchor is not in `anchors`, as "file:line: #anchor". */
function brokenCitations(files: ReadonlyMap<string, string>, anchors: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    text.split("\n").forEach((line, i) => {
      for (const a of citationsOf(line)) if (!anchors.has(a)) out.push(`${file}:${i + 1}: #${a}`);
    });
  }
  return out;
}

const math = readFileSync(join(root, MATH), "utf8");
const anchors = anchorsOf(math);
const anchorSet = new Set(anchors);
const files = new Map(citationFiles().map((f) => [f, readFileSync(join(root, f), "utf8")] as const));

describe("docs/math.md", () => {
  it("defines each anchor once", () => {
    const seen = new Set<string>();
    const twice = anchors.filter((a) => (seen.has(a) ? true : (seen.add(a), false)));
    expect(twice).toEqual([]);
    expect(anchors.length).toBeGreaterThan(30);
  });

  it("lists every anchor in its table of contents, and nothing else", () => {
    const toc = math.slice(math.indexOf("## Contents"), math.indexOf("\n---"));
    const listed = [...toc.matchAll(/\[`([^`]+)`\]\(#([^)]+)\)/g)].map((m) => {
      expect(m[1], `the link text names its own target`).toBe(m[2]);
      return m[2];
    });
    expect([...listed].sort()).toEqual([...anchors].sort());
  });

  it("links only to its own anchors", () => {
    const internal = [...math.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(internal.length).toBeGreaterThan(40);
    expect(internal.filter((a) => !anchorSet.has(a))).toEqual([]);
  });

  it("has an anchor for every section number scripts/cite.mjs maps", () => {
    expect(Object.values(SECTIONS).filter((a) => !anchorSet.has(a))).toEqual([]);
  });
});

describe("citations in the repository", () => {
  it("scan the source trees, tests, docs and the README", () => {
    for (const f of ["src/lower.ts", "assembly/bellman.ts", "tests/hypergradient.test.ts", "README.md", "docs/experiment-format.md"]) {
      expect(files.has(f), f).toBe(true);
    }
  });

  it("all name an anchor of docs/math.md", () => {
    const cited = [...files.values()].flatMap(citationsOf);
    expect(cited.length).toBeGreaterThan(100);
    // this file and scripts/cite.mjs hold deliberate probes and patterns; their real citations are
    // checked through SECTIONS above
    const checked = new Map([...files].filter(([f]) => !SELF.has(f)));
    expect(brokenCitations(checked, anchorSet)).toEqual([]);
  });

  it("include none of the retired notes, by name or by a bare section number (run node scripts/cite.mjs)", () => {
    const byName = [...files].filter(([f, t]) => !SELF.has(f) && t.includes(OLD)).map(([f]) => f);
    expect(byName).toEqual([]);
    const stale: string[] = [];
    for (const [f, t] of files) {
      const res = rewrite(t, f);
      stale.push(...res.unmapped);
      if (res.text !== t) stale.push(f);
    }
    expect(stale).toEqual([]);
  });
});

describe("the citation checker", () => {
  it("reports a citation of an anchor that does not exist, with its file and line", () => {
    const probe = new Map([["src/probe.ts", "// fine (docs/math.md#soft-bellman)\n// broken (docs/math.md#soft-belman)\n"]]);
    expect(brokenCitations(probe, anchorSet)).toEqual(["src/probe.ts:2: #soft-belman"]);
  });

  it("reads relative links inside docs/ and ignores other files' anchors", () => {
    expect(citationsOf("see [e1](math.md#e1) and docs/math.md#pbrl; not other/math.md#x or mymath.md#y")).toEqual(["e1", "pbrl"]);
  });
});

describe("scripts/cite.mjs", () => {
  const old = (s: string) => s.replace(/@/g, OLD);

  it("maps section numbers to anchors, using the context where one number covers several problems", () => {
    expect(rewrite(old("// M-SoBiRL (@ §3.1)."), "src/a.ts").text).toBe("// M-SoBiRL (docs/math.md#m-sobirl).");
    expect(rewrite(old("// (@ §1.1–1.2)"), "src/a.ts").text).toBe("// (docs/math.md#soft-values, docs/math.md#soft-bellman)");
    expect(rewrite("// incentive design (§4.4)", "tests/a.test.ts").text).toBe("// incentive design (docs/math.md#incentive)");
    expect(rewrite(old('    name: "stackelberg",\n    source: "@ §4.4",'), "src/r.ts").text).toBe('    name: "stackelberg",\n    source: "docs/math.md#stackelberg",');
    expect(rewrite(old(" *  error bounds, @ §1.2). */"), "assembly/b.ts").text).toBe(" *  error bounds, docs/math.md#error-bounds). */");
  });

  it("joins a name that ends one comment line to the section that starts the next", () => {
    expect(rewrite(old("// (paper, Algorithm 2; @\n// §3.2). Per"), "src/a.ts").text).toBe("// (paper, Algorithm 2;\n// docs/math.md#sobirl). Per");
  });

  it("leaves a paper's own sections and other documents' self-references alone", () => {
    expect(rewrite("// shaping (SoBiRL paper §3.3; seed 002 §3.3)", "src/a.ts").text).toBe("// shaping (SoBiRL paper §3.3; seed 002 §3.3)");
    expect(rewrite("| x | (§4) |", "bench/ANALYSIS.md").text).toBe("| x | (§4) |");
  });

  it("writes links in hand-written markdown, relative to the file", () => {
    expect(rewrite("`e1` (§4.1)", "README.md").text).toBe("`e1` ([e1](docs/math.md#e1))");
    expect(rewrite("`e1` (§4.1)", "docs/experiment-format.md").text).toBe("`e1` ([e1](math.md#e1))");
  });

  it("reports a section number it cannot map and leaves it as it was", () => {
    expect(rewrite("// (§9.9)", "src/a.ts")).toEqual({ text: "// (§9.9)", unmapped: ["src/a.ts:1: §9.9"] });
  });

  it("is idempotent", () => {
    const once = rewrite(old("// (@ §2.3, §3.0) and (§4.5 item 6)"), "src/a.ts").text;
    expect(once).toBe("// (docs/math.md#hypergradient, docs/math.md#exact-descent) and (docs/math.md#consistency-checks item 6)");
    expect(rewrite(once, "src/a.ts").text).toBe(once);
  });
});
