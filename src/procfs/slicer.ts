import { performance } from 'node:perf_hooks';

/**
 * Long synchronous work (thousands of /proc reads, a PID sweep) cut into slices: after `sliceMs`
 * of work the caller awaits one turn of the event loop, so scrapes and timers are never held up
 * for longer than a slice. `due()` returns a promise only when it is time to yield, so a loop
 * step that does not yield allocates nothing:
 *
 *     const pause = slicer.due();
 *     if (pause) await pause;
 */
export class Slicer {
  private start = performance.now();
  private calls = 0;

  constructor(
    private readonly sliceMs: number,
    /** Look at the clock only every so many calls: reading it costs more than a tight loop's step. */
    private readonly checkEvery = 1,
  ) {}

  due(): Promise<void> | undefined {
    if (++this.calls % this.checkEvery !== 0 || performance.now() - this.start < this.sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.start = performance.now();
        resolve();
      }),
    );
  }
}
