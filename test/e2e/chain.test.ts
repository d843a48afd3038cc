import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { startStack, type Stack } from './stack.js';

/**
 * From an intrusion on the host to a page in Alertmanager: the exporter, a real Prometheus loading
 * rules/ and a real Alertmanager with the shipped routing, on loopback. Each scenario records how
 * long it took from planting to the webhook.
 */
const timings: Array<[string, number]> = [];

describe('end to end: intrusion to page', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(['--state.dir', tempDir(), '--collector.disable-defaults']);
    // Prometheus has scraped the exporter once the target is up.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await stack.prometheus.query('up{job="hostguard"} == 1')).length === 0) {
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (timings.length) console.log(`\nplant → webhook:\n${timings.map(([name, ms]) => `  ${name}: ${(ms / 1000).toFixed(1)} s`).join('\n')}`);
  });

  it('the exporter killed: HostGuardExporterDown pages, and resolves when it is back', async () => {
    const instance = `127.0.0.1:${stack.exporterPort}`;
    const planted = Date.now();
    await stack.stopExporter('SIGKILL');
    const firing = await stack.webhook.waitFor((a) => a.status === 'firing' && a.labels.alertname === 'HostGuardExporterDown', 120_000, planted);
    timings.push(['exporter killed (for: 1m)', firing.receivedAt - planted]);
    expect(firing.path).toBe('/page');
    expect(firing.labels).toMatchObject({ severity: 'critical', instance, job: 'hostguard' });
    expect(firing.annotations.summary).toBe(`hostguard-exporter is down on ${instance}`);
    expect(firing.annotations.runbook_url).toMatch(/docs\/runbooks\/HostGuardExporterDown\.md$/);

    const restarted = Date.now();
    await stack.startExporter();
    const resolved = await stack.webhook.waitFor((a) => a.status === 'resolved' && a.labels.alertname === 'HostGuardExporterDown', 60_000, restarted);
    expect(resolved.labels.instance).toBe(instance);
  }, 200_000);
});
