/**
 * /var/lib/dpkg/status: one stanza per package dpkg knows, in deb822 form. The fields the integrity
 * collector reads: which packages are on the host, at which version and in which state, and the MD5
 * of each configuration file as the package shipped it (conffiles are not in PACKAGE.md5sums).
 * Pure: text in, stanzas out.
 */
import { ownCopy } from '../text/own-copy.js';

export interface Conffile {
  readonly path: string;
  /** The MD5 of the file as its package shipped it; never the administrator's edited copy. */
  readonly md5: string;
  /** No longer shipped by the package (kept on disk until purge). */
  readonly obsolete: boolean;
}

export interface StatusEntry {
  readonly name: string;
  readonly architecture: string;
  readonly version: string;
  /** The third word of `Status:` (installed, config-files, unpacked, half-installed, ...). */
  readonly state: string;
  /** The second word of `Status:`: `ok`, or `reinstreq` when a failed operation left it broken. */
  readonly flag: string;
  readonly conffiles: readonly Conffile[];
  /** The stanza's Version, Status and Conffiles lines as written: part of the package's fingerprint. */
  readonly recorded: string;
}

/**
 * States in which a package's files and its database entries agree: dpkg is not half-way through
 * unpacking or configuring it. A package in any other state (half-installed, unpacked,
 * half-configured), or flagged `reinstreq`, explains nothing.
 */
const settledStates = new Set(['installed', 'config-files', 'triggers-pending', 'triggers-awaited']);

export function isSettled(entry: Pick<StatusEntry, 'state' | 'flag'>): boolean {
  return entry.flag === 'ok' && settledStates.has(entry.state);
}

/**
 * Every stanza naming a package that is on the host in some form; `not-installed` ones (left by a
 * purge or a selection) are dropped. Malformed stanzas (no Package or Status) are skipped.
 */
export function parseDpkgStatus(text: string): StatusEntry[] {
  const out: StatusEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const entry = parseStanza(stanza);
    if (entry && entry.state !== 'not-installed') out.push(entry);
  }
  return out;
}

function parseStanza(stanza: string): StatusEntry | undefined {
  const fields = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stanza.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      current?.push(line.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      current = undefined;
      continue;
    }
    current = [line.slice(colon + 1).trim()];
    fields.set(line.slice(0, colon), current);
  }
  const name = fields.get('Package')?.[0];
  const status = fields.get('Status')?.[0]?.split(/\s+/);
  if (!name || !status || status.length !== 3) return undefined;
  const conffileLines = (fields.get('Conffiles') ?? []).slice(1);
  const version = fields.get('Version')?.[0] ?? '';
  // Entries outlive the status text: what they keep is copied out of it (see ownCopy).
  return {
    name: ownCopy(name),
    architecture: ownCopy(fields.get('Architecture')?.[0] ?? ''),
    version: ownCopy(version),
    flag: ownCopy(status[1]!),
    state: ownCopy(status[2]!),
    conffiles: conffileLines.flatMap(parseConffileLine),
    recorded: [`Version: ${version}`, `Status: ${status.join(' ')}`, ...conffileLines].join('\n'),
  };
}

/** ` /etc/foo.conf 0123…ef [obsolete] [remove-on-upgrade]`; a placeholder such as `newconffile` is skipped. */
function parseConffileLine(line: string): Conffile[] {
  const match = /^(\/.*?) ([0-9a-f]{32})((?: [a-z-]+)*)$/.exec(line);
  if (!match) return [];
  return [{ path: ownCopy(match[1]!), md5: ownCopy(match[2]!), obsolete: match[3]!.split(' ').includes('obsolete') }];
}
