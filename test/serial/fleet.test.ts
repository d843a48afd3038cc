import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { eventually as pollUntil, eventuallyExpect } from '../helpers/eventually.js';
import { buildFleet, fleetBinary, type FixtureHost } from '../helpers/fleet-hosts.js';
import {
  activeAlerts,
  instantQuery,
  lastEvaluation,
  startAgent,
  startCentral,
  type ActiveAlert,
  type PrometheusServer,
} from '../helpers/fleet-stack.js';
import { spawnForFile, stopProcess } from '../helpers/processes.js';

/**
 * The fleet view on a real multi-host setup, on loopback: 24 exporters, each watching a host of its
 * own made of files (its own --path.procfs and --path.rootfs trees, state directory and baseline,
 * so nothing on this machine matters), scraped by two Prometheus agents that remote-write to a
 * central Prometheus, which evaluates the shipped rules/. Every host runs a common agent listening
 * on 9999 from /tmp (a finding everywhere); three also run a rare miner listening on 4444.
 *
 * The rarity alerts wait 15 minutes (`for`) before firing, which promtool's tests of
 * rules/hostguard-fleet.yml cover; here they are followed while pending, as Prometheus' alerts API
 * shows them, which is where their labels and values come from.
 */

const hostCount = 24;
const rareHosts = [4, 11, 18];
const rareListenerPort = '4444';

