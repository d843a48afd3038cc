/** What a process has on its standard input (descriptor 0). */
export type StandardInput = 'terminal' | 'other' | 'closed';

const characterDevice = 0o020000n;
const fileTypeMask = 0o170000n;

/** Linux's device number encoding (major in bits 8–19 and 32–63). */
function majorOf(rdev: bigint): bigint {
  return ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
}

function minorOf(rdev: bigint): bigint {
  return (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
}

/**
 * Whether a file is a terminal a person types into, by its device number (devices.txt): a
 * pseudo-terminal's slave side (majors 136–143, what `docker exec -it` and `kubectl exec -it` give
 * the shell), a virtual console or serial line (major 4), /dev/tty or /dev/console (5:0, 5:1).
 * Not /dev/ptmx (5:2), the master side a terminal emulator holds. By number, not by name: a file
 * named /dev/pts/0 in a container's own /dev proves nothing.
 */
export function standardInputOf(stats: { readonly mode: bigint; readonly rdev: bigint }): StandardInput {
  if ((stats.mode & fileTypeMask) !== characterDevice) return 'other';
  const major = majorOf(stats.rdev);
  const minor = minorOf(stats.rdev);
  if (major >= 136n && major <= 143n) return 'terminal';
  if (major === 4n) return 'terminal';
  if (major === 5n && (minor === 0n || minor === 1n)) return 'terminal';
  return 'other';
}
