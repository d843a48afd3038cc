import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { describeErrno } from '../state/state-dir.js';
import { parseLynisReport, type LynisReport, type ReportReadResult, type ReportState } from './lynis-report.js';

/** Reports are a few tens of KiB; anything beyond this is not one. */
const maxReportBytes = 16 * 1024 * 1024;

/**
 * Reads the Lynis report when it changed (device, inode, size or mtime), at most once per change,
 * so a scrape costs a stat. A report being written (incomplete) or broken keeps the last complete
 * one in use: Lynis rewrites the file during every run.
 */
export class ReportReader {
  private key = '';
  private held: LynisReport | undefined;
  private current: ReportReadResult = 'missing';
  private reason: string | undefined;
  /** Reads by result, one per version of the file seen. */
  readonly reads: Record<ReportReadResult, number> = { complete: 0, incomplete: 0, invalid: 0, missing: 0, unreadable: 0 };

  constructor(private path: string) {}

  /** A new path (policy reload) forgets what the old one held. */
  setPath(path: string): void {
    if (path === this.path) return;
    this.path = path;
    this.key = '';
    this.held = undefined;
  }

  read(): ReportState {
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r');
      const s = fstatSync(fd);
      const key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
      if (key !== this.key) {
        this.key = key;
        if (!s.isFile()) this.note('unreadable', 'not a regular file');
        else if (s.size > maxReportBytes) this.note('invalid', `${s.size} bytes: larger than any Lynis report`);
        else this.parse(readAll(fd, s.size));
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const result = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable';
      const key = `error:${code ?? ''}`;
      if (key !== this.key) {
        this.key = key;
        this.note(result, describeErrno(error));
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return { held: this.held, current: this.current, reason: this.reason };
  }

  private parse(text: string): void {
    const parsed = parseLynisReport(text);
    if (parsed.status === 'complete') {
      this.held = parsed.report;
      this.note('complete', undefined);
    } else if (parsed.status === 'incomplete')
      this.note('incomplete', 'no report_datetime_end or hardening_index yet: Lynis may still be writing it');
    else this.note('invalid', parsed.reason);
  }

  private note(result: ReportReadResult, reason: string | undefined): void {
    this.current = result;
    this.reason = reason;
    this.reads[result]++;
  }
}

function readAll(fd: number, size: number): string {
  const buffer = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buffer, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buffer.toString('utf8', 0, got);
}
