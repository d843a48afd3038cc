import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { Slicer } from '../scheduler/slicer.js';
import { halfSipHash64, hashKeyFromBytes, type HashKey } from './half-siphash.js';

/** Directories that Debian's merged /usr turns into symlinks: /bin → usr/bin, and so on. */
const mergeableDirs = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

/**
 * Every path that an installed Debian package owns (the dpkg file lists), as a sorted array of
 * keyed 64-bit hashes: ~8 bytes per path instead of ~100 for a Set of strings (1 MiB rather than
 * ~14 MiB of heap for the 130,000 paths of a desktop-sized install). The key is random per
 * process, so a path cannot be crafted to collide with a packaged one.
 */
export class PackageIndex {
  private readonly scratch = new Uint32Array(2);

  constructor(
    private readonly hashes: BigUint64Array,
    private readonly key: HashKey,
    /** Top-level directories that are symlinks into /usr on this root (merged /usr). */
    private readonly mergedDirs: ReadonlySet<string>,
    /** The dpkg state this index was built from; see dpkgSignature. */
    readonly signature: string,
  ) {}

  static empty(signature = 'none'): PackageIndex {
    return new PackageIndex(new BigUint64Array(0), hashKeyFromBytes(randomBytes(8)), new Set(), signature);
  }

  get size(): number {
    return this.hashes.length;
  }

  /**
   * Whether an executable path (as /proc/PID/exe shows it) belongs to a package. With a merged
   * /usr the kernel shows /usr/bin/bash where dpkg lists /bin/bash, so both spellings are tried.
   */
  owns(path: string): boolean {
    if (this.hashes.length === 0) return false;
    if (this.contains(path)) return true;
    const match = /^\/usr\/([^/]+)(\/.*)$/.exec(path);
    return match !== null && this.mergedDirs.has(match[1]!) && this.contains(`/${match[1]}${match[2]}`);
  }

  private contains(path: string): boolean {
    const bytes = Buffer.from(path, 'utf8');
    halfSipHash64(this.key, bytes, 0, bytes.length, this.scratch);
    const wanted = (BigInt(this.scratch[1]!) << 32n) | BigInt(this.scratch[0]!);
    let low = 0;
    let high = this.hashes.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.hashes[mid]!;
      if (value === wanted) return true;
      if (value < wanted) low = mid + 1;
      else high = mid - 1;
    }
    return false;
  }
}

export function dpkgDir(rootfs: string): string {
  return join(rootfs, 'var/lib/dpkg');
}

/**
 * Changes whenever dpkg installs, upgrades or removes a package: it rewrites the status file and
 * replaces file lists in info/ by rename. 'none' when there is no dpkg database.
 */
export function dpkgSignature(rootfs: string): string {
  const dir = dpkgDir(rootfs);
  try {
    const info = statSync(join(dir, 'info'));
    const status = statSync(join(dir, 'status'));
    return `${info.ino}:${info.mtimeMs}:${status.ino}:${status.mtimeMs}:${status.size}`;
  } catch {
    return 'none';
  }
}

/** When dpkg last changed its status file (Unix seconds); undefined without dpkg. */
export function dpkgLastChange(rootfs: string): number | undefined {
  try {
    return statSync(join(dpkgDir(rootfs), 'status')).mtimeMs / 1000;
  } catch {
    return undefined;
  }
}

/**
 * Build the index from <rootfs>/var/lib/dpkg: every info/*.list, plus the places diverted files
 * were moved to (info/diversions). Reads one file at a time as bytes and hashes lines in place, so
 * no string per path is ever made; yields to the event loop every few milliseconds.
 */
export async function buildPackageIndex(rootfs: string, sliceMs = 5): Promise<PackageIndex> {
  const signature = dpkgSignature(rootfs);
  if (signature === 'none') return PackageIndex.empty();
  const key = hashKeyFromBytes(randomBytes(8));
  const collector = new HashCollector(key);
  const infoDir = join(dpkgDir(rootfs), 'info');
  const slicer = new Slicer(sliceMs);
  for (const name of readdirSync(infoDir)) {
    if (!name.endsWith('.list')) continue;
    const bytes = readOptional(join(infoDir, name));
    if (bytes) collector.addLines(bytes, () => true);
    const pause = slicer.due();
    if (pause) await pause;
  }
  const diversions = readOptional(join(dpkgDir(rootfs), 'diversions'));
  // Three lines per diversion: the original path, where it was moved, the diverting package.
  let line = 0;
  if (diversions) collector.addLines(diversions, () => line++ % 3 === 1);
  return new PackageIndex(collector.sorted(), key, mergedDirs(rootfs), signature);
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    // A list removed while we read (dpkg running): the next signature change rebuilds the index.
    return undefined;
  }
}

function mergedDirs(rootfs: string): Set<string> {
  const merged = new Set<string>();
  for (const dir of mergeableDirs) {
    try {
      if (lstatSync(join(rootfs, dir)).isSymbolicLink()) merged.add(dir);
    } catch {
      // absent on this root
    }
  }
  return merged;
}

const lowWord = endianness() === 'LE' ? 0 : 1;

class HashCollector {
  private words = new Uint32Array(1 << 17);
  private count = 0;
  private readonly out = new Uint32Array(2);

  constructor(private readonly key: HashKey) {}

  /** Hash every non-empty line of `bytes` that `keep` accepts (it is called once per line, in order). */
  addLines(bytes: Buffer, keep: () => boolean): void {
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start);
      if (end === -1) end = bytes.length;
      if (keep() && end > start && !(end - start === 2 && bytes[start] === 0x2f && bytes[start + 1] === 0x2e)) this.add(bytes, start, end);
      start = end + 1;
    }
  }

  private add(bytes: Buffer, start: number, end: number): void {
    if ((this.count + 1) * 2 > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    halfSipHash64(this.key, bytes, start, end, this.out);
    // Laid out so that the pair reads as one 64-bit value (high << 32 | low) on this machine.
    this.words[this.count * 2 + lowWord] = this.out[0]!;
    this.words[this.count * 2 + 1 - lowWord] = this.out[1]!;
    this.count++;
  }

  sorted(): BigUint64Array {
    const values = new BigUint64Array(this.words.buffer, 0, this.count).slice();
    return values.sort();
  }
}
