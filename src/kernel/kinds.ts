import { declareKinds } from '../findings/kinds.js';

export const kernelKinds = declareKinds('kernel', {
  module_loaded: {
    severity: 'warning',
    description:
      'a kernel module is loaded (/proc/modules) that the baseline does not hold: a rootkit that loads a module is seen even when it hides its files (one that also hides from /proc/modules still taints the kernel); hardware and autoloaded modules show here too until `baseline update`',
    alerts: ['HostGuardKernelModuleLoaded'],
  },
  kernel_tainted: {
    severity: 'critical',
    description:
      "the kernel carries a module-related taint flag (/proc/sys/kernel/tainted) it did not carry at the baseline: P proprietary, F forced load, R forced unload, U set by a user, C staging, O out of tree, E unsigned, K live patch; the subject's `flags` are the new ones. Hardware and bug flags (W, D, L, M, ...) are not judged",
    alerts: ['HostGuardKernelTainted'],
  },
  sysctl_changed: {
    severity: 'warning',
    description:
      'a security-relevant sysctl listed in the policy (`kernel.sysctls`) has a value other than at the baseline: ASLR off, pointers or dmesg exposed, ptrace or BPF opened, core_pattern or modprobe redirected to a program, forwarding turned on',
    alerts: ['HostGuardSysctlChanged'],
  },
});
