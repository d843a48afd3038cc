import { describe, expect, it } from 'vitest';
import { integritySectionSchema } from '../../src/config/sections/integrity.js';
import { canonicalizer, indexChecksums, lastDpkgLogTime, parseDiversions, parseMd5sums } from '../../src/integrity/dpkg.js';
import { fromBaselineEntry, toBaselineEntry, type FileState } from '../../src/integrity/file-state.js';
import { progressLine } from '../../src/integrity/progress.js';
import { compileWatchScope, isInScope } from '../../src/integrity/watch-scope.js';

describe('dpkg database parsing', () => {
  it('reads md5sums lines and skips garbage', () => {
    expect(parseMd5sums(`${'a'.repeat(32)}  usr/bin/ls\nnot a line\n${'b'.repeat(32)}  usr/share/doc/a b.txt\n`)).toEqual([
      { md5: 'a'.repeat(32), path: '/usr/bin/ls' },
      { md5: 'b'.repeat(32), path: '/usr/share/doc/a b.txt' },
    ]);
  });

  it('reads diversions and applies them, and maps /bin to /usr/bin on a merged-/usr host', () => {
    const diversions = parseDiversions('/usr/bin/pg_config\n/usr/bin/pg_config.libpq-dev\npostgresql-common\n');
    expect(diversions).toEqual([{ from: '/usr/bin/pg_config', to: '/usr/bin/pg_config.libpq-dev', by: 'postgresql-common' }]);
    const canonical = canonicalizer(new Map([['/bin', '/usr/bin']]));
    expect(canonical('/bin/ls')).toBe('/usr/bin/ls');
    expect(canonical('/binary')).toBe('/binary');
    const index = indexChecksums(
      [
        { name: 'libpq-dev', key: 'libpq-dev:amd64', md5sums: `${'1'.repeat(32)}  usr/bin/pg_config\n` },
        { name: 'postgresql-common', key: 'postgresql-common:all', md5sums: `${'2'.repeat(32)}  usr/bin/pg_config\nnot a line\n` },
        { name: 'coreutils', key: 'coreutils:amd64', md5sums: `${'3'.repeat(32)} *bin/ls` },
        // dpkg writes configuration files into the md5sums it generates for a package that has none: not a package checksum.
        { name: 'cron', key: 'cron:amd64', md5sums: `${'4'.repeat(32)}  etc/crontab\n`, conffiles: new Set(['/etc/crontab']) },
      ],
      diversions,
      canonical,
      new Set(['/usr/bin/pg_config', '/usr/bin/pg_config.libpq-dev', '/usr/bin/ls', '/etc/crontab']),
    );
    expect(Object.fromEntries(index)).toEqual({
      '/usr/bin/pg_config.libpq-dev': { md5: '1'.repeat(32), package: 'libpq-dev', key: 'libpq-dev:amd64' },
      '/usr/bin/pg_config': { md5: '2'.repeat(32), package: 'postgresql-common', key: 'postgresql-common:all' },
      '/usr/bin/ls': { md5: '3'.repeat(32), package: 'coreutils', key: 'coreutils:amd64' },
    });
  });

  it('finds the last dpkg.log timestamp, ignoring a torn last line', () => {
    expect(lastDpkgLogTime('2024-01-02 03:04:05 status installed a\n2024-01-02 03:04:09 status installed b\npartial li')).toEqual(
      new Date('2024-01-02T03:04:09'),
    );
    expect(lastDpkgLogTime('')).toBeUndefined();
  });
});

describe('watch scope', () => {
  const scope = compileWatchScope(['/usr/bin/', '/etc/cron.*', '/opt/**/bin'], ['/usr/bin/cache', '/etc/cron.d/*.bak']);
  it.each([
    ['/usr/bin', true],
    ['/usr/bin/ls', true],
    ['/usr/bin/cache/x', false],
    ['/usr/binary', false],
    ['/etc/cron.daily/logrotate', true],
    ['/etc/cron.d/job.bak', false],
    ['/etc/crontab', false],
    ['/opt/a/b/bin/tool', true],
    ['/opt/bin/tool', true],
  ])('%s in scope: %s', (path, expected) => {
    expect(isInScope(scope, path)).toBe(expected);
  });
});

describe('integrity policy and baseline entries', () => {
  it('watches the default set when no paths are given, and reads durations', () => {
    const policy = integritySectionSchema.parse({ full_rehash_interval: '90m' });
    expect(policy.paths).toContain('/usr/bin');
    expect(policy.paths).toContain('/etc/sudoers.d');
    expect(policy.full_rehash_interval).toBe(5400);
    expect(integritySectionSchema.parse({}).full_rehash_interval).toBe(6 * 3600);
    expect(integritySectionSchema.safeParse({ full_rehash_interval: '6 hours' }).success).toBe(false);
    expect(integritySectionSchema.safeParse({ paths: ['usr/bin'] }).success).toBe(false);
  });

  it('round-trips a file state through its baseline entry, mode in octal', () => {
    const state: FileState = {
      type: 'file',
      mode: 0o4755,
      uid: 0,
      gid: 0,
      size: 3,
      inode: '18446744073709551615',
      mtimeNs: '1',
      ctimeNs: '2',
      sha256: 'a'.repeat(64),
    };
    const entry = toBaselineEntry(state);
    expect(entry.mode).toBe('4755');
    expect(fromBaselineEntry(entry)).toEqual(state);
  });
});

describe('the progress line', () => {
  function stream(isTTY: boolean) {
    const written: string[] = [];
    return { written, stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream };
  }

  /** A line on a terminal that showed 10 files and 50 MB after one second, then was done. */
  function finishedLine() {
    const clock = { now: 0 };
    const tty = stream(true);
    const line = progressLine('integrity: hashing', tty.stream, () => clock.now);
    clock.now = 1000;
    line.update(10, 50e6);
    line.done();
    return { tty, line, clock };
  }

  it('shows files, MB and MB/s on a terminal', () => {
    const { tty } = finishedLine();
    expect(tty.written.join('')).toContain('integrity: hashing: 10 files, 50 MB, 50 MB/s');
    expect(tty.written.at(-1)).toBe('\n');
  });

  it('is finished by done(): later updates and a second done() write nothing', () => {
    const { tty, line, clock } = finishedLine();
    const written = tty.written.length;
    clock.now = 2000;
    line.update(20, 100e6);
    line.done();
    expect(tty.written.length).toBe(written);
  });

  it('writes nothing when stderr is not a terminal', () => {
    const pipe = stream(false);
    const line = progressLine('integrity: hashing', pipe.stream);
    line.update(10, 50e6);
    line.done();
    expect(pipe.written).toEqual([]);
  });
});
