import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A bounded stand-in for a user name in labels: user names are never labels by default, but
 * whether it was root, a system account, a person, or no account at all is what rules need.
 */
export type UserClass = 'root' | 'system' | 'regular' | 'invalid';
export const userClasses: readonly UserClass[] = ['root', 'system', 'regular', 'invalid'];

const nobodyUid = 65534;

/** One account line of /etc/passwd. */
export interface PasswdAccount {
  readonly name: string;
  readonly uid: number;
  readonly home: string;
}

/** The accounts of an /etc/passwd text, in order; malformed lines are skipped. */
export function parsePasswd(text: string): PasswdAccount[] {
  const accounts: PasswdAccount[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const uid = Number(fields[2]);
    if (fields.length >= 7 && fields[0] && Number.isInteger(uid) && uid >= 0)
      accounts.push({ name: fields[0], uid, home: fields[5] ?? '' });
  }
  return accounts;
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

/**
 * The host's accounts (from --path.rootfs). Lookups answer from what the last refresh() read;
 * refresh() checks whether /etc/passwd or /etc/login.defs changed (two stats) and re-reads them
 * only then. Call it once per look, not per lookup: a look names thousands of processes.
 */
export class UserDirectory {
  private signature: string | undefined;
  private names = new Map<number, string>();
  private uids = new Map<string, number>();
  private uidMin = 1000;
  private homes: readonly string[] = [];
  private reads = 0;

  constructor(private readonly rootfs: string) {}

  /** Re-read passwd and login.defs if they changed since the last refresh. */
  refresh(): void {
    const passwd = join(this.rootfs, 'etc/passwd');
    const loginDefs = join(this.rootfs, 'etc/login.defs');
    const signature = `${fileSignature(passwd)}|${fileSignature(loginDefs)}`;
    if (signature === this.signature) return;
    this.signature = signature;
    let accounts: PasswdAccount[] = [];
    try {
      accounts = parsePasswd(readFileSync(passwd, 'utf8'));
    } catch {
      // no passwd file (a minimal container): every uid shows as a number
    }
    try {
      this.uidMin = parseUidMin(readFileSync(loginDefs, 'utf8'));
    } catch {
      this.uidMin = 1000;
    }
    this.names = new Map();
    for (const { uid, name } of accounts) if (!this.names.has(uid)) this.names.set(uid, name);
    this.uids = new Map();
    for (const [uid, name] of this.names) this.uids.set(name, uid);
    this.homes = homesOf(accounts, this.uidMin);
    this.reads++;
  }

  /** Changes whenever the files are read again: names and classes looked up before may be stale. */
  get generation(): number {
    this.loadOnce();
    return this.reads;
  }

  /** The user name of a uid, or the uid as text when the host does not name it. */
  nameOf(uid: number): string {
    this.loadOnce();
    return this.names.get(uid) ?? String(uid);
  }

  classOfUid(uid: number): UserClass {
    this.loadOnce();
    return classifyUid(uid, this.uidMin);
  }

  /** The class of a user name seen in a log; a name with no account is `invalid`. */
  classOfName(name: string): UserClass {
    this.loadOnce();
    const uid = this.uids.get(name);
    return uid === undefined ? 'invalid' : classifyUid(uid, this.uidMin);
  }

  /** Home directories of root and of regular (human) accounts, sorted, without trailing slashes. */
  homeDirectories(): readonly string[] {
    this.loadOnce();
    return this.homes;
  }

  /** A directory nobody refreshed yet reads the files at its first lookup. */
  private loadOnce(): void {
    if (this.signature === undefined) this.refresh();
  }
}

function homesOf(accounts: readonly PasswdAccount[], uidMin: number): string[] {
  const homes = new Set<string>();
  for (const { uid, home } of accounts) {
    if (!home || home === '/' || home === '/nonexistent') continue;
    const userClass = classifyUid(uid, uidMin);
    if (userClass === 'root' || userClass === 'regular') homes.add(home.replace(/\/+$/, ''));
  }
  return [...homes].sort();
}

function fileSignature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'absent';
  }
}
