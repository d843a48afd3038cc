/**
 * Standard output for commands that print much (`auth test --format json`): a pipe takes 64 KiB
 * and Node queues the rest in memory, so a command that reads faster than its reader (`| jq`,
 * `| less`) must wait for the pipe to drain, and one whose reader left (`| head`) must stop
 * reading rather than fail on EPIPE.
 */
export class StandardOutput {
  private failure: NodeJS.ErrnoException | undefined;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= error;
    });
  }

  /** Writing failed (the reader went away, or another error): nothing more will be read. */
  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Another error than a reader gone, to report once the command stops. */
  get error(): NodeJS.ErrnoException | undefined {
    return this.failure?.code === 'EPIPE' ? undefined : this.failure;
  }

  /** Write and wait until the text has left the process (or failed: see `error`). */
  async write(text: string): Promise<void> {
    if (this.failure) return;
    await new Promise<void>((resolve) => {
      this.stream.write(text, (error) => {
        if (error) this.failure ??= error;
        resolve();
      });
    });
  }

  /** Resolves when the stream takes more (at once unless it is full); false when it will take nothing more. */
  async room(): Promise<boolean> {
    if (this.failure) return false;
    if (!this.stream.writableNeedDrain) return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
      this.stream.on('close', done);
    });
    return this.failure === undefined;
  }
}

/**
 * Exit once what was written to stdout and stderr has left the process: `process.exit` drops
 * writes a pipe has not taken yet.
 */
export function exitAfterOutput(code: number): void {
  const flushed = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.writableLength === 0 || stream.destroyed) resolve();
      else stream.write('', () => resolve());
    });
  void Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => setImmediate(() => process.exit(code)));
}
