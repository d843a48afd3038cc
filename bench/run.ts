// `npm run bench [name...]`: runs bench/*.bench.ts (or the named ones) one after another and prints
// Markdown for docs/benchmarks.md, headed by the machine and date. Benchmarks, never timed tests.
import { existsSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describeMachine } from './lib/machine.js';
import { renderMarkdown, type Bench } from './lib/report.js';

const dir = new URL('.', import.meta.url);
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(basename(f, '.bench.ts')))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}`);
  process.exit(2);
}
// Several benchmarks run the built exporter beside what they measure in process: without it they
// would fail half-way, after starting their helper processes.
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  console.error('dist/cli/main.js is missing: run `npm run build` first');
  process.exit(2);
}
console.log(`## Run of ${new Date().toISOString().slice(0, 10)}\n\nMachine: ${await describeMachine()}\n`);
for (const file of files) {
  const bench = (await import(new URL(file, dir).href)).default as Bench;
  console.error(`running ${file} ...`);
  console.log(renderMarkdown(await bench()));
}
