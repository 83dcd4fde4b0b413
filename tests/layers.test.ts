// The dependency rule of `npm run lint:deps` (.dependency-cruiser.cjs) holds for the code
// base and fires on a violation: tests/fixtures/layers/reachesKernels.ts imports the pointer
// layer and a routine's internals from outside src/wasm/.
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEPCRUISE = resolve(ROOT, "node_modules/.bin/depcruise");

interface Cruise {
  code: number;
  violations: { from: string; to: string; rule: { name: string } }[];
}

function cruise(...paths: string[]): Promise<Cruise> {
  return new Promise((done, fail) => {
    execFile(DEPCRUISE, ["--config", ".dependency-cruiser.cjs", "--output-type", "json", ...paths], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout) => {
      try {
        const json = JSON.parse(stdout) as { summary: { violations: Cruise["violations"] } };
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, violations: json.summary.violations });
      } catch (e) {
        fail(new Error(`depcruise printed no JSON (${(err as Error | null)?.message ?? "exit 0"}): ${(e as Error).message}`));
      }
    });
  });
}

describe("the layering rule (dependency-cruiser)", () => {
  it("fails, naming both rules, on a file outside src/wasm/ that imports the workspace and a routine's internals", async () => {
    const r = await cruise("tests/fixtures/layers/reachesKernels.ts");
    expect(r.code).not.toBe(0);
    const seen = r.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(seen).toEqual([
      "kernel-layer-outside-wasm: tests/fixtures/layers/reachesKernels.ts → src/wasm/workspace.ts",
      "routine-internals: tests/fixtures/layers/reachesKernels.ts → src/wasm/routines/instance.ts",
    ]);
  }, 180_000);

  it("passes on src/: only src/wasm/ reaches the kernels", async () => {
    const r = await cruise("src");
    expect(r.violations).toEqual([]);
    expect(r.code).toBe(0);
  }, 180_000);
});
