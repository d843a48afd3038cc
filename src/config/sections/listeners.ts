import { z } from 'zod';
import { cronExpression } from '../cron-expression.js';
import { fleetFactsSchema } from './fleet-facts.js';
import { cidrBlock, exeGlobs, portSpec, protocolChoice, userName } from './network-fields.js';

/** Where a rule lets a socket listen: anywhere, only on loopback, or on these addresses. */
const bindAddress = z.union([z.enum(['any', 'loopback']), cidrBlock]).default('any');

/** `listeners`: which listening sockets are expected. A socket is expected when any rule matches it. */
export const listenerRuleSchema = z
  .object({
    port: portSpec,
    protocol: protocolChoice,
    address: bindAddress.describe('any (the default: whatever the bind address), loopback, or an IP address or CIDR block'),
    exe: exeGlobs.optional().describe('only these programs may hold the socket'),
    user: userName.optional().describe('only processes running as this user may hold the socket'),
    comment: z.string().optional(),
  })
  .strict();

/** The hidden-port sweep (unhide-tcp's technique): ports that cannot be bound yet appear in no table. */
export const hiddenPortsSchema = z
  .object({
    enabled: z.boolean().default(true),
    schedule: cronExpression.default('*/15 * * * *'),
    ports: portSpec.default('1-65535'),
    protocols: z
      .array(z.enum(['tcp', 'udp']))
      .min(1)
      .default(['tcp', 'udp']),
    confirm_delay_seconds: z.number().min(0).max(600).default(10),
  })
  .strict();

export const listenersSectionSchema = z
  .object({
    allow: z.array(listenerRuleSchema).default([]),
    hidden_ports: hiddenPortsSchema.default({}),
    fleet_facts: fleetFactsSchema.default({}),
  })
  .strict();

export type ListenerRule = z.infer<typeof listenerRuleSchema>;
export type HiddenPortsPolicy = z.infer<typeof hiddenPortsSchema>;
export type ListenersPolicy = z.infer<typeof listenersSectionSchema>;
