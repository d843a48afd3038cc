import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../state/atomic-write.js';
import { fingerprintSchema } from './fingerprint.js';

/** Where reading stopped in one file: device and inode (as decimal strings), offset, and content fingerprint. */
export const filePositionSchema = z
  .object({
    device: z.string(),
    inode: z.string(),
    offset: z.number().int().min(0),
    /** The offset is inside an overlong line already emitted: resume at the next newline. */
    midLine: z.boolean().default(false),
    fingerprint: fingerprintSchema,
  })
  .strict();
export type FilePosition = z.infer<typeof filePositionSchema>;

/**
 * A rotated file (or copytruncate copy) still being read. `readToEnd`: nothing was left unread at
 * the save, so finding it gone on restart loses no line; unknown in older saves, so taken as false.
 */
export const drainingPositionSchema = filePositionSchema.extend({ readToEnd: z.boolean().default(false) }).strict();
export type DrainingPosition = z.infer<typeof drainingPositionSchema>;

/** A followed path: the file at the path now, and rotated files still being read to their end. */
export const followStateSchema = z
  .object({
    version: z.literal(1),
    path: z.string(),
    current: filePositionSchema.optional(),
    draining: z.array(drainingPositionSchema).default([]),
    /** Lines delivered before the position that the consumer still held unfinished (FileFollowerOptions.heldLines). */
    held: z.array(z.string()).default([]),
  })
  .strict();
export type FollowState = z.infer<typeof followStateSchema>;

export type LoadedState = { status: 'none' } | { status: 'loaded'; state: FollowState } | { status: 'invalid'; reason: string };

/** Read a saved position; a missing file is a first start, a corrupt one is reported, never thrown. */
export function loadFollowState(file: string, path: string): LoadedState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'none' };
    return { status: 'invalid', reason: (error as Error).message };
  }
  try {
    const state = followStateSchema.parse(JSON.parse(text));
    if (state.path !== path) return { status: 'invalid', reason: `position is for ${state.path}, not ${path}` };
    return { status: 'loaded', state };
  } catch (error) {
    return { status: 'invalid', reason: error instanceof Error ? error.message.slice(0, 200) : String(error) };
  }
}

/** Atomic: a crash leaves the previous position or this one, never a torn file. */
export function saveFollowState(file: string, state: FollowState): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, JSON.stringify(state) + '\n');
}
