// Child process of bench/auth.bench.ts: the collector's pipeline (FileFollower → AuthPipeline) on
// one file, alone in a process started with the exporter's Node flags, so its peak RSS is its own.
import { readFileSync } from 'node:fs';
import { FileFollower } from '../../dist/tail/file-follower.js';
import { AuthPipeline } from '../../dist/auth/pipeline.js';
import { UserClassCache } from '../../dist/auth/user-classes.js';
import { UserDirectory } from '../../dist/rootfs/users.js';
import { silentLogger } from '../../dist/log/logger.js';

const users = new UserClassCache(new UserDirectory('/'));
const pipeline = new AuthPipeline((name) => users.classOf(name));
const follower = new FileFollower({
  path: process.argv[2],
  startAt: 'beginning',
  log: silentLogger,
  onLines: (lines) => pipeline.syslogLines('bench', lines),
});
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await follower.catchUp(Number.POSITIVE_INFINITY);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(
  JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRss: peak,
    lines: follower.stats.linesRead,
    failures: pipeline.totalFailures(),
  }),
);
