import { z } from 'zod';

/** `outbound`: allowed destinations of outgoing connections. The check is off unless the section exists. */
export const outboundRuleSchema = z
  .object({
    cidr: z.string().min(1).default('0.0.0.0/0'),
    ports: z.array(z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}-\d{1,5}$/)])).optional(),
    exe: z.string().min(1).optional(),
    comment: z.string().optional(),
  })
  .strict();

export const outboundSectionSchema = z
  .object({
    allow: z.array(outboundRuleSchema).default([]),
  })
  .strict();

export type OutboundRule = z.infer<typeof outboundRuleSchema>;
export type OutboundPolicy = z.infer<typeof outboundSectionSchema>;
