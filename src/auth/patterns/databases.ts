import type { AuthPattern } from '../patterns.js';

/**
 * Database servers. MySQL 5.5 to 8 and MariaDB: "Access denied" in the error log, written only when
 * log_warnings >= 2 (MySQL 5.x, MariaDB) or log_error_verbosity = 3 (MySQL 8); PostgreSQL: FATAL
 * authentication errors in its log or syslog. PostgreSQL names the client only when
 * log_line_prefix has %h or %r.
 */
/** An address-like word before PostgreSQL's FATAL (from %h or %r in log_line_prefix); an IPv6 one needs a letter or `::`, so times are not taken. */
const pgClient = String.raw`^(?:.*?(?:^|[\s@])(?<addr>\d{1,3}(?:\.\d{1,3}){3}|(?=[0-9a-fA-F:]*(?:::|[a-fA-F]))[0-9a-fA-F]{0,4}:[0-9a-fA-F:]+|\[local\])(?:\(\d+\))?[\s,])?.*?`;

export const databasePatterns: readonly AuthPattern[] = [
  // ---- mysql / mariadb --------------------------------------------------------------------
  {
    name: 'mysql_access_denied',
    service: 'mysql',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: "Access denied for user '",
    regex: /(?:^|\] )Access denied for user '(?<user>(?:[^']|'')*)'@'(?<addr>[^']*)' \(using password: (?:YES|NO)\)/,
    description: 'a refused login (wrong password, unknown user, or a host the account may not connect from)',
  },
  // ---- postgresql -------------------------------------------------------------------------
  {
    name: 'postgresql_password_failed',
    service: 'postgresql',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: ' authentication failed for user "',
    regex: new RegExp(
      String.raw`${pgClient}FATAL:\s+(?:password|md5|scram-sha-256|SCRAM|LDAP|PAM|RADIUS) authentication failed for user "(?<user>(?:[^"]|"")*)"`,
    ),
    description: 'a wrong password (also an unknown role: PostgreSQL does not tell them apart)',
  },
  {
    name: 'postgresql_auth_failed',
    service: 'postgresql',
    outcome: 'failure',
    role: 'attempt',
    reason: 'other_method',
    contains: ' authentication failed for user "',
    regex: new RegExp(String.raw`${pgClient}FATAL:\s+\S+ authentication failed for user "(?<user>(?:[^"]|"")*)"`),
    description: 'peer, ident, certificate or GSSAPI authentication failed',
  },
  {
    name: 'postgresql_no_hba_entry',
    service: 'postgresql',
    outcome: 'failure',
    role: 'attempt',
    reason: 'refused_connect',
    contains: 'no pg_hba.conf entry for host "',
    regex: /FATAL:\s+no pg_hba\.conf entry for host "(?<addr>[^"]+)", user "(?<user>(?:[^"]|"")*)"/,
    description: 'pg_hba.conf has no line for this client, user and database',
  },
  {
    name: 'postgresql_role_missing',
    service: 'postgresql',
    outcome: 'failure',
    role: 'attempt',
    reason: 'invalid_user',
    contains: '" does not exist',
    regex: new RegExp(String.raw`${pgClient}FATAL:\s+role "(?<user>(?:[^"]|"")*)" does not exist`),
    description: 'an unknown role (with trust or peer authentication)',
  },
  {
    name: 'postgresql_connection_authorized',
    service: 'postgresql',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: 'connection authorized: user=',
    regex: new RegExp(String.raw`${pgClient}LOG:\s+connection authorized: user=(?<user>\S+)`),
    description: 'a login (log_connections = on)',
  },
];
