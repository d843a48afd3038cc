import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChangeWindows, LastWriters, writesFromEvent, type FileWrite } from '../../src/integrity/audit-writers.js';
import { parseAuditRecord } from '../../src/kaudit/record.js';
import { EventStitcher, type AuditEvent } from '../../src/kaudit/stitcher.js';
import { repoRoot } from '../helpers/cli.js';

const fixture = join(repoRoot, 'test', 'fixtures', 'kaudit', 'fim-enriched.log');

/** The events of audit log lines, as the exporter's reader stitches them. */
function eventsOf(lines: readonly string[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  let now = 0;
  const stitcher = new EventStitcher((event) => events.push(event), { now: () => now });
  for (const line of lines) {
    const parsed = parseAuditRecord(line);
    if (!parsed.ok) throw new Error(`not a record: ${line}`);
    stitcher.add(parsed.record);
  }
  now += 10_000;
  stitcher.flushIdle();
  return events;
}

const fixtureLines = () =>
  readFileSync(fixture, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const event = (serial: number, lines = fixtureLines()) => eventsOf(lines).find((e) => e.serial === serial)!;
const summary = (writes: readonly FileWrite[]) => writes.map((w) => [w.path, w.nametype, w.writer.exe, w.writer.pid]);

describe('the writer of a watched file, from the audit events of its watch rule', () => {
  it('an absolute name created by sh: the file, not its directory, written by dash with its pid, uid and unset auid', () => {
    const writes = writesFromEvent(event(125340));
    expect(writes).toEqual([
      {
        path: '/etc/cron.d/abs',
        nametype: 'CREATE',
        writer: { exe: '/usr/bin/dash', pid: 8817, uid: 0, auid: undefined },
        timeMs: 1796600331614,
      },
    ]);
  });

  it('a relative name is resolved against the CWD record', () => {
    expect(summary(writesFromEvent(event(125341)))).toEqual([['/etc/cron.d/rel', 'CREATE', '/usr/bin/dash', 8817]]);
  });

  it('a rename names both: the old name removed and the new one created, by mv', () => {
    expect(summary(writesFromEvent(event(125343)))).toEqual([
      ['/etc/cron.d/rel', 'DELETE', '/usr/bin/mv', 8818],
      ['/etc/cron.d/moved', 'CREATE', '/usr/bin/mv', 8818],
    ]);
  });

  it('chmod (NORMAL), rm (DELETE) and python3 writing a file each name their file', () => {
    expect(summary(writesFromEvent(event(125345)))).toEqual([['/etc/cron.d/moved', 'NORMAL', '/usr/bin/chmod', 8819]]);
    expect(summary(writesFromEvent(event(125347)))).toEqual([['/etc/cron.d/abs', 'DELETE', '/usr/bin/rm', 8820]]);
    expect(summary(writesFromEvent(event(125354)))).toEqual([['/etc/cron.d/py', 'CREATE', '/usr/bin/python3.11', 8822]]);
  });

  it("a symlink's target text is no file written: only the link is", () => {
    expect(summary(writesFromEvent(event(125349)))).toEqual([['/etc/cron.d/link', 'CREATE', '/usr/bin/ln', 8821]]);
  });

  it('a login uid that is set is named; a failed call, or a relative name without a CWD, names nothing', () => {
    const withAuid = fixtureLines().map((l) => l.replace('auid=4294967295', 'auid=1000'));
    expect(writesFromEvent(event(125345, withAuid))[0]!.writer).toEqual({ exe: '/usr/bin/chmod', pid: 8819, uid: 0, auid: 1000 });
    const failed = fixtureLines().map((l) => l.replace('success=yes exit=0', 'success=no exit=-13'));
    expect(writesFromEvent(event(125345, failed))).toEqual([]);
    const withoutCwd = fixtureLines().filter((l) => !(l.startsWith('type=CWD') && l.includes(':125345)')));
    expect(writesFromEvent(event(125345, withoutCwd))).toEqual([]);
  });

  it('the whole capture, recorded in order: each path has its last writer', () => {
    const writers = new LastWriters();
    for (const e of eventsOf(fixtureLines())) writers.recordEvent(e);
    expect(writers.counts).toEqual({ writes: 8, evictions: 0 });
    expect(writers.writerOf('/etc/cron.d/moved', 0)?.exe).toBe('/usr/bin/chmod');
    expect(writers.writerOf('/etc/cron.d/abs', 0)?.exe).toBe('/usr/bin/rm');
    expect(writers.writerOf('/etc/cron.d', 0)).toBeUndefined();
    expect(writers.writerOf('/root/moved', 0)).toBeUndefined();
  });
});

describe('the last writers kept', () => {
  const write = (path: string, pid: number, timeMs: number): FileWrite => ({
    path,
    nametype: 'NORMAL',
    writer: { exe: '/usr/bin/tee', pid, uid: 0, auid: 1000 },
    timeMs,
  });

  it('are bounded: past the capacity the least recently written path is forgotten and counted', () => {
    const writers = new LastWriters(3);
    writers.record(write('/etc/a', 1, 10));
    writers.record(write('/etc/b', 2, 11));
    writers.record(write('/etc/c', 3, 12));
    writers.record(write('/etc/a', 4, 13)); // written again: now the most recent
    writers.record(write('/etc/d', 5, 14));
    expect(writers.size).toBe(3);
    expect(writers.counts).toEqual({ writes: 5, evictions: 1 });
    expect(writers.writerOf('/etc/b', 0)).toBeUndefined();
    expect(writers.writerOf('/etc/a', 0)?.pid).toBe(4);
    expect(writers.writerOf('/etc/d', 0)?.pid).toBe(5);
  });

  it('name a writer only when it wrote at or after the time asked for', () => {
    const writers = new LastWriters();
    writers.record(write('/etc/hosts', 7, 1000));
    expect(writers.writerOf('/etc/hosts', 1000)?.pid).toBe(7);
    expect(writers.writerOf('/etc/hosts', 1001)).toBeUndefined();
    const before = writers.version;
    writers.record(write('/etc/hosts', 8, 2000));
    expect(writers.version).toBeGreaterThan(before);
  });
});

describe('since when a changed path’s writer is looked for', () => {
  it('from the start of the last judged observation that did not show it changed; 0 before any', () => {
    const windows = new ChangeWindows();
    windows.judged(['/etc/passwd'], 1000);
    expect(windows.sinceOf('/etc/passwd')).toBe(0);
    windows.judged(['/etc/passwd', '/etc/hosts'], 2000);
    expect(windows.sinceOf('/etc/passwd')).toBe(0);
    expect(windows.sinceOf('/etc/hosts')).toBe(1000);
    windows.judged(['/etc/hosts'], 3000);
    windows.judged(['/etc/hosts', '/etc/passwd'], 4000);
    expect(windows.sinceOf('/etc/hosts')).toBe(1000);
    expect(windows.sinceOf('/etc/passwd')).toBe(3000);
  });
});
