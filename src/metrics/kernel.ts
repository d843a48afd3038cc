import { kernelKinds } from '../kernel/kinds.js';
import { metricSpec } from './spec.js';

export const sysctlStates = ['read', 'absent'] as const;

/** Metrics of the kernel collector: modules, taint and security sysctls against the baseline. */
export const kernelMetricSpecs = {
  mismatch: metricSpec({
    name: 'hostguard_kernel_mismatch',
    type: 'gauge',
    help: 'One series (1) per difference from the baseline: a module loaded since, taint flags gained since, a sysctl changed since.',
    labels: {
      kind: Object.keys(kernelKinds).join(', '),
      name: 'the module name, the new taint flags (letters), or the sysctl name (capped by --metrics.max-finding-series)',
    },
    notes: 'Totals by kind, never capped, are hostguard_findings{collector="kernel"}.',
  }),
  modulesSupported: metricSpec({
    name: 'hostguard_kernel_module_support',
    type: 'gauge',
    help: 'Whether the kernel has loadable modules (1: /proc/modules exists) or not (0: built without, so none can be loaded).',
    labels: {},
  }),
  modules: metricSpec({
    name: 'hostguard_kernel_modules',
    type: 'gauge',
    help: 'Kernel modules loaded (lines of /proc/modules).',
    labels: {},
  }),
  tainted: metricSpec({
    name: 'hostguard_kernel_tainted',
    type: 'gauge',
    help: 'The kernel taint mask (/proc/sys/kernel/tainted); 0 is an untainted kernel.',
    labels: {},
  }),
  sysctls: metricSpec({
    name: 'hostguard_kernel_sysctls',
    type: 'gauge',
    help: 'Sysctls of the policy (kernel.sysctls), by whether this kernel has them.',
    labels: { state: `${sysctlStates.join(', ')}: absent sysctls are judged too (a sysctl that disappears is a change)` },
  }),
} as const;
