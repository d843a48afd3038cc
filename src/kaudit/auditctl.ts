import { execFile } from 'node:child_process';

/** What `auditctl -s` says of the kernel's audit: on or off, its daemon, what it dropped. */
export interface KernelAuditStatus {
  /** 0 off, 1 on, 2 on and locked until reboot. */
  readonly enabled: number;
  /** The PID of the audit daemon the kernel sends records to; 0 when none is registered. */
  readonly daemonPid: number;
  /** Records the kernel dropped since boot (backlog full, rate limit): each one a lost event. */
  readonly lost: number;
  readonly backlog: number;
  readonly backlogLimit: number;
}

/** Parse `auditctl -s`: `enabled 1`, `pid 612`, `lost 0`, ... one per line; undefined without `enabled`. */
export function parseAuditStatus(text: string): KernelAuditStatus | undefined {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+) (\d+)/.exec(line.trim());
    if (match) values.set(match[1]!, Number(match[2]));
  }
  const enabled = values.get('enabled');
  if (enabled === undefined) return undefined;
  return {
    enabled,
    daemonPid: values.get('pid') ?? 0,
    lost: values.get('lost') ?? 0,
    backlog: values.get('backlog') ?? 0,
    backlogLimit: values.get('backlog_limit') ?? 0,
  };
}

/** The keys of the loaded rules, from `auditctl -l` (`... -F key=hostguard_exec`, or `-k` in older versions). */
export function parseRuleKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const match of text.matchAll(/(?:-F key=|-k )(\S+)/g)) keys.add(match[1]!);
  return keys;
}

export type AuditControlRead =
  | { readonly ok: true; readonly status: KernelAuditStatus; readonly ruleKeys: ReadonlySet<string> }
  /** `denied`: the kernel answers only with CAP_AUDIT_CONTROL; `missing`: no auditctl; `error`: anything else. */
  | { readonly ok: false; readonly problem: 'denied' | 'missing' | 'error'; readonly reason: string };

/**
 * Ask the kernel, through `auditctl -s` and `auditctl -l`, whether auditing is on, which daemon
 * receives it and which rules are loaded. Needs CAP_AUDIT_CONTROL (the kernel refuses AUDIT_GET and
 * AUDIT_LIST_RULES without it); without it the log's own records are all there is.
 */
export async function readKernelAudit(auditctl = 'auditctl', timeoutMs = 5000): Promise<AuditControlRead> {
  const status = await run(auditctl, ['-s'], timeoutMs);
  if (!status.ok) return status;
  const parsed = parseAuditStatus(status.stdout);
  if (!parsed) return { ok: false, problem: 'error', reason: `auditctl -s printed no "enabled" line: ${status.stdout.slice(0, 200)}` };
  const rules = await run(auditctl, ['-l'], timeoutMs);
  if (!rules.ok) return rules;
  return { ok: true, status: parsed, ruleKeys: parseRuleKeys(rules.stdout) };
}

type RunResult =
  | { readonly ok: true; readonly stdout: string }
  | { readonly ok: false; readonly problem: 'denied' | 'missing' | 'error'; readonly reason: string };

function run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, stdout });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve({ ok: false, problem: 'missing', reason: `${command} not found` });
        const text = `${stderr}`.trim() || error.message;
        resolve({
          ok: false,
          problem: /not permitted|permission denied/i.test(text) ? 'denied' : 'error',
          reason: `${command} ${args.join(' ')}: ${text.split('\n')[0]}`,
        });
      },
    );
  });
}
