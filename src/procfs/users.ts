import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

/** The host's users (from --path.rootfs), re-read only when /etc/passwd changes. */
export class UserNames {
  private signature = '';
  private users = new Map<number, string>();

  constructor(private readonly rootfs: string) {}

  /** The user name of a uid, or the uid as text when the host does not name it. */
  nameOf(uid: number): string {
    this.refresh();
    return this.users.get(uid) ?? String(uid);
  }

  private refresh(): void {
    const file = join(this.rootfs, 'etc/passwd');
    let signature = 'absent';
    try {
      const s = statSync(file);
      signature = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      // no passwd file (a minimal container): every uid shows as a number
    }
    if (signature === this.signature) return;
    this.signature = signature;
    try {
      this.users = parsePasswd(readFileSync(file, 'utf8'));
    } catch {
      this.users = new Map();
    }
  }
}
