import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeName, fsPath } from '../../src/integrity/fs-names.js';

describe('file names that are not UTF-8', () => {
  it('decode losslessly: the bytes come back for the file system, whatever they are', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const back = fsPath(decodeName(buffer));
        expect(Buffer.isBuffer(back) ? back : Buffer.from(back, 'utf8')).toEqual(buffer);
      }),
      { numRuns: 5000 },
    );
  });

  it('leave valid UTF-8 names as they are, and never make two names one', () => {
    expect(decodeName(Buffer.from('café ✓'))).toBe('café ✓');
    expect(fsPath('/usr/bin/café')).toBe('/usr/bin/café');
    expect(decodeName(Buffer.from([0x62, 0xff, 0xfe]))).toBe('b\uDCFF\uDCFE');
    // U+FFFD written as real UTF-8 stays U+FFFD: it does not collide with an invalid byte.
    expect(decodeName(Buffer.from('b\uFFFD'))).toBe('b\uFFFD');
    expect(decodeName(Buffer.from([0x62, 0xff]))).not.toBe(decodeName(Buffer.from('b\uFFFD')));
  });
});
