import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Collector, CollectorDefinition } from '../../src/collectors/collector.js';
import { CollectorRunner, LearningError, LearningTimeoutError } from '../../src/collectors/collection.js';
import { Exporter } from '../../src/exporter.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';

/** Collectors written for the framework's tests: their behaviour is the input, not a stand-in for a host. */
function definition(name: string, collector: Omit<Collector, 'name'>): CollectorDefinition {
  return { name, description: name, defaultEnabled: true, create: () => ({ name, ...collector }) };
}

const healthy = (calls: { n: number } = { n: 0 }) =>
  definition('healthy', {
    findingKinds: ['odd_thing', 'other_thing'],
    async collect() {
      calls.n++;
      await new Promise((r) => setTimeout(r, 30));
      return { findings: [{ collector: 'healthy', kind: 'odd_thing', severity: 'warning', subject: { exe: '/tmp/x' }, message: 'odd' }] };
    },
    async learn() {
      return { '/usr/bin/a': { users: ['root'] } };
    },
  });

const broken = definition('broken', {
  findingKinds: ['never'],
  async collect() {
    throw new Error('cannot read /proc/net/tcp: EACCES');
  },
});

/** A collector whose collect() hangs until the test releases it, like one stuck on a dead NFS mount. */
function hung() {
  const calls = { n: 0 };
  let release = (): void => undefined;
  const collector = definition('hung', {
    findingKinds: ['never'],
    collect() {
      calls.n++;
      return new Promise((resolve) => {
        release = () => resolve({ findings: [] });
      });
    },
  });
  return { collector, calls, release: () => release() };
}

/** A collector whose learn() never ends until the test releases it, like one hashing a file on a dead NFS mount. */
function hungLearner() {
  let release = (): void => undefined;
  let stopRelease = (): void => undefined;
  const collector = definition('stuck', {
    findingKinds: [],
    collect: async () => ({ findings: [] }),
    learn() {
      return new Promise((resolve) => {
        release = () => resolve({ '/mnt/nfs/file': { sha256: 'f'.repeat(64) } });
      });
    },
    // Stopping waits for the read to return, as terminating a worker blocked in read(2) would.
    stop() {
      return new Promise<void>((resolve) => {
        stopRelease = resolve;
      });
    },
  });
  return { collector, release: () => release(), releaseStop: () => stopRelease() };
}

function exporterWith(
  collectors: CollectorDefinition[],
  stateDir = tempDir(),
  collectorTimeoutMs?: number,
  baselineTimeoutMs?: number,
): Exporter {
  return new Exporter({
    collectorTimeoutMs,
    baselineTimeoutMs,
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile: undefined,
    collectors,
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: '1.2.3', revision: 'abc' },
  });
}

