import type { AuthPattern } from '../patterns.js';

/**
 * FTP servers. vsftpd: its own log (vsftpd_log_file, the default) or syslog (syslog_enable);
 * proftpd: syslog or its SystemLog, both with the client as `host (name[addr])`; pure-ftpd: syslog,
 * in English (its translated messages are not matched).
 */
const proftpdClient = String.raw`^(?:\S+ )?\([^\[\s]*\[(?<addr>[^\]]+)\]\)[\s:-]+`;

export const ftpPatterns: readonly AuthPattern[] = [
  // ---- vsftpd -----------------------------------------------------------------------------
  {
    name: 'vsftpd_fail_login',
    service: 'vsftpd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: 'FAIL LOGIN: Client "',
    regex: /^(?:\[(?<user>[^\]]*)\] )?FAIL LOGIN: Client "(?<addr>[^"]+)"/,
    description: 'vsftpd refused a login (wrong password, unknown or denied user)',
  },
  {
    name: 'vsftpd_ok_login',
    service: 'vsftpd',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: 'OK LOGIN: Client "',
    regex: /^\[(?<user>[^\]]*)\] OK LOGIN: Client "(?<addr>[^"]+)"/,
    description: 'a vsftpd login',
  },
  // ---- proftpd ----------------------------------------------------------------------------
  {
    name: 'proftpd_unknown_user',
    service: 'proftpd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'invalid_user',
    contains: 'o such user found',
    regex: new RegExp(String.raw`${proftpdClient}USER (?<user>.+?)(?: \(Login failed\))?: [Nn]o such user found`),
    description: 'a login name with no account',
  },
  {
    name: 'proftpd_incorrect_password',
    service: 'proftpd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: 'ncorrect password',
    regex: new RegExp(String.raw`${proftpdClient}USER (?<user>.+?)(?: \(Login failed\))?: [Ii]ncorrect password`),
    description: 'a wrong password',
  },
  {
    name: 'proftpd_login_refused',
    service: 'proftpd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'user_not_allowed',
    contains: ' (Login failed): ',
    regex: new RegExp(
      String.raw`${proftpdClient}USER (?<user>.+?) \(Login failed\): (?:[Uu]ser not authorized|[Ii]nvalid shell|[Uu]ser in |[Ll]imit (?:access|configuration) denies|[Pp]assword expired|[Aa]ccount disabled|[Nn]ot a UserAlias|[Mm]aximum login length)`,
    ),
    description: 'configuration refused the user (shell, ftpusers, Limit LOGIN, expired or disabled account)',
  },
  {
    name: 'proftpd_root_refused',
    service: 'proftpd',
    outcome: 'failure',
    role: 'opens',
    reason: 'root_refused',
    contains: 'SECURITY VIOLATION: ',
    regex: new RegExp(String.raw`${proftpdClient}SECURITY VIOLATION: [Rr]oot login attempted`),
    description: 'a root login refused (RootLogin off; the user is root)',
  },
  {
    name: 'proftpd_max_attempts',
    service: 'proftpd',
    outcome: 'failure',
    role: 'echo',
    contains: 'Maximum login attempts',
    regex: new RegExp(String.raw`${proftpdClient}Maximum login attempts \(\d+\) exceeded`),
    description: 'MaxLoginAttempts reached; each attempt was logged already',
  },
  {
    name: 'proftpd_login',
    service: 'proftpd',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: ': Login successful',
    regex: new RegExp(String.raw`${proftpdClient}USER (?<user>.+?): Login successful`),
    description: 'a proftpd login',
  },
  // ---- pure-ftpd --------------------------------------------------------------------------
  {
    name: 'pureftpd_auth_failed',
    service: 'pure-ftpd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: '[WARNING] Authentication failed for user [',
    regex: /^\([^@)]*@(?<addr>[^)]+)\) \[WARNING\] Authentication failed for user \[(?<user>.*)\]\s*$/,
    description: 'pure-ftpd refused a login',
  },
  {
    name: 'pureftpd_login',
    service: 'pure-ftpd',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: ' is now logged in',
    regex: /^\([^@)]*@(?<addr>[^)]+)\) \[INFO\] (?<user>\S+) is now logged in$/,
    description: 'a pure-ftpd login',
  },
];
