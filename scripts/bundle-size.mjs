#!/usr/bin/env node
// What an app ships when it bundles bilevel-rl: Vite builds (production, minified) of small
// consumer apps against the built package (dist/, through package.json "exports", as in any
// app), and the JavaScript they emit, raw and gzipped (level 9). The wasm kernels are inlined
// (both builds, base64), so they are counted.
//
//   npm run build && node scripts/bundle-size.mjs [--readme]
//
// Apps: tests/consumer/core.html (kernels, a TabularMDP, soft value iteration, sampling)
// importing bilevel-rl/core, then the same page importing bilevel-rl; tests/consumer/index.html
// (a gridworld and an experiment file run by the runner); and an app that keeps every export
// of bilevel-rl. Writes build/bundle-size.json; with --readme, also the table between the
// bundle-size markers of README.md.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "vite";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "bundle-size");
const consumer = join(root, "tests", "consumer");

// the app that keeps everything: its own page, inside the package so that "bilevel-rl" resolves to it
const everything = join(out, "everything-src");
mkdirSync(everything, { recursive: true });
writeFileSync(join(everything, "index.html"), '<!doctype html><html><head><meta charset="utf-8"><title>all</title></head><body><script type="module" src="./main.js"></script></body></html>\n');
writeFileSync(join(everything, "main.js"), 'import * as lib from "bilevel-rl";\nglobalThis.bilevelRl = lib;\n');

const apps = [
  { name: "core", what: "core app, `import … from \"bilevel-rl/core\"`", root: consumer, page: "core.html" },
  { name: "core-via-root", what: "the same core app, `import … from \"bilevel-rl\"`", root: consumer, page: "core.html", alias: true },
  { name: "consumer", what: "consumer app (gridworld, experiment file, runner), `bilevel-rl`", root: consumer, page: "index.html" },
  { name: "everything", what: "every export of `bilevel-rl` kept", root: everything, page: "index.html" },
];

const js = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => f.endsWith(".js") && statSync(f).isFile());

const results = [];
for (const app of apps) {
  const outDir = join(out, app.name);
  await build({
    root: app.root,
    logLevel: "error",
    configFile: false,
    // the core page importing the package's root entry instead of its core subpath
    resolve: app.alias ? { alias: [{ find: /^bilevel-rl\/core$/, replacement: "bilevel-rl" }] } : {},
    build: { outDir, emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4096, rollupOptions: { input: join(app.root, app.page) } },
  });
  // Loaded up front vs. on demand: the threads chunk (src/wasm/threads.ts: the shared-memory
  // kernel builds and the worker) is fetched only when init({ threads }) asks for threads.
  let bytes = 0, gzip = 0, lazyBytes = 0, lazyGzip = 0;
  const files = js(outDir);
  for (const f of files) {
    const b = readFileSync(f);
    const z = gzipSync(b, { level: 9 }).length;
    if (/(^|[\\/])threads-[^\\/]*\.js$/.test(f)) {
      lazyBytes += b.length;
      lazyGzip += z;
    } else {
      bytes += b.length;
      gzip += z;
    }
  }
  results.push({ name: app.name, what: app.what, files: files.length, bytes, gzip, lazyBytes, lazyGzip });
}

const kB = (n) => (n / 1000).toFixed(1);
const table = [
  "| app | JS, minified | gzipped | + threads chunk (on demand), minified / gzipped |",
  "| --- | ---: | ---: | ---: |",
  ...results.map((r) => `| ${r.what} | ${kB(r.bytes)} kB | ${kB(r.gzip)} kB | ${kB(r.lazyBytes)} / ${kB(r.lazyGzip)} kB |`),
].join("\n");
writeFileSync(join(root, "build", "bundle-size.json"), JSON.stringify({ measuredAt: new Date().toISOString(), apps: results }, null, 2) + "\n");
console.log(table);

if (process.argv.includes("--readme")) {
  const readme = join(root, "README.md");
  const text = readFileSync(readme, "utf8");
  const re = /(<!-- bundle-size:start -->\n)[\s\S]*?(<!-- bundle-size:end -->)/;
  if (!re.test(text)) throw new Error("README.md has no <!-- bundle-size:start --> … <!-- bundle-size:end --> markers");
  writeFileSync(readme, text.replace(re, `$1${table}\n$2`));
  console.log("README.md updated");
}
