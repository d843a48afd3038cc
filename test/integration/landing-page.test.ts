import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { spawnOwned } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

/** The operator's page, in a real headless Chromium (Debian's), with a real planted finding. */
describe('the landing page', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: requireTool('chromium', 'chromium'),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function plantedExporter(extra: string[] = []) {
    const copy = join(tempDir('hostguard-page-'), 'sleep');
    copyFileSync('/usr/bin/sleep', copy);
    spawnOwned(copy, ['300']);
    const args = ['--state.dir', tempDir(), '--collector.disable-defaults', '--collector.processes', ...extra];
    return { copy, args, exporter: await startExporter(args) };
  }

  it("renders the findings table with a planted finding and each collector's state, without console errors", async () => {
    const { copy, exporter } = await plantedExporter();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(`${exporter.url}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('hostguard-exporter');
    const rows = page.locator('#findings tbody tr');
    const planted = rows.filter({ hasText: copy });
    expect(await planted.count()).toBeGreaterThanOrEqual(1);
    const cells = await planted.first().locator('td').allInnerTexts();
    expect(cells[0]).toBe('critical');
    expect(cells[2]).toBe('writable_location');
    expect(cells[3]).toContain(`exe=${copy}`);
    expect(cells[5]).toMatch(/^\d{4}-\d\d-\d\dT/); // since
    const collectors = await page.locator('#collectors tbody tr').allInnerTexts();
    expect(collectors.some((r) => /^processes\s+ok/.test(r))).toBe(true);
    await page.click('text=Findings (JSON)');
    expect(page.url()).toBe(`${exporter.url}/api/findings`);
    // The browser asks for /favicon.ico on the JSON page too (sometimes after this point): no 404 there.
    expect((await fetch(`${exporter.url}/favicon.ico`)).status).toBe(204);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('hides user names by default, on the page, in /api/findings and in check; --findings.show-details shows them', async () => {
    const { copy, args, exporter } = await plantedExporter();
    const page = await browser.newPage();
    await page.goto(`${exporter.url}/`);
    const row = page.locator('#findings tbody tr').filter({ hasText: copy }).first();
    expect(await row.innerText()).toContain('user=[redacted]');
    const api = (await (await fetch(`${exporter.url}/api/findings`)).json()) as { findings: Array<{ subject: Record<string, unknown> }> };
    const mine = api.findings.filter((f) => f.subject.exe === copy);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((f) => f.subject.user === '[redacted]')).toBe(true);
    expect(runCli([...args, 'check']).stdout).not.toMatch(new RegExp(`exe=${copy} user=root`));
    await page.close();

    const detailed = await plantedExporter(['--findings.show-details']);
    const open = (await (await fetch(`${detailed.exporter.url}/api/findings`)).json()) as typeof api;
    expect(open.findings.filter((f) => f.subject.exe === detailed.copy).every((f) => f.subject.user === 'root')).toBe(true);
  }, 60_000);
});
