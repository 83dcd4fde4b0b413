import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { cleanId, wasmModuleSource } from "./scripts/wasm-bytes.mjs";

/**
 * `import bytes from "../../build/bilevel-simd.wasm"` → `export default` a Uint8Array,
 * decoded from inlined base64 (same module text as scripts/register-wasm.mjs emits, so
 * Node and Chromium see identical bytes). Runs before Vite's own asset/wasm handling;
 * `?init`, `?url`, `?raw` … imports are left to Vite.
 */
function wasmBytes(): Plugin {
  return {
    name: "bilevel:wasm-bytes",
    enforce: "pre",
    async load(id) {
      if (id.startsWith("\0") || /[?&](init|url|raw|inline|worker|sharedworker)\b/.test(id)) return null;
      const file = cleanId(id);
      if (!file.endsWith(".wasm")) return null;
      this.addWatchFile(file);
      return { code: wasmModuleSource(await readFile(file)), map: null };
    },
  };
}

// Debian's Chromium (`apt-get install chromium`). scripts/test.mjs passes CHROMIUM_BIN when
// it found the browser elsewhere on PATH. Playwright must never download a browser itself.
const chromium =
  process.env.CHROMIUM_BIN || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : "chromium");

export default defineConfig({
  plugins: [wasmBytes()],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/browser/**", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        // Cross-origin isolation (COOP + COEP), so that the pages have SharedArrayBuffer and
        // init({ threads }) can start workers (tests/browser/threads.browser.test.ts).
        server: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } },
        // Pre-bundle up front: a dependency discovered mid-run makes Vite reload the page.
        optimizeDeps: { include: ["@assemblyscript/loader"] },
        test: {
          name: "browser",
          include: ["tests/browser/**/*.browser.test.ts"],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: [
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--no-first-run",
                ],
              },
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
