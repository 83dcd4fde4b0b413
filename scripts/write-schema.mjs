#!/usr/bin/env node
// Writes schema/experiment.schema.json from src/experiment/schema.ts (the registry, whose
// algorithm entries are the algorithm modules' own specifications, is the single source;
// importing those modules loads the wasm build, hence register-wasm and `npm run asbuild`
// first). With --check, exits 1 when the file is out of date instead.
//
//   node --import ./scripts/register-wasm.mjs --import tsx scripts/write-schema.mjs [--check]
//   npm run schema
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { experimentSchema } from "../src/experiment/schema.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const file = join(root, "schema", "experiment.schema.json");
const text = JSON.stringify(experimentSchema, null, 2) + "\n";
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {
    // missing file: out of date
  }
  if (current !== text) {
    console.error("schema/experiment.schema.json is out of date: run `npm run schema`");
    process.exit(1);
  }
  console.log("schema/experiment.schema.json is up to date");
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
