/**
 * File names are bytes; JavaScript strings are not. A name that is not valid UTF-8 would decode to
 * U+FFFD and then name no file at all, so an intruder could hide a file from the scan just by
 * naming it badly. Names are therefore decoded losslessly, the way Python's surrogateescape does:
 * each byte that is not part of valid UTF-8 becomes a lone surrogate U+DC80..U+DCFF, which valid
 * UTF-8 can never produce, and the original bytes come back for every file system call.
 */
const escapedByte = /[\uDC80-\uDCFF]/;

export function decodeName(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD') || Buffer.from(text, 'utf8').equals(bytes)) return text;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = validSequenceLength(bytes, i);
    if (length > 0) {
      out += bytes.subarray(i, i + length).toString('utf8');
      i += length;
    } else {
      out += String.fromCharCode(0xdc00 + bytes[i]!);
      i += 1;
    }
  }
  return out;
}

/** The path to hand to fs calls: the string itself, or its original bytes when it holds escaped ones. */
export function fsPath(path: string): string | Buffer {
  if (!escapedByte.test(path)) return path;
  const parts: Buffer[] = [];
  for (const ch of path) {
    const code = ch.charCodeAt(0);
    parts.push(ch.length === 1 && code >= 0xdc80 && code <= 0xdcff ? Buffer.from([code - 0xdc00]) : Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 (RFC 3629: no overlongs, no surrogates). */
function validSequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const c1 = b[i + 1] ?? 0;
    if (c === 0xe0 && c1 < 0xa0) return 0;
    if (c === 0xed && c1 >= 0xa0) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const c1 = b[i + 1] ?? 0;
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
