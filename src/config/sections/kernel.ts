import { z } from 'zod';

/**
 * Security-relevant sysctls: a change from the baseline value is sysctl_changed. What each guards
 * is in docs/collectors/kernel.md; the policy's list replaces this one.
 */
export const defaultSysctls: readonly string[] = [
  'kernel.randomize_va_space',
  'kernel.kptr_restrict',
  'kernel.dmesg_restrict',
  'kernel.yama.ptrace_scope',
  'kernel.modules_disabled',
  'kernel.kexec_load_disabled',
  'kernel.unprivileged_bpf_disabled',
  'kernel.unprivileged_userns_clone',
  'kernel.perf_event_paranoid',
  'kernel.sysrq',
  'kernel.core_pattern',
  'kernel.modprobe',
  'net.core.bpf_jit_harden',
  'dev.tty.ldisc_autoload',
  'fs.protected_hardlinks',
  'fs.protected_symlinks',
  'fs.protected_fifos',
  'fs.protected_regular',
  'fs.suid_dumpable',
  'vm.mmap_min_addr',
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  'net.ipv4.conf.all.accept_redirects',
  'net.ipv4.conf.all.send_redirects',
  'net.ipv4.conf.all.accept_source_route',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.tcp_syncookies',
];

/** A sysctl name as `sysctl` writes it (dots), or a /proc/sys path below (slashes, for names with dots). */
const sysctlName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:@/-]*$/, 'a sysctl name like kernel.kptr_restrict')
  .refine(
    (name) => (name.includes('/') ? name : name.replaceAll('.', '/')).split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'a sysctl name, not a path out of /proc/sys',
  );

/** `kernel`: the running kernel against its baseline (collector `kernel`). */
export const kernelSectionSchema = z
  .object({
    /** Modules loaded since the baseline (/proc/modules). */
    modules: z.boolean().default(true),
    /** Module-related taint flags gained since the baseline (/proc/sys/kernel/tainted). */
    taint: z.boolean().default(true),
    sysctls: z.array(sysctlName).default([...defaultSysctls]),
  })
  .strict();

export type KernelPolicy = z.infer<typeof kernelSectionSchema>;
