# hostguard-exporter container image.
#
# Watching the host from a container works as it does for node_exporter: share the host's PID
# namespace and network, mount the host root read-only, and point the exporter at it. It runs as
# uid 0 with every capability dropped but the three it needs, a read-only root and no privilege
# escalation:
#
#   docker run -d --name hostguard --pid=host --net=host --read-only \
#     --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH --cap-add=NET_BIND_SERVICE \
#     --security-opt=no-new-privileges \
#     -v /:/host:ro,rslave -v hostguard-state:/var/lib/hostguard \
#     hostguard-exporter --path.rootfs=/host --path.procfs=/host/proc
#
# Not a non-root USER with --cap-add: Docker, containerd and CRI-O put added capabilities in the
# bounding set only, not the ambient set, so the kernel drops them when a non-root program starts
# and the exporter cannot see other users' processes. Why, and the alternatives weighed:
# docs/deployment.md. The exporter logs at start which capabilities it has and what each missing
# one hides.

# ---- build: compile TypeScript with the dev dependencies ---------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# ---- run: production dependencies and the compiled code only ------------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=0
# ss (iproute2): the byte counters of connections that carry a finding, read over netlink.
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/hostguard-exporter
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY examples ./examples
# getcap: the privileged-file search reads file capabilities with it (the slim image lacks it).
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin && rm -rf /var/lib/apt/lists/*
# Owned by root, the user below: without CAP_DAC_OVERRIDE, uid 0 writes only where it is the owner.
RUN mkdir -p -m 0700 /var/lib/hostguard
USER 0:0
EXPOSE 10177
VOLUME ["/var/lib/hostguard"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:10177/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "/opt/hostguard-exporter/dist/cli/main.js", "--state.dir=/var/lib/hostguard"]
