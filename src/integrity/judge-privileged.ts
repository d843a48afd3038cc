import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { integrityKinds } from './kinds.js';
import type { PrivilegedFile } from './privileged-protocol.js';
import type { PackageChecksum } from './snapshot.js';

/**
 * The judgment of the privileged-file search: setuid, setgid and capability files the baseline
 * does not hold, and known ones whose content, owner or capabilities changed. Pure.
 *
 * Paths in the watched set are judged there, in real time (a setuid bit set is metadata_changed,
 * a new setuid file added, both critical): only their capabilities, which a scan of watched
 * paths cannot see, are judged here too.
 */
export const privilegeAttributes = ['setuid', 'setgid', 'capability'] as const;
export type Privilege = (typeof privilegeAttributes)[number];

/** What the baseline records of a privileged file (key `privileged:PATH` of the integrity section). */
export interface PrivilegedEntry {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly sha256?: string;
  readonly capability?: string;
}

export interface PrivilegedJudgmentInput {
  readonly files: readonly PrivilegedFile[];
  /** The baseline's entry for a path; undefined as a whole when there is no verified baseline. */
  readonly baseline: ((path: string) => PrivilegedEntry | undefined) | undefined;
  readonly packages: { checksumOf(path: string): PackageChecksum | undefined } | undefined;
  /** Whether a path is in the watched set (judged there, in real time). */
  readonly watched: (path: string) => boolean;
}

export function privilegesOf(file: { readonly mode: number; readonly capability?: string | undefined }): Privilege[] {
  const out: Privilege[] = [];
  if ((file.mode & 0o4000) !== 0) out.push('setuid');
  if ((file.mode & 0o2000) !== 0) out.push('setgid');
  if (file.capability !== undefined) out.push('capability');
  return out;
}

export function judgePrivileged(input: PrivilegedJudgmentInput): Finding[] {
  const findings: Finding[] = [];
  for (const file of input.files) {
    const watched = input.watched(file.path);
    const packaged = packageNote(file, input.packages?.checksumOf(file.path));
    const before = input.baseline?.(file.path);
    for (const privilege of privilegesOf({ mode: file.state.mode, capability: file.capability })) {
      if (watched && privilege !== 'capability') continue;
      const known = before ? privilegesOf(before).includes(privilege) : input.baseline === undefined && packaged.matches;
      if (!known) findings.push(added(file, privilege, packaged.text));
    }
    if (before) findings.push(...changes(file, before, packaged, watched));
  }
  return findings;
}

function added(file: PrivilegedFile, privilege: Privilege, packaged: string): Finding {
  const s = file.state;
  const what = privilege === 'capability' ? `file with capabilities ${file.capability}` : `${privilege} file`;
  return finding(
    integrityKinds.privileged_file_added,
    { path: file.path, attribute: privilege },
    `${what} ${file.path} that the baseline does not hold (mode ${octal(s.mode)}, uid ${s.uid}, gid ${s.gid}); ${packaged}`,
  );
}

function changes(file: PrivilegedFile, before: PrivilegedEntry, packaged: { matches: boolean; text: string }, watched: boolean): Finding[] {
  const out: Finding[] = [];
  const changed = (attribute: 'content' | 'owner' | 'group' | 'capability', detail: string) =>
    out.push(finding(integrityKinds.privileged_file_changed, { path: file.path, attribute }, `${detail}; ${packaged.text}`));
  const s = file.state;
  if (!watched) {
    // New content from its package (an upgrade) is not a change of who may do what.
    if (before.sha256 !== undefined && s.sha256 !== undefined && before.sha256 !== s.sha256 && !packaged.matches) {
      changed('content', `content of privileged file ${file.path} changed: SHA-256 ${s.sha256} was ${before.sha256}`);
    }
    if (before.uid !== s.uid) changed('owner', `owner of privileged file ${file.path} changed: uid ${before.uid} → ${s.uid}`);
    if (before.gid !== s.gid) changed('group', `group of privileged file ${file.path} changed: gid ${before.gid} → ${s.gid}`);
  }
  if (before.capability !== undefined && file.capability !== undefined && before.capability !== file.capability) {
    changed('capability', `capabilities of ${file.path} changed: ${file.capability} were ${before.capability}`);
  }
  return out;
}

function packageNote(file: PrivilegedFile, expected: PackageChecksum | undefined): { matches: boolean; text: string } {
  if (!expected) return { matches: false, text: 'no package owns it' };
  if (file.state.md5 === undefined) return { matches: false, text: `package ${expected.package} owns it (content not readable)` };
  return expected.md5 === file.state.md5
    ? { matches: true, text: `content as package ${expected.package} installed it` }
    : { matches: false, text: `package ${expected.package} owns it, but its content differs` };
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
