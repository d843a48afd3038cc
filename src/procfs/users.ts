import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A bounded stand-in for a user name in labels: user names are never labels by default, but
 * whether it was root, a system account, a person, or no account at all is what rules need.
 */
export type UserClass = 'root' | 'system' | 'regular' | 'invalid';
export const userClasses: readonly UserClass[] = ['root', 'system', 'regular', 'invalid'];

const nobodyUid = 65534;

/** uid → user name from an /etc/passwd text; malformed lines are skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const uid = Number(fields[2]);
    if (fields.length >= 7 && fields[0] && Number.isInteger(uid) && uid >= 0 && !users.has(uid)) users.set(uid, fields[0]);
  }
  return users;
}

/** UID_MIN from /etc/login.defs: the first uid of regular (human) accounts; 1000 when unset. */
export function parseUidMin(text: string): number {
  const match = /^\s*UID_MIN\s+(\d+)\s*$/m.exec(text);
  return match ? Number(match[1]) : 1000;
}

export function classifyUid(uid: number, uidMin: number): UserClass {
  if (uid === 0) return 'root';
  if (uid < uidMin || uid === nobodyUid) return 'system';
  return 'regular';
}

/** The host's accounts (from --path.rootfs), re-read only when /etc/passwd or /etc/login.defs change. */
export class UserDirectory {
  private signature = '';
  private names = new Map<number, string>();
  private uids = new Map<string, number>();
  private uidMin = 1000;

  constructor(private readonly rootfs: string) {}

  /** The user name of a uid, or the uid as text when the host does not name it. */
  nameOf(uid: number): string {
    this.refresh();
    return this.names.get(uid) ?? String(uid);
  }

  classOfUid(uid: number): UserClass {
    this.refresh();
    return classifyUid(uid, this.uidMin);
  }

  /** The class of a user name seen in a log; a name with no account is `invalid`. */
  classOfName(name: string): UserClass {
    this.refresh();
    const uid = this.uids.get(name);
    return uid === undefined ? 'invalid' : classifyUid(uid, this.uidMin);
  }

  private refresh(): void {
    const passwd = join(this.rootfs, 'etc/passwd');
    const loginDefs = join(this.rootfs, 'etc/login.defs');
    const signature = `${fileSignature(passwd)}|${fileSignature(loginDefs)}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.names = new Map();
    this.uids = new Map();
    try {
      this.names = parsePasswd(readFileSync(passwd, 'utf8'));
    } catch {
      // no passwd file (a minimal container): every uid shows as a number
    }
    for (const [uid, name] of this.names) this.uids.set(name, uid);
    try {
      this.uidMin = parseUidMin(readFileSync(loginDefs, 'utf8'));
    } catch {
      this.uidMin = 1000;
    }
  }
}

function fileSignature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'absent';
  }
}
