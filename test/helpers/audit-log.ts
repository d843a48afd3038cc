import { statSync } from 'node:fs';

/**
 * Audit log lines as auditd 3.0.9 writes them (ENRICHED format, test/fixtures/kaudit/), for the
 * execs a test describes: a log the exporter follows exactly as it follows auditd's, written by
 * the test so that rotation, truncation and restarts happen where the test wants them.
 */
export interface ExecLines {
  readonly serial: number;
  readonly timeMs?: number;
  readonly pid: number;
  readonly ppid: number;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly cwd?: string;
  readonly uid?: number;
  /** The files the kernel looked up: the program (item 0), then #! interpreter or loader. */
  readonly files?: readonly string[];
  readonly key?: string;
}

const gs = '\x1d';

/** `fe:00`, as the kernel writes a device in PATH records. */
function deviceText(dev: number): string {
  const major = (dev >> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function quoted(value: string): string {
  // The kernel writes a value with a space, quote or control character in hex.
  return /^[\x21-\x7e]*$/.test(value) && !value.includes('"') ? `"${value}"` : Buffer.from(value).toString('hex').toUpperCase();
}

/** The records of one successful execve, in the kernel's order. */
export function execRecords(e: ExecLines): string[] {
  const time = e.timeMs ?? Date.now();
  const id = `msg=audit(${Math.floor(time / 1000)}.${String(time % 1000).padStart(3, '0')}:${e.serial}):`;
  const uid = e.uid ?? 0;
  const files = e.files ?? [e.exe];
  const lines = [
    `type=SYSCALL ${id} arch=c000003e syscall=59 success=yes exit=0 a0=55e863a11130 a1=55e863a132a0 a2=55e863a10a00 a3=8 items=${files.length} ppid=${e.ppid} pid=${e.pid} auid=4294967295 uid=${uid} gid=${uid} euid=${uid} suid=${uid} fsuid=${uid} egid=${uid} sgid=${uid} fsgid=${uid} tty=(none) ses=4294967295 comm=${quoted(e.exe.split('/').pop()!.slice(0, 15))} exe=${quoted(e.exe)} key=${quoted(e.key ?? 'hostguard_exec')}${gs}ARCH=x86_64 SYSCALL=execve AUID="unset" UID="root"`,
    `type=EXECVE ${id} argc=${e.argv.length} ${e.argv.map((a, i) => `a${i}=${quoted(a)}`).join(' ')}`,
    `type=CWD ${id} cwd=${quoted(e.cwd ?? '/')}`,
    ...files.map((file, item) => {
      const s = statSync(file, { throwIfNoEntry: false });
      const identity = s
        ? `inode=${s.ino} dev=${deviceText(s.dev)} mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`
        : 'nametype=UNKNOWN';
      return `type=PATH ${id} item=${item} name=${quoted(file)} ${identity} cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${gs}OUID="root" OGID="root"`;
    }),
    `type=PROCTITLE ${id} proctitle=${Buffer.from(e.argv.join('\0')).toString('hex').toUpperCase()}`,
  ];
  return lines;
}

/** `auditctl -e 0` as the log records it. */
export function auditDisabledRecords(serial: number, timeMs = Date.now()): string[] {
  const id = `msg=audit(${Math.floor(timeMs / 1000)}.${String(timeMs % 1000).padStart(3, '0')}:${serial}):`;
  return [
    `type=CONFIG_CHANGE ${id} op=set audit_enabled=0 old=1 auid=1000 ses=3 res=1${gs}AUID="alice"`,
    `type=SYSCALL ${id} arch=c000003e syscall=44 success=yes exit=60 a0=3 a1=7ffdfd065970 a2=3c a3=0 items=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)`,
    `type=PROCTITLE ${id} proctitle=617564697463746C002D650030`,
  ];
}

/** A PID that no process has: above the kernel's largest pid_max (2^22). */
export const gonePid = 4_194_400;

/** A file a syscall changed, as a PATH item names it: relative names are relative to the event's CWD. */
export interface WrittenName {
  readonly name: string;
  readonly nametype: 'NORMAL' | 'CREATE' | 'DELETE' | 'PARENT';
}

/** The records of a write, create, rename or unlink seen by a watch rule (`-w … -p wa -k hostguard_fim`). */
export function fileWriteRecords(e: {
  readonly serial: number;
  readonly timeMs?: number;
  readonly pid: number;
  readonly exe: string;
  readonly uid?: number;
  /** undefined: unset (4294967295), as for a daemon. */
  readonly auid?: number;
  readonly cwd: string;
  readonly names: readonly WrittenName[];
}): string[] {
  const time = e.timeMs ?? Date.now();
  const id = `msg=audit(${Math.floor(time / 1000)}.${String(time % 1000).padStart(3, '0')}:${e.serial}):`;
  const uid = e.uid ?? 0;
  return [
    `type=SYSCALL ${id} arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=5559ab66c488 a2=441 a3=1b6 items=${e.names.length} ppid=1 pid=${e.pid} auid=${e.auid ?? 4294967295} uid=${uid} gid=${uid} euid=${uid} suid=${uid} fsuid=${uid} egid=${uid} sgid=${uid} fsgid=${uid} tty=(none) ses=4294967295 comm=${quoted(e.exe.split('/').pop()!.slice(0, 15))} exe=${quoted(e.exe)} key="hostguard_fim"${gs}ARCH=x86_64 SYSCALL=openat`,
    `type=CWD ${id} cwd=${quoted(e.cwd)}`,
    ...e.names.map(
      (n, item) =>
        `type=PATH ${id} item=${item} name=${quoted(n.name)} inode=2384419 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=${n.nametype} cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0${gs}OUID="root" OGID="root"`,
    ),
    `type=PROCTITLE ${id} proctitle=${Buffer.from(e.exe).toString('hex').toUpperCase()}`,
  ];
}

/**
 * A policy that watches one directory, scans it once a year (what shows up, the real-time watch
 * found) and, with `auditLog`, follows that audit log as processes.exec_events: the who-data tests'.
 */
export function watchedDirectoryPolicy(watched: string, auditLog: string | undefined): string {
  return [
    'integrity:',
    `  paths: [${JSON.stringify(watched)}]`,
    '  schedule: "0 0 1 1 *"',
    '  running_executables: false',
    '  package_database: false',
    '  ssh_authorized_keys: false',
    '  privileged_files: { enabled: false }',
    'processes:',
    '  hidden_sweep: { enabled: false }',
    '  injected_code: { enabled: false }',
    ...(auditLog === undefined ? [] : ['  exec_events:', `    path: ${auditLog}`, '    start_at: beginning']),
    '',
  ].join('\n');
}
