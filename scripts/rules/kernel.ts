import type { RuleFile } from './rule-types.js';

export const kernelRules: RuleFile = {
  file: 'hostguard-kernel.yml',
  header: [
    'The running kernel (collector "kernel"): modules loaded, taint flags gained and security sysctls',
    'changed since the baseline. Every alert carries collector="kernel".',
  ],
  groups: [
    {
      name: 'hostguard-kernel',
      collector: 'kernel',
      rules: [
        {
          alert: 'HostGuardKernelModuleLoaded',
          expr: 'hostguard_kernel_mismatch{kind="module_loaded"} > 0',
          summary: 'Kernel module {{ $labels.name }} loaded on {{ $labels.instance }}',
          description: [
            'Kernel module {{ $labels.name }} is loaded on {{ $labels.instance }} and its baseline does not hold it: a rootkit',
            'loads one to hide files and processes; new hardware and autoloaded drivers show here too.',
          ],
        },
        {
          alert: 'HostGuardKernelTainted',
          expr: 'hostguard_kernel_mismatch{kind="kernel_tainted"} > 0',
          summary: 'The kernel of {{ $labels.instance }} gained taint flags {{ $labels.name }}',
          description: [
            'The kernel of {{ $labels.instance }} carries module-related taint flags {{ $labels.name }} it did not carry at the',
            'baseline (O out of tree, E unsigned, F forced, P proprietary, U set by a user): a module outside the',
            'distribution was loaded, even if it hides from the module list since.',
          ],
        },
        {
          alert: 'HostGuardSysctlChanged',
          expr: 'hostguard_kernel_mismatch{kind="sysctl_changed"} > 0',
          summary: 'Sysctl {{ $labels.name }} changed on {{ $labels.instance }}',
          description: [
            'The security sysctl {{ $labels.name }} on {{ $labels.instance }} has another value than at the baseline: a defence',
            'switched off (ASLR, pointer hiding, ptrace scope) or a program hooked in (core_pattern, modprobe).',
          ],
        },
      ],
    },
  ],
};
