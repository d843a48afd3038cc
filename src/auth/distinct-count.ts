/**
 * A HyperLogLog sketch (2^10 one-byte registers, about 3% standard error, exact-ish below a few
 * hundred through linear counting): how many distinct source addresses, in 1 KiB whatever the flood.
 */
const precision = 10;
const registers = 1 << precision;
const alpha = 0.7213 / (1 + 1.079 / registers);

export class DistinctCount {
  readonly registers = new Uint8Array(registers);

  add(value: string): void {
    const hash = hash32(value);
    const index = hash >>> (32 - precision);
    const rest = (hash << precision) >>> 0;
    const rank = rest === 0 ? 32 - precision + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  clear(): void {
    this.registers.fill(0);
  }

  /** The estimated number of distinct values added to any of `sketches`. */
  static estimate(sketches: readonly DistinctCount[]): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < registers; i++) {
      let max = 0;
      for (const s of sketches) if (s.registers[i]! > max) max = s.registers[i]!;
      sum += 2 ** -max;
      if (max === 0) zeros++;
    }
    const raw = (alpha * registers * registers) / sum;
    if (raw <= 2.5 * registers && zeros > 0) return Math.round(registers * Math.log(registers / zeros));
    return Math.round(raw);
  }
}

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so every bit mixes. */
function hash32(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
