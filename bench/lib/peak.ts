// Ceiling of wasm f64x2 arithmetic for the dense LU: wasm SIMD128 has no fused multiply-add
// in Node 20 (relaxed SIMD is not shipped there, and its fma may or may not fuse, which
// would break bit-identity between builds), so each a ← a − l·u costs one f64x2.mul and
// one f64x2.sub. The loop timed here (compiled with AssemblyScript's compiler API) is the
// LU's own 4 × 4 tile — 8 accumulators; per step 2 loads of u, 4 splat loads of l, 8 mul,
// 8 sub — over operands that stay in L1, so only the arithmetic limits it. (A loop over
// registers alone measured slower here: V8 hoists or serialises what a memory-free loop
// leaves it.) 4 flops per f64x2 step of a ← a − l·u.
import asc from "assemblyscript/asc";

const SOURCE = `
// 4 x 4 tile of the LU update, K = 64, u rows 32 bytes apart, l rows 512 bytes apart.
export function l1(buf: usize, reps: i32): f64 {
  const l0 = buf, l1 = l0 + 512, l2 = l1 + 512, l3 = l2 + 512, u = buf + 2048;
  let a0 = f64x2.splat(1), b0 = f64x2.splat(1), a1 = f64x2.splat(1), b1 = f64x2.splat(1);
  let a2 = f64x2.splat(1), b2 = f64x2.splat(1), a3 = f64x2.splat(1), b3 = f64x2.splat(1);
  for (let r = 0; r < reps; r++) {
    let up = u;
    for (let p = 0; p < 64; p++) {
      const q = <usize>p << 3;
      const u0 = v128.load(up), u1 = v128.load(up, 16);
      let s = v128.load64_splat(l0 + q);
      a0 = f64x2.sub(a0, f64x2.mul(s, u0)); b0 = f64x2.sub(b0, f64x2.mul(s, u1));
      s = v128.load64_splat(l1 + q);
      a1 = f64x2.sub(a1, f64x2.mul(s, u0)); b1 = f64x2.sub(b1, f64x2.mul(s, u1));
      s = v128.load64_splat(l2 + q);
      a2 = f64x2.sub(a2, f64x2.mul(s, u0)); b2 = f64x2.sub(b2, f64x2.mul(s, u1));
      s = v128.load64_splat(l3 + q);
      a3 = f64x2.sub(a3, f64x2.mul(s, u0)); b3 = f64x2.sub(b3, f64x2.mul(s, u1));
      up += 32;
    }
  }
  const t = f64x2.add(f64x2.add(f64x2.add(a0, b0), f64x2.add(a1, b1)), f64x2.add(f64x2.add(a2, b2), f64x2.add(a3, b3)));
  return f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
}
`;

export interface PeakResult {
  /** GFLOP/s: best of `reps` runs by wall clock, and by this process's CPU time (immune to time-slicing). */
  gflops: number;
  cpuGflops: number;
  note: string;
}

/** Compile both loops and time them (≈ 1 s in all). */
export async function measurePeak(reps = 5): Promise<PeakResult> {
  const { error, binary, stderr } = await asc.compileString(SOURCE, { optimizeLevel: 3, runtime: "stub", enable: ["simd"] });
  if (error || !binary) throw new Error(`peak loop did not compile: ${error?.message ?? ""} ${stderr.toString()}`);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), {}).exports as unknown as {
    memory: WebAssembly.Memory;
    l1(buf: number, reps: number): number;
  };
  const buf = 1024;
  if (ex.memory.buffer.byteLength < 65536) ex.memory.grow(1);
  // values near 1e-9 keep every result normal (denormals would slow the loop down)
  new Float64Array(ex.memory.buffer, buf, (2048 + 64 * 32) / 8).fill(1e-9);
  const best = (f: () => void) => {
    let wall = Infinity, cpu = Infinity;
    for (let i = 0; i < reps; i++) {
      const c0 = process.cpuUsage(), w0 = performance.now();
      f();
      wall = Math.min(wall, performance.now() - w0);
      const c = process.cpuUsage(c0);
      cpu = Math.min(cpu, (c.user + c.system) / 1e3);
    }
    return { wall, cpu };
  };
  const l1Reps = 2e7 / 64;
  ex.l1(buf, 100);
  const l = best(() => ex.l1(buf, l1Reps));
  const flops = l1Reps * 64 * 8 * 4;
  return {
    gflops: flops / l.wall / 1e6,
    cpuGflops: flops / Math.max(l.cpu, 1e-3) / 1e6,
    note: "a ← a − l·u on f64x2 (mul + sub: no FMA in wasm SIMD128 on Node 20), the LU's 4 × 4 register tile on L1-resident operands, 2·10⁷ steps, 4 flops per f64x2 step, best of 5",
  };
}
