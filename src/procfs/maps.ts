import { textOf, type ProcessFiles } from './process-files.js';

/** A file mapped with execute permission, from one line of /proc/PID/maps. */
export interface MappedFile {
  readonly path: string;
  readonly deleted: boolean;
}

const deletedSuffix = ' (deleted)';

/**
 * The files a process maps executable (`r-xp`, `--xp`): each path once, in order. Anonymous
 * mappings, [vdso] and the like name no file and are left out.
 * Line shape: `7f1c2a000000-7f1c2a1a0000 r-xp 00028000 fe:00 338943   /usr/lib/x86_64-linux-gnu/libc.so.6`.
 */
export function parseExecutableMappings(text: string): MappedFile[] {
  const seen = new Set<string>();
  const files: MappedFile[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const perms = text.indexOf(' ', start) + 1;
    // Only executable mappings: the third permission letter.
    if (perms > 0 && text.charCodeAt(perms + 2) === 0x78 /* x */) {
      const slash = text.indexOf(' /', perms);
      if (slash !== -1 && slash < end) {
        let path = text.slice(slash + 1, end).trimStart();
        const deleted = path.endsWith(deletedSuffix);
        if (deleted) path = path.slice(0, -deletedSuffix.length);
        if (!seen.has(path)) {
          seen.add(path);
          files.push({ path, deleted });
        }
      }
    }
    start = end + 1;
  }
  return files;
}

/** /proc/PID/maps through ProcessFiles (its read may take the process's memory-map lock): off the event loop, under a deadline. */
export async function readExecutableMappings(files: ProcessFiles, pid: number): Promise<MappedFile[]> {
  return parseExecutableMappings(textOf(await files.read(pid, 'maps'), pid, 'maps'));
}
