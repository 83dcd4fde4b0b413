// The dependency rule of `npm run lint:deps` (.dependency-cruiser.cjs) holds for the code
// base and fires on a violation: tests/fixtures/layers/reachesKernels.ts imports the pointer
// layer and a routine's internals from outside src/wasm/.
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEPCRUISE = resolve(ROOT, "node_modules/.bin/depcruise");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** depcruise's exit code with its default ("err") reporter, and the violations from its JSON report. */
function depcruise(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile(DEPCRUISE, ["--config", ".dependency-cruiser.cjs", ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
}

async function violations(...paths: string[]): Promise<Violation[]> {
  const { stdout } = await depcruise(["--output-type", "json", ...paths]);
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe("the layering rule (dependency-cruiser)", () => {
  it("fails, naming both rules, on a file outside src/wasm/ that imports the workspace and a routine's internals", async () => {
    const fixture = "tests/fixtures/layers/reachesKernels.ts";
    expect((await depcruise([fixture])).code).not.toBe(0);
    const seen = (await violations(fixture)).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(seen).toEqual([
      "kernel-layer-outside-wasm: tests/fixtures/layers/reachesKernels.ts → src/wasm/workspace.ts",
      "routine-internals: tests/fixtures/layers/reachesKernels.ts → src/wasm/routines/instance.ts",
    ]);
  }, 180_000);

  it("passes on src/: only src/wasm/ reaches the kernels", async () => {
    expect(await violations("src")).toEqual([]);
  }, 180_000);
});
