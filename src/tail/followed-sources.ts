import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * What a followed source is, for its position file and across reloads: its kind (auth: file or
 * journald; ids: the tool) and its id (the path as the policy names it). Two specs with the same
 * identity are the same source, whatever else differs (start_at, a line bound, detected or named).
 */
export interface SourceIdentity {
  readonly kind: string;
  readonly id: string;
}

function identityKey(source: SourceIdentity): string {
  return `${source.kind}:${source.id}`;
}

/** The file under `dir` (in --state.dir) that keeps a source's position: readable, and unique by identity. */
export function positionFile(dir: string, source: SourceIdentity): string {
  const digest = createHash('sha256').update(identityKey(source)).digest('hex').slice(0, 12);
  const readable = source.id
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^_+/, '')
    .slice(-48);
  return join(dir, `${readable}-${digest}.json`);
}

/** A source read in the background into a pipeline whose counts are published at each collection. */
export interface BackgroundReader {
  /** Read what is already written, yielding between slices, until `deadline` (ms epoch). */
  catchUp(deadline: number): Promise<void>;
  /** Save the position of everything counted so far: called when the counts are published. */
  checkpoint(): void;
  /** `savePosition`: also when positions are otherwise saved only by checkpoint(). */
  stop(options?: { savePosition?: boolean }): Promise<void>;
}

export interface FollowedSourcesOptions<S, R extends BackgroundReader> {
  identity(spec: S): SourceIdentity;
  /** Begin following a source not followed yet. */
  start(spec: S): R;
  /** Apply a reloaded spec of a source already followed, keeping its position. */
  update(reader: R, spec: S): void;
}

/**
 * The sources a collector follows, kept by identity across reloads. Replacing a follower would be
 * wrong: the new one resumes from the last checkpoint into the same pipeline and counts again every
 * line read since. A source the policy drops saves its position as it stops, since what it read
 * stays counted in this process (and is read from there if the source comes back).
 */
export class FollowedSources<S, R extends BackgroundReader> {
  private readonly followed = new Map<string, { spec: S; reader: R }>();

  constructor(private readonly options: FollowedSourcesOptions<S, R>) {}

  /** Follow exactly `wanted`: start the new, update the kept, stop the dropped. */
  reconcile(wanted: readonly S[]): void {
    const byKey = new Map(wanted.map((spec) => [identityKey(this.options.identity(spec)), spec]));
    for (const [key, { reader }] of this.followed) {
      if (byKey.has(key)) continue;
      this.followed.delete(key);
      void reader.stop({ savePosition: true });
    }
    for (const [key, spec] of byKey) {
      const kept = this.followed.get(key);
      if (kept) {
        kept.spec = spec;
        this.options.update(kept.reader, spec);
      } else this.followed.set(key, { spec, reader: this.options.start(spec) });
    }
  }

  /** Every source followed, with its spec as the policy names it now. */
  entries(): { readonly spec: S; readonly reader: R }[] {
    return [...this.followed.values()];
  }

  readerOf(spec: S): R | undefined {
    return this.followed.get(identityKey(this.options.identity(spec)))?.reader;
  }

  async catchUp(deadline: number): Promise<void> {
    await Promise.all([...this.followed.values()].map((f) => f.reader.catchUp(deadline)));
  }

  checkpoint(): void {
    for (const { reader } of this.followed.values()) reader.checkpoint();
  }

  /** Shutdown: positions stay at the last checkpoint, so what was read but not published is read again. */
  async stop(): Promise<void> {
    const stopping = [...this.followed.values()].map((f) => f.reader.stop());
    this.followed.clear();
    await Promise.all(stopping);
  }
}
