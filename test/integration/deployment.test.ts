import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/load-policy.js';
import { defaultBaselineTimeoutMs } from '../../src/exporter.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import {
  dockerfileUser,
  dockerRunRequest,
  documentedDockerRuns,
  ociProcess,
  setprivArgs as containerSetprivArgs,
  stateAfterExec,
} from '../helpers/container-runtime.js';
import { sampleValue } from '../helpers/exposition.js';
import { freePort } from '../helpers/monitoring-stack.js';
import { spawnOwned, stopProcess, waitForOutput } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';
import { installForUnprivileged } from '../helpers/unprivileged.js';

const unitFile = join(repoRoot, 'deploy', 'hostguard-exporter.service');
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

/** A state directory the unprivileged user 65534 can write, as StateDirectory= or the image's VOLUME gives it. */
function stateDirFor65534(): string {
  const parent = tempDir();
  chmodSync(parent, 0o755);
  const dir = join(parent, 'state');
  mkdirSync(dir);
  chownSync(dir, 65534, 65534);
  return dir;
}

function setprivArgs(capabilities: string[]): string[] {
  const caps = capabilities.map((c) => `+${c}`).join(',');
  return [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    ...(capabilities.length ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : []),
    '--no-new-privs',
  ];
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('systemd unit (deploy/hostguard-exporter.service)', () => {
  it('passes systemd-analyze verify without a warning', () => {
    const result = spawnSync(requireTool('systemd-analyze', 'systemd'), ['verify', unitFile], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs its ExecStart as an unprivileged user with exactly the capabilities it grants', async () => {
    const unit = readFileSync(unitFile, 'utf8');
    const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(' ');
    const capabilities = /^AmbientCapabilities=(.+)$/m
      .exec(unit)![1]!
      .split(' ')
      .map((c) => c.toLowerCase().replace(/^cap_/, ''));
    const command = execStart.map((arg) =>
      arg
        .replace('/opt/hostguard-exporter', installForUnprivileged())
        .replace('--state.dir=/var/lib/hostguard', `--state.dir=${stateDirFor65534()}`)
        .replace('--config.file=/etc/hostguard/policy.yml', `--config.file=${join(installForUnprivileged(), 'examples', 'policy.yml')}`),
    );
    const child = spawnOwned(requireTool('setpriv', 'util-linux'), [
      ...setprivArgs(capabilities),
      ...command,
      '--collector.disable-defaults',
      '--web.listen-address=127.0.0.1:0',
    ]);
    const port = (await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/))[1];
    const body = await metricsOf(`http://127.0.0.1:${port}`);
    expect(sampleValue(body, 'hostguard_exporter_running_as_root')).toBe(0);
    expect(sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_sys_ptrace' })).toBe(1);
    expect(sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_dac_read_search' })).toBe(1);
    expect(sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_net_bind_service' })).toBe(1);
    expect(sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_dac_override' })).toBe(0);
  });

  it('says so in metrics when it runs with no capabilities at all', async () => {
    const child = spawnOwned(requireTool('setpriv', 'util-linux'), [
      ...setprivArgs([]),
      join(installForUnprivileged(), 'dist', 'cli', 'main.js'),
      `--state.dir=${stateDirFor65534()}`,
      '--collector.disable-defaults',
      '--web.listen-address=127.0.0.1:0',
    ]);
    const port = (await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/))[1];
    const body = await metricsOf(`http://127.0.0.1:${port}`);
    expect(sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_sys_ptrace' })).toBe(0);
  });
});

describe("least privilege: what the exporter sees with the unit's capabilities, and without them", () => {
  /** What the exporter sees as user 65534 with these capabilities, or as root when `capabilities` is 'root'. */
  async function visibility(capabilities: string[] | 'root') {
    const install = installForUnprivileged();
    const policy = join(tempDir(), 'policy.yml');
    writeFileSync(policy, 'integrity:\n  paths: [/etc/shadow, /etc/passwd]\n');
    chmodSync(join(policy, '..'), 0o755);
    const command = capabilities === 'root' ? [] : [requireTool('setpriv', 'util-linux'), ...setprivArgs(capabilities)];
    const child = spawnOwned(command[0] ?? join(install, 'dist', 'cli', 'main.js'), [
      ...command.slice(1),
      ...(capabilities === 'root' ? [] : [join(install, 'dist', 'cli', 'main.js')]),
      `--state.dir=${stateDirFor65534()}`,
      `--config.file=${policy}`,
      '--collector.disable-defaults',
      '--collector.processes',
      '--collector.network',
      '--collector.integrity',
      '--web.listen-address=127.0.0.1:0',
      // What it sees is the subject, not how fast: no collection may time out on a loaded machine.
      '--collector.timeout=5m',
    ]);
    const port = (await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/))[1];
    const body = await eventually(
      async () => {
        const text = await metricsOf(`http://127.0.0.1:${port}`);
        return (sampleValue(text, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0 && text;
      },
      { timeoutMs: 90_000, what: 'the integrity scan at start' },
    );
    return {
      processesDenied: sampleValue(body, 'hostguard_processes_unjudged', { reason: 'permission_denied' }) ?? 0,
      fdDenied: sampleValue(body, 'hostguard_network_read_problems_total', { problem: 'fd_denied' }) ?? 0,
      unreadableFiles: sampleValue(body, 'hostguard_integrity_scan_problems', { problem: 'unreadable' }) ?? 0,
      collectorsOk: ['processes', 'network', 'integrity'].every(
        (c) => sampleValue(body, 'hostguard_scrape_collector_success', { collector: c }) === 1,
      ),
    };
  }

  it('with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH as user 65534, it sees every process, socket owner and watched file that root sees', async () => {
    const unit = readFileSync(unitFile, 'utf8');
    const capabilities = /^AmbientCapabilities=(.+)$/m
      .exec(unit)![1]!
      .split(' ')
      .map((c) => c.toLowerCase().replace(/^cap_/, ''));
    const root = await visibility('root');
    // Even root cannot read some executables in a sandbox (this VM's pid 1): compare with root, not with zero.
    expect(root.processesDenied).toBeLessThanOrEqual(1);
    expect(root.fdDenied).toBeLessThanOrEqual(1);
    expect(await visibility(capabilities)).toEqual({ ...root, unreadableFiles: 0, collectorsOk: true });
  }, 240_000);

  it('without capabilities it still runs, and says in metrics what it cannot see', async () => {
    const blind = await visibility([]);
    expect(blind.collectorsOk).toBe(true);
    expect(blind.processesDenied).toBeGreaterThan(0); // other users' /proc/PID/exe
    expect(blind.fdDenied).toBeGreaterThan(0); // other users' /proc/PID/fd
    // /etc/shadow, and the accounts' SSH key files the policy adds under homes it cannot enter (/root/.ssh/…).
    expect(blind.unreadableFiles).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

describe('Dockerfile', () => {
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.+\])$/m.exec(dockerfile)![1]!) as string[];
  const healthcheck = JSON.parse(/^\s+CMD (\[.+\])$/m.exec(dockerfile)![1]!) as string[];
  const documentedRunArgs = /hostguard-exporter (--path\.rootfs=\S+) (--path\.procfs=\S+)/.exec(dockerfile)!.slice(1, 3);

  it('copies only what exists and exposes the default port', () => {
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of match[1]!.split(' ')) expect(existsSync(join(repoRoot, source)), source).toBe(true);
    }
    expect(dockerfile).toMatch(/^EXPOSE 10177$/m);
  });

  it('runs its entrypoint as its documented docker run line does, against a host root mounted at /host, and its HEALTHCHECK passes', async () => {
    const host = tempDir();
    chmodSync(host, 0o755);
    mkdirSync(join(host, 'etc'));
    copyFileSync('/etc/passwd', join(host, 'etc', 'passwd'));
    symlinkSync('/proc', join(host, 'proc'));
    const port = await freePort();
    // uid 0 with the documented capabilities (test/integration/container-privileges.test.ts has the whole story); state owned by root as the image's volume.
    const docker = dockerRunRequest(documentedDockerRuns(dockerfile)[0]!, dockerfileUser(dockerfile));
    const credentials = containerSetprivArgs(stateAfterExec(ociProcess(docker.request, 'docker')));
    const args = entrypoint.map((a) =>
      a.replace('/opt/hostguard-exporter', installForUnprivileged()).replace('--state.dir=/var/lib/hostguard', `--state.dir=${tempDir()}`),
    );
    const run = [
      ...args,
      ...documentedRunArgs.map((a) => a.replace('/host', host)),
      '--collector.disable-defaults',
      `--web.listen-address=127.0.0.1:${port}`,
    ];
    const child = spawnOwned(requireTool('setpriv', 'util-linux'), [...credentials, '--', ...run]);
    await waitForOutput(child, /listening/);
    const check = healthcheck.map((a) => a.replace('127.0.0.1:10177', `127.0.0.1:${port}`));
    expect(spawnSync(check[0]!, check.slice(1)).status).toBe(0);
    await stopProcess(child);
    expect(spawnSync(check[0]!, check.slice(1)).status).toBe(1);
  });
});

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  interface Container {
    args: string[];
    ports: Array<{ containerPort: number; name: string }>;
    securityContext: {
      readOnlyRootFilesystem: boolean;
      allowPrivilegeEscalation: boolean;
      capabilities: { drop: string[]; add: string[] };
    };
    resources: { limits: Record<string, string> };
    startupProbe: { periodSeconds: number; failureThreshold: number };
    volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  }
  const daemonset = load(readFileSync(join(repoRoot, 'deploy/kubernetes/daemonset.yaml'), 'utf8')) as {
    spec: { template: { metadata: { labels: Record<string, string> }; spec: { hostPID: boolean; containers: Container[] } } };
  };
  const pod = daemonset.spec.template.spec;
  const container = pod.containers[0]!;

  it('watches the host like the Dockerfile documents: host PID namespace, read-only host root, same flags', () => {
    expect(pod.hostPID).toBe(true);
    for (const arg of /hostguard-exporter (--path\.rootfs=\S+) (--path\.procfs=\S+)/.exec(dockerfile)!.slice(1, 3))
      expect(container.args).toContain(arg);
    expect(container.volumeMounts.find((m) => m.mountPath === '/host')?.readOnly).toBe(true);
    expect(container.ports[0]?.containerPort).toBe(10177);
  });

  it('drops every capability but those the systemd unit grants, with a read-only root, no privilege escalation and resource limits', () => {
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
    const unitCaps = /^AmbientCapabilities=(.+)$/m
      .exec(readFileSync(unitFile, 'utf8'))![1]!
      .split(' ')
      .map((c) => c.replace(/^CAP_/, ''));
    expect([...container.securityContext.capabilities.add].sort()).toEqual(unitCaps.sort());
    expect(container.resources.limits.memory).toBeTruthy();
    expect(container.resources.limits.cpu).toBeTruthy();
  });

  it('gives a first start the whole --baseline.timeout to learn before liveness can restart it', () => {
    const startupSeconds = container.startupProbe.periodSeconds * container.startupProbe.failureThreshold;
    expect(startupSeconds * 1000).toBeGreaterThan(defaultBaselineTimeoutMs);
  });

  it('the PodMonitor selects the pods and names the job "hostguard", as the rules expect', () => {
    const monitor = load(readFileSync(join(repoRoot, 'deploy/kubernetes/podmonitor.yaml'), 'utf8')) as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: Array<{ port: string; relabelings: Array<{ targetLabel: string; replacement?: string }> }>;
      };
    };
    expect(daemonset.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.podMetricsEndpoints[0]?.port).toBe(container.ports[0]?.name);
    expect(monitor.spec.podMetricsEndpoints[0]?.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'hostguard' });
  });

  it('the policy ConfigMap holds a policy that loads', () => {
    const [configMap] = loadAll(readFileSync(join(repoRoot, 'deploy/kubernetes/policy-configmap.yaml'), 'utf8')) as Array<{
      data: Record<string, string>;
    }>;
    expect(() => parsePolicy(configMap!.data['policy.yml']!, 'policy-configmap.yaml')).not.toThrow();
  });
});

