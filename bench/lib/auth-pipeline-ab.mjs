// Before/after on a shared, busy machine: two builds of the auth pipeline (each a checkout with its
// dist/ built) in one process, over the same lines cut as FileFollower cuts them (64 KiB reads),
// in alternating passes, so that both see the same load; prints wall and CPU per line, best and
// median. Run with the exporter's flag:
//   node --max-semi-space-size=1 bench/lib/auth-pipeline-ab.mjs BEFORE_DIR AFTER_DIR FILE [PASSES]
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [before, after, file, passes = '30'] = process.argv.slice(2);
if (!before || !after || !file) throw new Error('usage: auth-pipeline-ab.mjs BEFORE_DIR AFTER_DIR FILE [PASSES]');

async function build(dir) {
  const module = (path) => import(pathToFileURL(resolve(dir, 'dist', path)).href);
  return {
    dir,
    AuthPipeline: (await module('auth/pipeline.js')).AuthPipeline,
    LineSplitter: (await module('tail/line-splitter.js')).LineSplitter,
    runs: [],
  };
}

const builds = [await build(before), await build(after)];
const chunks = [];
const fd = openSync(file, 'r');
for (const buffer = Buffer.alloc(65536); ;) {
  const n = readSync(fd, buffer, 0, buffer.length, null);
  if (n <= 0) break;
  chunks.push(Buffer.from(buffer.subarray(0, n)));
}
closeSync(fd);
// A fixed answer: the user directory is not what is measured.
const userClass = (name) => (name === 'root' ? 'root' : 'invalid');

function pass(b) {
  const splitter = new b.LineSplitter(65536);
  const pipeline = new b.AuthPipeline(userClass);
  let lines = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const chunk of chunks) {
    const batch = splitter.push(chunk).lines;
    lines += batch.length;
    pipeline.syslogLines('bench', batch);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  b.runs.push({ wallNs: (ms * 1e6) / lines, cpuNs: ((cpu.user + cpu.system) * 1e3) / lines, failures: pipeline.totalFailures() });
}

for (let i = 0; i < Number(passes); i++) for (const b of i % 2 ? [...builds].reverse() : builds) pass(b);
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const b of builds) {
  const wall = b.runs.map((r) => r.wallNs);
  const cpu = b.runs.map((r) => r.cpuNs);
  console.log(
    JSON.stringify({
      build: b.dir,
      passes: b.runs.length,
      wallNsPerLine: { min: Math.round(Math.min(...wall)), median: Math.round(median(wall)) },
      cpuNsPerLine: { min: Math.round(Math.min(...cpu)), median: Math.round(median(cpu)) },
      failures: b.runs[0].failures,
    }),
  );
}
