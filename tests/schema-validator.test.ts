// The experiment schema's validator is precompiled (ajv standalone code, committed as
// src/experiment/generated/validateSchema.js) so that validation compiles no code at run time
// and works under a Content-Security-Policy without 'unsafe-eval'. The committed module must be
// what the generator makes of the current schema, compile nothing itself, and judge documents
// exactly as ajv compiling the schema at run time does.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import Ajv2020 from "ajv/dist/2020.js";
import { experimentSchema } from "../src/experiment/schema";
import validateSchema from "../src/experiment/generated/validateSchema.js";
import { AJV_OPTIONS, validatorModule } from "../scripts/schema-validator.mjs";

const root = join(import.meta.dirname, "..");
const generated = join(root, "src/experiment/generated");

describe("the precompiled schema validator", () => {
  it("is up to date: the committed validateSchema.js and .d.ts are what `npm run schema` makes of the current schema", () => {
    const { js, dts } = validatorModule(experimentSchema);
    const stale = "out of date: run `npm run schema` (scripts/write-schema.mjs) after changing the schema or the registry";
    expect(readFileSync(join(generated, "validateSchema.js"), "utf8") === js, `validateSchema.js is ${stale}`).toBe(true);
    expect(readFileSync(join(generated, "validateSchema.d.ts"), "utf8") === dts, `validateSchema.d.ts is ${stale}`).toBe(true);
  }, 60_000); // ajv compiles the whole schema: seconds on a busy machine

  it("compiles no code at run time and requires nothing (an ES module with no imports)", () => {
    const js = readFileSync(join(generated, "validateSchema.js"), "utf8");
    expect(js).not.toMatch(/new Function|\beval\(|\bFunction\(/);
    expect(js).not.toMatch(/\brequire\(|^\s*import\b/m);
    expect(js).toMatch(/export default validate\d+;/);
  });

  it("no module of the library imports ajv (only the generator and the tests do)", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.[cm]?[jt]s$/.test(e.name) && /from\s+["']ajv|require\(["']ajv|import\(["']ajv/.test(readFileSync(p, "utf8"))) offenders.push(p);
      }
    };
    walk(join(root, "src"));
    expect(offenders).toEqual([]);
  });

  it("reports exactly the errors of ajv compiling the schema at run time, on valid and invalid documents", () => {
    const ajv = new Ajv2020(AJV_OPTIONS);
    const runtime = ajv.compile(experimentSchema);
    const examples = readdirSync(join(root, "examples/experiments")).map((f) => JSON.parse(readFileSync(join(root, "examples/experiments", f), "utf8")));
    const base = examples.find((e) => e.name === "custom-two-state");
    const docs: unknown[] = [
      ...examples,
      null,
      [],
      {},
      { ...base, version: 2 },
      { ...base, zetta: 1, seed: -1, iterations: 0 },
      { ...base, algorithm: { name: "mSoBiRL", beta: -0.1, zetta: 0.5, derivative: "rollout" } },
      { ...base, algorithm: { name: "nope" } },
      { ...base, problem: { builtin: "e1", params: { gamma: 2 } } },
      { ...base, problem: { ...base.problem, reward: { linear: { n: 0 }, table: {} }, upper: {} } },
      { ...base, problem: { ...base.problem, mdp: { S: 0, A: "2", gamma: 1, P: 3 } } },
      { ...base, x0: "origin", record: { phiEvery: -1, x: "yes" } },
      { ...base, problem: { builtin: "gridworld", params: { map: [1], start: [0] }, reward: { state: { offset: "x" } }, tau: -1 } },
    ];
    let invalid = 0;
    for (const doc of docs) {
      const ok = validateSchema(doc);
      expect(ok).toBe(runtime(doc));
      expect(validateSchema.errors ?? null).toEqual(runtime.errors ?? null);
      if (!ok) invalid++;
    }
    expect(invalid).toBe(docs.length - examples.length);
  }, 60_000);
});
