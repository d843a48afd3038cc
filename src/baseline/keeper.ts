import type { Logger } from '../log/logger.js';
import { describeErrno } from '../state/state-dir.js';
import type { BaselineBody, BaselineEntries, BaselineOrigin, BaselineSections } from './baseline.js';
import type { BaselineState, BaselineStore } from './store.js';

/** Whether changes a collector accepted by itself reached the baseline file, and if not why. */
export type AcceptOutcome = { readonly written: true } | { readonly written: false; readonly reason: string };

/**
 * The running exporter's view of the baseline file: re-read when the file changes (a
 * `baseline update` from the command line, or an intruder's edit), verified every time it is read.
 */
export class BaselineKeeper {
  private signature = '';
  private state: BaselineState = { status: 'missing' };
  private changedAt = new Date();

  constructor(
    readonly store: BaselineStore,
    private readonly log: Logger,
  ) {
    this.refresh();
  }

  /** The current state, re-reading the file only if its inode, size or times changed. */
  refresh(): BaselineState {
    const signature = this.store.fileSignature();
    if (signature === this.signature) return this.state;
    const first = this.signature === '';
    this.signature = signature;
    this.state = this.store.read();
    this.changedAt = new Date();
    this.report(first);
    return this.state;
  }

  get current(): BaselineState {
    return this.state;
  }

  get lastChange(): Date {
    return this.changedAt;
  }

  /** Sections the collectors may trust: only a verified baseline's. */
  get trustedSections(): BaselineSections | undefined {
    return this.state.status === 'verified' ? this.state.body.sections : undefined;
  }

  get body(): BaselineBody | undefined {
    return this.state.status === 'verified' || this.state.status === 'tampered' ? this.state.body : undefined;
  }

  write(sections: Record<string, BaselineEntries>, origin: BaselineOrigin): BaselineBody {
    const previous = this.state.status === 'verified' ? this.state.body : undefined;
    const body = this.store.write(sections, origin, previous);
    // What was just sealed is trusted as is, not read back and verified again; the file's signature
    // as written lets refresh() notice (and verify) the next change made by anyone else.
    this.signature = this.store.fileSignature();
    this.state = { status: 'verified', body, signed: this.store.signing };
    this.changedAt = new Date();
    this.log.info('baseline written', { file: this.store.path, updated_at: body.updated_at, origin, signed: this.store.signing });
    return body;
  }

  /**
   * Replace sections of the baseline a judgment was made against, keeping its origin and times:
   * changes a collector accepted by itself (the integrity collector's package changes), sealed
   * like any other write. Refused when the baseline does not verify, or changed on disk since
   * `basedOn` was read (a `baseline update` meanwhile): the judgment is then made again against it.
   */
  acceptChanges(basedOn: BaselineSections, sections: Readonly<Record<string, BaselineEntries>>): AcceptOutcome {
    this.refresh();
    if (this.state.status !== 'verified') return { written: false, reason: `the baseline is ${this.state.status}` };
    if (this.state.body.sections !== basedOn) return { written: false, reason: 'the baseline changed on disk since the judgment' };
    const body: BaselineBody = { ...this.state.body, sections: { ...this.state.body.sections, ...sections } };
    try {
      this.store.writeBody(body);
    } catch (error) {
      return { written: false, reason: `cannot write ${this.store.path}: ${describeErrno(error)}` };
    }
    this.signature = this.store.fileSignature();
    this.state = { status: 'verified', body, signed: this.store.signing };
    this.changedAt = new Date();
    return { written: true };
  }

  private report(first: boolean): void {
    const fields = { file: this.store.path };
    switch (this.state.status) {
      case 'missing':
        if (!first) this.log.error('baseline file disappeared; judging by the policy alone', fields);
        break;
      case 'unreadable':
        this.log.error('cannot read the baseline; judging by the policy alone', { ...fields, err: this.state.problem });
        break;
      case 'corrupt':
      case 'tampered':
        this.log.error('baseline failed verification; judging by the policy alone and NOT re-learning it', {
          ...fields,
          err: this.state.problem,
        });
        break;
      case 'verified':
        this.log.info(first ? 'baseline loaded' : 'baseline changed on disk and verified; using it', {
          ...fields,
          updated_at: this.state.body.updated_at,
          origin: this.state.body.origin,
          signed: this.state.signed,
        });
        break;
    }
  }
}
