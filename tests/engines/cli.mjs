// Deno's and Bun's side of scripts/engines.mjs:
//   deno run --allow-read --allow-write tests/engines/cli.mjs <job.json> <out.json>
//   bun tests/engines/cli.mjs <job.json> <out.json>
// The job lists the example experiments ({ file, text }) and the bundle to import; the
// output is runExamples' answer, runThreads' checks, and the runtime's name and version.
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { runExamples, runThreads } from "./run-examples.mjs";

const [jobPath, outPath] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobPath, "utf8"));
const lib = await import(pathToFileURL(job.bundle).href);
const runtime =
  typeof globalThis.Deno !== "undefined" ? `Deno ${globalThis.Deno.version.deno} (V8 ${globalThis.Deno.version.v8})`
  : typeof globalThis.Bun !== "undefined" ? `Bun ${globalThis.Bun.version} (JavaScriptCore)`
  : `Node ${process.version}`;
const out = await runExamples(lib, job.examples);
const threads = await runThreads(lib);
writeFileSync(outPath, JSON.stringify({ runtime, ...out, threads }) + "\n");
// idle workers may keep an engine's event loop alive
process.exit(0);
