/**
 * The embedded default policy: what the exporter enforces with no --config.file. It is parsed by
 * the same loader as a file, so it can never drift from the schema (a test loads it), and
 * `hostguard-exporter policy default` prints it as a starting point.
 */
export const defaultPolicyYaml = `# hostguard-exporter embedded default policy.
# Allow rules are for what every host of a kind may run; what is specific to this host is learned
# into the baseline (trust on first use, then \`hostguard-exporter baseline update\`).

processes:
  # Known executables: these rules (first match wins), then the baseline, then installed packages.
  allow: []
  packaged_executables: true
  writable_locations:
    paths: ["/tmp/**", "/var/tmp/**", "/dev/shm/**", "/run/shm/**", "/dev/mqueue/**", "/run/lock/**", "/var/lock/**", "/run/user/**", "/memfd:**"]
    home_directories: false
    except: []
  protected_names:
    - { name: sshd, exe: ["/usr/sbin/sshd", "/usr/lib/openssh/*"] }
    - { name: cron, exe: ["/usr/sbin/cron"] }
    - { name: crond, exe: ["/usr/sbin/crond"] }
    - { name: systemd, exe: ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"] }
    - { name: rsyslogd, exe: ["/usr/sbin/rsyslogd"] }
    - { name: dbus-daemon, exe: ["/usr/bin/dbus-daemon"] }
    - { name: nginx, exe: ["/usr/sbin/nginx"] }
    - { name: apache2, exe: ["/usr/sbin/apache2"] }
    - { name: httpd, exe: ["/usr/sbin/httpd", "/usr/sbin/apache2"] }
    - { name: mysqld, exe: ["/usr/sbin/mysqld", "/usr/sbin/mariadbd"] }
    - { name: postgres, exe: ["/usr/lib/postgresql/*/bin/postgres"] }
  # Shells and interpreters, by executable file name (globs): judged on sockets and for outbound.
  interpreters: ["sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "python", "python[0-9]*", "perl", "perl[0-9]*", "ruby", "ruby[0-9]*", "php", "php[0-9]*", "node", "nodejs", "lua", "lua[0-9]*", "luajit", "awk", "gawk", "mawk", "nawk", "tclsh", "tclsh[0-9]*", "expect"]
  resource_hog:
    cpu_cores: 0.5
    resident_bytes: 1073741824
  start_watch:
    enabled: true
    interval_seconds: 0.5
  hidden_sweep:
    enabled: true
    schedule: "*/10 * * * *"
    compare_ps: true
  # hostguard_flagged_executable_info series (SHA-256 of each flagged executable) for fleet rules.
  fleet_facts:
    max_series: 50

# Processes in containers (judged by the processes collector): drift from the image, package
# managers and interactive shells; exceptions per image or container name in allow.
containers:
  package_managers: [apt, apt-get, aptitude, dpkg, apk, yum, dnf, microdnf, rpm, zypper, pacman, pip, pip3, npm, yarn, pnpm, gem]
  shells: [sh, bash, dash, ash, zsh, ksh, mksh, fish, csh, tcsh]
  allow: []

listeners:
  allow: []
  hidden_ports:
    enabled: true
    schedule: "*/15 * * * *"
  # hostguard_flagged_listener_info series (program SHA-256 and port) for fleet rules.
  fleet_facts:
    max_series: 50

# Outgoing connections: only the unusual ones are judged, those of processes with a finding and
# those of shells, interpreters and network tools to destinations the baseline did not see.
outbound:
  judge: unusual
  allow: []
  watch_loopback: false
  flagged_processes: true
  new_destinations: true
  network_tools: ["nc", "nc.*", "netcat", "ncat", "socat", "telnet", "telnet.*", "inetutils-telnet", "cryptcat"]
  networks: []

# Processes whose standard input, output or error is a TCP or UDP socket (reverse and bind shells),
# except on sockets of these super-servers (inetd, systemd Accept=yes) and the allowed programs.
shell_on_socket:
  enabled: true
  super_servers: ["/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/usr/sbin/inetd", "/usr/sbin/xinetd", "/usr/sbin/inetutils-inetd", "/usr/sbin/rlinetd", "/usr/bin/tcpserver", "/usr/bin/tcpsvd", "/usr/bin/udpsvd"]
  allow: []

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

# auth: sources detected on the host (/var/log/auth.log, /var/log/secure, else the journal).
auth:
  top_sources: 0

# ids, audit: absent, so the ids and audit collectors run and read nothing.
`;
