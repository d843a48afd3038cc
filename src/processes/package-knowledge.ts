import type { Logger } from '../log/logger.js';
import { buildPackageIndex, dpkgSignature, PackageIndex } from './package-index.js';

/**
 * Keeps the package index in step with dpkg: rebuilt (in the background of the call, yielding to
 * the event loop) when dpkg's database changes, so a binary that `apt` installs and runs right
 * away is judged against the new lists, never the old ones. Callers that arrive during a rebuild
 * share it.
 */
export class PackageKnowledge {
  private index: PackageIndex | undefined;
  private building: Promise<PackageIndex> | undefined;
  private reportedMissing = false;

  constructor(
    private readonly rootfs: string,
    private readonly log: Logger,
  ) {}

  /** The index for dpkg's current state; `enabled` false drops it (policy: packaged_executables: false). */
  current(enabled: boolean): Promise<PackageIndex> {
    if (!enabled) {
      this.index = undefined;
      return Promise.resolve(PackageIndex.empty('disabled'));
    }
    const signature = dpkgSignature(this.rootfs);
    if (this.index && this.index.signature === signature) return Promise.resolve(this.index);
    this.building ??= this.build().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  /** Entries of the index in use (0 before the first build or without dpkg). */
  get size(): number {
    return this.index?.size ?? 0;
  }

  private async build(): Promise<PackageIndex> {
    const started = Date.now();
    const index = await buildPackageIndex(this.rootfs);
    this.index = index;
    if (index.signature === 'none') {
      if (!this.reportedMissing) {
        this.log.info('no dpkg database under --path.rootfs: executables are known by the policy and the baseline only', {
          rootfs: this.rootfs,
        });
      }
      this.reportedMissing = true;
    } else {
      this.log.debug('package index built', { paths: index.size, ms: Date.now() - started });
    }
    return index;
  }
}