describe('collector framework', () => {
  it('isolates a failing collector: the others are served, success and error metrics say which failed', async () => {
    const exporter = exporterWith([broken, healthy()]);
    const { result, exposition } = await exporter.snapshot();
    expect(result.outcomes.map((o) => [o.name, o.success])).toEqual([
      ['broken', false],
      ['healthy', true],
    ]);
    expect(result.outcomes[0]?.error).toBe('cannot read /proc/net/tcp: EACCES');
    expect(result.findings).toHaveLength(1);
    expect(sampleValue(exposition, 'hostguard_scrape_collector_success', { collector: 'broken' })).toBe(0);
    expect(sampleValue(exposition, 'hostguard_scrape_collector_success', { collector: 'healthy' })).toBe(1);
    expect(sampleValue(exposition, 'hostguard_collector_errors_total', { collector: 'broken', reason: 'error' })).toBe(1);
    expect(sampleValue(exposition, 'hostguard_collector_errors_total', { collector: 'broken', reason: 'timeout' })).toBe(0);
    expect(sampleValue(exposition, 'hostguard_collector_errors_total', { collector: 'healthy', reason: 'error' })).toBe(0);
  });

  it('times each collector', async () => {
    // The clock is the test's: the collection takes exactly its 30 ms of fake time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => Date.now());
    try {
      const snapshot = exporterWith([healthy()]).snapshot();
      await vi.advanceTimersByTimeAsync(30);
      const { exposition } = await snapshot;
      expect(sampleValue(exposition, 'hostguard_scrape_collector_duration_seconds', { collector: 'healthy' })).toBe(0.03);
    } finally {
      vi.useRealTimers();
      clock.mockRestore();
    }
  });

  it('exports every declared finding kind, 0 when none was found', async () => {
    const { exposition } = await exporterWith([healthy(), broken]).snapshot();
    expect(sampleValue(exposition, 'hostguard_findings', { collector: 'healthy', kind: 'odd_thing' })).toBe(1);
    expect(sampleValue(exposition, 'hostguard_findings', { collector: 'healthy', kind: 'other_thing' })).toBe(0);
    expect(sampleValue(exposition, 'hostguard_findings', { collector: 'broken', kind: 'never' })).toBe(0);
  });

  it('coalesces concurrent collections: ten scrapes at once run the collectors once', async () => {
    const calls = { n: 0 };
    const exporter = exporterWith([healthy(calls)]);
    const snapshots = await Promise.all(Array.from({ length: 10 }, () => exporter.snapshot()));
    expect(calls.n).toBe(1);
    expect(new Set(snapshots).size).toBe(1);
    await exporter.snapshot();
    expect(calls.n).toBe(2);
  });

  it('serves the rest of the scrape when a collector hangs, and never runs the hung one twice at once', async () => {
    const stuck = hung();
    const exporter = exporterWith([stuck.collector, healthy()], tempDir(), 200);
    // The hung collector never answers: the scrape returns only because of the 200 ms timeout.
    const first = await exporter.snapshot();
    expect(first.result.outcomes.map((o) => [o.name, o.success, o.failure])).toEqual([
      ['hung', false, 'timeout'],
      ['healthy', true, undefined],
    ]);
    expect(first.result.findings).toHaveLength(1);
    expect(sampleValue(first.exposition, 'hostguard_scrape_collector_success', { collector: 'hung' })).toBe(0);
    expect(sampleValue(first.exposition, 'hostguard_scrape_collector_success', { collector: 'healthy' })).toBe(1);
    expect(sampleValue(first.exposition, 'hostguard_collector_errors_total', { collector: 'hung', reason: 'timeout' })).toBe(1);
    expect(sampleValue(first.exposition, 'hostguard_collector_errors_total', { collector: 'hung', reason: 'error' })).toBe(0);

    const second = await exporter.snapshot();
    expect(stuck.calls.n).toBe(1);
    expect(second.result.outcomes[0]).toMatchObject({ name: 'hung', success: false, failure: 'timeout' });
    expect(second.result.outcomes[0]?.error).toMatch(/still busy/);
    expect(sampleValue(second.exposition, 'hostguard_collector_errors_total', { collector: 'hung', reason: 'timeout' })).toBe(2);

    stuck.release();
    await new Promise((r) => setImmediate(r));
    const third = exporter.snapshot();
    await new Promise((r) => setImmediate(r));
    expect(stuck.calls.n).toBe(2);
    stuck.release();
    const { result } = await third;
    expect(result.outcomes.map((o) => [o.name, o.success])).toEqual([
      ['hung', true],
      ['healthy', true],
    ]);
  });

  it('remembers when a finding was first seen across collections', async () => {
    const exporter = exporterWith([healthy()]);
    const first = await exporter.snapshot();
    const second = await exporter.snapshot();
    expect([...second.firstSeen.values()]).toEqual([first.result.at]);
  });

  it('exports build info, policy state and the absence of a baseline', async () => {
    const { exposition } = await exporterWith([healthy()]).snapshot();
    expect(sampleValue(exposition, 'hostguard_build_info', { version: '1.2.3', revision: 'abc' })).toBe(1);
    expect(sampleValue(exposition, 'hostguard_config_last_reload_successful')).toBe(1);
    expect(sampleValue(exposition, 'hostguard_baseline_present')).toBe(0);
    expect(sampleValue(exposition, 'hostguard_baseline_verified')).toBe(0);
    expect(sampleValue(exposition, 'hostguard_baseline_age_seconds')).toBeUndefined();
  });
});

describe('baseline through the exporter', () => {
  it('learns, verifies, and notices an edit made behind its back', async () => {
    const stateDir = tempDir();
    const exporter = exporterWith([healthy()], stateDir);
    await exporter.acceptCurrentState('trust-on-first-use');
    let { exposition } = await exporter.snapshot();
    expect(sampleValue(exposition, 'hostguard_baseline_verified')).toBe(1);
    expect(sampleValue(exposition, 'hostguard_baseline_trust_on_first_use')).toBe(1);
    expect(sampleValue(exposition, 'hostguard_baseline_entries', { section: 'healthy' })).toBe(1);
    expect(exporter.context().baseline).toEqual({ healthy: { '/usr/bin/a': { users: ['root'] } } });

    const file = `${stateDir}/baseline.json`;
    const document = JSON.parse(readFileSync(file, 'utf8'));
    document.sections.healthy['/tmp/implant'] = { users: ['root'] };
    writeFileSync(file, JSON.stringify(document));
    ({ exposition } = await exporter.snapshot());
    expect(sampleValue(exposition, 'hostguard_baseline_present')).toBe(1);
    expect(sampleValue(exposition, 'hostguard_baseline_verified')).toBe(0);
    expect(exporter.context().baseline).toBeUndefined();
  });

  it('keeps the sections of collectors that are disabled during an update', async () => {
    const stateDir = tempDir();
    await exporterWith([healthy()], stateDir).acceptCurrentState('operator');
    const other = definition('other', { findingKinds: [], collect: async () => ({ findings: [] }), learn: async () => ({ k: 1 }) });
    const body = await exporterWith([other], stateDir).acceptCurrentState('operator');
    expect(Object.keys(body.sections).sort()).toEqual(['healthy', 'other']);
    expect(body.created_at <= body.updated_at).toBe(true);
  });
});