describe("node_exporter's textfile collector", () => {
  it('reads the metrics hostguard-exporter writes with --web.disable --textfile.path', async () => {
    const dir = tempDir();
    const textfileDir = join(dir, 'textfile');
    mkdirSync(textfileDir);
    const exporter = spawnOwned(join(repoRoot, 'dist/cli/main.js'), [
      `--state.dir=${join(dir, 'state')}`,
      '--collector.disable-defaults',
      '--web.disable',
      `--textfile.path=${join(textfileDir, 'hostguard.prom')}`,
      '--textfile.interval=1s',
    ]);
    await waitForOutput(exporter, /writing metrics to the textfile/);
    const text = readFileSync(join(textfileDir, 'hostguard.prom'), 'utf8');
    expect(
      text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .every((l) => l.startsWith('hostguard_')),
    ).toBe(true);

    const port = await freePort();
    const nodeExporter = spawnOwned(requireTool('prometheus-node-exporter', 'prometheus-node-exporter'), [
      `--web.listen-address=127.0.0.1:${port}`,
      `--collector.textfile.directory=${textfileDir}`,
    ]);
    await waitForOutput(nodeExporter, /Listening on/i);
    const body = await metricsOf(`http://127.0.0.1:${port}`);
    expect(body).toMatch(/^hostguard_build_info\{/m);
    expect(sampleValue(body, 'node_textfile_scrape_error')).toBe(0);
  });

  it('refuses --web.disable without a textfile', () => {
    const result = spawnSync(join(repoRoot, 'dist/cli/main.js'), ['--state.dir', tempDir(), '--web.disable'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--web.disable needs --textfile.path');
  });
});
