import type { OutboundPolicy } from '../config/sections/outbound.js';
import { compileCidr, isLoopback, type IpBytes, type IpMatcher } from '../match/cidr.js';
import { parseIpOnce } from './classify.js';
import { compiledPerPolicy } from './compiled-per-policy.js';

/**
 * The class of a remote address: what the baseline learns and findings name instead of the
 * address, so that a program's usual destinations (its database on the private network, a CDN on
 * the public one) are one entry each while a call to a new kind of place stands out. Named
 * networks of the policy come first; then the built-in classes:
 * - `loopback`: 127.0.0.0/8, ::1;
 * - `metadata`: 169.254.169.254 and fd00:ec2::254, the cloud instance metadata services (credentials);
 * - `link_local`: 169.254.0.0/16, fe80::/10;
 * - `private`: RFC 1918, 100.64.0.0/10 (carrier-grade NAT), fc00::/7;
 * - `multicast`: 224.0.0.0/4, ff00::/8;
 * - `public`: everything else.
 */
const builtin: ReadonlyArray<readonly [string, readonly IpMatcher[]]> = [
  ['metadata', ['169.254.169.254', 'fd00:ec2::254'].map(compileCidr)],
  ['link_local', ['169.254.0.0/16', 'fe80::/10'].map(compileCidr)],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'].map(compileCidr)],
  ['multicast', ['224.0.0.0/4', 'ff00::/8'].map(compileCidr)],
];

type NamedMatchers = ReadonlyArray<readonly [string, readonly IpMatcher[]]>;

const compileNetworks = compiledPerPolicy((policy: OutboundPolicy): NamedMatchers =>
  policy.networks.map((n) => [n.name, (typeof n.cidr === 'string' ? [n.cidr] : n.cidr).map(compileCidr)] as const),
);

function classOfIp(ip: IpBytes, named: NamedMatchers = []): string {
  for (const [name, matchers] of named) if (matchers.some((m) => m(ip))) return name;
  if (isLoopback(ip)) return 'loopback';
  for (const [name, matchers] of builtin) if (matchers.some((m) => m(ip))) return name;
  return 'public';
}

/** The class of a remote address as /proc/net prints it; "unknown" for text that is not an address. */
export function destinationClass(address: string, policy: OutboundPolicy): string {
  const ip = parseIpOnce(address);
  return ip === undefined ? 'unknown' : classOfIp(ip, compileNetworks(policy));
}
