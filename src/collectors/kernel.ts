import { kindNames } from '../findings/kinds.js';
import { judgeKernel, kernelBaselineOf, learnKernel, type KernelSnapshot } from '../kernel/judge.js';
import { kernelKinds } from '../kernel/kinds.js';
import type { BaselineEntries } from '../baseline/baseline.js';
import type { KernelPolicy } from '../config/sections/kernel.js';
import { kernelMetricSpecs as specs, sysctlStates } from '../metrics/kernel.js';
import { registerGauge } from '../metrics/spec.js';
import { readModules, readSysctl, readTainted } from '../procfs/kernel.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';

const name = collectorCatalog.kernel.name;

/** What the running kernel shows now: a few small reads of /proc, cheap enough for every scrape. */
function observeKernel(procfs: string, policy: KernelPolicy): KernelSnapshot {
  return {
    modules: policy.modules ? readModules(procfs) : undefined,
    tainted: policy.taint ? readTainted(procfs) : undefined,
    sysctls: new Map(policy.sysctls.map((sysctl) => [sysctl, readSysctl(procfs, sysctl)])),
  };
}

/**
 * The running kernel against its baseline: modules loaded since (a rootkit that loads a module
 * is seen even when it hides its files), module-related taint flags gained since (one that also
 * hides from /proc/modules still taints the kernel), and security sysctls changed since. Read on
 * every collection: the files are a few KiB, so a change is on the next scrape.
 */
class KernelCollector implements Collector {
  readonly name = name;
  readonly findingKinds = kindNames(kernelKinds);
  private readonly m;

  constructor(env: CollectorEnv) {
    const r = env.registry;
    this.m = {
      mismatch: env.cappedSeries(specs.mismatch),
      modulesSupported: registerGauge(r, specs.modulesSupported),
      modules: registerGauge(r, specs.modules),
      tainted: registerGauge(r, specs.tainted),
      sysctls: registerGauge(r, specs.sysctls),
    };
  }

  async learn(ctx: CollectorContext): Promise<BaselineEntries> {
    return learnKernel(observeKernel(ctx.paths.procfs, ctx.policy.kernel));
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    const snapshot = observeKernel(ctx.paths.procfs, ctx.policy.kernel);
    const findings = judgeKernel(snapshot, kernelBaselineOf(ctx.baseline?.[name]));
    const m = this.m;
    m.modulesSupported.set(snapshot.modules === undefined && ctx.policy.kernel.modules ? 0 : 1);
    m.modules.set(snapshot.modules?.length ?? 0);
    m.tainted.set(snapshot.tainted ?? 0);
    const absent = [...snapshot.sysctls.values()].filter((v) => v === undefined).length;
    for (const state of sysctlStates) m.sysctls.set({ state }, state === 'absent' ? absent : snapshot.sysctls.size - absent);
    m.mismatch.replace(
      findings.map((f) => ({
        labels: { kind: f.kind, name: String(f.subject['module'] ?? f.subject['flags'] ?? f.subject['name']) },
        value: 1,
      })),
    );
    return { findings };
  }
}

export const kernelCollector: CollectorDefinition = {
  ...collectorCatalog.kernel,
  create: (env) => new KernelCollector(env),
};
