/**
 * The progress line of `baseline init` and `update` on a terminal: files, MB, MB/s, rewritten in
 * place at most four times a second. Nothing is written when stderr is not a terminal (logs, CI).
 * After done() the line is finished: later updates and a second done() write nothing.
 */
export interface ProgressLine {
  update(files: number, bytes: number): void;
  done(): void;
}

const silent: ProgressLine = { update: () => {}, done: () => {} };

export function progressLine(label: string, stream: NodeJS.WriteStream = process.stderr, now = () => performance.now()): ProgressLine {
  if (!stream.isTTY) return silent;
  const started = now();
  let lastDraw = 0;
  let last = { files: 0, bytes: 0 };
  let finished = false;
  const draw = () => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const mb = last.bytes / 1e6;
    stream.write(`\r\x1b[K${label}: ${last.files} files, ${mb.toFixed(0)} MB, ${(mb / seconds).toFixed(0)} MB/s`);
  };
  return {
    update(files, bytes) {
      if (finished) return;
      last = { files, bytes };
      if (now() - lastDraw < 250) return;
      lastDraw = now();
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      if (last.files === 0 && lastDraw === 0) return;
      draw();
      stream.write('\n');
    },
  };
}
