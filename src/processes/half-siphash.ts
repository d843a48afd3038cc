/**
 * HalfSipHash-2-4 with a 64-bit output (Aumasson & Bernstein's 32-bit SipHash variant, as in the
 * Linux kernel): a keyed hash, so nobody who does not know the key can make a path collide with
 * a packaged one. The two 32-bit halves of the result are returned through `out`.
 */
export interface HashKey {
  readonly k0: number;
  readonly k1: number;
}

export function hashKeyFromBytes(bytes: Uint8Array): HashKey {
  if (bytes.length < 8) throw new Error('a HalfSipHash key has 8 bytes');
  const word = (i: number) => (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
  return { k0: word(0), k1: word(4) };
}

let v0 = 0;
let v1 = 0;
let v2 = 0;
let v3 = 0;

function rounds(n: number): void {
  for (let i = 0; i < n; i++) {
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
  }
}

/** Hash bytes[start, end) under `key`; writes the low and high 32 bits to out[0] and out[1]. */
export function halfSipHash64(key: HashKey, bytes: Uint8Array, start: number, end: number, out: Uint32Array): void {
  const length = end - start;
  v0 = key.k0 | 0;
  v1 = key.k1 ^ 0xee;
  v2 = 0x6c796765 ^ key.k0;
  v3 = 0x74656462 ^ key.k1;
  const wholeEnd = start + (length - (length & 3));
  for (let i = start; i < wholeEnd; i += 4) {
    const m = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    v3 ^= m;
    rounds(2);
    v0 ^= m;
  }
  let b = (length << 24) | 0;
  const left = length & 3;
  if (left >= 3) b |= bytes[wholeEnd + 2]! << 16;
  if (left >= 2) b |= bytes[wholeEnd + 1]! << 8;
  if (left >= 1) b |= bytes[wholeEnd]!;
  v3 ^= b;
  rounds(2);
  v0 ^= b;
  v2 ^= 0xee;
  rounds(4);
  out[0] = (v1 ^ v3) >>> 0;
  v1 ^= 0xdd;
  rounds(4);
  out[1] = (v1 ^ v3) >>> 0;
}
