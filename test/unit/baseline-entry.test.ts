import { describe, expect, it } from 'vitest';
import { baselineFileEntrySchema, isWellFormedEntry } from '../../src/integrity/file-state.js';

const valid = {
  type: 'file',
  mode: '0644',
  uid: 0,
  gid: 0,
  size: 12,
  inode: '1234',
  mtime_ns: '1700000000000000000',
  ctime_ns: '1700000000000000000',
  sha256: 'a'.repeat(64),
};

/** One field changed (or removed, as `undefined`) at a time, and a few shapes that are no entry at all. */
const variants: unknown[] = [
  valid,
  { ...valid, sha256: undefined },
  { type: 'symlink', mode: '0777', uid: 1, gid: 2, size: 3, inode: '4', mtime_ns: '5', ctime_ns: '6', target: '/x' },
  ...(['type', 'mode', 'uid', 'gid', 'size', 'inode', 'mtime_ns', 'ctime_ns', 'sha256', 'target'] as const).flatMap((key) =>
    [
      undefined,
      null,
      '',
      'file',
      'fifo',
      'none',
      '0644',
      '644',
      '0648',
      '07777',
      0,
      -1,
      1.5,
      7,
      NaN,
      '12',
      '-12',
      '1e3',
      'A'.repeat(64),
      'a'.repeat(63),
      'a'.repeat(64),
      {},
      [],
    ].map((v) => {
      const e: Record<string, unknown> = { ...valid, [key]: v };
      if (v === undefined) delete e[key];
      return e;
    }),
  ),
  { ...valid, extra: 1 },
  JSON.parse('{"__proto__": 1, "type": "file"}'),
  null,
  [],
  'file',
  42,
];

describe('baseline entries checked by hand', () => {
  it('accepts exactly what the schema accepts', () => {
    const disagreements = variants.filter((v) => isWellFormedEntry(v) !== baselineFileEntrySchema.safeParse(v).success);
    expect(disagreements).toEqual([]);
    // Both kinds are among the variants: the comparison is not of all-valid or all-invalid ones.
    expect(variants.filter((v) => isWellFormedEntry(v)).length).toBeGreaterThan(10);
    expect(variants.filter((v) => !isWellFormedEntry(v)).length).toBeGreaterThan(50);
  });
});
