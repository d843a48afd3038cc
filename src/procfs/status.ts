import { ProcParseError } from './errors.js';

/** The fields of /proc/PID/status the exporter uses. */
export interface ProcStatus {
  readonly name: string;
  readonly tgid: number;
  /** Real, effective, saved and filesystem user ids. */
  readonly uids: readonly [number, number, number, number];
  readonly gids: readonly [number, number, number, number];
}

export function parseStatus(text: string, file = 'status'): ProcStatus {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) values.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const ids = (key: string): [number, number, number, number] => {
    const parts = (values.get(key) ?? '').split(/\s+/).map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0)) throw new ProcParseError(file, `bad ${key} line`);
    return parts as [number, number, number, number];
  };
  const tgid = Number(values.get('Tgid'));
  if (!Number.isInteger(tgid)) throw new ProcParseError(file, 'bad Tgid line');
  return {
    // Name escapes newlines and backslashes itself (proc(5)); keep it as printed.
    name: values.get('Name') ?? '',
    tgid,
    uids: ids('Uid'),
    gids: ids('Gid'),
  };
}
