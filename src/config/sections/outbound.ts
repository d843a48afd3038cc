import { z } from 'zod';
import { cidrBlock, exeGlobs, portSpec, protocolChoice, userName } from './network-fields.js';

/**
 * `outbound`: allowed destinations of outgoing connections. The check is off unless the section
 * exists. A connection is allowed when any rule matches it; a rule's absent fields match anything.
 */
export const outboundRuleSchema = z
  .object({
    cidr: z.union([cidrBlock, z.array(cidrBlock).min(1)]).optional().describe('destination address or block; any when absent'),
    ports: z.array(portSpec).min(1).optional().describe('destination ports or ranges; any when absent'),
    protocol: protocolChoice,
    exe: exeGlobs.optional(),
    user: userName.optional(),
    comment: z.string().optional(),
  })
  .strict();

export const outboundSectionSchema = z
  .object({
    allow: z.array(outboundRuleSchema).default([]),
    /** Loopback is not outbound; a test or a paranoid host can watch it anyway. */
    watch_loopback: z.boolean().default(false),
  })
  .strict();

export type OutboundRule = z.infer<typeof outboundRuleSchema>;
export type OutboundPolicy = z.infer<typeof outboundSectionSchema>;
