// What the structural options for the auth pipeline would gain, measured on the bench's generated
// lines (bench/lib/auth-log.ts): a hand-written reader of the hottest sshd messages against their
// pattern's regex (same fields checked on every line first), the per-character cost of a JS scan
// against one call of String's builtins, and a line's header read on the splitter's sliced strings
// against flat copies of the same lines. Prints ns per operation, best and median of the rounds.
//   node --max-semi-space-size=1 bench/lib/auth-costs.mjs generated.log [ROUNDS]
import { closeSync, openSync, readSync } from 'node:fs';
import { LineSplitter } from '../../dist/tail/line-splitter.js';
import { parseLogLine } from '../../dist/auth/log-line.js';
import { authPatterns } from '../../dist/auth/patterns.js';

const [file, roundsArg = '7'] = process.argv.slice(2);
if (!file) throw new Error('usage: auth-costs.mjs FILE [ROUNDS]');
const rounds = Number(roundsArg);

const lines = [];
const splitter = new LineSplitter(16 * 1024);
const fd = openSync(file, 'r');
for (const buffer = Buffer.alloc(65536); ;) {
  const n = readSync(fd, buffer, 0, buffer.length, null);
  if (n <= 0) break;
  for (const line of splitter.push(buffer.subarray(0, n)).lines) lines.push(line);
}
closeSync(fd);
const sample = lines.slice(0, 200_000);
const messages = [];
for (const line of sample) {
  const record = parseLogLine(line);
  if (record?.program === 'sshd') messages.push(record.message);
}
const failed = messages.filter((m) => m.startsWith('Failed '));
const invalid = messages.filter((m) => m.startsWith('Invalid user '));
const regexOf = (name) => authPatterns.find((p) => p.name === name).regex;

// The readers tried (2026-12-07) and not kept: the common shape only (the regex decides the rest),
// checked against the regex on every line measured.
const fields = { user: undefined, address: undefined, method: undefined };
function lastFrom(m) {
  for (let i = m.length - 6; i >= 0; i--)
    if (
      m.charCodeAt(i + 1) === 102 &&
      m.charCodeAt(i) === 32 &&
      m.charCodeAt(i + 2) === 114 &&
      m.charCodeAt(i + 3) === 111 &&
      m.charCodeAt(i + 4) === 109 &&
      m.charCodeAt(i + 5) === 32
    )
      return i;
  return -1;
}
function wordEnd(m, at) {
  for (let i = at; i < m.length; i++) {
    const c = m.charCodeAt(i);
    if (c === 32) return i;
    if (c < 33 || c > 126) return -1;
  }
  return -1;
}
function portTail(m, at, ssh) {
  const end = wordEnd(m, at);
  if (end <= at || !m.startsWith(' port ', end)) return -1;
  let i = end + 6;
  while (i < m.length && m.charCodeAt(i) >= 48 && m.charCodeAt(i) <= 57) i++;
  if (i === end + 6) return -1;
  if (i < m.length && (!ssh || i + 5 !== m.length || !m.startsWith(' ssh', i))) return -1;
  return end;
}
function readFailed(m) {
  if (!m.startsWith('Failed ')) return false;
  const methodEnd = wordEnd(m, 7);
  if (methodEnd <= 7 || !m.startsWith(' for ', methodEnd)) return false;
  let userAt = methodEnd + 5;
  const from = lastFrom(m);
  const addressEnd = from < userAt ? -1 : portTail(m, from + 6, true);
  if (addressEnd < 0) return false;
  if (from - userAt >= 13 && (m.startsWith('invalid user ', userAt) || m.startsWith('illegal user ', userAt))) userAt += 13;
  fields.method = m.slice(7, methodEnd);
  fields.user = m.slice(userAt, from);
  fields.address = m.slice(from + 6, addressEnd);
  return true;
}
function readInvalid(m) {
  if (!m.startsWith('nvalid user ', 1) && !m.startsWith('llegal user ', 1)) return false;
  const from = lastFrom(m);
  const addressEnd = from < 13 ? -1 : portTail(m, from + 6, false);
  if (addressEnd < 0) return false;
  fields.method = undefined;
  fields.user = m.slice(13, from);
  fields.address = m.slice(from + 6, addressEnd);
  return true;
}

function check(name, list, reader) {
  const regex = regexOf(name);
  for (const m of list) {
    const g = regex.exec(m)?.groups;
    if (!reader(m) || fields.user !== g.user || fields.address !== g.addr || fields.method !== g.method)
      throw new Error(`${name}: the reader differs from the regex on ${JSON.stringify(m)}`);
  }
}
check('sshd_failed', failed, readFailed);
check('sshd_invalid_user', invalid, readInvalid);

/** CPU ns per call of `f` over `list`, best and median of the rounds. */
function cost(list, f) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    let sink = 0;
    const t = process.cpuUsage();
    for (let i = 0; i < list.length; i++) if (f(list[i])) sink++;
    const c = process.cpuUsage(t);
    if (sink < 0) throw new Error('unreachable');
    runs.push(((c.user + c.system) * 1000) / list.length);
  }
  runs.sort((a, b) => a - b);
  return { best: Math.round(runs[0]), median: Math.round(runs[runs.length >> 1]) };
}

const failedRegex = regexOf('sshd_failed');
const invalidRegex = regexOf('sshd_invalid_user');
const flat = sample.map((l) => Buffer.from(l, 'utf8').toString('utf8'));
const slot = { program: '', pid: undefined, message: '', line: '', stampAt: -2 };
const scan = (m) => {
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m.charCodeAt(i);
  return s;
};
const averageLength = Math.round(messages.reduce((a, m) => a + m.length, 0) / messages.length);
const results = {
  lines: sample.length,
  'sshd_failed: regex exec (named groups)': cost(failed, (m) => failedRegex.exec(m) !== null),
  'sshd_failed: hand-written reader': cost(failed, readFailed),
  'sshd_invalid_user: regex exec': cost(invalid, (m) => invalidRegex.exec(m) !== null),
  'sshd_invalid_user: hand-written reader': cost(invalid, readInvalid),
  [`charCodeAt over a whole sshd message (${averageLength} chars on average)`]: cost(messages, scan),
  'one indexOf(" from ")': cost(messages, (m) => m.indexOf(' from ') > 0),
  'one startsWith(" port ", 20)': cost(messages, (m) => m.startsWith(' port ', 20)),
  'header read, lines as split (sliced strings)': cost(sample, (l) => parseLogLine(l, slot) !== undefined),
  'header read, flat copies of the same lines': cost(flat, (l) => parseLogLine(l, slot) !== undefined),
};
console.log(JSON.stringify(results, null, 1));
