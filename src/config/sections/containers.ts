import { z } from 'zod';
import { pathGlob } from '../glob-field.js';

/** The finding kinds a `containers.allow` rule can except (declared in src/processes/kinds.ts). */
export const containerKindNames = ['container_drift', 'container_package_manager', 'container_shell'] as const;

/**
 * Programs that install software: started in a running container, they change it away from its
 * image (Falco's "Launch Package Management Process in Container"). Matched by process name
 * (comm, argv[0]) and executable file name, so `pip` run by python3 is seen.
 */
export const defaultPackageManagers = [
  'apt',
  'apt-get',
  'aptitude',
  'dpkg',
  'apk',
  'yum',
  'dnf',
  'microdnf',
  'rpm',
  'zypper',
  'pacman',
  'pip',
  'pip3',
  'npm',
  'yarn',
  'pnpm',
  'gem',
] as const;

/** Shells: with a terminal on their input, a person typing in the container (`kubectl exec -it`). */
export const defaultShells = ['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'fish', 'csh', 'tcsh'] as const;

const programName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^/\s]+$/, 'a program name without a directory or spaces');

/** An exception for containers by image or name: either, or both (then both must match). */
export const containerAllowRuleSchema = z
  .object({
    image: pathGlob.optional().describe('image as the runtime names it, glob (registry.example.com/ci/*)'),
    container: pathGlob.optional().describe('container name, glob (Docker name, Kubernetes container name)'),
    kinds: z.array(z.enum(containerKindNames)).min(1).optional().describe('the kinds excepted; all three when absent'),
    comment: z.string().optional(),
  })
  .strict()
  .refine((rule) => rule.image !== undefined || rule.container !== undefined, { message: 'name an image or a container (or both)' });

/**
 * `containers`: what processes in containers are judged for beyond the processes section, and the
 * exceptions per image or container name. Read by the processes collector.
 */
export const containersSectionSchema = z
  .object({
    package_managers: z.array(programName).default([...defaultPackageManagers]),
    shells: z.array(programName).default([...defaultShells]),
    allow: z.array(containerAllowRuleSchema).default([]),
  })
  .strict();

export type ContainersPolicy = z.infer<typeof containersSectionSchema>;
