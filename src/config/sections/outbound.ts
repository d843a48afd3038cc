import { z } from 'zod';
import { cidrBlock, exeGlobs, portSpec, protocolChoice, userName } from './network-fields.js';
import { programNameGlob } from './processes.js';

/**
 * `outbound`: outgoing connections. By default (`judge: unusual`) only those that mean something are
 * judged: the connections of processes that already have a finding, and those of shells,
 * interpreters and network tools to a destination the baseline did not see them use. With
 * `judge: all` every outgoing connection must match an `allow` rule. A rule's absent fields match
 * anything; a connection an `allow` rule matches is never a finding.
 */
export const outboundRuleSchema = z
  .object({
    cidr: z
      .union([cidrBlock, z.array(cidrBlock).min(1)])
      .optional()
      .describe('destination address or block; any when absent'),
    ports: z.array(portSpec).min(1).optional().describe('destination ports or ranges; any when absent'),
    protocol: protocolChoice,
    exe: exeGlobs.optional(),
    user: userName.optional(),
    comment: z.string().optional(),
  })
  .strict();

/** Names of the built-in destination classes: a named network may not take one. */
export const builtinDestinationClasses = ['loopback', 'private', 'link_local', 'metadata', 'multicast', 'public'] as const;

/** A named destination class: what the baseline and findings call addresses in these blocks. */
const networkSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a short lowercase name (letters, digits, _ and -)')
      .refine((n) => !(builtinDestinationClasses as readonly string[]).includes(n), {
        message: `not one of the built-in classes (${builtinDestinationClasses.join(', ')})`,
      }),
    cidr: z.union([cidrBlock, z.array(cidrBlock).min(1)]),
    comment: z.string().optional(),
  })
  .strict();

/**
 * Programs that exist to move bytes between a socket and a terminal or a program: each is the
 * other end of a reverse or bind shell more often than anything else on a server. Why each is
 * listed: docs/collectors/network.md.
 */
export const defaultNetworkTools = ['nc', 'nc.*', 'netcat', 'ncat', 'socat', 'telnet', 'telnet.*', 'inetutils-telnet', 'cryptcat'] as const;

export const outboundSectionSchema = z
  .object({
    /**
     * `all`: every outgoing connection is judged against `allow` (the meaning of a section written
     * before `judge` existed, kept for it). `unusual`: see the section's description; the default
     * of the embedded policy and of a policy without the section.
     */
    judge: z.enum(['all', 'unusual']).default('all'),
    allow: z.array(outboundRuleSchema).default([]),
    /** Loopback is not outbound; a test or a paranoid host can watch it anyway. */
    watch_loopback: z.boolean().default(false),
    /** Judge the outgoing connections of processes the processes collector reports (unusual mode). */
    flagged_processes: z.boolean().default(true),
    /** Judge shells, interpreters (`processes.interpreters`) and network tools by the destinations the baseline saw them use (unusual mode). */
    new_destinations: z.boolean().default(true),
    network_tools: z.array(programNameGlob).default([...defaultNetworkTools]),
    /** Named destination classes, looked up in order before the built-in ones. */
    networks: z.array(networkSchema).default([]),
  })
  .strict();

export type OutboundRule = z.infer<typeof outboundRuleSchema>;
export type OutboundPolicy = z.infer<typeof outboundSectionSchema>;
