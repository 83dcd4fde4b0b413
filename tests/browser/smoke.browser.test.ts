// Plumbing smoke test for the browser project: the `.wasm` import (vite plugin in
// vitest.config.ts) delivers the exact bytes of build/bilevel-simd.wasm inside Chromium,
// the module compiles and instantiates there, synchronous instantiation of an already
// compiled module is allowed on Chromium's main thread, and the library entry loads.
import { describe, expect, test } from "vitest";
import { commands } from "vitest/browser";
import { instantiateSync } from "@assemblyscript/loader";
import simdBytes from "../../build/bilevel-simd.wasm";
import { GOLDEN_SVG, goldenChart } from "../helpers/plot-golden";

function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

describe("wasm plumbing in Chromium", () => {
  test("the .wasm import is a Uint8Array with the file's exact bytes", async () => {
    expect(simdBytes).toBeInstanceOf(Uint8Array);
    expect(simdBytes.byteLength).toBeGreaterThan(1000);
    // "\0asm" magic, version 1
    expect(Array.from(simdBytes.subarray(0, 8))).toEqual([0, 97, 115, 109, 1, 0, 0, 0]);
    // commands.readFile resolves paths against the project root (not the test file).
    const onDisk = fromBase64(await commands.readFile("build/bilevel-simd.wasm", "base64"));
    expect(simdBytes.byteLength).toBe(onDisk.byteLength);
    expect(simdBytes.every((b, i) => b === onDisk[i])).toBe(true);
  });

  test("validates and instantiates asynchronously, exposing bellmanDense", async () => {
    expect(WebAssembly.validate(simdBytes as BufferSource)).toBe(true);
    const { instance } = await WebAssembly.instantiate(simdBytes as BufferSource, {});
    const exports = instance.exports as Record<string, unknown>;
    expect(typeof exports.bellmanDense).toBe("function");
    expect((exports.simdBuild as () => number)()).toBe(1);
    expect(exports.memory).toBeInstanceOf(WebAssembly.Memory);
  });

  test("sync new WebAssembly.Instance(await WebAssembly.compile(bytes), {}) works on the main thread", async () => {
    const module = await WebAssembly.compile(simdBytes as BufferSource);
    const t0 = performance.now();
    const instances = Array.from({ length: 8 }, () => new WebAssembly.Instance(module, {}));
    const ms = (performance.now() - t0) / instances.length;
    for (const inst of instances) expect(typeof inst.exports.bellmanDense).toBe("function");
    // Each instance owns its memory: growing one leaves the others alone.
    const m0 = instances[0]!.exports.memory as WebAssembly.Memory;
    const m1 = instances[1]!.exports.memory as WebAssembly.Memory;
    const pages = m1.buffer.byteLength / 65536;
    m0.grow(16);
    expect(m1.buffer.byteLength / 65536).toBe(pages);
    console.log(
      `[smoke] Chromium main thread, ${simdBytes.byteLength} B module: sync new WebAssembly.Instance OK ` +
        `(${ms.toFixed(3)} ms per instance, window=${typeof window}, self===top: ${self === top})`,
    );
  });

  test("sync new WebAssembly.Module(bytes) (sync compile) on the main thread", () => {
    // Chromium refuses synchronous compiles of large modules on the main thread
    // (historically > 4 KB, now > 8 MB); this records what this build does.
    let outcome: string;
    try {
      const module = new WebAssembly.Module(simdBytes as BufferSource);
      new WebAssembly.Instance(module, {});
      outcome = "OK";
    } catch (e) {
      outcome = `threw ${(e as Error).name}: ${(e as Error).message}`;
    }
    console.log(`[smoke] sync new WebAssembly.Module(${simdBytes.byteLength} B): ${outcome}`);
    expect(outcome).toBe("OK");
  });

  test("@assemblyscript/loader instantiateSync on a compiled module (the library's path)", async () => {
    const module = await WebAssembly.compile(simdBytes as BufferSource);
    const { exports } = instantiateSync<Record<string, unknown>>(module, {});
    expect(typeof exports.bellmanDense).toBe("function");
  });
});

describe("library entry in Chromium", () => {
  test('"../../src/index" loads and init() compiles the SIMD build', async () => {
    const lib = await import("../../src/index");
    expect(typeof lib.init).toBe("function");
    const backend = await lib.init();
    expect(backend.simd).toBe(true);
    expect(backend.module).toBeInstanceOf(WebAssembly.Module);
  });
});

describe("plots in Chromium", () => {
  test("the golden convergence chart has the same bytes as in Node (tests/golden/convergence.svg)", async () => {
    expect(goldenChart()).toBe(await commands.readFile(GOLDEN_SVG));
  });
});
