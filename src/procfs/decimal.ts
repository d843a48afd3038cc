/**
 * The unsigned decimal in bytes[from, to), or undefined when it is empty, has a non-digit or is
 * too long to be exact as a number. The byte parsers of /proc files use it to read fields without
 * making a string.
 */
export function decimalAt(bytes: Uint8Array, from: number, to: number): number | undefined {
  if (from >= to || to - from > 15) return undefined;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}
