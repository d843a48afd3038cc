import { z } from 'zod';
import { containerRuntimes, imageSources, type ContainerIdentity } from '../containers/identity.js';
import type { UserClass } from '../rootfs/users.js';

/** The kinds an exec can be flagged with: the start verdicts that are findings. */
export const execFlagKinds = ['deleted_executable', 'writable_location', 'name_mismatch', 'unknown_executable', 'unexpected_user'] as const;
export type ExecFlagKind = (typeof execFlagKinds)[number];

/** One flagged exec, as judged: what ran (the executable, or its script or loaded program), as whom, why. */
export interface FlaggedExec {
  readonly timeMs: number;
  /** The audit serial: with timeMs, orders the execs of one host (a re-read event is not counted again). */
  readonly serial: number;
  readonly kind: ExecFlagKind;
  /** What ran: the executable, or the script or program when it is the one flagged. */
  readonly exe: string;
  /** The interpreter or loader that ran `exe`, when it is a script or a loaded program. */
  readonly runner: { readonly field: 'interpreter' | 'loader'; readonly path: string } | undefined;
  readonly user: string;
  readonly userClass: UserClass;
  readonly pid: number;
  readonly ppid: number;
  readonly parentExe: string | undefined;
  readonly reason: string;
  /** The mount namespace of an exec judged as a container's; undefined on the host. */
  readonly containerNamespace: string | undefined;
  /** Which container, for an exec in one. */
  readonly container: ContainerIdentity | undefined;
}

const text = z.string().optional();
const containerSchema = z.object({
  runtime: z.enum(containerRuntimes),
  id: text,
  podUid: text,
  image: text,
  name: text,
  podNamespace: text,
  podName: text,
  imageSource: z.enum(imageSources),
});

const heldSchema = z.object({
  key: z.string(),
  count: z.number().int().min(1),
  firstMs: z.number(),
  last: z.object({
    timeMs: z.number(),
    serial: z.number(),
    kind: z.enum(execFlagKinds),
    exe: z.string(),
    runner: z.object({ field: z.enum(['interpreter', 'loader']), path: z.string() }).optional(),
    user: z.string(),
    userClass: z.enum(['root', 'system', 'regular', 'invalid']),
    pid: z.number(),
    ppid: z.number(),
    parentExe: z.string().optional(),
    reason: z.string(),
    containerNamespace: z.string().optional(),
    container: containerSchema.optional(),
  }),
});
const savedSchema = z.object({ version: z.literal(1), held: z.array(heldSchema) });
type Saved = z.infer<typeof savedSchema>;

export interface HeldExec {
  readonly key: string;
  count: number;
  firstMs: number;
  last: FlaggedExec;
}

/**
 * Flagged execs of the last `holdMs`, one entry per (kind, what ran, runner, user, container): the
 * 1,000 runs of one dropper are one thing to look at, with a count. Bounded: past `maxEntries` the
 * entry seen longest ago goes. An exec older than or equal to the newest one an entry holds (by
 * time, then serial) is one read again after a restart, and is not counted twice.
 */
export class FlaggedExecs {
  private readonly held = new Map<string, HeldExec>();

  constructor(private readonly maxEntries = 1000) {}

  add(exec: FlaggedExec): void {
    const key = JSON.stringify([
      exec.kind,
      exec.exe,
      exec.runner?.path ?? '',
      exec.user,
      exec.containerNamespace ?? '',
      exec.container?.id ?? '',
    ]);
    const entry = this.held.get(key);
    if (entry) {
      if (exec.timeMs < entry.last.timeMs || (exec.timeMs === entry.last.timeMs && exec.serial <= entry.last.serial)) return;
      entry.count++;
      entry.last = exec;
      // Most recent last: the Map's order is the eviction order.
      this.held.delete(key);
      this.held.set(key, entry);
      return;
    }
    this.held.set(key, { key, count: 1, firstMs: exec.timeMs, last: exec });
    if (this.held.size > this.maxEntries) this.held.delete(this.held.keys().next().value!);
  }

  /** Forget what was last seen before `sinceMs`; the rest, oldest first. */
  current(sinceMs: number): HeldExec[] {
    for (const [key, entry] of this.held) if (entry.last.timeMs < sinceMs) this.held.delete(key);
    return [...this.held.values()];
  }

  /** A plain document for the state directory (see load). */
  toJSON(): Saved {
    return {
      version: 1,
      held: [...this.held.values()].map((h) => ({
        key: h.key,
        count: h.count,
        firstMs: h.firstMs,
        last: {
          ...h.last,
          runner: h.last.runner,
          parentExe: h.last.parentExe,
          containerNamespace: h.last.containerNamespace,
          container: h.last.container,
        },
      })),
    };
  }

  /** Restore what a previous run held; a document of another shape is ignored, and the reason returned. */
  load(document: unknown): string | undefined {
    const parsed = savedSchema.safeParse(document);
    if (!parsed.success) return parsed.error.issues[0]?.message ?? 'unexpected shape';
    for (const h of parsed.data.held) {
      const c = h.last.container;
      const container: ContainerIdentity | undefined = c && {
        runtime: c.runtime,
        id: c.id,
        podUid: c.podUid,
        image: c.image,
        name: c.name,
        podNamespace: c.podNamespace,
        podName: c.podName,
        imageSource: c.imageSource,
      };
      const last: FlaggedExec = {
        ...h.last,
        runner: h.last.runner,
        parentExe: h.last.parentExe,
        containerNamespace: h.last.containerNamespace,
        container,
      };
      this.held.set(h.key, { key: h.key, count: h.count, firstMs: h.firstMs, last });
    }
    return undefined;
  }
}
