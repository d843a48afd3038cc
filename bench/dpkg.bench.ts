import { defaultWatchedPaths } from '../src/config/sections/integrity.js';
import { DpkgReader } from '../src/integrity/dpkg.js';
import { compileWatchScope } from '../src/integrity/watch-scope.js';
import { timeAsync, timeCommand } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

/**
 * Reading this host's dpkg database as the integrity collector does after dpkg ran: the status
 * file, every file list and md5sums (owners of the default watched set, every package's
 * fingerprint, checksums of the watched files), beside `dpkg -V` of one package and `debsums` cost.
 * The read happens on the event loop, once per change of the database; the cached read is what
 * every other scan pays.
 */
export default async function dpkgBench(): Promise<BenchResult> {
  const scope = compileWatchScope([...defaultWatchedPaths], []);
  const wanted = new Set(['/usr/bin/ls', '/usr/bin/sudo', '/usr/sbin/cron']);
  const database = new DpkgReader('/').read(wanted, scope);
  const packages = database.packages.size;
  const owned = [...database.packages.values()].reduce((n, p) => n + p.paths.length, 0);
  const cold = await timeAsync(async () => new DpkgReader('/').read(wanted, scope), 10, 2);
  const reader = new DpkgReader('/');
  reader.read(wanted, scope);
  const cached = await timeAsync(async () => reader.read(wanted, scope), 50, 5);
  const dpkgQuery = timeCommand('dpkg-query', ['-W'], 10);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  return {
    name: `dpkg database (${packages} packages, ${owned} listed paths in the default watched set)`,
    rows: [
      {
        subject: 'read after dpkg ran: status, lists, md5sums, fingerprints p50 / p95',
        figure: `${ms(cold.p50Ms)} / ${ms(cold.p95Ms)}`,
        command: "npm run bench -- dpkg (new DpkgReader('/').read, 10 runs)",
      },
      {
        subject: 'read while dpkg has not run (cached) p50',
        figure: `${cached.p50Ms.toFixed(2)} ms`,
        command: 'npm run bench -- dpkg (same reader, 50 runs)',
      },
      { subject: '`dpkg-query -W` for comparison p50', figure: ms(dpkgQuery.p50Ms), command: 'dpkg-query -W' },
    ],
  };
}
