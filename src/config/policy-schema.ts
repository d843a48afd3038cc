import { z } from 'zod';
import { auditSectionSchema } from './sections/audit.js';
import { authSectionSchema } from './sections/auth.js';
import { idsSectionSchema } from './sections/ids.js';
import { integritySectionSchema } from './sections/integrity.js';
import { kernelSectionSchema } from './sections/kernel.js';
import { listenersSectionSchema } from './sections/listeners.js';
import { outboundSectionSchema } from './sections/outbound.js';
import { processesSectionSchema } from './sections/processes.js';
import { shellOnSocketSectionSchema } from './sections/shell-on-socket.js';
import { containersSectionSchema } from './sections/containers.js';

/**
 * The policy: allow rules written by people. Each section belongs to one collector and lives in
 * config/sections/. Unknown keys are errors at every level, so a typo never silently disables a rule.
 */
export const policySchema = z
  .object({
    processes: processesSectionSchema.default({}),
    /** Processes in containers: package managers, shells, exceptions per image (read by the processes collector). */
    containers: containersSectionSchema.default({}),
    listeners: listenersSectionSchema.default({}),
    /** Written without `judge`, a section judges every connection, as before `judge` existed; absent, only unusual ones. */
    outbound: outboundSectionSchema.default({ judge: 'unusual' }),
    shell_on_socket: shellOnSocketSectionSchema.default({}),
    integrity: integritySectionSchema.default({}),
    kernel: kernelSectionSchema.default({}),
    auth: authSectionSchema.default({}),
    /** Absent means the ids collector follows nothing. */
    ids: idsSectionSchema.optional(),
    /** Absent means the audit collector reads no report. */
    audit: auditSectionSchema.optional(),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;
export type PolicySection = keyof Policy;

/** The collector that reads each section: with that collector off, the section is not read. */
export const sectionCollectors: Readonly<Record<PolicySection, string>> = {
  processes: 'processes',
  containers: 'processes',
  listeners: 'network',
  outbound: 'network',
  shell_on_socket: 'network',
  integrity: 'integrity',
  kernel: 'kernel',
  auth: 'auth',
  ids: 'ids',
  audit: 'audit',
};
