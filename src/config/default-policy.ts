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
  # Shells and interpreters, by executable file name (globs): judged on sockets and for outbound;
  # the scripts they run are judged like executables.
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
  # Executable mappings and LD_PRELOAD of new processes, and of all on hidden_sweep.schedule.
  injected_code:
    enabled: true
  # exec_events: absent, so execs are seen only by the watch of new PIDs (see deploy/audit/hostguard.rules).
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
  # Each path with why it is watched (MITRE ATT&CK technique). Paths that do not exist cost nothing
  # and are watched from their nearest existing directory, so creating one is seen at once.
  paths:
    # Binaries: a trojaned ls or sshd, a dropped tool, a setuid copy of a shell (T1036, T1548.001).
    - /usr/bin
    - /usr/sbin
    - /usr/local/bin
    - /usr/local/sbin
    # Accounts and privilege: a uid-0 line, a new account, a sudo rule (T1136.001, T1098, T1548.003).
    - /etc/passwd
    - /etc/shadow
    - /etc/group
    - /etc/gshadow
    - /etc/sudoers
    - /etc/sudoers.d
    # SSH: sshd's configuration, host keys, sshrc (T1098.004). Every account's authorized_keys is
    # added by ssh_authorized_keys below.
    - /etc/ssh
    # PAM: a pam_permit line or a backdoored module logs anyone in (T1556.003); module directories of
    # every multiarch and legacy layout (those that do not exist cost nothing).
    - /etc/pam.d
    - /etc/security
    - /usr/lib/*-linux-gnu*/security
    - /lib/*-linux-gnu*/security
    - /usr/lib/security
    - /usr/lib64/security
    - /lib/security
    - /lib64/security
    # Shell start-up: what every login shell sources runs the intruder's code at each login
    # (T1546.004). Other users' start-up files: user_startup_files below (opt-in).
    - /etc/profile
    - /etc/profile.d
    - /etc/bash.bashrc
    - /etc/environment
    - /etc/zsh
    - /root/.bashrc
    - /root/.profile
    - /root/.bash_profile
    - /root/.bash_login
    - /root/.bash_logout
    - /root/.zshrc
    # Boot and service start: init scripts, systemd units, user units and generators (T1037.004,
    # T1543.002), desktop autostart (T1547.013), login messages run as root (update-motd), udev rules
    # (T1546), NetworkManager dispatcher scripts, APT hooks run at every apt run (T1546).
    - /etc/rc.local
    - /etc/init.d
    - /etc/rc?.d
    - /etc/systemd/system
    - /usr/lib/systemd/system
    - /usr/local/lib/systemd/system
    - /etc/systemd/user
    - /usr/lib/systemd/user
    - /etc/systemd/system-generators
    - /usr/lib/systemd/system-generators
    - /usr/local/lib/systemd/system-generators
    - /etc/systemd/user-generators
    - /usr/lib/systemd/user-generators
    - /etc/xdg/autostart
    - /etc/update-motd.d
    - /etc/udev/rules.d
    - /etc/NetworkManager/dispatcher.d
    - /etc/apt/apt.conf.d
    # Loader and kernel: a preloaded library in every process (T1574.006), library search paths,
    # modules loaded at boot and their options (T1547.006), sysctls set at boot (kernel.modprobe,
    # kernel.core_pattern run a program as root).
    - /etc/ld.so.preload
    - /etc/ld.so.conf
    - /etc/ld.so.conf.d
    - /etc/modules
    - /etc/modules-load.d
    - /etc/modprobe.d
    - /etc/sysctl.conf
    - /etc/sysctl.d
    # Scheduled jobs: cron and anacron (T1053.003), at's spool and who may use it (T1053.002).
    - /etc/crontab
    - /etc/cron.*
    - /etc/anacrontab
    - /var/spool/cron/crontabs
    - /var/spool/cron/atjobs
    - /etc/at.allow
    - /etc/at.deny
    # Name resolution: a hosts line or an NSS module sends traffic or logins elsewhere (T1565.001).
    - /etc/hosts
    - /etc/nsswitch.conf
  exclude: []
  # Every account's SSH authorized keys (and ~/.ssh/rc), where sshd's AuthorizedKeysFile says (its
  # Includes read); expanded again when /etc/passwd or sshd's configuration changes (T1098.004).
  ssh_authorized_keys: true
  # Every account's shell start-up files (~/.bashrc, ~/.profile, ...): they change legitimately.
  user_startup_files: false
  # inotify in serve: a change is judged at once (on the next scrape); the schedule is the backstop.
  realtime: true
  schedule: "*/15 * * * *"
  full_rehash_interval: 6h
  hash_workers: 2
  running_executables: true
  package_database: true
  # setuid, setgid and file-capability files anywhere on the local file systems, not only under
  # the paths above: the chmod u+s or setcap backdoor in /tmp or a home directory (T1548.001).
  privileged_files:
    enabled: true
    schedule: "17 * * * *"
    capabilities: true
    exclude: []
    max_entries_per_second: 50000

# The running kernel against the baseline: modules loaded since (T1547.006), module-related taint
# flags gained since (a rootkit that hides from /proc/modules still taints the kernel), and these
# security sysctls changed since (docs/collectors/kernel.md says what each guards).
kernel:
  modules: true
  taint: true
  sysctls:
    - kernel.randomize_va_space
    - kernel.kptr_restrict
    - kernel.dmesg_restrict
    - kernel.yama.ptrace_scope
    - kernel.modules_disabled
    - kernel.kexec_load_disabled
    - kernel.unprivileged_bpf_disabled
    - kernel.unprivileged_userns_clone
    - kernel.perf_event_paranoid
    - kernel.sysrq
    - kernel.core_pattern
    - kernel.modprobe
    - net.core.bpf_jit_harden
    - dev.tty.ldisc_autoload
    - fs.protected_hardlinks
    - fs.protected_symlinks
    - fs.protected_fifos
    - fs.protected_regular
    - fs.suid_dumpable
    - vm.mmap_min_addr
    - net.ipv4.ip_forward
    - net.ipv6.conf.all.forwarding
    - net.ipv4.conf.all.accept_redirects
    - net.ipv4.conf.all.send_redirects
    - net.ipv4.conf.all.accept_source_route
    - net.ipv4.conf.all.rp_filter
    - net.ipv4.tcp_syncookies

# auth: sources detected on the host (/var/log/auth.log, /var/log/secure, else the journal).
auth:
  top_sources: 0

# ids, audit: absent, so the ids and audit collectors run and read nothing.
`;
