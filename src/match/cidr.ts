import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses and CIDR blocks for allow rules. An IPv4-mapped IPv6 address (::ffff:10.0.0.1, what
 * a dual-stack socket shows for an IPv4 peer) is the IPv4 address it carries, so one rule covers
 * both ways the kernel can print it.
 */
export interface IpBytes {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
}

export function parseIp(text: string): IpBytes | undefined {
  const ip = parseIpAsWritten(text);
  return ip && unmapIpv4(ip);
}

function parseIpAsWritten(text: string): IpBytes | undefined {
  if (isIPv4(text)) return { family: 4, bytes: text.split('.').map(Number) };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  return { family: 6, bytes: ipv6Bytes(text) };
}

function ipv6Bytes(text: string): number[] {
  // `text` passed isIPv6, so only the shape is left to undo: an optional dotted IPv4 tail and one "::".
  let body = text;
  let tail: number[] = [];
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    tail = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    body = text.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const wanted = tail.length ? 6 : 8;
  const gap = body.indexOf('::');
  let words: number[];
  if (gap === -1) {
    words = groups(body);
  } else {
    const left = groups(body.slice(0, gap));
    const right = groups(body.slice(gap + 2));
    words = [...left, ...new Array<number>(wanted - left.length - right.length).fill(0), ...right];
  }
  const bytes: number[] = [];
  for (const w of words) bytes.push(w >> 8, w & 0xff);
  return [...bytes, ...tail];
}

/** ::ffff:a.b.c.d → a.b.c.d; every other address unchanged. */
export function unmapIpv4(ip: IpBytes): IpBytes {
  if (ip.family !== 6) return ip;
  const mapped = ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
  return mapped ? { family: 4, bytes: ip.bytes.slice(12) } : ip;
}

export function isLoopback(ip: IpBytes): boolean {
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.bytes.slice(0, 15).every((b) => b === 0) && ip.bytes[15] === 1;
}

/** 0.0.0.0 or :: — a socket bound to every address of the host. */
export function isUnspecified(ip: IpBytes): boolean {
  return ip.bytes.every((b) => b === 0);
}

export type IpMatcher = (ip: IpBytes) => boolean;

/** "10.0.0.0/8", "2001:db8::/32", or a single address ("192.0.2.7" = /32). Throws on anything else. */
export function compileCidr(text: string): IpMatcher {
  const [addressText = '', prefixText, extra] = text.split('/');
  const written = parseIpAsWritten(addressText);
  if (!written || extra !== undefined) throw new Error(`"${text}" is not an IP address or CIDR block`);
  const width = written.family === 4 ? 32 : 128;
  let prefix = prefixText === undefined ? width : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= width)) throw new Error(`"${text}": the prefix length must be 0-${width}`);
  let base = written;
  const unmapped = unmapIpv4(written);
  if (unmapped !== written && prefix >= 96) {
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared unmapped.
    base = unmapped;
    prefix -= 96;
  }
  return (ip) => ip.family === base.family && samePrefix(ip.bytes, base.bytes, prefix);
}

export function isCidr(text: string): boolean {
  try {
    compileCidr(text);
    return true;
  } catch {
    return false;
  }
}

function samePrefix(a: readonly number[], b: readonly number[], bits: number): boolean {
  const whole = Math.floor(bits / 8);
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}
