#!/usr/bin/env node
// Writes schema/experiment.schema.json from src/experiment/schema.ts (the registry is the
// single source) and the validator precompiled from it, src/experiment/generated/
// validateSchema.js + .d.ts (scripts/schema-validator.mjs). With --check, exits 1 when a
// file is out of date instead.
//
//   node --import tsx scripts/write-schema.mjs [--check]      (npm run schema)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { experimentSchema } from "../src/experiment/schema.ts";
import { validatorModule } from "./schema-validator.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const generated = join(root, "src", "experiment", "generated");
const { js, dts } = validatorModule(experimentSchema);
const files = [
  [join(root, "schema", "experiment.schema.json"), JSON.stringify(experimentSchema, null, 2) + "\n"],
  [join(generated, "validateSchema.js"), js],
  [join(generated, "validateSchema.d.ts"), dts],
];
if (process.argv.includes("--check")) {
  let stale = 0;
  for (const [file, text] of files) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {
      // missing file: out of date
    }
    if (current !== text) {
      console.error(`${relative(root, file)} is out of date: run \`npm run schema\``);
      stale++;
    } else console.log(`${relative(root, file)} is up to date`);
  }
  if (stale) process.exit(1);
} else {
  for (const [file, text] of files) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${relative(root, file)}`);
  }
}