describe('learning under --baseline.timeout', () => {
  it('fails at the deadline, naming the collector and the deadline, and leaves the baseline file as it was', async () => {
    const stateDir = tempDir();
    await exporterWith([healthy()], stateDir).acceptCurrentState('operator');
    const before = readFileSync(`${stateDir}/baseline.json`);
    const stuck = hungLearner();
    const exporter = exporterWith([healthy(), stuck.collector], stateDir, undefined, 200);
    // The stuck learner never answers: learning ends only because of the 200 ms deadline.
    const learning = exporter.acceptCurrentState('operator');
    await expect(learning).rejects.toBeInstanceOf(LearningTimeoutError);
    await expect(learning).rejects.toThrow('collector stuck did not finish learning: no result within 200ms (--baseline.timeout)');
    expect(readFileSync(`${stateDir}/baseline.json`).equals(before)).toBe(true);
    // Settling late writes nothing either: its result is dropped.
    stuck.release();
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(`${stateDir}/baseline.json`).equals(before)).toBe(true);
  });

  it("aborts the learner's signal when the deadline passes, before the timeout is logged, and not when it finishes in time", async () => {
    const events: string[] = [];
    const log: Logger = { ...silentLogger, error: (msg) => events.push(`log: ${msg}`), with: () => log };
    const runner = new CollectorRunner({ ms: 1000, flag: '--collector.timeout' }, { ms: 100, flag: '--baseline.timeout' }, log);
    const signals: AbortSignal[] = [];
    const learner = (settle: 'never' | 'now'): Collector => ({
      name: `learner-${settle}`,
      findingKinds: [],
      collect: async () => ({ findings: [] }),
      learn(_ctx, signal) {
        signals.push(signal!);
        signal!.addEventListener('abort', () => events.push('aborted'));
        return settle === 'now' ? Promise.resolve({}) : new Promise(() => {});
      },
    });
    const ctx = exporterWith([]).context();
    await expect(runner.learn(learner('now'), ctx)).resolves.toEqual({});
    expect(signals[0]!.aborted).toBe(false);
    await expect(runner.learn(learner('never'), ctx)).rejects.toBeInstanceOf(LearningTimeoutError);
    expect(signals[1]!.aborted).toBe(true);
    expect(events).toEqual(['aborted', 'log: collector passed --baseline.timeout; reported failed, its run left pending']);
  });

  it("passes a learner's own error on, naming the collector", async () => {
    const failing = definition('failing', {
      findingKinds: [],
      collect: async () => ({ findings: [] }),
      learn: async () => Promise.reject(new Error('EACCES: /etc/shadow')),
    });
    const learning = exporterWith([failing], tempDir(), undefined, 200).learnSections();
    await expect(learning).rejects.toBeInstanceOf(LearningError);
    await expect(learning).rejects.toThrow('collector failing could not learn: EACCES: /etc/shadow');
  });

  it('with a timeout handler (trust on first use), leaves the late section out, writes the others, and reports the collector busy until its learning ends', async () => {
    const stateDir = tempDir();
    const stuck = hungLearner();
    const exporter = exporterWith([stuck.collector, healthy()], stateDir, undefined, 200);
    const timeouts: string[] = [];
    const body = await exporter.acceptCurrentState('trust-on-first-use', (timeout) => timeouts.push(timeout.collector));
    expect(timeouts).toEqual(['stuck']);
    expect(Object.keys(body.sections)).toEqual(['healthy']);

    const busy = await exporter.snapshot();
    expect(busy.result.outcomes.map((o) => [o.name, o.success, o.failure])).toEqual([
      ['stuck', false, 'timeout'],
      ['healthy', true, undefined],
    ]);
    expect(busy.result.outcomes[0]?.error).toMatch(/still busy/);
    expect(sampleValue(busy.exposition, 'hostguard_collector_errors_total', { collector: 'stuck', reason: 'timeout' })).toBe(1);

    stuck.release();
    await new Promise((r) => setImmediate(r));
    const { result } = await exporter.snapshot();
    expect(result.outcomes.every((o) => o.success)).toBe(true);
    expect(exporter.baseline.trustedSections).toEqual({ healthy: { '/usr/bin/a': { users: ['root'] } } });
  });

  it('stops without waiting for a collector whose learning passed the deadline', async () => {
    const stuck = hungLearner();
    const exporter = exporterWith([stuck.collector], tempDir(), undefined, 100);
    await expect(exporter.learnSections()).rejects.toBeInstanceOf(LearningTimeoutError);
    // The stuck collector's stop() never returns until released: waiting for it would never end.
    await exporter.stop();
    stuck.releaseStop();
  });
});
