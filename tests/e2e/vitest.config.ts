// The end-to-end suite: builds the package (tsup), the demo page and a consumer app (Vite),
// serves them on 127.0.0.1 and drives Debian's Chromium through playwright-core. Run by
// `node scripts/e2e.mjs` (npm test's last step); not part of the node or browser projects.
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: resolve(import.meta.dirname, "../.."),
  test: {
    name: "e2e",
    include: ["tests/e2e/**/*.e2e.ts"],
    environment: "node",
    // one file, tests in order (they share the builds and the browser)
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
