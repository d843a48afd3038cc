import { z } from 'zod';

/** `listeners`: which listening sockets are expected. */
export const listenerRuleSchema = z
  .object({
    port: z.union([z.number().int().min(0).max(65535), z.string().regex(/^\d{1,5}-\d{1,5}$/, 'a port or a range like 8000-8099')]),
    protocol: z.enum(['tcp', 'udp', 'any']).default('any'),
    address: z.string().min(1).default('any').describe('any, loopback, or a specific IP address'),
    exe: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    comment: z.string().optional(),
  })
  .strict();

export const listenersSectionSchema = z
  .object({
    allow: z.array(listenerRuleSchema).default([]),
  })
  .strict();

export type ListenerRule = z.infer<typeof listenerRuleSchema>;
export type ListenersPolicy = z.infer<typeof listenersSectionSchema>;
