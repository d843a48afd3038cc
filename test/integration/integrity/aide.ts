import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An aide.conf that checks `tree` for what the integrity collector checks (permissions, inode,
 * links, owner, group, size, times, SHA-256, file type, link target), with its databases in `dir`.
 * Shared by the parity test and the benchmark so both compare against the same AIDE.
 */
export function writeAideConfig(dir: string, tree: string): string {
  const file = join(dir, 'aide.conf');
  writeFileSync(
    file,
    [
      `database_in=file:${dir}/aide.db`,
      `database_out=file:${dir}/aide.db.new`,
      'gzip_dbout=no',
      'report_url=stdout',
      'Checks = p+i+n+u+g+s+m+c+sha256+ftype+l',
      `${tree} Checks`,
      '',
    ].join('\n'),
  );
  return file;
}
