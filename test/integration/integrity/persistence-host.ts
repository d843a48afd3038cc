import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { runCli, tempDir, type RunningExporter } from '../../helpers/cli.js';
import { parseExposition, sampleValue, type Sample } from '../../helpers/exposition.js';

/**
 * A host root of the test's own (--path.rootfs) with the files where intruders persist, so that
 * the embedded default policy watches real files and real inotify events without touching this
 * machine's /etc.
 */
export function persistenceRoot(): string {
  const root = join(tempDir('hostguard-rootfs-'), 'root');
  const files: Record<string, string> = {
    'etc/passwd':
      'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    'etc/shadow': 'root:*:19000:0:99999:7:::\nalice:*:19000:0:99999:7:::\n',
    'etc/group': 'root:x:0:\nalice:x:1000:\n',
    'etc/sudoers': 'root ALL=(ALL:ALL) ALL\n',
    'etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin prohibit-password\n',
    'etc/ssh/sshd_config.d/keys.conf': 'AuthorizedKeysFile .ssh/authorized_keys\n',
    'etc/pam.d/common-auth':
      'auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n',
    'etc/profile': 'PATH=/usr/bin:/bin\n',
    'etc/profile.d/locale.sh': 'export LANG=C.UTF-8\n',
    'etc/crontab': '17 * * * * root cd / && run-parts --report /etc/cron.hourly\n',
    'etc/cron.d/backup': '0 3 * * * root /usr/local/bin/backup\n',
    'etc/cron.daily/logrotate': '#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n',
    'etc/systemd/system/multi-user.target.wants/.keep': '',
    'etc/hosts': '127.0.0.1 localhost\n',
    'etc/nsswitch.conf': 'passwd: files\nhosts: files dns\n',
    'root/.bashrc': 'PS1="# "\n',
    'root/.ssh/authorized_keys': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator operator@example\n',
    'home/alice/.ssh/authorized_keys': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@example\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text, { mode: path.includes('shadow') ? 0o640 : 0o644 });
  }
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  copyFileSync('/usr/bin/true', join(root, 'usr/bin/true'));
  return root;
}

/**
 * The embedded default policy with the scheduled scan moved to once a year: a finding that shows
 * up within the test was found by the watch. Options drop the parts a test does not exercise.
 */
export function defaultPolicyWatchOnly(options: { schedule?: string; privileged?: boolean } = {}): string {
  const text = runCli(['policy', 'default']).stdout;
  const edited = text
    .replace(
      'schedule: "*/15 * * * *"\n  full_rehash_interval',
      `schedule: ${JSON.stringify(options.schedule ?? '0 0 1 1 *')}\n  full_rehash_interval`,
    )
    .replace('  privileged_files:\n    enabled: true', `  privileged_files:\n    enabled: ${options.privileged ?? false}`);
  expect(edited).not.toBe(text);
  const file = join(tempDir('hostguard-policy-'), 'policy.yml');
  writeFileSync(file, edited);
  return file;
}

export async function scrape(exporter: RunningExporter): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
}

/** Scrape until `ready` holds, with a deadline generous enough for a busy machine. */
export async function scrapeUntil(
  exporter: RunningExporter,
  ready: (samples: Sample[]) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(exporter);
    if (ready(samples)) return samples;
    if (Date.now() > deadline) {
      const mismatches = samples.filter(
        (s) => s.name.startsWith('hostguard_integrity_mismatch') || s.name.startsWith('hostguard_integrity_watch'),
      );
      throw new Error(
        `${what}: not within ${timeoutMs} ms; last integrity series:\n${mismatches.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Total of scans started by the schedule (and at start), fast and full: the watch's rescans are not among them. */
export const scheduledScans = (samples: Sample[]) =>
  (sampleValue(samples, 'hostguard_integrity_scans_total', { mode: 'fast' }) ?? 0) +
  (sampleValue(samples, 'hostguard_integrity_scans_total', { mode: 'full' }) ?? 0);

export const mismatch = (samples: Sample[], path: string, kind: string) =>
  samples.some((s) => s.name === 'hostguard_integrity_mismatch' && s.labels['path'] === path && s.labels['kind'] === kind);
