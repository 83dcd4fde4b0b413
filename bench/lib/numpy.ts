// The numpy/scipy columns of the benchmark suites: the TS side writes each case's arrays
// as .npy files to a temporary folder, bench/numpy_ref.py times numpy/scipy on them (Debian's
// python3-numpy and python3-scipy under /usr/bin/python3, never a pyenv or venv python), once
// with OPENBLAS_NUM_THREADS=1 and once with all threads, and hands back its results, which
// the suite checks against its own. Skipped with a note when Python or numpy is absent.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "numpy_ref.py");

export type NumpyKind = "sweep" | "lu" | "hypergradient";

export interface NumpyCase {
  id: string;
  kind: NumpyKind;
  arrays: Record<string, Float64Array | Int32Array>;
  params: Record<string, number | string | boolean>;
}

export interface NumpyTiming {
  /** Median ms per op. */
  ms: number;
  minMs: number;
  samples: number;
  /** Other processes' average cores while this case ran (machine busy time − Python's CPU time). */
  otherCores: number;
  /** LU cases: median ms of factor + solve alone on the already built matrix. */
  factorSolveMs?: number;
}

export interface NumpyRun {
  threads: "1" | "all";
  python: string;
  numpy: string;
  scipy: string;
  openblasCoretype: string;
  cases: Record<string, NumpyTiming & { out: Float64Array }>;
}

/** Why numpy cannot run here, or undefined when it can. */
export function numpyUnavailable(): string | undefined {
  const r = spawnSync(PYTHON, ["-c", "import numpy, scipy, scipy.sparse.linalg"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not found (${r.error.message}); install Debian's python3-numpy and python3-scipy`;
  if (r.status !== 0) return `${PYTHON} cannot import numpy and scipy (${(r.stderr || "").trim().split("\n").pop()}); install Debian's python3-numpy and python3-scipy`;
  return undefined;
}

/** A little-endian .npy (format 1.0) of a 1-D array. */
function npy(a: Float64Array | Int32Array): Buffer {
  const descr = a instanceof Float64Array ? "<f8" : "<i4";
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${a.length},), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, "latin1"), Buffer.from(a.buffer, a.byteOffset, a.byteLength)]);
}

/** Read back a 1-D little-endian f8 .npy written by numpy. */
function readNpy(file: string): Float64Array {
  const buf = readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString("latin1", 10, 10 + hlen);
  if (!header.includes("'<f8'")) throw new Error(`${file}: expected little-endian float64, header ${header}`);
  const body = buf.subarray(10 + hlen);
  return new Float64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
}

function busySeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
}

/**
 * Time every case with numpy/scipy, one Python process per case and thread setting (so a
 * case's contention figure is its own). Returns undefined for a setting when Python fails.
 */
export function runNumpy(cases: NumpyCase[], o: { minSamples: number; maxTime: number; log: (s: string) => void }): { one?: NumpyRun; all?: NumpyRun; skipped?: string } {
  const why = numpyUnavailable();
  if (why) return { skipped: why };
  const dir = mkdtempSync(path.join(os.tmpdir(), "bilevel-numpy-"));
  try {
    const manifest = { dir, minSamples: o.minSamples, maxTime: o.maxTime, cases: [] as unknown[] };
    for (const c of cases) {
      const files: Record<string, string> = {};
      for (const [name, a] of Object.entries(c.arrays)) {
        files[name] = `${c.id}.${name}.npy`;
        writeFileSync(path.join(dir, files[name]), npy(a));
      }
      manifest.cases.push({ id: c.id, kind: c.kind, arrays: files, params: c.params });
    }
    const mf = path.join(dir, "manifest.json");
    writeFileSync(mf, JSON.stringify(manifest));
    const out: { one?: NumpyRun; all?: NumpyRun } = {};
    for (const threads of ["1", "all"] as const) {
      const env = { ...process.env };
      if (threads === "1") env.OPENBLAS_NUM_THREADS = "1";
      else delete env.OPENBLAS_NUM_THREADS;
      let run: NumpyRun | undefined;
      for (const c of cases) {
        writeFileSync(mf, JSON.stringify({ ...manifest, only: [c.id] }));
        const b0 = busySeconds(), w0 = performance.now();
        const r = spawnSync(PYTHON, [SCRIPT, mf], { encoding: "utf8", env, maxBuffer: 1 << 26 });
        const wall = (performance.now() - w0) / 1e3, busy = busySeconds() - b0;
        if (r.status !== 0) {
          o.log(`    numpy (${threads} thread${threads === "1" ? "" : "s"}) failed on ${c.id}: ${(r.stderr || String(r.error)).trim().split("\n").slice(-3).join(" | ")}`);
          continue;
        }
        const j = JSON.parse(r.stdout);
        run ??= { threads, python: j.python, numpy: j.numpy, scipy: j.scipy, openblasCoretype: j.openblasCoretype, cases: {} };
        const t = j.cases[c.id];
        // Python's own CPU time is most of the busy time; the rest (node idles meanwhile) is others'
        const otherCores = Math.max(0, (busy - j.cpuS) / wall);
        run.cases[c.id] = { ms: t.ms, minMs: t.minMs, samples: t.samples, otherCores, factorSolveMs: t.factorSolveMs, out: readNpy(path.join(dir, t.out)) };
        o.log(`    numpy ${c.id} (${threads === "1" ? "1 thread" : "all threads"}): ${t.ms.toPrecision(4)} ms/op (median of ${t.samples}), others used ${otherCores.toFixed(2)} cores`);
      }
      if (run) out[threads === "1" ? "one" : "all"] = run;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
