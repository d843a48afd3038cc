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
  hidden_ports:
    enabled: true
    schedule: "*/15 * * * *"

# outbound: absent, so outgoing connections are not judged.

integrity:
  paths: []
  exclude: []
  schedule: "*/15 * * * *"

# auth: sources detected on the host (/var/log/auth.log, /var/log/secure, else the journal).
auth:
  top_sources: 0
`;
