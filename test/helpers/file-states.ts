import type { FileState } from '../../src/integrity/file-state.js';

/** A hex digest of one repeated character: sha('a') is 64 a's. */
export const sha = (c: string) => c.repeat(64);
export const md5 = (c: string) => c.repeat(32);

/** A regular file's state for judgment tests, with the attributes given overriding a plain root-owned 0755 file. */
export function fileState(over: Partial<FileState> = {}): FileState {
  return { type: 'file', mode: 0o755, uid: 0, gid: 0, size: 100, inode: '10', mtimeNs: '1000', ctimeNs: '1000', sha256: sha('a'), ...over };
}
