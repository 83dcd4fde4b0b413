// `bilevel-rl sweep --jobs N`: cells run by a pool of worker threads. Run as a real process
// from source (like tests/cli.test.ts): the cell files, the closing line and the merged
// table are the same bytes for --jobs 1 and --jobs 2 (and with --shard), SIGTERM stops
// every worker and keeps only whole, valid cell files that a merge and a rerun accept, and
// a bad --jobs is a usage error naming the flag. The pool and the aggregated progress are
// also tested on their own (fake workers, a fake clock).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerPool } from "../src/cli/pool";
import { CellsProgress } from "../src/cli/progress";
import type { ExperimentWorker } from "../src/cli/worker";
import { children, cli, inProcess, type Exit } from "./helpers/cli";



let dir: string;
const file = (name: string) => join(dir, name);
const read = (path: string) => readFileSync(path, "utf8");
const write = (name: string, value: unknown) => writeFileSync(file(name), JSON.stringify(value, null, 2));
const cellsIn = (out: string) => readdirSync(join(out, "cells")).sort();
/** The line `wrote N cell files to <dir>/cells/ (…)` with the directory taken out. */
const closing = (stdout: string, out: string) => stdout.trimEnd().split("\n").at(-1)!.replaceAll(out, "<out>");

/** A 3 × 3 GridWorld goal problem with exact descent: a few milliseconds per iteration. */
const small = {
  version: 1,
  seed: 0,
  problem: { builtin: "gridGoal", params: { size: 3 } },
  algorithm: { name: "exactDescent", beta: 0.1 },
  iterations: 6,
  record: { phiEvery: 2 },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bilevel-rl-jobs-"));
  write("small.json", small);
  // 6 cells of different lengths, so that with two workers they finish out of order
  write("sweep.json", { base: "small.json", seeds: [0, 1], grid: { "/iterations": [40, 4, 12] } });
  // cell 0 is over at once; cells 1–3 take seconds (about 0.5 ms per iteration)
  write("stop.json", { base: "small.json", grid: { "/iterations": [2, 4000, 4000, 4000] } });
});

afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("sweep --jobs 2 writes what --jobs 1 writes", () => {
  let one: Exit, two: Exit, shard: Exit;

  beforeAll(async () => {
    [one, two, shard] = await Promise.all([
      cli(["sweep", file("sweep.json"), "--jobs", "1", "--out", file("j1")]),
      cli(["sweep", file("sweep.json"), "--jobs", "2", "--out", file("j2")]),
      cli(["sweep", file("sweep.json"), "--shard", "0/2", "--jobs", "2", "--out", file("s0")]),
    ]);
  }, 120_000);

  it("exits with 0 and writes byte-identical cell files, one per cell", () => {
    for (const r of [one, two, shard]) expect(r.code, r.stderr).toBe(0);
    const names = ["cell-0000.json", "cell-0001.json", "cell-0002.json", "cell-0003.json", "cell-0004.json", "cell-0005.json"];
    expect(cellsIn(file("j1"))).toEqual(names);
    expect(cellsIn(file("j2"))).toEqual(names);
    for (const n of names) expect(read(join(file("j2"), "cells", n)), n).toBe(read(join(file("j1"), "cells", n)));
    // the shard's cells (index ≡ 0 mod 2) are the same bytes as the unsharded sweep's
    expect(cellsIn(file("s0"))).toEqual(["cell-0000.json", "cell-0002.json", "cell-0004.json"]);
    for (const n of cellsIn(file("s0"))) expect(read(join(file("s0"), "cells", n)), n).toBe(read(join(file("j1"), "cells", n)));
  });

  it("prints the same closing line; --jobs 1 prints the lines it printed before --jobs existed, --jobs 2 adds the counts", () => {
    expect(closing(two.stdout, file("j2"))).toBe(closing(one.stdout, file("j1")));
    expect(closing(one.stdout, file("j1"))).toBe("wrote 6 cell files to <out>/cells/ (6 ok, 0 failed); collect them with: bilevel-rl merge <out>");
    expect(closing(shard.stdout, file("s0"))).toBe("wrote 3 cell files to <out>/cells/ (3 ok, 0 failed); collect them with: bilevel-rl merge <out>");
    // --jobs 1: the header and one plain line per cell, in cell order
    const lines1 = one.stdout.trimEnd().split("\n");
    expect(lines1[0]).not.toMatch(/; \d+ jobs → /);
    expect(lines1.slice(1, 7).map((l) => /^cell (\d) of 6 \(.*\): completed \d+ iterations in [\d.]+ s: φ\(x_K\) = .*[^\]]$/.exec(l)?.[1])).toEqual(["0", "1", "2", "3", "4", "5"]);
    // --jobs 2: each cell once (in the order they finished), with the running counts
    expect(two.stdout.split("\n")[0]).toMatch(/; 2 jobs → /);
    const lines2 = two.stdout.trimEnd().split("\n").slice(1, 7);
    expect(lines2.map((l) => /^cell (\d) of 6 /.exec(l)?.[1]).sort()).toEqual(["0", "1", "2", "3", "4", "5"]);
    expect(lines2.map((l) => /\[cells (\d)\/6 done, [012] running\]$/.exec(l)?.[1])).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(lines2[5]).toMatch(/\[cells 6\/6 done, 0 running\]$/);
  });

  it("merges to the same summary.csv and summary.md, and the two shards with --jobs 2 merge to it too", async () => {
    const s1 = await cli(["sweep", file("sweep.json"), "--shard", "1/2", "--jobs", "2", "--out", file("s1")]);
    expect(s1.code, s1.stderr).toBe(0);
    const [m1, m2, m3] = await Promise.all([
      cli(["merge", file("j1"), "--out", file("m1/summary.csv")]),
      cli(["merge", file("j2"), "--out", file("m2/summary.csv")]),
      cli(["merge", file("s0"), file("s1"), "--out", file("m3/summary.csv")]),
    ]);
    for (const m of [m1, m2, m3]) expect(m.code, m.stderr).toBe(0);
    expect(read(file("m2/summary.csv"))).toBe(read(file("m1/summary.csv")));
    expect(read(file("m2/summary.md"))).toBe(read(file("m1/summary.md")));
    expect(read(file("m3/summary.csv"))).toBe(read(file("m1/summary.csv")));
    expect(read(file("m3/summary.md"))).toBe(read(file("m1/summary.md")));
    expect(read(file("m1/summary.csv")).trimEnd().split("\n")).toHaveLength(7);
  }, 120_000);
});

