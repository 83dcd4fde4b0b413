#!/usr/bin/env node
// The `bilevel-rl` executable. From source:
//   node --import ./scripts/register-wasm.mjs --import tsx src/cli/main.ts <command> …
// Built: dist/cli.js (package.json "bin"). The same file is the experiment worker's entry
// (see worker.ts), so nothing runs here on a worker thread.
import { isMainThread } from "node:worker_threads";
import { main } from "./program";

if (isMainThread) {
  // `bilevel-rl list | head`: a closed pipe ends the output quietly
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`bilevel-rl: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
