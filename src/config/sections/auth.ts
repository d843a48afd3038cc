import { z } from 'zod';

/** `auth`: where authentication events are read from. */
export const authSourceSchema = z
  .object({
    type: z.enum(['file', 'journald']),
    path: z.string().min(1).optional(),
  })
  .strict();

export const authSectionSchema = z
  .object({
    sources: z.array(authSourceSchema).optional().describe('auto-detected when absent'),
  })
  .strict();

export type AuthPolicy = z.infer<typeof authSectionSchema>;
