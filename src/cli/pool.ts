// A small pool of experiment workers for `sweep --jobs N`: N ExperimentWorkers (threads),
// each taking the next task from one shared queue as soon as it is free, so the tasks
// start in queue order and finish in whatever order their run times give. Whoever calls
// `run` owns the results: anything that must not depend on the finishing order (cell files
// are written by cell index) is the task's business.
//
// Stopping: `interrupt()` raises every worker's shared flag (the running experiments stop
// after their current iteration and resolve with status "interrupted"), and no further
// task starts. A task that throws stops the queue too; the tasks already running finish,
// then `run` rejects with the first error. `close()` terminates every thread.
import type { Interruptible } from "./signals";
import { ExperimentWorker } from "./worker";

export class WorkerPool implements Interruptible {
  private readonly workers: ExperimentWorker[];
  private stopped = false;

  /** `size` workers (an integer ≥ 1); `make` builds one (tests may pass their own). */
  constructor(size: number, make: () => ExperimentWorker = () => new ExperimentWorker()) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`WorkerPool: size must be a positive integer, got ${size}`);
    this.workers = Array.from({ length: size }, make);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Stop every running experiment after its current iteration, and start no more tasks. */
  interrupt(): void {
    this.stopped = true;
    for (const w of this.workers) w.interrupt();
  }

  get interrupted(): boolean {
    return this.workers.some((w) => w.interrupted);
  }

  /**
   * Run `task(item, worker, slot)` for the items in order, at most `size` at a time (slot:
   * which worker, 0 … size − 1). Resolves when every started task has finished; items not
   * started because of an interrupt or an error are skipped.
   */
  async run<T>(items: readonly T[], task: (item: T, worker: ExperimentWorker, slot: number) => Promise<void>): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const loop = async (slot: number) => {
      const worker = this.workers[slot];
      while (!this.stopped && failure === undefined && next < items.length) {
        const item = items[next++];
        try {
          await task(item, worker, slot);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(this.workers.map((_, slot) => loop(slot)));
    if (failure) throw failure.error;
  }

  /** Terminate every worker thread. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
