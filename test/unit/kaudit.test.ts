import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAuditStatus, parseRuleKeys } from '../../src/kaudit/auditctl.js';
import { controlChangesOf } from '../../src/kaudit/control-event.js';
import { execFromEvent, type ExecEvent } from '../../src/kaudit/exec-event.js';
import { AuditLogReader, everyEvent } from '../../src/kaudit/log-reader.js';
import { fieldsOf, fieldText, parseAuditRecord, type AuditRecord } from '../../src/kaudit/record.js';
import { EventStitcher, type AuditEvent, type EventEnd } from '../../src/kaudit/stitcher.js';
import { createLogger } from '../../src/log/logger.js';
import { repoRoot } from '../helpers/cli.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'kaudit');
const lines = (name: string) =>
  readFileSync(join(fixtures, name), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const quiet = createLogger({ level: 'error', format: 'logfmt', write: () => {} });

function record(line: string): AuditRecord {
  const parsed = parseAuditRecord(line);
  if (!parsed.ok) throw new Error(`not a record: ${line}`);
  return parsed.record;
}

/** Stitch lines into events with a clock the test moves. */
function stitch(input: readonly string[], options: { idleMs?: number; maxOpen?: number } = {}) {
  let now = 0;
  const events: { event: AuditEvent; end: EventEnd }[] = [];
  const stitcher = new EventStitcher((event, end) => events.push({ event, end }), { ...options, now: () => now });
  for (const line of input) stitcher.add(record(line));
  return { events, stitcher, advance: (ms: number) => (now += ms) };
}

function execsOf(name: string): ExecEvent[] {
  const { events, stitcher, advance } = stitch(lines(name));
  advance(5000);
  stitcher.flushIdle();
  return events.map((e) => execFromEvent(e.event)).filter((e): e is ExecEvent => e !== undefined);
}

describe('audit records, as auditd writes them', () => {
  it('reads the type, the event (time and serial) and the body of a RAW or ENRICHED line, with or without node=', () => {
    const enriched = record(lines('enriched.log')[1]!);
    expect(enriched).toMatchObject({ type: 'SYSCALL', eventId: '1796571963.867:9560', timeMs: 1796571963867, serial: 9560 });
    // ENRICHED's interpretations (after \x1d) are not part of the body.
    expect(enriched.body).not.toContain('\x1d');
    expect(enriched.body.endsWith('key="hostguard_exec"')).toBe(true);
    const raw = record(lines('raw-node.log')[1]!);
    expect(raw).toMatchObject({ type: 'SYSCALL', eventId: 'web-1/1796571963.867:9560', serial: 9560 });
    expect(raw.body).toBe(enriched.body);
  });

  it('refuses lines that are no audit record, naming why', () => {
    expect(parseAuditRecord('hello world')).toEqual({ ok: false, problem: 'no_type' });
    expect(parseAuditRecord('type=SYSCALL something')).toEqual({ ok: false, problem: 'no_event_id' });
    expect(parseAuditRecord('type=SYSCALL msg=audit(12x.3:4): a=b')).toEqual({ ok: false, problem: 'no_event_id' });
    expect(parseAuditRecord('type=SYSCALL msg=audit(1.2:3')).toEqual({ ok: false, problem: 'no_event_id' });
  });

  it('decodes quoted values, hex-encoded untrusted strings, and leaves numbers alone', () => {
    const fields = fieldsOf('argc=4 a0="sh" a1="/tmp/drop/evil.sh" a2=612062 a3=630164 old=64 key=(null) comm=6D7920636F6D6D');
    expect(fieldText('a0', fields.get('a0'), true)).toBe('sh');
    expect(fieldText('a2', fields.get('a2'), true)).toBe('a b');
    expect(fieldText('a3', fields.get('a3'), true)).toBe('c\x01d');
    expect(fieldText('old', fields.get('old'))).toBe('64');
    expect(fieldText('key', fields.get('key'))).toBeUndefined();
    expect(fieldText('comm', fields.get('comm'))).toBe('my comm');
  });

  it("opens a userspace record's msg='…' into its fields", () => {
    const fields = fieldsOf(
      `pid=1 uid=0 auid=1000 ses=3 msg='op=PAM:session_open acct="alice" exe="/usr/sbin/sshd" hostname=10.0.0.1 res=success'`,
    );
    expect(fieldText('acct', fields.get('acct'))).toBe('alice');
    expect(fieldText('exe', fields.get('exe'))).toBe('/usr/sbin/sshd');
    expect(fields.get('res')).toBe('success');
  });
});

describe('records stitched into events by their serial', () => {
  it('hands on every event of the capture once, whole, and execs only from successful execve', () => {
    const { events, stitcher, advance } = stitch(lines('enriched.log'));
    advance(5000);
    stitcher.flushIdle();
    const ids = events.map((e) => e.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.filter((e) => e.end === 'complete').map((e) => e.event.serial)).toEqual(
      expect.arrayContaining([6469, 9560, 9561, 9562, 9563, 9813, 9815, 9565, 6470]),
    );
    expect(events.find((e) => e.event.serial === 9563)!.event.records.map((r) => r.type)).toEqual([
      'SYSCALL',
      'BPRM_FCAPS',
      'EXECVE',
      'CWD',
      'PATH',
      'PATH',
      'PATH',
      'PROCTITLE',
    ]);
    // The failed exec (ENOENT) has no EXECVE record: no exec.
    expect(execFromEvent(events.find((e) => e.event.serial === 9565)!.event)).toBeUndefined();
  });

  it('keeps two interleaved events apart', () => {
    const a = lines('enriched.log').filter((l) => l.includes(':9560)'));
    const b = lines('enriched.log').filter((l) => l.includes(':9561)'));
    const interleaved = a.flatMap((line, i) => [line, ...(b[i] ? [b[i]!] : [])]).concat(b.slice(a.length));
    const { events } = stitch(interleaved);
    expect(events.map((e) => [e.event.serial, e.event.records.length, e.end])).toEqual(
      expect.arrayContaining([
        [9560, a.length, 'complete'],
        [9561, b.length, 'complete'],
      ]),
    );
    expect(execFromEvent(events.find((e) => e.event.serial === 9561)!.event)!.argv).toEqual([
      '/lib64/ld-linux-x86-64.so.2',
      '/tmp/drop/x',
      '--arg',
    ]);
  });

  it('ends an event without its last record after the idle time, or when a record two seconds younger arrives', () => {
    const config = lines('enriched.log').filter((l) => l.startsWith('type=CONFIG_CHANGE'));
    const first = stitch(config.slice(0, 1));
    expect(first.events).toEqual([]);
    first.advance(1999);
    first.stitcher.flushIdle();
    expect(first.events).toEqual([]);
    first.advance(1);
    first.stitcher.flushIdle();
    expect(first.events.map((e) => e.end)).toEqual(['timed_out']);
    // 9557 (…963.863) is two seconds older than 9832 (…965.059)? No: 1.2 s. 9841 (…965.147) is not either; a later one is.
    const later = stitch([config[0]!, config[3]!]);
    expect(later.events).toEqual([]);
    const muchLater = stitch([config[0]!, config[3]!.replace('1796571965.059', '1796571966.059')]);
    expect(muchLater.events.map((e) => [e.event.serial, e.end])).toEqual([[9557, 'timed_out']]);
  });

  it('hands on the oldest open event when too many are open', () => {
    const config = lines('enriched.log').filter((l) => l.startsWith('type=CONFIG_CHANGE'));
    const { events } = stitch(config.slice(0, 3), { maxOpen: 2 });
    expect(events.map((e) => [e.event.serial, e.end])).toEqual([[9557, 'evicted']]);
  });

  it('gives the lines of the events still open, to be saved with the position', () => {
    const exec = lines('enriched.log').filter((l) => l.includes(':9563)'));
    const { stitcher } = stitch(exec.slice(0, 4));
    expect(stitcher.heldLines()).toEqual(exec.slice(0, 4));
    stitcher.add(record(exec[4]!));
    expect(stitcher.openEvents).toBe(1);
  });
});

describe('an exec from the records of its event alone', () => {
  it('a binary run from /tmp: who, what, where, and the file it ran', () => {
    const x = execsOf('enriched.log').find((e) => e.serial === 9560)!;
    expect(x).toMatchObject({
      pid: 8847,
      ppid: 8828,
      uid: 0,
      euid: 0,
      auid: undefined,
      comm: 'x',
      exe: '/tmp/drop/x',
      exeDeleted: false,
      cwd: '/tmp/drop',
      argv: ['./x'],
      keys: ['hostguard_exec'],
    });
    expect(x.paths.map((p) => [p.item, p.name, p.inode, p.device, p.nametype])).toEqual([
      [0, './x', 2162890, 'fe:00', 'NORMAL'],
      [1, '/lib64/ld-linux-x86-64.so.2', 338944, 'fe:00', 'NORMAL'],
    ]);
  });

  it('arguments written in hex are decoded; a #! script is PATH item 0 with its interpreter after it', () => {
    const execs = execsOf('enriched.log');
    expect(execs.find((e) => e.serial === 9562)!.argv).toEqual(['sh', '/tmp/drop/evil.sh', 'a b', 'c\x01d']);
    const script = execs.find((e) => e.serial === 9563)!;
    expect([script.exe, script.comm, script.argv]).toEqual(['/usr/bin/dash', 'evil.sh', ['/bin/sh', '/tmp/drop/evil.sh']]);
    expect(script.paths.map((p) => p.name)).toEqual(['/tmp/drop/evil.sh', '/bin/sh', '/lib64/ld-linux-x86-64.so.2']);
  });

  it('reads RAW logs with node= prefixes the same way', () => {
    const raw = execsOf('raw-node.log').map((e) => [e.serial, e.exe, e.argv]);
    const enriched = execsOf('enriched.log').map((e) => [e.serial, e.exe, e.argv]);
    expect(raw).toEqual(enriched);
    expect(raw).toHaveLength(6);
  });

  it('an argument too long for one record comes in pieces (a1_len, a1[0], a1[1]), over several EXECVE records', () => {
    const head = 'msg=audit(1800000000.000:42):';
    const event: AuditEvent = {
      id: '1800000000.000:42',
      timeMs: 1800000000000,
      serial: 42,
      records: [
        `type=SYSCALL ${head} arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=1000 uid=1000 gid=1000 euid=1000 comm="python3" exe="/usr/bin/python3.11" key="hostguard_exec"`,
        `type=EXECVE ${head} argc=3 a0="python3" a1_len=12 a1[0]=2D6320707269 a1[1]="nt(1)"`,
        `type=EXECVE ${head} a2="--x"`,
        `type=PROCTITLE ${head} proctitle=707974686F6E33`,
      ].map(record),
    };
    expect(execFromEvent(event)).toMatchObject({ argv: ['python3', '-c print(1)', '--x'], argvIncomplete: false, auid: 1000, euid: 1000 });
    const cut: AuditEvent = { ...event, records: event.records.filter((r) => !r.body.startsWith('a2=')) };
    expect(execFromEvent(cut)).toMatchObject({ argv: ['python3', '-c print(1)'], argvIncomplete: true });
  });

  it('a memfd executable keeps its name without " (deleted)", and says it was deleted', () => {
    const head = 'msg=audit(1800000000.000:43):';
    const event: AuditEvent = {
      id: 'x',
      timeMs: 0,
      serial: 43,
      records: [
        `type=SYSCALL ${head} syscall=322 success=yes pid=5 ppid=4 uid=0 euid=0 comm="3" exe=2F6D656D66643A78202864656C6574656429 key="hostguard_exec"`,
        `type=EXECVE ${head} argc=1 a0="x"`,
      ].map(record),
    };
    expect(execFromEvent(event)).toMatchObject({ exe: '/memfd:x', exeDeleted: true });
  });
});

describe('changes to auditing itself', () => {
  it('auditctl -e 0, -D, -R and auditd starting and stopping, with who did it', () => {
    const { events, stitcher, advance } = stitch(lines('enriched.log'));
    advance(5000);
    stitcher.flushIdle();
    const changes = events
      .flatMap((e) => controlChangesOf(e.event))
      .map((c) => ('enabled' in c ? `${c.change}:${c.enabled}` : 'keys' in c ? `${c.change}:${c.keys.join(',')}` : c.change));
    expect(changes).toEqual([
      'daemon_started',
      'rule_added:hostguard_exec',
      'rule_added:hostguard_exec',
      'enabled:false',
      'rule_removed:hostguard_exec',
      'rule_removed:hostguard_exec',
      'rule_added:hostguard_exec',
      'rule_added:hostguard_exec',
      'rule_removed:hostguard_exec',
      'rule_removed:hostguard_exec',
      'daemon_stopped',
    ]);
    const who = controlChangesOf({
      id: 'x',
      timeMs: 1,
      serial: 1,
      records: [record('type=CONFIG_CHANGE msg=audit(1.000:1): op=set audit_enabled=0 old=1 auid=1000 ses=2 res=1')],
    });
    expect(who).toEqual([{ change: 'enabled', timeMs: 1, enabled: false, auid: 1000 }]);
    const refused = controlChangesOf({
      id: 'x',
      timeMs: 1,
      serial: 1,
      records: [record('type=CONFIG_CHANGE msg=audit(1.000:1): op=set audit_enabled=0 old=1 auid=1000 ses=2 res=0')],
    });
    expect(refused).toEqual([]);
  });
});

describe('the audit log reader hands each event to the subscribers of its key', () => {
  it('every event, or only those of one key (a file-watch reader would subscribe to its own)', () => {
    const reader = new AuditLogReader({ path: '/nonexistent', startAt: 'end', log: quiet });
    const every: number[] = [];
    const exec: number[] = [];
    const other: number[] = [];
    reader.subscribe(everyEvent, (e) => every.push(e.serial));
    reader.subscribe('hostguard_exec', (e) => exec.push(e.serial));
    const unsubscribe = reader.subscribe('hostguard_fim', (e) => other.push(e.serial));
    reader.lines([...lines('enriched.log'), 'garbage', '']);
    expect(exec).toEqual([9560, 9561, 9562, 9563, 9813, 9815, 9565]);
    expect(every).toEqual(expect.arrayContaining([6469, ...exec]));
    expect(other).toEqual([]);
    unsubscribe();
    expect(reader.counts).toMatchObject({ records: lines('enriched.log').length, unparsed: { no_type: 1, no_event_id: 0 } });
  });
});

describe('auditctl, as the kernel answers it', () => {
  it('auditctl -s: on or off, its daemon, what it lost', () => {
    const text =
      'enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\nlost 7\nbacklog 0\nbacklog_wait_time 60000\nloginuid_immutable 0 unlocked\n';
    expect(parseAuditStatus(text)).toEqual({ enabled: 1, daemonPid: 612, lost: 7, backlog: 0, backlogLimit: 8192 });
    expect(parseAuditStatus('Error sending status request (Operation not permitted)')).toBeUndefined();
  });

  it('auditctl -l: the keys of the loaded rules', () => {
    const text = '-a always,exit -F arch=b64 -S execve,execveat -F key=hostguard_exec\n-w /etc/passwd -p wa -k identity\n';
    expect([...parseRuleKeys(text)]).toEqual(['hostguard_exec', 'identity']);
    expect(parseRuleKeys('No rules').size).toBe(0);
  });
});
