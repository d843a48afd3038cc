/**
 * Bytes in, complete lines out, with memory bounded by `maxLineBytes` whatever the input: a line
 * longer than that is cut, emitted once as truncated, and the rest of it skipped up to its newline.
 * Invalid UTF-8 decodes to U+FFFD; a trailing CR is dropped.
 */
export interface SplitLines {
  readonly lines: string[];
  /** How many of `lines` were cut at maxLineBytes. */
  readonly truncated: number;
}

const newline = 0x0a;

export class LineSplitter {
  private carry: Buffer | undefined;
  private skipping = false;

  constructor(private maxLineBytes: number) {}

  /** A new bound for lines not yet emitted (a reloaded policy); the bytes already kept stay. */
  setMaxLineBytes(maxLineBytes: number): void {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes received but not yet part of an emitted line (the start of a partial line). */
  get pendingBytes(): number {
    return this.carry?.length ?? 0;
  }

  /** True while the rest of an overlong line is being skipped: resuming here must skip to the next newline. */
  get midLine(): boolean {
    return this.skipping;
  }

  /** Resume inside a line whose start was already emitted or deliberately dropped. */
  skipToNextLine(): void {
    this.carry = undefined;
    this.skipping = true;
  }

  reset(): void {
    this.carry = undefined;
    this.skipping = false;
  }

  push(chunk: Buffer): SplitLines {
    const lines: string[] = [];
    let truncated = 0;
    let start = 0;
    const first = chunk.indexOf(newline);
    if (this.skipping) {
      if (first < 0) return { lines, truncated };
      this.skipping = false;
      start = first + 1;
    } else if (this.carry) {
      if (first < 0) {
        if (this.append(chunk, 0, chunk.length, lines)) truncated++;
        return { lines, truncated };
      }
      const whole = this.carry.length + first;
      if (whole > this.maxLineBytes) {
        if (this.append(chunk, 0, first, lines)) truncated++;
        // append() emitted the cut line and set skipping; the newline ends it.
        this.skipping = false;
      } else {
        lines.push(decodeLine(Buffer.concat([this.carry, chunk.subarray(0, first)])));
        this.carry = undefined;
      }
      start = first + 1;
    }
    const last = chunk.lastIndexOf(newline);
    if (last >= start) {
      const text = chunk.toString('utf8', start, last);
      let from = 0;
      for (;;) {
        const end = text.indexOf('\n', from);
        const line = text.slice(from, end < 0 ? text.length : end);
        if (line.length > this.maxLineBytes) {
          lines.push(stripCr(line.slice(0, this.maxLineBytes)));
          truncated++;
        } else lines.push(stripCr(line));
        if (end < 0) break;
        from = end + 1;
      }
      start = last + 1;
    }
    if (start < chunk.length && this.append(chunk, start, chunk.length, lines)) truncated++;
    return { lines, truncated };
  }

  /** The partial line at the end of a file that will not grow any more (a rotated file). */
  flush(): SplitLines {
    const carry = this.carry;
    this.reset();
    return carry && carry.length > 0 ? { lines: [decodeLine(carry)], truncated: 0 } : { lines: [], truncated: 0 };
  }

  /** Keep bytes of a partial line; when they would exceed the bound, emit the cut line and skip the rest. */
  private append(chunk: Buffer, from: number, to: number, lines: string[]): boolean {
    const have = this.carry?.length ?? 0;
    if (have + (to - from) <= this.maxLineBytes) {
      const part = chunk.subarray(from, to);
      this.carry = this.carry ? Buffer.concat([this.carry, part]) : Buffer.from(part);
      return false;
    }
    const room = this.maxLineBytes - have;
    const cut = this.carry ? Buffer.concat([this.carry, chunk.subarray(from, from + room)]) : chunk.subarray(from, from + room);
    lines.push(decodeLine(cut));
    this.carry = undefined;
    this.skipping = true;
    return true;
  }
}

function decodeLine(bytes: Buffer): string {
  return stripCr(bytes.toString('utf8'));
}

function stripCr(line: string): string {
  // charCodeAt, not endsWith: this runs for every line, and endsWith is slow on sliced strings.
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