describe('a fleet of 24 hosts behind two Prometheus agents and a central Prometheus', () => {
  let hosts: FixtureHost[];
  let exporters: RunningExporter[];
  let central: PrometheusServer;
  let commonHash: string;
  let rareHash: string;
  const instanceOf = (index: number) => `127.0.0.1:${exporters[index]!.port}`;
  const rareInstances = () => rareHosts.map(instanceOf).sort();
  /** Every alert the central server held at any look, from the start, so a transient one cannot hide. */
  const seen: ActiveAlert[] = [];
  let watching: ReturnType<typeof setInterval> | undefined;

  beforeAll(async () => {
    const dir = tempDir('hostguard-fleet-');
    mkdirSync(join(dir, 'bin'));
    const common = fleetBinary(join(dir, 'bin', 'agent'), 'the agent every host runs');
    const rare = fleetBinary(join(dir, 'bin', 'miner'), 'a miner three hosts run');
    commonHash = createHash('sha256').update(readFileSync(common)).digest('hex');
    rareHash = createHash('sha256').update(readFileSync(rare)).digest('hex');
    hosts = buildFleet(dir, hostCount, (i) => [
      { pid: 500, comm: 'agent', exe: common, uid: 33, listens: [9999] },
      ...(rareHosts.includes(i) ? [{ pid: 4242, comm: 'kworker', exe: rare, uid: 33, listens: [Number(rareListenerPort)] }] : []),
    ]);
    const ruleFiles = readdirSync(join(repoRoot, 'rules'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join(repoRoot, 'rules', f));
    central = await startCentral(join(dir, 'central'), ruleFiles);
    exporters = await Promise.all(hosts.map((h) => startExporter(h.args, { spawn: spawnForFile })));
    const half = hostCount / 2;
    await startAgent(
      join(dir, 'agent-a'),
      'a',
      exporters.slice(0, half).map((e) => `127.0.0.1:${e.port}`),
      central.url,
    );
    await startAgent(
      join(dir, 'agent-b'),
      'b',
      exporters.slice(half).map((e) => `127.0.0.1:${e.port}`),
      central.url,
    );
    // From the first remote write on, including the moments where the exporters still hash.
    watching = setInterval(
      () =>
        void activeAlerts(central).then(
          (alerts) => seen.push(...alerts),
          () => undefined,
        ),
      250,
    );
  }, 150_000);

  afterAll(async () => {
    clearInterval(watching);
    await Promise.all((exporters ?? []).map((e) => stopProcess(e.child)));
  });

  const alertsNamed = async (name: string) => {
    const alerts = await activeAlerts(central);
    seen.push(...alerts);
    return alerts.filter((a) => a.labels['alertname'] === name);
  };

  /** Poll until `check` passes, with a generous deadline; the error carries its last failure. */
  const eventually = (check: () => Promise<void>) => eventuallyExpect(check, { timeoutMs: 90_000, intervalMs: 500 });

  /** Let the central server evaluate its fleet rules `n` more times. */
  async function evaluations(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const last = await lastEvaluation(central, 'hostguard-fleet');
      await pollUntil(async () => (await lastEvaluation(central, 'hostguard-fleet')) !== last, {
        intervalMs: 200,
        what: 'one more evaluation of hostguard-fleet',
      });
    }
  }

  it('every host reports through one of the two agents, with its facts hashed', async () => {
    await eventually(async () => {
      const reporting = await instantQuery(central, 'job:hostguard_reporting_hosts:count');
      expect(reporting.map((s) => [s.metric['job'], s.value[1]])).toEqual([['hostguard', String(hostCount)]]);
    });
    const byAgent = await instantQuery(central, 'count by (agent) (up{job="hostguard"} == 1)');
    expect(Object.fromEntries(byAgent.map((s) => [s.metric['agent'], s.value[1]]))).toEqual({ a: '12', b: '12' });
    await eventually(async () => {
      const counts = await instantQuery(central, 'job_hash:hostguard_flagged_executable_info:count_hosts');
      expect(Object.fromEntries(counts.map((s) => [s.metric['sha256'], s.value[1]]))).toEqual({
        [commonHash]: String(hostCount),
        [rareHash]: '3',
      });
    });
    // The listeners' count converges on its own evaluations: a host's listener can be reported a
    // scrape after its executable (23 of 24 once, at load 7).
    await eventually(async () => {
      const listeners = await instantQuery(central, 'job_hash_port:hostguard_flagged_listener_info:count_hosts');
      expect(
        Object.fromEntries(listeners.map((s) => [`${s.metric['sha256']}/${s.metric['protocol']}/${s.metric['port']}`, s.value[1]])),
      ).toEqual({
        [`${commonHash}/tcp/9999`]: String(hostCount),
        [`${rareHash}/tcp/${rareListenerPort}`]: '3',
      });
    });
    const firstSeen = await instantQuery(central, 'job_hash:hostguard_flagged_executable_info:first_seen_timestamp_seconds');
    expect(firstSeen.map((s) => s.metric['sha256']).sort()).toEqual([commonHash, rareHash].sort());
    for (const s of firstSeen) expect(Number(s.value[1])).toBeLessThanOrEqual(s.value[0]);
  }, 120_000);

  it('the rare executable and its listener alert on exactly its three hosts; the common agent never does', async () => {
    await eventually(async () => {
      const rare = await alertsNamed('HostGuardRareExecutable');
      expect(rare.map((a) => a.labels['instance']).sort()).toEqual(rareInstances());
      for (const alert of rare) {
        expect(alert.labels).toMatchObject({ sha256: rareHash, kind: 'writable_location', job: 'hostguard', severity: 'warning' });
        expect(alert.labels['exe']).toMatch(/\/bin\/miner$/);
        expect(Number(alert.value)).toBe(3);
      }
      const listeners = await alertsNamed('HostGuardRareListener');
      expect(listeners.map((a) => `${a.labels['instance']} ${a.labels['port']}`).sort()).toEqual(
        rareInstances().map((i) => `${i} ${rareListenerPort}`),
      );
    });
    // Stable: a few more evaluations change nothing.
    await evaluations(3);
    expect((await alertsNamed('HostGuardRareExecutable')).map((a) => a.labels['instance']).sort()).toEqual(rareInstances());
    expect(seen.filter((a) => a.labels['sha256'] === commonHash)).toEqual([]);
  }, 120_000);

  it('a rare host that goes away leaves no stale alert; the others keep theirs, with the new count', async () => {
    const gone = rareHosts[0]!;
    await stopProcess(exporters[gone]!.child, 'SIGKILL');
    await eventually(async () => {
      const rare = await alertsNamed('HostGuardRareExecutable');
      expect(rare.map((a) => a.labels['instance']).sort()).toEqual(rareInstances().filter((i) => i !== instanceOf(gone)));
      for (const alert of rare) expect(Number(alert.value)).toBe(2);
      const listeners = await alertsNamed('HostGuardRareListener');
      expect(listeners.map((a) => a.labels['instance'])).not.toContain(instanceOf(gone));
    });
    const reporting = await instantQuery(central, 'job:hostguard_reporting_hosts:count');
    expect(reporting[0]?.value[1]).toBe(String(hostCount - 1));
  }, 120_000);

  it("the overview dashboard's queries run on the central Prometheus, and the fleet row has data", async () => {
    const overview = JSON.parse(readFileSync(join(repoRoot, 'grafana', 'dashboards', 'hostguard-overview.json'), 'utf8')) as {
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string; expectData?: boolean }> }>;
    };
    // As Grafana sends them with job=hostguard and every instance selected.
    const substitute = (expr: string) =>
      expr.replaceAll('=~"$instance"', '=~".+"').replaceAll('$job', 'hostguard').replaceAll('$__rate_interval', '1m');
    const rows = overview.panels;
    const fleetStart = rows.findIndex((p) => p.type === 'row' && p.title.startsWith('Fleet'));
    const fleetEnd = rows.findIndex((p, i) => i > fleetStart && p.type === 'row');
    expect(fleetStart).toBeGreaterThanOrEqual(0);
    const fleetPanels = new Set(rows.slice(fleetStart + 1, fleetEnd).map((p) => p.title));
    const empty: string[] = [];
    for (const panel of rows) {
      for (const target of panel.targets ?? []) {
        const result = await instantQuery(central, substitute(target.expr)); // throws on a query error
        if (fleetPanels.has(panel.title) && target.expectData && result.length === 0) empty.push(`${panel.title}: ${target.expr}`);
      }
    }
    expect(empty).toEqual([]);
    const whereRare = rows.find((p) => p.title === 'Where the rare executables run')!.targets![0]!.expr;
    const hostsOfRare = await instantQuery(central, substitute(whereRare));
    expect(hostsOfRare.map((s) => s.metric['instance']).sort()).toEqual(rareInstances().filter((i) => i !== instanceOf(rareHosts[0]!)));
  }, 120_000);
});
