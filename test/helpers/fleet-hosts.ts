import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Hosts made of files, for the fleet tests: each has its own --path.procfs tree, --path.rootfs,
 * state directory and policy, so many exporters on one machine each watch "their" host and never
 * the real one (whatever else runs here). The processes and listeners are written after proc(5);
 * their /proc/PID/exe links lead to binaries shared by the hosts that run them, as one image
 * deployed to many machines has one hash.
 */

export interface FleetProcess {
  readonly pid: number;
  readonly comm: string;
  /** Where /proc/PID/exe leads. */
  readonly exe: string;
  readonly uid: number;
  /** TCP ports it listens on (0.0.0.0). */
  readonly listens?: readonly number[];
}

export interface FixtureHost {
  readonly name: string;
  readonly dir: string;
  readonly procfs: string;
  readonly rootfs: string;
  readonly stateDir: string;
  readonly policy: string;
  /** Arguments of `hostguard-exporter` for this host: processes and network collectors only. */
  readonly args: readonly string[];
}

// No vitest import here: the fleet benchmark builds these hosts too.
const repoRoot = resolve(import.meta.dirname, '..', '..');
const fixtureRoot = join(repoRoot, 'test', 'fixtures', 'processes');
export const exporterCli = join(repoRoot, 'dist', 'cli', 'main.js');

/** Background work that needs the real kernel (PID and port probes, the watch of new PIDs) is off: a fixture has no live PIDs. */
const policyText = `processes:
  start_watch: { enabled: false }
  hidden_sweep: { enabled: false }
listeners:
  hidden_ports: { enabled: false }
`;

const systemd: FleetProcess = { pid: 1, comm: 'systemd', exe: '/usr/lib/systemd/systemd', uid: 0 };

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

function writeProcess(procfs: string, p: FleetProcess, inodes: Map<number, number>): void {
  const dir = join(procfs, String(p.pid));
  mkdirSync(join(dir, 'fd'), { recursive: true });
  const ppid = p.pid === 1 ? 0 : 1;
  writeFileSync(
    join(dir, 'stat'),
    `${p.pid} (${p.comm}) S ${ppid} ${p.pid} ${p.pid} 0 -1 4194560 100 0 0 0 30 10 0 0 20 0 1 0 9000 10000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`,
  );
  writeFileSync(join(dir, 'statm'), '5000 5000 3000 250 0 2000 0\n');
  writeFileSync(
    join(dir, 'status'),
    `Name:\t${p.comm}\nUmask:\t0022\nState:\tS\nTgid:\t${p.pid}\nNgid:\t0\nPid:\t${p.pid}\nPPid:\t${ppid}\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\nGid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\nVmRSS:\t20000 kB\nThreads:\t1\n`,
  );
  writeFileSync(join(dir, 'cmdline'), `${p.exe}\0`);
  symlinkSync(p.exe, join(dir, 'exe'));
  (p.listens ?? []).forEach((port, i) => symlinkSync(`socket:[${inodes.get(port)}]`, join(dir, 'fd', String(3 + i))));
}

function writeProcfs(procfs: string, processes: readonly FleetProcess[]): void {
  mkdirSync(join(procfs, 'net'), { recursive: true });
  mkdirSync(join(procfs, 'sys', 'kernel'), { recursive: true });
  mkdirSync(join(procfs, 'sys', 'net', 'ipv4'), { recursive: true });
  copyFileSync(join(fixtureRoot, 'proc', 'stat'), join(procfs, 'stat'));
  writeFileSync(join(procfs, 'sys', 'kernel', 'pid_max'), '32768\n');
  writeFileSync(join(procfs, 'sys', 'net', 'ipv4', 'ip_local_port_range'), '32768\t60999\n');
  writeFileSync(join(procfs, 'sys', 'net', 'ipv4', 'ip_local_reserved_ports'), '\n');
  const inodes = new Map<number, number>();
  const tcp = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
  for (const p of processes) {
    for (const port of p.listens ?? []) {
      const inode = 5000 + inodes.size;
      inodes.set(port, inode);
      tcp.push(
        `${String(tcp.length - 1).padStart(4)}: 00000000:${hex(port, 4)} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 ${String(p.uid).padStart(5)}        0 ${inode} 1 0000000000000000 100 0 0 10 0`,
      );
    }
  }
  writeFileSync(join(procfs, 'net', 'tcp'), tcp.join('\n') + '\n');
  writeFileSync(
    join(procfs, 'net', 'tcp6'),
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
  );
  for (const table of ['udp', 'udp6'])
    writeFileSync(
      join(procfs, 'net', table),
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n',
    );
  for (const p of [systemd, ...processes]) writeProcess(procfs, p, inodes);
}

/** A binary of the fleet: never run, only pointed at, so any distinct content makes a distinct hash. */
export function fleetBinary(path: string, content: string): string {
  writeFileSync(path, `#!/bin/sh\n# ${content}\nexit 0\n`);
  chmodSync(path, 0o755);
  return path;
}

/**
 * The hosts of a fleet under `dir`: host i runs `processes(i)`. All start from one baseline, learned
 * on a clean host of the same make (systemd alone, no listener) and copied to each state directory,
 * as an operator takes it before anything was planted; without it, each exporter would learn its
 * host's listeners at first start and find nothing unexpected.
 */
export function buildFleet(dir: string, count: number, processes: (index: number) => readonly FleetProcess[]): FixtureHost[] {
  mkdirSync(dir, { recursive: true });
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, policyText);
  const make = (name: string, list: readonly FleetProcess[]): FixtureHost => {
    const hostDir = join(dir, name);
    const procfs = join(hostDir, 'proc');
    const rootfs = join(hostDir, 'rootfs');
    const stateDir = join(hostDir, 'state');
    mkdirSync(stateDir, { recursive: true });
    cpSync(join(fixtureRoot, 'rootfs'), rootfs, { recursive: true, verbatimSymlinks: true });
    writeProcfs(procfs, list);
    const args = [
      '--path.procfs',
      procfs,
      '--path.rootfs',
      rootfs,
      '--state.dir',
      stateDir,
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.processes',
      '--collector.network',
    ];
    return { name, dir: hostDir, procfs, rootfs, stateDir, policy, args };
  };
  const clean = make('clean', []);
  const learned = spawnSync(exporterCli, [...clean.args, 'baseline', 'init'], { encoding: 'utf8', timeout: 60_000 });
  if (learned.status !== 0) throw new Error(`baseline init on the clean host failed (${learned.status}): ${learned.stderr}`);
  return Array.from({ length: count }, (_, i) => {
    const host = make(`host-${String(i + 1).padStart(2, '0')}`, processes(i));
    copyFileSync(join(clean.stateDir, 'baseline.json'), join(host.stateDir, 'baseline.json'));
    return host;
  });
}
