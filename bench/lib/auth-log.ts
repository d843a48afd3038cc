import { openSync, writeSync, closeSync } from 'node:fs';

/**
 * A realistic auth.log of an internet-facing host, in rsyslog's default Debian 12 format
 * (ISO-8601): brute force against invalid users and root with sshd and PAM double logging,
 * scanners, real logins and sessions, cron and sudo. Deterministic (seeded), `lines` lines.
 */
export function writeAuthLog(path: string, lines: number): { bytes: number } {
  let seed = 42;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const users = ['admin', 'test', 'oracle', 'ubuntu', 'user', 'postgres', 'git', 'ftpuser', 'guest', 'deploy'];
  const fd = openSync(path, 'w');
  let written = 0;
  let bytes = 0;
  let pid = 10_000;
  let second = 0;
  let out: string[] = [];
  const stamp = () => {
    second++;
    const t = new Date(Date.UTC(2024, 0, 5, 0, 0, 0) + second * 37);
    return t.toISOString().replace('Z', '123+00:00');
  };
  const emit = (program: string, message: string) => {
    out.push(`${stamp()} web1 ${program}: ${message}\n`);
    written++;
    if (out.length >= 4096) flush();
  };
  const flush = () => {
    const text = out.join('');
    bytes += Buffer.byteLength(text);
    writeSync(fd, text);
    out = [];
  };
  while (written < lines) {
    const ip = `${1 + Math.floor(random() * 220)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
    const port = 1024 + Math.floor(random() * 60_000);
    const sshd = `sshd[${pid++}]`;
    const r = random();
    if (r < 0.4) {
      const user = pick(users);
      emit(sshd, `Invalid user ${user} from ${ip} port ${port}`);
      emit(sshd, 'pam_unix(sshd:auth): check pass; user unknown');
      emit(sshd, `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}`);
      emit(sshd, `Failed password for invalid user ${user} from ${ip} port ${port} ssh2`);
      emit(sshd, `Failed password for invalid user ${user} from ${ip} port ${port} ssh2`);
      emit(sshd, `Connection closed by invalid user ${user} ${ip} port ${port} [preauth]`);
    } else if (r < 0.65) {
      emit(sshd, `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=root`);
      emit(sshd, `Failed password for root from ${ip} port ${port} ssh2`);
      emit(sshd, `Received disconnect from ${ip} port ${port}:11: Bye Bye [preauth]`);
      emit(sshd, `Disconnected from authenticating user root ${ip} port ${port} [preauth]`);
    } else if (r < 0.75) {
      emit(sshd, `Connection closed by ${ip} port ${port} [preauth]`);
      emit(sshd, 'error: kex_exchange_identification: Connection closed by remote host');
    } else if (r < 0.85) {
      emit(sshd, `Accepted publickey for alice from ${ip} port ${port} ssh2: ED25519 SHA256:w8m2H1oV4k9Yb5yVhIY3Yq0Vd3RkQ4m2JQ1WZ7cX6u8`);
      emit(sshd, 'pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)');
      emit('systemd-logind[612]', 'New session 4242 of user alice.');
      emit(sshd, `Received disconnect from ${ip} port ${port}:11: disconnected by user`);
      emit(sshd, 'pam_unix(sshd:session): session closed for user alice');
    } else if (r < 0.95) {
      emit(`CRON[${pid}]`, 'pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)');
      emit(`CRON[${pid}]`, 'pam_unix(cron:session): session closed for user root');
    } else {
      emit('sudo', '   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl status nginx');
      emit('sudo', 'pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)');
    }
  }
  out = out.slice(0, out.length - (written - lines));
  flush();
  closeSync(fd);
  return { bytes };
}
