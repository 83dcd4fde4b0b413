// Shared by the end-to-end tests (tests/e2e/*.e2e.ts) and the browser benchmark runner
// (bench/browser-run.ts): builds, a static file server on 127.0.0.1 and Debian's Chromium
// through playwright-core (never a downloaded browser).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, LaunchOptions } from "playwright-core";
import { findChromium } from "../../scripts/chromium.mjs";

export { findChromium };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The flags of /work/shared/TOOLCHAIN.md (same as vitest.config.ts's browser project). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function launchChromium(extra: LaunchOptions = {}): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error("Chromium not found (/usr/bin/chromium, `chromium` on PATH, $CHROMIUM_BIN): apt-get update && apt-get install -y chromium");
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000, ...extra });
}

/** `chromium --version`, e.g. "Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)". */
export function chromiumVersionOf(browser: Browser): string {
  return `Chromium ${browser.version()}`;
}

/** Run a command (inheriting nothing but the environment); rejects with its output on a non-zero exit. */
export function sh(cmd: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done(out);
      else fail(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit code ${code}`}):\n${out.slice(-4000)}`));
    });
  });
}

const WASM = ["build/bilevel-simd.wasm", "build/bilevel-scalar.wasm"];

/** `npm run asbuild` when a wasm build is missing or older than an assembly/ source. */
export async function ensureWasm(): Promise<void> {
  const newestSource = newestMtime(join(ROOT, "assembly"), (f) => f.endsWith(".ts") && !f.includes(`${sep}__tests__${sep}`));
  const stale = WASM.some((f) => !existsSync(join(ROOT, f)) || statSync(join(ROOT, f)).mtimeMs < newestSource);
  if (stale) await sh("npm", ["run", "asbuild", "--silent"], { timeoutMs: 300_000 });
}

function newestMtime(dir: string, keep: (file: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, keep));
    else if (keep(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The library's own build (tsup with the repository's tsup.config.ts): dist/index.js, .cjs, .d.ts. */
export async function buildLibrary(): Promise<void> {
  await ensureWasm();
  await sh(process.execPath, [join(ROOT, "node_modules/tsup/dist/cli-default.js")], { timeoutMs: 300_000 });
}

/** `vite build` of an app folder (its vite.config.ts), to `outDir` when given, of the page `input` (default index.html). */
export async function viteBuild(root: string, outDir?: string, input?: string): Promise<void> {
  const { build } = await import("vite");
  const options = { ...(outDir ? { outDir, emptyOutDir: true } : {}), ...(input ? { rollupOptions: { input: join(root, input) } } : {}) };
  await build({ root, logLevel: "error", build: options });
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".map": "application/json; charset=utf-8",
  ".ico": "image/x-icon",
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A strict Content-Security-Policy: scripts only from the page's own origin, no 'unsafe-eval'
 * (no eval, no new Function) and no inline scripts. Chromium compiles WebAssembly only with
 * 'wasm-unsafe-eval', which allows wasm and nothing else.
 */
export const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; object-src 'none'; base-uri 'none'";

/**
 * A plain static file server for a folder (what any static host does: no special headers,
 * unless `headers` are given: sent with every response), on 127.0.0.1 and a free port chosen
 * by the OS. `pages` adds in-memory files (path → body).
 */
export async function serveStatic(dir: string, pages: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<StaticServer> {
  const base = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const rel = path.endsWith("/") ? `${path}index.html` : path;
    if (pages[rel] !== undefined) {
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(rel)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(pages[rel]);
      return;
    }
    const file = normalize(join(base, rel));
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** FNV-1a 64 of bytes, 16 hex digits (as tests/helpers/scenarios.ts). */
export function fnv1a64Bytes(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < bytes.length; i++) h = ((h ^ BigInt(bytes[i])) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}
