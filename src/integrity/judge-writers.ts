import type { Finding } from '../findings/finding.js';

/**
 * Who changed a watched file ("who-data"): the process the kernel audit subsystem saw write it,
 * from the records of watch rules on the watched paths (`-w PATH -p wa -k hostguard_fim`). The
 * integrity side only names it in the finding's message; a source that reads audit records
 * answers `writerOf`. Without one, every writer is unknown and the message says so.
 */
export interface FileWriter {
  readonly exe: string;
  /** The login uid (auid): who logged in, whatever they became since; undefined when unset (4294967295). */
  readonly auid: number | undefined;
  readonly uid: number;
  readonly pid: number;
}

export interface WriterSource {
  /** The last writer of a host path seen since `sinceMs` (Unix milliseconds), if the source knows one. */
  writerOf(path: string, sinceMs: number): FileWriter | undefined;
}

/** Kinds that are a change made to a file on this host: the ones a writer can be named for. */
const fileChangeKinds = new Set(['content_changed', 'metadata_changed', 'added', 'removed']);

/** The findings, with the writer (or "writer unknown") at the end of each file change's message. Pure. */
export function withWriters(findings: readonly Finding[], writerOf: (path: string) => FileWriter | undefined): Finding[] {
  return findings.map((f) => {
    const path = f.subject['path'];
    if (!fileChangeKinds.has(f.kind) || typeof path !== 'string') return f;
    return { ...f, message: `${f.message}; ${describeWriter(writerOf(path))}` };
  });
}

export function describeWriter(writer: FileWriter | undefined): string {
  if (!writer) return 'writer unknown';
  const auid = writer.auid === undefined ? 'unset' : String(writer.auid);
  return `written by ${writer.exe} (pid ${writer.pid}, uid ${writer.uid}, auid ${auid})`;
}
