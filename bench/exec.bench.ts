import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { controlChangesOf } from '../src/kaudit/control-event.js';
import { execFromEvent } from '../src/kaudit/exec-event.js';
import { AuditLogReader, everyEvent } from '../src/kaudit/log-reader.js';
import { silentLogger } from '../src/log/logger.js';
import { CodeInspector } from '../src/processes/code-inspector.js';
import { HostObserver } from '../src/processes/observe.js';
import { ProcessFiles } from '../src/procfs/process-files.js';
import { StuckReads } from '../src/procfs/stuck-reads.js';
import { processesSectionSchema } from '../src/config/sections/processes.js';
import { startAuditd, type RunningAuditd } from '../test/helpers/auditd.js';
import { sampleValue } from '../test/helpers/exposition.js';
import { cpuSeconds, ms, summarize } from './lib/measure.js';
import type { BenchResult, BenchRow } from './lib/report.js';
import { repoRoot, startHostguard, type Server } from './lib/servers.js';

const command = 'npm run bench -- exec';
const loopExecs = 1000;

/**
 * Every exec from the kernel audit log: parsing records, a loop of 1,000 execs of a 1 ms binary
 * from /tmp through the real auditd (counted, missed, flagged), how soon a flagged exec is a
 * finding, what the rules themselves cost per exec, and what reading maps and environ costs. Needs
 * root and the host's audit subsystem to itself (auditd started here, everything put back after).
 */
export default async function exec(): Promise<BenchResult> {
  const rows: BenchRow[] = [...parsing(), ...(await inspection())];
  const dir = mkdtempSync(join(tmpdir(), 'hostguard-bench-exec-'));
  let auditd: RunningAuditd | undefined;
  let exporter: Server | undefined;
  try {
    auditd = await startAuditd(join(dir, 'auditd'));
    rows.push(...ruleCost(auditd));
    exporter = await startExporter(dir, auditd.log);
    rows.push(...(await execLoop(dir, exporter)));
    rows.push(...(await latency(dir, exporter)));
  } finally {
    await exporter?.stop();
    await auditd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { name: 'Exec events (processes.exec_events)', rows };
}

/** Records of the fixture capture, replayed with fresh serials: parsed, stitched and judged for execs as the collector does. */
function parsing(): BenchRow[] {
  const fixture = readFileSync(join(repoRoot, 'test', 'fixtures', 'kaudit', 'enriched.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const lines: string[] = [];
  for (let round = 0; lines.length < 500_000; round++) {
    for (const line of fixture) lines.push(line.replace(/:(\d+)\)/, (_, serial: string) => `:${Number(serial) + round * 100_000})`));
  }
  const samples: number[] = [];
  let execs = 0;
  for (let run = 0; run < 5; run++) {
    const reader = new AuditLogReader({ path: '/nonexistent', startAt: 'end', log: silentLogger });
    reader.subscribe(everyEvent, (event) => {
      controlChangesOf(event);
      if (execFromEvent(event)) execs++;
    });
    const start = performance.now();
    for (let i = 0; i < lines.length; i += 4096) reader.lines(lines.slice(i, i + 4096));
    samples.push(performance.now() - start);
  }
  const t = summarize(samples);
  return [
    {
      subject: `audit records parsed, stitched into events and read for execs and control changes (${lines.length.toLocaleString('en-US')} records, ${Math.round(execs / 5).toLocaleString('en-US')} execs, median of 5)`,
      figure: `${Math.round(lines.length / (t.p50Ms / 1000)).toLocaleString('en-US')} records/s`,
      command,
    },
  ];
}

/** maps and environ of every process, as the sweep reads them. */
async function inspection(): Promise<BenchRow[]> {
  const observer = new HostObserver({ procfs: '/proc', rootfs: '/', stateDir: tmpdir() }, silentLogger);
  const section = processesSectionSchema.parse({});
  const { view } = await observer.observe(section);
  const index = await observer.packages.current(true);
  const inspector = new CodeInspector('/proc', '/', new ProcessFiles('/proc', new StuckReads(silentLogger), { deadlineMs: 2000 }));
  const samples: number[] = [];
  let counts = { inspected: 0, failed: 0 };
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    counts = await inspector.inspect(view.processes, () => undefined, index);
    samples.push(performance.now() - start);
  }
  observer.close();
  const t = summarize(samples);
  return [
    {
      subject: `/proc/PID/maps and environ of every process, read and judged for injected libraries (${counts.inspected} processes, median of 5)`,
      figure: `${ms(t.p50Ms)} (${((t.p50Ms * 1000) / Math.max(1, counts.inspected)).toFixed(0)} µs per process)`,
      command,
    },
  ];
}

/**
 * The cost of the rules themselves: a shell loop of execs with them loaded and without, auditd
 * running both times. CPU is what the loop's processes used (sh's `times`: its children's user and
 * system time) plus what auditd and the kernel's kauditd thread used meanwhile; wall time is noisier
 * on a shared machine.
 */
function ruleCost(auditd: RunningAuditd): BenchRow[] {
  const kauditd = readdirSync('/proc').find((pid) => /^\d+$/.test(pid) && readComm(pid) === 'kauditd');
  const helpers = () => cpuSeconds(auditd.child.pid!) + (kauditd ? cpuSeconds(Number(kauditd)) : 0);
  const loop = (n: number) => {
    const before = helpers();
    const start = performance.now();
    const out = execFileSync('/bin/sh', ['-c', `i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done; times`], { encoding: 'utf8' });
    const wall = performance.now() - start;
    const children = out
      .trim()
      .split('\n')
      .pop()!
      .split(/\s+/)
      .map((t) => {
        const m = /^(\d+)m([\d.]+)s$/.exec(t);
        return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
      });
    const cpu = children.reduce((a, b) => a + b, 0) + helpers() - before;
    return { wallUs: (wall * 1000) / n, cpuUs: (cpu * 1e6) / n };
  };
  const n = 2000;
  const runs = 7;
  const withRules: { wallUs: number; cpuUs: number }[] = [];
  const without: { wallUs: number; cpuUs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    withRules.push(loop(n));
    auditd.auditctl('-D');
    without.push(loop(n));
    auditd.loadRules();
  }
  const median = (xs: number[]) => summarize(xs).p50Ms;
  const [aw, ac, bw, bc] = [
    median(withRules.map((r) => r.wallUs)),
    median(withRules.map((r) => r.cpuUs)),
    median(without.map((r) => r.wallUs)),
    median(without.map((r) => r.cpuUs)),
  ];
  const delta = (a: number, b: number) =>
    `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(0)} µs, ${a - b >= 0 ? '+' : ''}${(((a - b) / b) * 100).toFixed(0)} %`;
  return [
    {
      subject: `one fork+exec of /bin/true from sh, auditd running, no rules: CPU (the loop, auditd, kauditd) and wall time (median of ${runs} loops of ${n})`,
      figure: `${bc.toFixed(0)} µs CPU, ${bw.toFixed(0)} µs wall`,
      command,
    },
    {
      subject: "the same with deploy/audit/hostguard.rules loaded: the rules' own cost, each exec written to the log by auditd",
      figure: `${ac.toFixed(0)} µs CPU (${delta(ac, bc)}), ${aw.toFixed(0)} µs wall (${delta(aw, bw)})`,
      command,
    },
  ];
}

function readComm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function startExporter(dir: string, log: string): Promise<Server> {
  const state = join(dir, 'state');
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `processes:\n  hidden_sweep: { enabled: false }\n  exec_events:\n    path: ${log}\n`);
  return startHostguard(['--state.dir', state, '--config.file', policy, '--collector.disable-defaults', '--collector.processes']);
}

