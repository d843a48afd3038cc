import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-write.js';
import { describeErrno } from '../state/state-dir.js';
import {
  baselineFormat,
  sealBaseline,
  verifyBaseline,
  type BaselineBody,
  type BaselineEntries,
  type BaselineOrigin,
  type BaselineVerdict,
} from './baseline.js';

export type BaselineState = { status: 'missing' } | { status: 'unreadable'; problem: string } | BaselineVerdict;

export class BaselineStore {
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly key?: Buffer,
  ) {
    this.path = join(stateDir, 'baseline.json');
  }

  get signing(): boolean {
    return this.key !== undefined;
  }

  read(): BaselineState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      return { status: 'unreadable', problem: describeErrno(error) };
    }
    return verifyBaseline(text, this.key);
  }

  /** A cheap identity of the file's current version, to notice changes without reading it. */
  fileSignature(): string {
    try {
      const s = statSync(this.path, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch {
      return 'absent';
    }
  }

  write(sections: Record<string, BaselineEntries>, origin: BaselineOrigin, previous?: BaselineBody): BaselineBody {
    const now = new Date().toISOString();
    const body: BaselineBody = {
      format: baselineFormat,
      hostname: hostname(),
      created_at: previous?.created_at ?? now,
      updated_at: now,
      origin,
      sections,
    };
    this.writeBody(body);
    return body;
  }

  /** Seal and write a body as it is (times and origin included). Throws when the file cannot be written. */
  writeBody(body: BaselineBody): void {
    writeFileAtomic(this.path, JSON.stringify(sealBaseline(body, this.key), null, 1) + '\n');
  }
}
