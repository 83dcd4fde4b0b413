#!/usr/bin/env node
// Writes schema/experiment.schema.json from src/experiment/schema.ts (the registry is the
// single source). With --check, exits 1 when the file is out of date instead.
//
//   node --import tsx scripts/write-schema.mjs [--check]
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
    console.error("schema/experiment.schema.json is out of date: run `node --import tsx scripts/write-schema.mjs`");
    process.exit(1);
  }
  console.log("schema/experiment.schema.json is up to date");
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
