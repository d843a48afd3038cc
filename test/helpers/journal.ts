import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const journalRemote = '/lib/systemd/systemd-journal-remote';

/** Append entries (journal export format) to a journal file with systemd-journal-remote, as journald would write them. */
export function appendToJournal(journal: string, exportFile: string): void {
  if (!existsSync(journalRemote))
    throw new Error(`${journalRemote} is missing: run \`apt-get install systemd-journal-remote\` (scripts/install-test-deps does it)`);
  execFileSync(journalRemote, [`--output=${journal}`, exportFile], { stdio: 'ignore' });
}

let clock = 1_800_000_000_000_000;

/** The timestamp fields of the next entry, a second after the last one made here: journal order is time order. */
export function nextTimestamps(): string[] {
  clock += 1_000_000;
  return [`__REALTIME_TIMESTAMP=${clock}`, `__MONOTONIC_TIMESTAMP=${clock - 1_790_000_000_000_000}`];
}

/** sshd messages in the journal export format, one second apart and later than any written before, in `dir/name`. */
export function exportEntries(dir: string, name: string, messages: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    messages
      .map((message, i) =>
        [
          ...nextTimestamps(),
          '_BOOT_ID=6f1c0f0d2b7a4e0e9c1b1f7d2a3e4b5c',
          '_HOSTNAME=web1',
          'SYSLOG_IDENTIFIER=sshd',
          'SYSLOG_FACILITY=4',
          `_PID=${9000 + i}`,
          'PRIORITY=6',
          `MESSAGE=${message}`,
          '',
        ].join('\n'),
      )
      .join('\n') + '\n',
  );
  return file;
}

/** A journal directory, as journald keeps one, in `dir`. */
export function journalDirIn(dir: string): { journalDir: string; journal: string } {
  const journalDir = join(dir, 'journal');
  mkdirSync(journalDir);
  return { journalDir, journal: join(journalDir, 'system.journal') };
}

/** The live processes whose parent is `parent`, with their command name and arguments (from /proc, not from the code under test). */
export function childProcesses(parent: number): { pid: number; comm: string; args: string[] }[] {
  const found: { pid: number; comm: string; args: string[] }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== parent || state === 'Z') continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      found.push({ pid: Number(name), comm, args: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').slice(1, -1) });
    } catch {
      // exited while listed
    }
  }
  return found;
}

/** Whether a process with this PID exists, a zombie not yet reaped included. */
export function processExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}
