import { z } from 'zod';
import { isCidr } from '../../match/cidr.js';
import { pathGlob } from '../glob-field.js';
import { portRangeError, type PortSpec } from '../../match/port-range.js';

/** Fields shared by the `listeners` and `outbound` sections. */

/** A port or a range "8000-8099", checked at load. */
export const portSpec = z.union([z.number(), z.string()]).superRefine((value: PortSpec, ctx) => {
  const problem = portRangeError(value);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

/** One executable path or glob, or a list of them: every process holding the socket must match one. */
export const exeGlobs = z.union([pathGlob, z.array(pathGlob).min(1)]);

/** A user name or numeric uid the owning process runs as (its effective uid). */
export const userName = z.string().min(1);

export const cidrBlock = z.string().refine(isCidr, { message: 'not an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32)' });

export const protocolChoice = z.enum(['tcp', 'udp', 'any']).default('any');
