import { performance } from 'node:perf_hooks';

/**
 * Long synchronous work (thousands of /proc reads, a PID sweep) cut into slices: after `sliceMs`
 * of work the caller awaits a full turn of the event loop, so scrapes and timers are never held up
 * for longer than a slice. `due()` returns a promise only when it is time to yield, so a loop
 * step that does not yield allocates nothing:
 *
 *     const pause = slicer.due();
 *     if (pause) await pause;
 */
export class Slicer {
  /** The first slice starts when the slicer is made: work done before the loop counts towards it. */
  private start = performance.now();
  private calls = 0;
  private pauses = 0;

  constructor(
    private readonly sliceMs: number,
    /** Look at the clock only every so many calls: reading it costs more than a tight loop's step. */
    private readonly checkEvery = 1,
  ) {}

  due(): Promise<void> | undefined {
    if (++this.calls % this.checkEvery !== 0 || performance.now() - this.start < this.sliceMs) return undefined;
    return this.pause();
  }

  /** How many times the work yielded: none means it fitted in one slice. */
  get yielded(): number {
    return this.pauses;
  }

  /**
   * Yield now. Two turns of setImmediate: one alone, taken from a request's I/O callback (the poll
   * phase), resumes in the check phase right after it, and the next slice would run before any
   * timer or other request. The second lands after a full loop turn: timers and I/O run in between.
   */
  pause(): Promise<void> {
    this.pauses++;
    return new Promise<void>((resolve) =>
      setImmediate(() =>
        setImmediate(() => {
          this.start = performance.now();
          resolve();
        }),
      ),
    );
  }
}
