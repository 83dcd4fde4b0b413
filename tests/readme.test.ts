import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const readme = readFileSync(resolve(root, "README.md"), "utf8");

/** The first ```ts block after a heading. */
function snippet(heading: string): string {
  const at = readme.indexOf(heading);
  expect(at, `README has a "${heading}" section`).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, `a ts block follows "${heading}"`).not.toBeNull();
  return m![1];
}

describe("the README", () => {
  it("has a quick start of ten lines or fewer that runs as written and prints finite results", async () => {
    const code = snippet("## Quick start");
    expect(code.trim().split("\n").length).toBeLessThanOrEqual(10);
    const file = resolve(root, "build/readme-quickstart.ts");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, code.replace(/from "bilevel-rl"/g, `from ${JSON.stringify(resolve(root, "src/index.ts"))}`));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await import(/* @vite-ignore */ file);
      expect(log).toHaveBeenCalledTimes(1);
      const [V, pi, iterations, value, grad] = log.mock.calls[0] as [Float64Array, Float64Array, number, number, Float64Array];
      expect(V.length).toBe(2);
      expect(pi.length).toBe(4);
      expect(iterations).toBeGreaterThan(10);
      expect(Number.isFinite(value)).toBe(true);
      expect(grad.length).toBe(2);
      expect(Array.from(grad).every(Number.isFinite)).toBe(true);
    } finally {
      log.mockRestore();
    }
  });

  it("names the two commands a newcomer needs", () => {
    expect(readme).toMatch(/npm install && npm start/);
    expect(readme).toMatch(/npm test/);
  });
});
