// A tiny well-formedness check for the SVG plots: one <svg> root with the SVG namespace,
// every tag closed in order, no stray '<' or '&', and no NaN/undefined/Infinity leaking into
// coordinates. Returns the problems found (empty when the document is fine).
export function svgProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.startsWith("<svg ")) problems.push("does not start with <svg");
  if (!/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/.test(text)) problems.push("the root has no SVG namespace");
  if (!text.trimEnd().endsWith("</svg>")) problems.push("does not end with </svg>");
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    const between = text.slice(last, m.index);
    if (between.includes("<")) problems.push(`stray '<' or malformed tag near offset ${last}: ${JSON.stringify(between.slice(0, 60))}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between)) problems.push(`unescaped '&' near offset ${last}`);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? "nothing"}>`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  if (text.slice(last).trim() !== "") problems.push("text after the last tag");
  if (stack.length > 0) problems.push(`unclosed tags: ${stack.join(", ")}`);
  if (roots !== 1) problems.push(`expected one root element, found ${roots}`);
  if (/NaN|undefined|Infinity/.test(text)) problems.push("contains NaN, undefined or Infinity");
  return problems;
}
