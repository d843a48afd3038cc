import { readFile } from 'node:fs/promises';
import { ProcParseError } from './errors.js';

/** One line of /proc/PID/mountinfo (proc(5)): a mount as that process's mount namespace sees it. */
export interface MountInfoEntry {
  /** major:minor of the mounted file system (`0:41` for an overlay). */
  readonly device: string;
  /** Where the mount lies, as a path from the root of the process whose mountinfo it is (a container's root mount is `/`). */
  readonly mountPoint: string;
  /** `overlay`, `ext4`, `fuse.fuse-overlayfs`, ... */
  readonly fsType: string;
  readonly source: string;
  /** The file system's own options (`upperdir=...`), unescaped; a flag without a value maps to ''. */
  readonly superOptions: ReadonlyMap<string, string>;
}

/** mountinfo escapes space, tab, newline, backslash (and, in option values, comma and equals) as octal (`\040`). */
function unescapeOctal(field: string): string {
  return field.includes('\\') ? field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) : field;
}

function parseSuperOptions(field: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const option of field.split(',')) {
    if (option === '') continue;
    const equals = option.indexOf('=');
    if (equals === -1) options.set(unescapeOctal(option), '');
    else options.set(unescapeOctal(option.slice(0, equals)), unescapeOctal(option.slice(equals + 1)));
  }
  return options;
}

/** The lines of a mountinfo text, in order: a later mount on the same point hides an earlier one. */
export function parseMountInfo(text: string, file = 'mountinfo'): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const fields = line.split(' ');
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator === -1 || separator + 4 !== fields.length || !/^\d+:\d+$/.test(fields[2]!)) {
      throw new ProcParseError(`${file}:${i + 1}`, 'expected "ID PARENT MAJ:MIN ROOT POINT OPTIONS ... - TYPE SOURCE SUPER-OPTIONS"');
    }
    entries.push({
      device: fields[2]!,
      mountPoint: unescapeOctal(fields[4]!),
      fsType: fields[separator + 1]!,
      source: unescapeOctal(fields[separator + 2]!),
      superOptions: parseSuperOptions(fields[separator + 3]!),
    });
  }
  return entries;
}

/**
 * The mounts of a process's mount namespace, /proc/PID/mountinfo, with mount points as seen from
 * that process's root. Readable for any process without privileges (the kernel checks none), so
 * a container's mounts are known even where its files are not.
 */
export async function readMountInfo(procfs: string, pid: number): Promise<MountInfoEntry[]> {
  const file = `${procfs}/${pid}/mountinfo`;
  return parseMountInfo(await readFile(file, 'utf8'), file);
}