function dropped(dir: string, name: string): string {
  const path = join(dir, name);
  copyFileSync('/usr/bin/true', path);
  chmodSync(path, 0o755);
  return path;
}

async function scrape(exporter: Server): Promise<string> {
  return (await fetch(`${exporter.url}/metrics`)).text();
}

/** 1,000 execs of a 1 ms binary from /tmp: how many were counted and flagged. */
async function execLoop(dir: string, exporter: Server): Promise<BenchRow[]> {
  const x = dropped(dir, 'x');
  const lost = (body: string) => sampleValue(body, 'hostguard_process_exec_kernel_lost_total') ?? 0;
  const lostBefore = lost(await scrape(exporter));
  const start = performance.now();
  const run = spawnSync('/bin/sh', ['-c', `i=0; while [ $i -lt ${loopExecs} ]; do ${x}; i=$((i+1)); done`]);
  if (run.status !== 0) throw new Error('the exec loop failed');
  const loopMs = performance.now() - start;
  const flagged = (body: string) =>
    sampleValue(body, 'hostguard_process_flagged_execs', { exe: x, user_class: 'root', kind: 'writable_location' }) ?? 0;
  const deadline = Date.now() + 120_000;
  let body = await scrape(exporter);
  while (flagged(body) < loopExecs && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    body = await scrape(exporter);
  }
  const counted = flagged(body);
  return [
    {
      subject: `a loop of ${loopExecs.toLocaleString('en-US')} execs of a 1 ms binary from /tmp (${ms(loopMs)} in all): counted and flagged writable_location, missed, kernel records lost`,
      figure: `${counted.toLocaleString('en-US')} counted and flagged, ${loopExecs - counted} missed, ${lost(body) - lostBefore} lost`,
      command,
    },
  ];
}

/** How soon a flagged exec is a finding: the first scrape at least 1 s after the exec, and the time until the first that has it. */
async function latency(dir: string, exporter: Server): Promise<BenchRow[]> {
  const rounds = 10;
  let onFirstScrape = 0;
  const untilVisible: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const x = dropped(dir, `late-${i}`);
    const visible = async () =>
      (
        (await (await fetch(`${exporter.url}/api/findings`)).json()) as {
          findings: Array<{ kind: string; subject: Record<string, unknown> }>;
        }
      ).findings.some((f) => f.kind === 'flagged_exec' && f.subject['exe'] === x);
    const ran = performance.now();
    spawnSync(x);
    let seenAt: number | undefined;
    while (performance.now() - ran < 1000) {
      if (seenAt === undefined && (await visible())) seenAt = performance.now();
      await new Promise((r) => setTimeout(r, 20));
    }
    if (await visible()) onFirstScrape++;
    while (seenAt === undefined && performance.now() - ran < 30_000) {
      if (await visible()) seenAt = performance.now();
      else await new Promise((r) => setTimeout(r, 20));
    }
    if (seenAt !== undefined) untilVisible.push(seenAt - ran);
  }
  const t = summarize(untilVisible);
  return [
    {
      subject: `a flagged exec is a finding on the first scrape at least 1 s after it (${rounds} execs)`,
      figure: `${onFirstScrape}/${rounds}`,
      command,
    },
    {
      subject: 'from the exec to the first scrape (every 20 ms) that has its finding',
      figure: `p50 ${ms(t.p50Ms)}, p95 ${ms(t.p95Ms)}`,
      command,
    },
  ];
}