describe("sweep --jobs 2 and SIGTERM", () => {
  it("stops every worker after the first cell, keeps whole cell files only, exits 143, and a merge and a rerun accept what it kept", async () => {
    const out = file("stopped");
    let sent = false;
    const r = await cli(
      ["sweep", file("stop.json"), "--jobs", "2", "--out", out],
      (text, child) => {
        // the first cell's line comes after its file was written
        if (!sent && /^cell 0 of 4 .*\[cells 1\/4 done/m.test(text)) {
          sent = true;
          // to the process and again to its group, as `timeout` does: one stop
          child.kill("SIGTERM");
          process.kill(-child.pid!, "SIGTERM");
        }
      },
      { detached: true },
    );
    expect(sent).toBe(true);
    expect(r.signal).toBe(null);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain("SIGTERM received");
    expect(r.stderr).not.toContain("exiting without writing");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^wrote \d cell files? to .* \(\d ok, 0 failed\), interrupted; collect them with: /);

    // no temporary files; every kept file is whole JSON: cell 0 ran to the end, the cells that
    // were running say "interrupted" with the iterations they did, the rest never started
    const kept = readdirSync(join(out, "cells")).sort();
    expect(kept.every((n) => /^cell-000\d\.json$/.test(n)), kept.join(" ")).toBe(true);
    expect(kept[0]).toBe("cell-0000.json");
    expect(kept.length).toBeLessThan(4); // cell 3 can only start after cell 1 or 2 ran 4000 iterations
    const cells = kept.map((n) => JSON.parse(read(join(out, "cells", n))));
    expect(cells[0].status).toBe("max-iterations");
    expect(cells[0].result.iterations).toBe(2);
    for (const c of cells.slice(1)) {
      expect(c.status).toBe("interrupted");
      expect(c.result.iterations).toBeLessThan(4000);
      expect(c.result.history).toHaveLength(c.result.iterations);
    }

    // a merge of what was kept, then a rerun that completes the sweep
    const partial = await cli(["merge", out, "--allow-partial", "--out", file("stopped-partial.csv")]);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toContain(`merged ${kept.length} of 4 cells`);
    const rerun = await cli(["sweep", file("stop.json"), "--jobs", "2", "--out", out]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(cellsIn(out)).toEqual(["cell-0000.json", "cell-0001.json", "cell-0002.json", "cell-0003.json"]);
    const merged = await cli(["merge", out]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain("merged 4 of 4 cells");
    expect(read(join(out, "summary.csv")).trimEnd().split("\n").slice(1).map((l) => l.split(",")[3])).toEqual(["max-iterations", "max-iterations", "max-iterations", "max-iterations"]);
    // the first cell is the same bytes whether its run was the stopped one or the rerun
    expect(read(join(out, "cells", "cell-0000.json"))).toBe(JSON.stringify(cells[0], null, 2) + "\n");
  }, 180_000);
});

describe("--jobs validation", () => {
  it.each(["0", "-1", "1.5", "two", ""])("--jobs %j is a usage error (exit 2) naming the flag and the value", async (value) => {
    const r = await inProcess(["sweep", file("sweep.json"), "--jobs", value, "--out", file("never")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`bilevel-rl: --jobs: expected a positive integer, got ${JSON.stringify(value)}\n`);
    expect(r.stdout).toBe("");
  });

  it("documents --jobs and its default (the number of CPUs) in the sweep's help", async () => {
    const r = await inProcess(["sweep", "--help"]);
    expect(r.code).toBe(0);
    // commander wraps the option's description: compare with the line breaks as spaces
    expect(r.stdout.replace(/\s+/g, " ")).toMatch(/-j, --jobs <n> cells run at once, each in its own worker thread \(default: the number of CPUs, here \d+\)/);
    expect(r.stdout).toContain("--shard");
  });
});

/** A stand-in for an ExperimentWorker: only what the pool calls. */
function fakeWorker(): ExperimentWorker {
  let flag = false;
  return {
    interrupt: () => void (flag = true),
    get interrupted() {
      return flag;
    },
    close: async () => {},
  } as unknown as ExperimentWorker;
}

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("WorkerPool", () => {
  it("starts the items in order on the free workers, never more than its size at once", async () => {
    const pool = new WorkerPool(3, fakeWorker);
    const started: number[] = [];
    let running = 0, most = 0;
    const slots = new Map<number, number>();
    await pool.run([0, 1, 2, 3, 4, 5, 6], async (item, _w, slot) => {
      started.push(item);
      slots.set(item, slot);
      most = Math.max(most, ++running);
      for (let i = 0; i < (item * 7) % 4; i++) await tick(); // out-of-order finishes
      running--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
    expect([slots.get(0), slots.get(1), slots.get(2)]).toEqual([0, 1, 2]);
    await pool.close();
  });

  it("after interrupt() lets the running items finish, starts no more, and interrupts every worker", async () => {
    const workers: ExperimentWorker[] = [];
    const pool = new WorkerPool(2, () => {
      const w = fakeWorker();
      workers.push(w);
      return w;
    });
    const finished: number[] = [];
    expect(pool.interrupted).toBe(false);
    await pool.run([0, 1, 2, 3, 4], async (item) => {
      if (item === 1) pool.interrupt();
      await tick();
      finished.push(item);
    });
    expect(finished.sort()).toEqual([0, 1]);
    expect(pool.interrupted).toBe(true);
    expect(workers.map((w) => w.interrupted)).toEqual([true, true]);
  });

  it("after a failing item starts no more, lets the running one finish, then rejects with the first error", async () => {
    const pool = new WorkerPool(2, fakeWorker);
    const finished: number[] = [];
    const run = pool.run([0, 1, 2, 3], async (item) => {
      if (item === 0) throw new Error("cannot write cell 0");
      await tick();
      finished.push(item);
    });
    await expect(run).rejects.toThrow("cannot write cell 0");
    expect(finished).toEqual([1]);
    expect(pool.interrupted).toBe(false);
  });

  it("refuses a size that is not a positive integer", () => {
    for (const size of [0, -1, 1.5, NaN]) expect(() => new WorkerPool(size, fakeWorker)).toThrow(RangeError);
  });
});

describe("CellsProgress", () => {
  it("piped: prints each finished cell's line with the counts, and nothing else", () => {
    let text = "";
    const p = new CellsProgress({ cells: 3, tty: false, write: (s) => void (text += s) });
    p.start(0, 10);
    p.start(1, 10);
    p.update(1, 5);
    p.finish(1, "cell 1 of 3: done");
    p.start(2, 10);
    p.finish(0, "cell 0 of 3: done");
    p.finish(2, "cell 2 of 3: done");
    p.clear();
    expect(text).toBe("cell 1 of 3: done [cells 1/3 done, 1 running]\ncell 0 of 3: done [cells 2/3 done, 1 running]\ncell 2 of 3: done [cells 3/3 done, 0 running]\n");
  });

  it("on a terminal: redraws one status line with the running cells' iterations (at most every 80 ms), cleared before each cell's line", () => {
    let text = "", t = 0;
    const p = new CellsProgress({ cells: 4, tty: true, write: (s) => void (text += s), columns: 60, now: () => t });
    p.start(2, 100);
    t = 100;
    p.start(1, 50);
    t = 150;
    p.update(1, 20); // within 80 ms of the last draw: not drawn
    t = 200;
    p.update(2, 30);
    expect(text.split("\r\x1b[2K").filter(Boolean)).toEqual(["cells 0/4 done, 1 running: cell 2 0/100", "cells 0/4 done, 2 running: cell 1 0/50, cell 2 0/100", "cells 0/4 done, 2 running: cell 1 20/50, cell 2 30/100"]);
    text = "";
    p.finish(2, "cell 2 of 4: done");
    p.clear();
    expect(text).toBe("\r\x1b[2Kcell 2 of 4: done [cells 1/4 done, 1 running]\n\r\x1b[2Kcells 1/4 done, 1 running: cell 1 20/50\r\x1b[2K");
    // a line longer than the terminal is cut to fit
    text = "";
    for (let i = 10; i < 20; i++) {
      t += 100;
      p.start(i, 1000);
    }
    p.clear();
    expect(Math.max(...text.split("\r\x1b[2K").map((l) => l.length))).toBeLessThanOrEqual(59);
  });
});
