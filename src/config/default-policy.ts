/**
 * The embedded default policy: what the exporter enforces with no --config.file. It is parsed by
 * the same loader as a file, so it can never drift from the schema (a test loads it), and
 * `hostguard-exporter policy default` prints it as a starting point.
 */
export const defaultPolicyYaml = `# hostguard-exporter embedded default policy.
# Allow rules are for what every host of a kind may run; what is specific to this host is learned
# into the baseline (trust on first use, then \`hostguard-exporter baseline update\`).

processes:
  allow: []

listeners:
  allow: []

# outbound: absent, so outgoing connections are not judged.

integrity:
  paths:
    - /usr/bin
    - /usr/sbin
    - /usr/local/bin
    - /usr/local/sbin
    - /etc/ssh
    - /etc/passwd
    - /etc/shadow
    - /etc/group
    - /etc/sudoers
    - /etc/sudoers.d
    - /etc/ld.so.preload
    - /etc/crontab
    - /etc/cron.*
    - /var/spool/cron/crontabs
    - /etc/systemd/system
    - /usr/lib/systemd/system
  exclude: []
  schedule: "*/15 * * * *"
  full_rehash_interval: 6h
  hash_workers: 2
  running_executables: true
  package_database: true

auth: {}
`;
