import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseDpkgStatus } from '../../src/integrity/dpkg-status.js';
import { ownCopy } from '../../src/text/own-copy.js';
import { tempDir } from '../helpers/cli.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * The heap (bytes) still held, after a full collection, by what `keep` keeps of a text read from a
 * file, as the exporter reads dpkg's (a text built in the test itself stays resident for reasons of
 * its own).
 */
function heldAfter(content: string, keep: (text: string) => unknown, evict?: () => unknown): number {
  const file = join(tempDir(), 'text');
  writeFileSync(file, content);
  gc();
  const before = process.memoryUsage().heapUsed;
  let text: string | undefined = readFileSync(file, 'utf8');
  const kept = keep(text);
  text = undefined;
  // V8 keeps the last split of a text by a pattern (subject and pieces) in a cache: `evict` splits another.
  evict?.();
  gc();
  expect(kept).toBeDefined();
  return process.memoryUsage().heapUsed - before;
}

const paths = Array.from({ length: 131_072 }, (_, i) => `/usr/share/doc/package-${i}/changelog.Debian`.padEnd(63, '.')).join('\n');
const lines = (text: string) => text.split('\n').filter((_, i) => i % 1000 === 0);

describe('ownCopy', () => {
  it('is the same text', () => {
    for (const s of ['', 'short', '/usr/share/doc/package-1/changelog', 'ünïcödé path/with a longer name']) expect(ownCopy(s)).toBe(s);
  });

  it('keeps a kept line alone resident, where a slice keeps the whole text it was cut from', () => {
    // The control: slices of an 8 MiB text keep the 8 MiB (in V8's one byte per character).
    expect(heldAfter(paths, (t) => lines(t))).toBeGreaterThan(4 << 20);
    expect(heldAfter(paths, (t) => lines(t).map(ownCopy))).toBeLessThan(1 << 20);
  });

  it('dpkg status entries keep nothing of the status text', () => {
    const stanza = (i: number) =>
      `Package: package-${i}-with-a-long-name\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.2.3-${i}+deb12u1\nDescription: ${'a long description '.repeat(400)}\n`;
    let entries: ReturnType<typeof parseDpkgStatus> = [];
    const status = Array.from({ length: 2_000 }, (_, i) => stanza(i)).join('\n');
    const held = heldAfter(
      status,
      (t) => (entries = parseDpkgStatus(t)),
      () => parseDpkgStatus('Package: other\n\nPackage: other'),
    );
    expect(entries).toHaveLength(2_000);
    // 2,000 entries of a few short strings (about 0.8 MiB): far less than the 15 MiB text.
    expect(held).toBeLessThan(2 << 20);
  });
});
