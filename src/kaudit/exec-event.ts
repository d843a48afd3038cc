import { fieldsOf, fieldText, integerField, keysOf, rawField, type AuditRecord } from './record.js';
import type { AuditEvent } from './stitcher.js';

/** One PATH record of an event: a file the syscall looked up (for an exec: the program, its #! interpreter, the loader). */
export interface AuditPathItem {
  readonly item: number;
  /** The name as the syscall got it: relative to the CWD record when it does not start with /. */
  readonly name: string;
  readonly inode: number | undefined;
  /** `major:minor` in hex, as the kernel writes it (`fe:00`). */
  readonly device: string | undefined;
  /** NORMAL, PARENT, CREATE, DELETE, UNKNOWN, ... */
  readonly nametype: string;
}

/** A successful execve or execveat, from the records of its event alone. */
export interface ExecEvent {
  readonly eventId: string;
  readonly timeMs: number;
  readonly serial: number;
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly euid: number;
  /** The login uid (who logged in, through su and sudo); undefined when unset (4294967295). */
  readonly auid: number | undefined;
  /** The name the kernel gave the process at exec: the basename of the file executed, at most 15 bytes. */
  readonly comm: string;
  /** The executable now running (what /proc/PID/exe would show), without ` (deleted)`. */
  readonly exe: string;
  /** The executable was already deleted when the record was written (a memfd, a file unlinked meanwhile). */
  readonly exeDeleted: boolean;
  /** The working directory at exec: relative names in argv and PATH items are relative to it. */
  readonly cwd: string | undefined;
  /** The arguments, as the program got them (after the kernel's #! rewrite: interpreter, script, arguments). */
  readonly argv: readonly string[];
  /** EXECVE said there were more arguments than it holds (records lost, or cut by the kernel). */
  readonly argvIncomplete: boolean;
  readonly paths: readonly AuditPathItem[];
  readonly keys: readonly string[];
}

const unsetId = 4294967295;

/**
 * The exec in an event, or undefined when the event is no successful exec. An EXECVE record is
 * written only when execve or execveat succeeded, on every architecture, so its presence decides;
 * the SYSCALL record gives who and what, CWD where, PATH the files.
 */
export function execFromEvent(event: AuditEvent): ExecEvent | undefined {
  let syscall: AuditRecord | undefined;
  const execve: AuditRecord[] = [];
  let cwdRecord: AuditRecord | undefined;
  const pathRecords: AuditRecord[] = [];
  for (const record of event.records) {
    if (record.type === 'SYSCALL') syscall = record;
    else if (record.type === 'EXECVE') execve.push(record);
    else if (record.type === 'CWD') cwdRecord = record;
    else if (record.type === 'PATH') pathRecords.push(record);
  }
  if (!syscall || execve.length === 0) return undefined;
  const body = syscall.body;
  if (rawField(body, 'success') === 'no') return undefined;
  const rawExe = fieldText('exe', rawField(body, 'exe')) ?? '';
  const exeDeleted = rawExe.endsWith(' (deleted)');
  const { argv, incomplete } = argumentsOf(execve);
  const auid = integerField(rawField(body, 'auid'));
  return {
    eventId: event.id,
    timeMs: event.timeMs,
    serial: event.serial,
    pid: integerField(rawField(body, 'pid')) ?? 0,
    ppid: integerField(rawField(body, 'ppid')) ?? 0,
    uid: integerField(rawField(body, 'uid')) ?? unsetId,
    euid: integerField(rawField(body, 'euid')) ?? unsetId,
    auid: auid === unsetId ? undefined : auid,
    comm: fieldText('comm', rawField(body, 'comm')) ?? '',
    exe: exeDeleted ? rawExe.slice(0, -' (deleted)'.length) : rawExe,
    exeDeleted,
    cwd: cwdRecord ? fieldText('cwd', rawField(cwdRecord.body, 'cwd')) : undefined,
    argv,
    argvIncomplete: incomplete,
    paths: pathRecords.map(pathItem).sort((a, b) => a.item - b.item),
    keys: keysOf(rawField(body, 'key')),
  };
}

/**
 * argv from the EXECVE records of one event: `argc=3 a0=.. a1=.. a2=..`; an argument longer than
 * the kernel writes in one record comes as `a1_len=N a1[0]=.. a1[1]=..`, possibly over several
 * EXECVE records.
 */
function argumentsOf(records: readonly AuditRecord[]): { argv: string[]; incomplete: boolean } {
  let argc = 0;
  const whole = new Map<number, string>();
  const pieces = new Map<number, string[]>();
  for (const record of records) {
    for (const [name, raw] of fieldsOf(record.body)) {
      if (name === 'argc') {
        argc = Math.max(argc, integerField(raw) ?? 0);
        continue;
      }
      const match = /^a(\d+)(?:\[(\d+)\])?$/.exec(name);
      if (!match) continue;
      const index = Number(match[1]);
      const text = fieldText(name, raw, true) ?? '';
      if (match[2] === undefined) whole.set(index, text);
      else {
        const list = pieces.get(index) ?? [];
        list[Number(match[2])] = text;
        pieces.set(index, list);
      }
    }
  }
  const argv: string[] = [];
  let incomplete = false;
  for (let i = 0; i < argc; i++) {
    const value = whole.get(i) ?? pieces.get(i)?.join('');
    if (value === undefined) {
      incomplete = true;
      break;
    }
    argv.push(value);
  }
  return { argv, incomplete };
}

function pathItem(record: AuditRecord): AuditPathItem {
  const body = record.body;
  return {
    item: integerField(rawField(body, 'item')) ?? 0,
    name: fieldText('name', rawField(body, 'name')) ?? '',
    inode: integerField(rawField(body, 'inode')),
    device: rawField(body, 'dev'),
    nametype: rawField(body, 'nametype') ?? '',
  };
}
