import type { UnexpectedListener } from '../network/judge-listeners.js';
import { ownerExeText } from '../network/owner-match.js';
import type { Facts, FactRow } from './flagged-images.js';
import type { ImageHash } from './image-hashes.js';

type ListenerLabels = 'sha256' | 'exe' | 'protocol' | 'port';

/**
 * One row per (program image, protocol, port) of the unexpected listeners: what rules count across
 * hosts. The bind address is left out (each host has its own), so IPv4 and IPv6 sockets of one
 * program are one row. A socket no process holds, or whose owner cannot be read, has no hash: its
 * row carries the port alone.
 */
export function listenerFacts(unexpected: readonly UnexpectedListener[], lookup: (pid: number) => ImageHash): Facts<ListenerLabels> {
  const rows = new Map<string, FactRow<ListenerLabels>>();
  let pending = 0;
  let unreadable = 0;
  const add = (sha256: string, exe: string, protocol: string, port: number) => {
    const labels = { sha256, exe, protocol, port: String(port) };
    rows.set(JSON.stringify([sha256, exe, protocol, port]), { labels, value: 1 });
  };
  const looked = new Map<number, ImageHash>();
  for (const { socket } of unexpected) {
    const { ownership, protocol, localPort } = socket;
    if (ownership.kind !== 'known' || ownership.owners.length === 0) {
      add('', ownerExeText(ownership), protocol, localPort);
      continue;
    }
    for (const owner of ownership.owners) {
      const seen = looked.get(owner.pid);
      const hash = seen ?? lookup(owner.pid);
      if (!seen) {
        looked.set(owner.pid, hash);
        // A program's IPv4 and IPv6 sockets wait for one hash.
        if (hash.state === 'pending') pending++;
        else if (hash.state === 'unreadable') unreadable++;
      }
      if (hash.state === 'hashed') add(hash.sha256, owner.exe ?? 'unknown', protocol, localPort);
    }
  }
  return { rows: [...rows.values()], pending, unreadable };
}
