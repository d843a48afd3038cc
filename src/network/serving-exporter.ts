import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readProcess } from '../procfs/process-table.js';
import { writeFileAtomic } from '../state/atomic-write.js';

/**
 * The exporter's own listening socket is always expected, also when another hostguard process
 * looks: `check` run from cron beside `serve` must not report the exporter's port. `serve` records
 * its pid and start time in the state directory; a process is the serving exporter only while
 * that pid is alive with that start time and runs the same Node.js executable as the reader.
 */
const fileName = 'serving-exporter.json';
const recordSchema = z.object({ pid: z.number().int().positive(), startTicks: z.number().int().nonnegative() }).strict();

export function recordServingExporter(stateDir: string, procfs: string): void {
  const self = readProcess(procfs, process.pid);
  if (!self.ok) return;
  writeFileAtomic(join(stateDir, fileName), JSON.stringify({ pid: process.pid, startTicks: self.process.startTicks }) + '\n', 0o644);
}

export function forgetServingExporter(stateDir: string): void {
  if (servingExporterRecord(stateDir)?.pid !== process.pid) return;
  try {
    unlinkSync(join(stateDir, fileName));
  } catch {
    // already gone
  }
}

/** The pid of the exporter serving from this state directory, if it is alive; undefined otherwise. */
export function servingExporterPid(stateDir: string, procfs: string): number | undefined {
  const record = servingExporterRecord(stateDir);
  if (!record) return undefined;
  const read = readProcess(procfs, record.pid);
  if (!read.ok || read.process.startTicks !== record.startTicks) return undefined;
  const exe = read.process.exe;
  return exe.kind === 'path' && exe.path === process.execPath ? record.pid : undefined;
}

function servingExporterRecord(stateDir: string): z.infer<typeof recordSchema> | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(join(stateDir, fileName), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
