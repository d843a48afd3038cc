import { z } from 'zod';

/** `processes`: which executables may run, as whom, under which parent. First matching rule wins. */
export const processRuleSchema = z
  .object({
    exe: z.string().min(1).describe('executable path or glob (/usr/sbin/*, /opt/app/**)'),
    users: z.array(z.string().min(1)).min(1).optional().describe('users it may run as; any when absent'),
    parent: z.string().min(1).optional().describe('executable path or glob of the parent process'),
    comment: z.string().optional(),
  })
  .strict();

export const processesSectionSchema = z
  .object({
    allow: z.array(processRuleSchema).default([]),
  })
  .strict();

export type ProcessRule = z.infer<typeof processRuleSchema>;
export type ProcessesPolicy = z.infer<typeof processesSectionSchema>;
